#!/bin/sh
# Starting from a file as a package installs it (issue 10, defects 3, 8):
# the sample kdrelay.conf has its example pairs commented out; a file with
# no pair starts, says so once, sleeps with no wake-up, and takes pairs on
# SIGHUP; --check-config and the start agree about a packet-log whose
# directory does not exist yet (made, 0700) or cannot be (refused, 78).
. "$TESTS/lib/common.sh"
top=$(cd "$TESTS/.." && pwd)
K="$BUILD/kdrelayd"

"$K" -c "$top/kdrelay.conf" --check-config >"$T/out" 2>&1 ||
    fail "the sample: $(cat "$T/out")"
grep -q "OK, 0 pairs\$" "$T/out" || fail "the sample runs pairs: $(cat "$T/out")"
sed 's/^;\(\[pair \|host = \|target = \|allow-remote = \)/\1/' "$top/kdrelay.conf" >"$T/examples.conf"
"$K" -c "$T/examples.conf" --check-config >"$T/out" 2>&1 ||
    fail "the sample's examples: $(cat "$T/out")"
grep -q "OK, 4 pairs\$" "$T/out" || fail "the sample's examples: $(cat "$T/out")"
note "ok: the sample has no pair, its 4 examples are valid"

# No pair: idle, no wake-up, pairs on SIGHUP.
cp "$top/kdrelay.conf" "$T/k.conf"
bg "$K" -c "$T/k.conf" --no-control 2>"$T/relay.log"
RELAY=$LAST
wait_log "$T/relay.log" "no pairs configured" || fail "not said: $(cat "$T/relay.log")"
switches() { awk '/^voluntary_ctxt_switches:/ { n += $2 } END { print n }' /proc/$RELAY/task/*/status; }
a=$(switches)
sleep 3		# the window measured, not a wait for something
b=$(switches)
[ "$a" = "$b" ] || fail "idle with no pair, yet woke $((b - a)) times in 3 s"
[ "$(ls /proc/$RELAY/task | wc -l)" = 1 ] || fail "threads with no pair"
[ "$(grep -c "no pairs configured" "$T/relay.log")" = 1 ] || fail "said more than once"
vm host
vm target
printf '[pair kd]\nhost = %s\ntarget = %s\npacket-log = %s\n' "$T/host.vm" "$T/target.vm" \
    "$T/logs/new/kd.log" >>"$T/k.conf"
"$K" -c "$T/k.conf" --check-config >"$T/out" 2>&1 || fail "check: $(cat "$T/out")"
[ ! -e "$T/logs" ] || fail "--check-config made a directory"
kill -HUP $RELAY
wait_log "$T/relay.log" "kd/host: .*connected" || fail "the pair not taken on SIGHUP: $(cat "$T/relay.log")"
wait_log "$T/relay.log" "kd/target: .*connected" || fail "target not taken"
[ "$(stat -c %a "$T/logs/new")" = 700 ] && [ "$(stat -c %a "$T/logs")" = 700 ] ||
    fail "the packet-log directories: $(stat -c '%a %n' "$T/logs" "$T/logs/new" 2>&1)"
[ -f "$T/logs/new/kd.log" ] || fail "no packet log"
stop $RELAY
note "ok: no pair: said once, $a = $b context switches in 3 s, one thread; SIGHUP took the pair; its packet-log directories made 0700"

# A packet-log under a file: refused alike by the check and the start.
: >"$T/plain"
printf '[pair kd]\nhost = %s\ntarget = %s\npacket-log = %s\n' "$T/host.vm" "$T/target.vm" \
    "$T/plain/kd.log" >"$T/bad.conf"
for how in --check-config --no-control; do
	timeout 5 "$K" -c "$T/bad.conf" $how >"$T/out" 2>&1; rc=$?
	[ $rc = 78 ] && grep -q "^kdrelayd: $T/bad.conf:4: packet-log: $T/plain is not a directory" "$T/out" ||
	    fail "$how: exit $rc: $(cat "$T/out")"
done
note "ok: a packet-log that cannot be made: FILE:LINE, 78, check and start alike"
