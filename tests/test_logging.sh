#!/bin/sh
# What kdrelayd logs, and where (issue 10, defects 4, 5, 7): SIGUSR1 is
# answered under -q; standard error gets wall-clock timestamps unless it is
# the journal's stream; --syslog without a syslog daemon on /dev/log falls
# back to standard error and says so once, and with one it logs there.
# /dev/log is hidden or replaced in a private mount namespace.
. "$TESTS/lib/common.sh"
need unshare socat
K="$BUILD/kdrelayd"
ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}[+-][0-9]{2}:[0-9]{2}'
port=$(free_port)

# -q: quiet, but an explicit SIGUSR1 is answered.
bg "$K" -q "tcp-listen:$port" "unix-listen:$T/q.sock" 2>"$T/q.log"
Q=$LAST
wait_until 10 test -S "$T/q.sock" || fail "-q: not listening"
kill -USR1 $Q
wait_log "$T/q.log" "kd: host->target: 0 bytes in" || fail "-q swallowed SIGUSR1: $(cat "$T/q.log")"
wait_log "$T/q.log" "kd: target->host: 0 bytes in" || fail "-q: one direction only"
grep -q "kd/target: .*listening on" "$T/q.log" && fail "-q logged a notice: $(cat "$T/q.log")"
stop $Q
note "ok: -q answers SIGUSR1: $(grep -c . "$T/q.log") lines, no notices"

# Timestamps on standard error, none when it is the journal's stream.
grep -Eq "^$ISO kdrelayd: notice: kd: host->target" "$T/q.log" ||
    fail "no ISO 8601 timestamp: $(head -n 1 "$T/q.log")"
js() {
	exec 2>"$T/js.log"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$T/js.log") exec "$K" "$@"
}
bg js "tcp-listen:$port" "unix-listen:$T/j.sock"
wait_log "$T/js.log" "listening on $T/j.sock" || fail "journal: not listening"
stop $LAST
grep -q "^kdrelayd: notice: kd/target: .*listening on" "$T/js.log" ||
    fail "timestamps under the journal: $(cat "$T/js.log")"
bg env JOURNAL_STREAM=1:1 "$K" "tcp-listen:$port" "unix-listen:$T/k.sock" 2>"$T/k.log"
wait_log "$T/k.log" "listening on $T/k.sock" || fail "not listening"
stop $LAST
grep -Eq "^$ISO kdrelayd: " "$T/k.log" || fail "a JOURNAL_STREAM that is not stderr's dropped the timestamps"
note "ok: stderr timestamped ($(head -n 1 "$T/q.log" | cut -d' ' -f1)), not when it is the journal's stream"

# --syslog with no /dev/log: standard error, said once.
ns() {
	exec unshare -m --propagation private sh -c '
	    mount -t tmpfs -o mode=0755 kdrelay-test /dev || exit 99
	    if [ -n "$1" ]; then
		: >/dev/log && mount --bind "$1" /dev/log || exit 98
	    fi
	    shift; exec "$@"' ns "$@"
}
bg ns "" "$K" --syslog "tcp-listen:$port" "unix-listen:$T/s.sock" 2>"$T/s.log"
wait_log "$T/s.log" "listening on $T/s.sock" || fail "--syslog without /dev/log: nothing on stderr: $(cat "$T/s.log")"
stop $LAST
grep -Eq "^$ISO kdrelayd: warning: syslog: /dev/log: No such file or directory; logging to standard error instead" "$T/s.log" ||
    fail "the fallback not said: $(cat "$T/s.log")"
[ "$(grep -c syslog "$T/s.log")" = 1 ] || fail "said more than once"
note "ok: --syslog without /dev/log: $(head -n 1 "$T/s.log" | cut -d' ' -f2-)"

# --syslog with a syslog daemon (socat on a datagram socket) logs there.
bg socat -u "UNIX-RECV:$T/devlog" "OPEN:$T/syslog.out,creat,append"
wait_until 10 test -S "$T/devlog" || fail "no fake syslog socket"
bg ns "$T/devlog" "$K" --syslog "tcp-listen:$port" "unix-listen:$T/l.sock" 2>"$T/l.log"
wait_log "$T/syslog.out" "kdrelayd\[[0-9]*\]: kd/target: .*listening on $T/l.sock" ||
    fail "nothing reached syslog: $(cat "$T/syslog.out" "$T/l.log")"
stop $LAST
[ ! -s "$T/l.log" ] || fail "wrote to stderr with syslog there: $(cat "$T/l.log")"
note "ok: --syslog with a listener: $(head -c 100 "$T/syslog.out")"
