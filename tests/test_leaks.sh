#!/bin/sh
# 1,000 reconnect cycles of one endpoint while the other sends: the host
# side is a unix-listen endpoint whose client connects, waits for a byte
# from the relay (so it really is the pair's client), sends 64 bytes and
# disconnects; the target VM sends all the while.  Afterwards the daemon's
# open fds are exactly what they were and its RSS is within 1 MiB of
# where it was.
#
# Why 1 MiB: the baseline is taken after 20 warm-up cycles, so libevent's
# tables and the pair thread's malloc arena already exist; what may still
# move is allocator bookkeeping (fragmentation in the arena, a few pages),
# tens of KiB.  A leak on the reconnect path of anything the cycle
# allocates (an event, a buffer, a status string) is at least ~100 bytes
# x 1000 cycles, a 64 KiB buffer 64 MiB.  Smaller leaks are caught by
# LeakSanitizer when this test runs in `make check-asan`; there ASan's
# quarantine holds freed memory on purpose, so the RSS bound is not
# checked (the fd count is).
. "$TESTS/lib/common.sh"
CYCLES=1000
WARM=20

fds() { ls "/proc/$RELAY/fd" | wc -l; }
# settle N: until the relay has seen N clients come and go.
settle() {
	wait_log "$T/relay.log" "client left" "$1" ||
	    fail "relay saw $(grep -c 'client left' "$T/relay.log") of $1 clients leave"
}

vm target
relay "unix-listen:$T/h.sock" "$T/target.vm"
wait_for -S "$T/h.sock" || fail "no unix socket"
wait_log "$T/relay.log" "target: .*connected" || fail "target not opened"
# The target VM sends 64 bytes every 2 ms and drains what it gets.
bg perl -e '$| = 1; while (1) { print "k" x 64; select(undef, undef, undef, 0.002) }' \
    >"$T/target.guest"
bg sh -c "exec cat '$T/target.guest' >/dev/null"

"$BUILD/helpers/churn" -r -n $WARM -t 20 "unix:$T/h.sock" >/dev/null ||
    fail "warm-up cycles"
settle $WARM
fd0=$(fds) rss0=$(rss)
note "after $WARM warm-up cycles: $fd0 fds, RSS $rss0 kB"

start=$(date +%s%N)
"$BUILD/helpers/churn" -r -n $CYCLES -t 60 "unix:$T/h.sock" >"$T/churn.out" ||
    fail "churn: $(cat "$T/churn.out")"
settle $((WARM + CYCLES))
ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill -0 $RELAY || fail "relay died"
fd1=$(fds) rss1=$(rss)
n=$(grep -c "client connected" "$T/relay.log")
[ "$n" -ge $((WARM + CYCLES)) ] || fail "only $n clients were connected"
note "after $CYCLES more cycles ($(cat "$T/churn.out"), $ms ms): $fd1 fds, RSS $rss1 kB"

[ "$fd1" = "$fd0" ] || {
	ls -l "/proc/$RELAY/fd" >&2
	fail "fd count $fd0 -> $fd1 after $CYCLES reconnects"
}
if grep -qa __asan_init "$BUILD/kdrelayd"; then
	note "ASan build: RSS not bounded here (quarantine); LeakSanitizer checks at exit"
else
	[ $((rss1 - rss0)) -le 1024 ] ||
	    fail "RSS grew by $((rss1 - rss0)) kB over $CYCLES reconnects"
fi
kill -TERM $RELAY; wait $RELAY; rc=$?
[ $rc = 0 ] || fail "kdrelayd exit status $rc on SIGTERM"
note "ok: fds $fd0 -> $fd1, RSS $rss0 -> $rss1 kB over $CYCLES reconnects"
