#!/bin/sh
# kdrelayctl against a running kdrelayd with two pairs (socat pty "VMs",
# kdreplay peers playing a kdgen session, so nothing needs ../shared):
#  status, stats, metrics, pairs and their --json (python3 -m json.tool);
#  counters equal what the session holds; watch output equals the packet
#  log of the same span, with two watchers at once; break reaches the
#  target, and is refused with a reason while the target is absent;
#  capture start/stop writes the session exactly; reload says what
#  changed, or FILE:LINE, and the watcher of a pair it removes is told;
#  reopen and SIGUSR2 after logrotate's move; exit
#  codes 64, 65, 69; completion offers the pair names.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/framing.sh"
need socat python3 timeout
. "$TESTS/lib/ctl.sh"

gen_session "$T/s.kdtrace" 7 20
"$KDSTAT" "$T/s.kdtrace" >"$T/s.kv" || fail kdstat

for v in h1 t1 h2 t2; do vm $v; done
cat >"$T/kd.conf" <<EOF
[global]
control-socket = $T/control
[pair p1]
host = $T/h1.vm
target = $T/t1.vm
packet-log = $T/p1.log
[pair p2]
host = $T/h2.vm
target = $T/t2.vm
packet-log = $T/p2.log
EOF
relay -c "$T/kd.conf" --control "$T/control"
for s in p1/host p1/target p2/host p2/target; do
	wait_log "$T/relay.log" "$s: .*connected" || fail "$s did not connect"
done
wait_for -S "$T/control" || fail "no control socket"
[ "$(stat -c %a "$T/control")" = 600 ] ||
    fail "control socket mode $(stat -c %a "$T/control")"

# session PAIR: kdreplay on both VMs of a pair, through the relay.
session() { play "s$1" "$T/s.kdtrace" "$T/h$1.guest" "$T/t$1.guest"; }

# --- watch: two watchers, then a session; the same lines as the log ---
for w in w1 w2; do
	"$CTL" -s "$T/control" watch p1 >"$T/$w.out" 2>"$T/$w.err" &
	eval "$w=\$!"; track $!
done
wait_log "$T/w1.err" "watching p1" && wait_log "$T/w2.err" "watching p1" ||
    fail "watch did not start: $(cat "$T/w1.err" "$T/w2.err")"
n0=$(wc -l <"$T/p1.log")
session 1
session 2
n1=$(wc -l <"$T/p1.log")
[ "$n1" -gt "$((n0 + 20))" ] || fail "p1's packet log did not grow: $n0 -> $n1"
wait_until 10 sh -c "[ \$(wc -l <'$T/w1.out') -ge $((n1 - n0)) ] &&
    [ \$(wc -l <'$T/w2.out') -ge $((n1 - n0)) ]" ||
    fail "watchers got $(wc -l <"$T/w1.out") and $(wc -l <"$T/w2.out") of $((n1 - n0)) lines"
tail -n +"$((n0 + 1))" "$T/p1.log" >"$T/p1.span"
same "$T/p1.span" "$T/w1.out"
same "$T/p1.span" "$T/w2.out"
grep -q '"' "$T/w1.out" || fail "no DbgPrint text in the watch output"
# Interrupted, a watcher ends at once, exit 0.
kill -INT "$w1"
kill -TERM "$w2"
wait_until 5 sh -c "! kill -0 $w1 && ! kill -0 $w2" ||
    fail "watch did not end on SIGINT/SIGTERM"
wait "$w1" || fail "watch: exit $? on SIGINT"
wait "$w2" || fail "watch: exit $? on SIGTERM"
note "ok: two watchers saw the $((n1 - n0)) packet-log lines of the session"

# --- status, stats, metrics, pairs ---
ctl status >"$T/status" || fail "status: exit $?"
for p in p1 p2; do
	grep -q "^$p\$" "$T/status" || fail "status: no $p: $(cat "$T/status")"
done
[ "$(grep -c 'connected since' "$T/status")" = 4 ] ||
    fail "status: not four sides connected: $(cat "$T/status")"
grep -q 'target->host *repair auto: off, detected; [1-9][0-9]* packets' \
    "$T/status" || fail "status: repair/packets: $(cat "$T/status")"
ctl --json status >"$T/status.json" || fail "status --json: exit $?"
python3 -m json.tool "$T/status.json" >/dev/null ||
    fail "status --json is not JSON: $(head -c 300 "$T/status.json")"
