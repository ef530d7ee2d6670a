#!/bin/sh
# A pair nobody listens to (no packet log, no target-shutdown watch) has
# its packets counted, not decoded into events (relay_listen()); a watcher
# or a capture that comes turns the events on, and they go off again when
# it goes:
#  a) no one listening: a kdgen session's counters are the session's;
#  b) watched: the watcher gets a line for each of the session's packets;
#  c) captured: the capture is the session, byte for byte;
#  d) nobody again: the counters still add up (three sessions in all).
. "$TESTS/lib/common.sh"
. "$TESTS/lib/framing.sh"
need socat python3 timeout
. "$TESTS/lib/ctl.sh"

gen_session "$T/s.kdtrace" 11 20
"$KDSTAT" "$T/s.kdtrace" >"$T/s.kv" || fail kdstat
vm h; vm t
cat >"$T/kd.conf" <<EOF
[global]
control-socket = $T/control
[pair p]
host = $T/h.vm
target = $T/t.vm
target-shutdown = no
EOF
relay -c "$T/kd.conf" --control "$T/control"
for s in p/host p/target; do
	wait_log "$T/relay.log" "$s: .*connected" || fail "$s did not connect"
done
wait_for -S "$T/control" || fail "no control socket"

session() { play s "$T/s.kdtrace" "$T/h.guest" "$T/t.guest"; }

# stats_are N: the relay's counters are N times the session's.
stats_are() {
	ctl --json stats p >"$T/stats.json" || fail "stats"
	python3 - "$1" "$T/stats.json" "$T/s.kv" <<'EOF' || fail "counters after $1 sessions"
import json, sys
n = int(sys.argv[1]); st = json.load(open(sys.argv[2]))["p"]
kv = dict(l.strip().split("=", 1) for l in open(sys.argv[3]) if "=" in l)
for d, x in (("host->target", "D"), ("target->host", "T")):
    c = st[d]
    assert c["data"] == n * int(kv[x + ".data"]), (d, c["data"], kv[x + ".data"])
    assert c["control"] == n * int(kv[x + ".control"]), (d, c["control"])
EOF
}

session
stats_are 1
note "ok: a session nobody listens to is counted"

"$CTL" -s "$T/control" watch p >"$T/w.out" 2>"$T/w.err" &
w=$!; track $w
wait_log "$T/w.err" "watching p" || fail "watch did not start: $(cat "$T/w.err")"
ctl capture p "$T/cap.kdtrace" >"$T/out" || fail "capture: $(cat "$T/out")"
session
ctl capture p --stop >"$T/out" || fail "capture --stop: $(cat "$T/out")"
cmp "$T/s.kdtrace" "$T/cap.kdtrace" || fail "the capture is not the session"
n=$(( $(kv "$T/s.kv" D.data) + $(kv "$T/s.kv" D.control) +
    $(kv "$T/s.kv" T.data) + $(kv "$T/s.kv" T.control) ))
wait_until 10 sh -c "[ \$(grep -c . '$T/w.out') -ge $n ]" ||
    fail "the watcher got $(grep -c . "$T/w.out") lines for $n packets"
kill -INT $w; wait $w || fail "watch: exit $?"
stats_are 2
note "ok: watched and captured: $n packets, $(grep -c . "$T/w.out") lines, the capture is the session"

session
stats_are 3
note "ok: nobody listening again: counted"
