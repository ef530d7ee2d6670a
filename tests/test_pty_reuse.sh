#!/bin/sh
# Pty numbers are reused (issue 10, defect 10).  A relay on a bare
# /dev/pts/N that loses it must not reattach to whatever pty gets N next
# (an admin's shell, whose keystrokes would reach a guest): it says so once
# and stays down.  A pty that is a session's controlling terminal is never
# opened.  A link (socat link=) is followed, but not while it still names
# the lost pty.
. "$TESTS/lib/common.sh"
G="$BUILD/helpers/ptygrab"

# dropped: what the relay counted as dropped host-bound (peer absent).
dropped() {
	kill -USR1 $RELAY
	sleep 0.1
	grep 'target->host:' "$T/relay.log" | tail -1 |
	    sed -n 's/.* \([0-9]*\) dropped.*/\1/p'
}

vm host
vm target
pts=$(readlink "$T/host.vm")
num=${pts#/dev/pts/}
relay "$pts" "$T/target.vm"
wait_log "$T/relay.log" "kd/host: .*connected" || fail "host not opened: $(cat "$T/relay.log")"
wait_log "$T/relay.log" "kd/target: .*connected" || fail "target not opened: $(cat "$T/relay.log")"
note "relay on the bare $pts; the host VM goes"
stop $VM_host
wait_log "$T/relay.log" "kd/host: .*: lost (.*); not reopened: a pty named by its number alone" ||
    fail "loss not reported: $(cat "$T/relay.log")"
bg "$G" "$num" "$T/grabbed" >"$T/grab.out"
GRAB=$LAST
wait_for -s "$T/grab.out" || fail "no pty numbered $num came back"
[ "$(cat "$T/grab.out")" = "$pts" ] || fail "got $(cat "$T/grab.out"), not $pts"
note "$pts is now another program's pty"
head -c 4096 /dev/zero | tr '\0' K >"$T/keys"
"$BUILD/helpers/xfer" -t 10 "$T/target.guest" "$T/keys" /dev/null 0 || fail "target send"
i=0
while [ "$(dropped)" != 4096 ]; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "the target's bytes were not dropped: $(grep 'target->host' "$T/relay.log" | tail -1)"
done
[ ! -s "$T/grabbed" ] || fail "$(wc -c <"$T/grabbed") bytes reached the new $pts"
ls -l /proc/$RELAY/fd | grep -q " $pts\$" && fail "the relay holds the new $pts"
[ "$(grep -c "warning: .*: lost (.*); not reopened" "$T/relay.log")" = 1 ] || fail "said more than once"
grep -q "host lost /dev/pts/$num; not reopened" "$T/relay.log" ||
    fail "status: $(grep 'kd: host' "$T/relay.log" | tail -1)"
note "ok: 4096 target bytes dropped, none reached the reused $pts; said once"
# SIGHUP is the admin's word: the pair starts anew and opens what is there.
kill -HUP $RELAY
wait_log "$T/relay.log" "reload: restarted the pair lost for good" || fail "no restart on SIGHUP"
wait_log "$T/relay.log" "kd/host: .*connected" 2 || fail "not reopened on SIGHUP"
"$BUILD/helpers/xfer" -t 10 "$T/target.guest" "$T/keys" /dev/null 0 || fail "target send"
wait_until 10 sh -c "[ \$(wc -c <'$T/grabbed') = 4096 ]" || fail "nothing relayed after SIGHUP"
stop $GRAB
stop $RELAY
note "ok: SIGHUP restarts the pair, which then opens $pts as asked"

# A controlling terminal is refused, whoever gives it.
: >"$T/relay.log"
bg "$G" -c "$T/ctty.in" >"$T/ctty.out"
GRAB=$LAST
wait_for -s "$T/ctty.out" || fail "no controlling-terminal pty"
tty=$(cat "$T/ctty.out")
relay "$tty" "$T/target.vm"
wait_log "$T/relay.log" "kd/host: $tty: the controlling terminal of session [0-9]* (pid [0-9]*, ptygrab)" ||
    fail "a controlling terminal not refused: $(cat "$T/relay.log")"
"$BUILD/helpers/xfer" -t 10 "$T/target.guest" "$T/keys" /dev/null 0 || fail "target send"
i=0
while [ "$(dropped)" != 4096 ]; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "bytes not dropped"
done
[ ! -s "$T/ctty.in" ] || fail "bytes reached a controlling terminal"
stop $RELAY
stop $GRAB
note "ok: a session's controlling terminal refused, nothing written to it"

# A link is followed to the next pty, but not while it names the lost one.
: >"$T/relay.log"
vm host
relay "$T/host.vm" "$T/target.vm"
wait_log "$T/relay.log" "kd/host: .*connected" || fail "host link not opened"
old=$(readlink "$T/host.vm")
kill -9 $VM_host; wait $VM_host 2>/dev/null	# its link is left behind
[ -L "$T/host.vm" ] || fail "socat -9 removed its link"
wait_log "$T/relay.log" "kd/host: .*lost (.*); the link still names the pty that was lost" ||
    fail "a stale link followed: $(cat "$T/relay.log")"
bg "$G" "${old#/dev/pts/}" "$T/grabbed2" >"$T/grab2.out"
GRAB=$LAST
wait_for -s "$T/grab2.out" || fail "no pty numbered ${old#/dev/pts/}"
"$BUILD/helpers/xfer" -t 10 "$T/target.guest" "$T/keys" /dev/null 0 || fail "target send"
i=0
while [ "$(dropped)" != 4096 ]; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "bytes not dropped"
done
[ ! -s "$T/grabbed2" ] || fail "bytes reached the reused pty through a stale link"
stop $GRAB
rm -f "$T/host.vm"
vm host
wait_log "$T/relay.log" "kd/host: .*connected" 2 || fail "the new link not followed: $(cat "$T/relay.log")"
printf 'hello' >"$T/hello"
"$BUILD/helpers/xfer" -t 10 "$T/host.guest" - "$T/hello.in" 5 & R=$!
"$BUILD/helpers/xfer" -t 10 "$T/target.guest" "$T/hello" /dev/null 0 || fail "target send"
wait $R || fail "nothing through the new link"
same "$T/hello" "$T/hello.in"
note "ok: a stale link waited out, the link made again followed"
