#!/bin/sh
# 16 MiB each way at once through two socat pty pairs and kdrelayd, with the
# target's line corrupting for real (its guest writes with OPOST|ONLCR) and
# the relay repairing it; both directions must arrive byte for byte.
. "$TESTS/lib/common.sh"
N=$((16 * 1024 * 1024))
random "$T/h.out" $N
random "$T/t.out" $N
vm host
vm target
# Random bytes are not KDCOM, so the relay cannot know that a 0x0d ending a
# read is followed by a 0x0a; the pty and socat upstream may split the pair
# by more than the 5 ms default when the machine is busy.  Hold it longer.
# socat, playing each VM's console backend, is single-threaded and blocks on
# a full pty: with both guests flooding, two socats can each block writing
# toward the relay while the relay (rightly) stops reading a side whose peer
# will not take more.  Buffers that hold the whole transfer keep the relay
# reading, so the test measures the relay and not that deadlock.
relay --hold-ms 200 --buffer-size 16M "$T/host.vm" "$T/target.vm,crlf=on"
wait_log "$T/relay.log" "target: .*connected" || fail "relay did not open target"
wait_log "$T/relay.log" "host: .*connected" || fail "relay did not open host"
note "both sides connected, sending $N bytes each way"
"$BUILD/helpers/xfer" -t 120 "$T/host.guest" "$T/h.out" "$T/h.in" $N & H=$!
"$BUILD/helpers/xfer" -t 120 -o "$T/target.guest" "$T/t.out" "$T/t.in" $N & G=$!
wait $H || fail "host side transfer"
wait $G || fail "target side transfer"
same "$T/h.out" "$T/t.in"
same "$T/t.out" "$T/h.in"
lf=$(tr -dc '\n' <"$T/t.out" | wc -c)
kill -USR1 $RELAY
wait_log "$T/relay.log" "target->host: .* CRs removed" || fail "no counters on SIGUSR1"
grep "target->host:" "$T/relay.log" | tail -1 | grep -q " $lf CRs removed" ||
    fail "expected $lf CRs removed: $(grep 'target->host:' "$T/relay.log" | tail -1)"
kill -TERM $RELAY; wait $RELAY; rc=$?
[ $rc = 0 ] || fail "kdrelayd exit status $rc on SIGTERM"
note "ok: 2 x $N bytes intact, $lf CRs removed"