ctl --json stats p1 >"$T/stats.json" || fail "stats --json"
python3 -m json.tool "$T/stats.json" >/dev/null || fail "stats --json: not JSON"
ctl stats p1 >"$T/stats.txt" || fail "stats"
python3 - "$T/status.json" "$T/stats.json" "$T/s.kv" <<'EOF' || fail "the counters"
import json, sys
st = json.load(open(sys.argv[1])); one = json.load(open(sys.argv[2]))
kv = dict(l.strip().split("=", 1) for l in open(sys.argv[3]) if "=" in l)
assert set(st) == {"p1", "p2"}, st.keys()
assert set(one) == {"p1"}, one.keys()
for p in ("p1", "p2"):
    for side in ("host", "target"):
        s = st[p][side]
        assert s["state"] == "up", (p, side, s)
        assert s["since"] > 1e9 and s["status"].startswith("connected"), s
    for d, x in (("host->target", "D"), ("target->host", "T")):
        c = st[p][d]
        assert c["data"] == int(kv[x + ".data"]), (p, d, c["data"], kv[x + ".data"])
        assert c["control"] == int(kv[x + ".control"]), (p, d)
        assert c["bytes_in"] == int(kv[x + ".bytes"]) == c["bytes_out"], (p, d)
        assert c["repair"] == "auto" and c["repairing"] is False, c
        assert c["last_rx"] > 1e9, c
        assert c["type"]["STATE_MANIPULATE"] == int(kv[x + ".STATE_MANIPULATE"])
print("counters ok")
EOF
grep -q '^p1/target->host/data  *[1-9]' "$T/stats.txt" ||
    fail "stats text: $(head -5 "$T/stats.txt")"
ctl metrics >"$T/metrics" || fail "metrics"
awk '/^# (HELP|TYPE) / { next }
    !/^kdrelay_[a-z_]+\{pair="[^"]+",(dir|side)="[^"]+"(,type="[A-Z_0-9]+")?\} [0-9.]+$/ {
	print "bad line: " $0; exit 1 }' "$T/metrics" || fail "metrics format"
