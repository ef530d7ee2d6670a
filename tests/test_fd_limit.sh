#!/bin/sh
# A file descriptor limit with no room for the pairs (issue 16): kdrelayd
# says so in one line naming the limit and exits 71 before starting any,
# rather than start them and die in libevent halfway (exit 1, its message
# on stderr alone); a reload the limit has no room for leaves the running
# pairs going and says what it did not start.
. "$TESTS/lib/common.sh"

# conf FILE N: N pairs on sockets nobody serves yet (they wait).
conf() {
	{
		printf '[global]\nlog-level = info\n'
		i=0
		while [ $i -lt "$2" ]; do
			printf '\n[pair p%d]\nhost = unix:%s/h%d.sock\n' $i "$T" $i
			printf 'target = unix:%s/t%d.sock\n' "$T" $i
			i=$((i + 1))
		done
	} >"$1"
}

# limited N CONF: kdrelayd -c CONF with a soft and hard fd limit of N (in
# the background, bg's pid is kdrelayd's).
limited() {
	exec sh -c 'ulimit -n "$0" && exec "$@"' "$1" "$BUILD/kdrelayd" \
	    --no-control -c "$2"
}

conf "$T/many.conf" 40
rc=0
(limited 128 "$T/many.conf") 2>"$T/relay.log" || rc=$?
[ $rc = 71 ] || fail "exit $rc, not 71: $(cat "$T/relay.log")"
grep -q "err: 40 pairs not started: each needs 5 file descriptors or more, and [0-9]* of the limit of 128 are open (raise ulimit -n, or LimitNOFILE= for the service)" "$T/relay.log" ||
    fail "the limit not named: $(cat "$T/relay.log")"
[ "$(grep -c 'err:' "$T/relay.log")" = 1 ] || fail "said more than once: $(cat "$T/relay.log")"
! grep -q "relaying\|libevent" "$T/relay.log" || fail "pairs started: $(cat "$T/relay.log")"
note "ok: 40 pairs in 128 fds refused in one line, exit 71"

# The same pairs fit a limit of 1024 (if ours lets it be raised so far).
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 1024 ]; then
	skip "40 pairs in 1024 fds" "the hard fd limit here is $hard"
else
	: >"$T/relay.log"
	bg limited 1024 "$T/many.conf" 2>>"$T/relay.log"
	RELAY=$LAST
	wait_log "$T/relay.log" "p39: relaying" ||
	    fail "not started in 1024 fds: $(cat "$T/relay.log")"
	stop $RELAY
	note "ok: in 1024 fds they start"
fi

# Running: a reload asking for more than the limit has room for.
conf "$T/k.conf" 4
: >"$T/relay.log"
bg limited 128 "$T/k.conf" 2>>"$T/relay.log"
RELAY=$LAST
wait_log "$T/relay.log" "p3: relaying" || fail "4 pairs not started: $(cat "$T/relay.log")"
cp "$T/many.conf" "$T/k.conf"
kill -HUP $RELAY
wait_log "$T/relay.log" "reloaded: " || fail "no reload: $(cat "$T/relay.log")"
grep -q "err: [0-9]* pairs not started: each needs 5 file descriptors or more, and [0-9]* of the limit of 128 are open" "$T/relay.log" ||
    fail "the limit not named: $(cat "$T/relay.log")"
grep "reloaded: " "$T/relay.log" | grep -q "failed to start p[0-9]*" ||
    fail "the refused pairs not listed: $(grep 'reloaded' "$T/relay.log")"
alive $RELAY || fail "the running pairs did not go on: $(cat "$T/relay.log")"
! grep -q "stopped\|libevent" "$T/relay.log" || fail "$(cat "$T/relay.log")"
stop $RELAY
note "ok: a reload past the limit: $(grep -o 'reloaded: [0-9]* pairs running' "$T/relay.log")"