for f in $(sed -n 's/^kdrelay_\([a-z_]*\){.*/\1/p' "$T/metrics" | sort -u); do
	[ "$(grep -c "^# TYPE kdrelay_$f " "$T/metrics")" = 1 ] ||
	    fail "metrics: kdrelay_$f has no single TYPE line"
done
want=$(kv "$T/s.kv" T.data)
grep -qx "kdrelay_data_total{pair=\"p2\",dir=\"target->host\"} $want" \
    "$T/metrics" || fail "metrics: p2 target->host data is not $want"
grep -qx 'kdrelay_side_up{pair="p1",side="host"} 1' "$T/metrics" ||
    fail "metrics: side_up"
[ "$(ctl pairs | tr '\n' ' ')" = "p1 p2 " ] || fail "pairs: $(ctl pairs)"
note "ok: status, stats, metrics, pairs and --json; counters = the session"

# --- exit codes ---
ctl status nope 2>"$T/err"; rc=$?
[ $rc = 65 ] && grep -q 'no pair named nope' "$T/err" ||
    fail "unknown pair: exit $rc, $(cat "$T/err")"
"$CTL" -s "$T/absent" status 2>"$T/err"; rc=$?
[ $rc = 69 ] && grep -qF "$T/absent" "$T/err" ||
    fail "no daemon: exit $rc, $(cat "$T/err")"
"$CTL" 2>/dev/null; rc=$?
[ $rc = 64 ] || fail "no command: exit $rc"
ctl break 2>/dev/null; rc=$?
[ $rc = 64 ] || fail "break without a pair: exit $rc"
ctl frobnicate 2>/dev/null; rc=$?
[ $rc = 64 ] || fail "unknown command: exit $rc"
note "ok: exit codes 64, 65, 69"

# --- break reaches the target ---
timeout 10 head -c 1 "$T/t1.guest" >"$T/brk" &
reader=$!
ctl break p1 >"$T/out" || fail "break: exit $?: $(cat "$T/out")"
wait $reader
[ "$(od -An -tx1 "$T/brk" | tr -d ' ')" = 62 ] ||
    fail "the target got '$(od -An -tx1 "$T/brk")', not 0x62"
ctl --json stats p1 | python3 -c '
import json, sys; d = json.load(sys.stdin)
assert d["p1"]["host->target"]["breakins_injected"] == 1, d' ||
    fail "break not counted"
note "ok: break reached the target ($(cat "$T/out"))"

# --- capture on a running pair ---
ctl capture p1 "$T/cap.kdtrace" >"$T/out" || fail "capture: $(cat "$T/out")"
session 1
ctl capture p1 --stop >"$T/out" || fail "capture --stop: $(cat "$T/out")"
cmp "$T/s.kdtrace" "$T/cap.kdtrace" || fail "the capture is not the session"
ctl capture p1 --stop 2>/dev/null && fail "a second --stop succeeded"
ctl capture p1 "$T" 2>"$T/err" && fail "capture onto a directory succeeded"
grep -q 'not a regular file' "$T/err" || fail "capture dir: $(cat "$T/err")"
note "ok: capture started and stopped on a running pair: the session exactly"

# --- reopen (logrotate) and SIGUSR2 ---
mv "$T/p1.log" "$T/p1.log.1"
ctl reopen >"$T/out" || fail "reopen: $(cat "$T/out")"
grep -q '^2 files reopened' "$T/out" || fail "reopen said: $(cat "$T/out")"
[ -e "$T/p1.log" ] || fail "reopen: no new p1.log"
session 1
[ "$(grep -c ' ok' "$T/p1.log")" -gt 20 ] || fail "nothing in the new log"
mv "$T/p2.log" "$T/p2.log.1"
kill -USR2 "$RELAY"
wait_for -e "$T/p2.log" || fail "SIGUSR2 did not reopen p2.log"
note "ok: reopen and SIGUSR2 reopen the packet logs"

# --- reload: what changed, or FILE:LINE ---
vm h3
vm t3
cat >>"$T/kd.conf" <<EOF
[pair p3]
host = $T/h3.vm
target = $T/t3.vm
EOF
ctl reload >"$T/out" || fail "reload: exit $?: $(cat "$T/out")"
grep -q 'reloaded: 3 pairs running (started p3)' "$T/out" ||
    fail "reload said: $(cat "$T/out")"
echo "bogus-key = 1" >>"$T/kd.conf"
line=$(wc -l <"$T/kd.conf")
ctl reload 2>"$T/err"; rc=$?
[ $rc = 78 ] && grep -qF "$T/kd.conf:$line:" "$T/err" ||
    fail "bad reload: exit $rc, $(cat "$T/err")"
ctl pairs | grep -qx p3 || fail "a failed reload changed the pairs"
note "ok: reload: $(cat "$T/out"); a bad file: $(cat "$T/err")"

# A pair removed by a reload while watched: its watcher is told, exit 69.
"$CTL" -s "$T/control" watch p3 >/dev/null 2>"$T/w3.err" &
w3=$!
track $w3
wait_log "$T/w3.err" "watching p3" || fail "watch p3: $(cat "$T/w3.err")"
head -n -4 "$T/kd.conf" >"$T/kd.conf.new" && mv "$T/kd.conf.new" "$T/kd.conf"
ctl reload >"$T/out" || fail "reload: $(cat "$T/out")"
grep -q '(stopped p3)' "$T/out" || fail "reload said: $(cat "$T/out")"
wait_until 5 sh -c "! kill -0 $w3" || fail "the watcher of p3 goes on"
wait $w3; rc=$?
[ $rc = 69 ] && grep -q 'the pair stopped' "$T/w3.err" ||
    fail "watcher of a removed pair: exit $rc, $(cat "$T/w3.err")"
note "ok: the watcher of a pair a reload removed: $(tail -1 "$T/w3.err")"

# --- break refused while the target is away ---
kill "$VM_t2"
wait_until 10 sh -c "'$CTL' -s '$T/control' --json status p2 | python3 -c '
import json, sys; assert json.load(sys.stdin)[\"p2\"][\"target\"][\"state\"] != \"up\"'" ||
    fail "p2's target still connected"
# kdaware's target shutdown, told to p2's debugger, is in the counters.
ctl --json stats p2 | python3 -c '
import json, sys; d = json.load(sys.stdin)["p2"]["target->host"]
assert d["target_shutdowns"] == 1 and d["shutdown_packets_injected"] >= 1, d' ||
    fail "the target shutdown is not in the stats"
ctl break p2 2>"$T/err"; rc=$?
[ $rc = 75 ] && grep -q 'target side is not connected' "$T/err" ||
    fail "break without a target: exit $rc, $(cat "$T/err")"
note "ok: break refused: $(cat "$T/err")"

# --- completion offers the pair names ---
comp=$(PATH="$BUILD:$PATH" bash -c '
	. "$1/../completion/kdrelayctl"
	COMP_WORDS=(kdrelayctl -s "$2" watch "")
	COMP_CWORD=4
	_kdrelayctl
	echo "${COMPREPLY[*]}"' sh "$TESTS" "$T/control")
[ "$comp" = "p1 p2" ] || fail "completion offered '$comp'"
comp=$(bash -c '. "$1/../completion/kdrelayctl"
	COMP_WORDS=(kdrelayctl re); COMP_CWORD=1; _kdrelayctl
	echo "${COMPREPLY[*]}"' sh "$TESTS")
[ "$comp" = "reload reopen" ] || fail "completion of 're': '$comp'"
note "ok: completion offers subcommands and the pairs p1 p2"

stop "$RELAY"
[ ! -e "$T/control" ] || fail "the control socket is still there after exit"
note "ok: socket removed at exit"
