#!/bin/sh
# SIGHUP applies a new configuration without touching what did not change:
# two pairs from one file carry traffic at once, both ways; then, while
# 64 MiB go through pair A, a reload removes pair B (its ptys are released)
# and adds pair C (which carries traffic) and A's transfer arrives byte for
# byte, its pair never restarted.  A file that does not parse leaves
# everything running, logged with file:line.  SIGUSR1 logs every running
# pair's counters, and they add up.
#
# socat blocks writing to a full pty and reads nothing meanwhile.  Two
# such VMs both sending flat out can deadlock with any relay that has
# bounded buffers (each socat waits for the relay to read, the relay waits
# for the other socat to read): so the big transfer goes one way with
# 1 MiB coming back, and the buffers (4M) hold the 1 MiB transfers whole.
. "$TESTS/lib/common.sh"
N=$((64 * 1024 * 1024))
M=$((1024 * 1024))
for v in a1 a2 b1 b2 c1 c2; do vm $v; done

# pair NAME VM1 VM2: crlf=off, so that random bytes go through unrepaired.
pair() {
	printf '[pair %s]\nhost = %s,crlf=off\ntarget = %s,crlf=off\n' \
	    "$1" "$T/$2.vm" "$T/$3.vm"
}
global() { printf '[global]\nlog-level = info\nbuffer-size = 4M\n'; }
{ global; pair A a1 a2; pair B b1 b2; } >"$T/kd.conf"
{ global; pair A a1 a2; pair C c1 c2; } >"$T/new.conf"
relay -c "$T/kd.conf"
for s in A/host A/target B/host B/target; do
	wait_log "$T/relay.log" "$s: .*connected" || fail "$s did not connect"
done

# xfer2 TAG VM1 VM2 BYTES [BACK]: BYTES from VM1's guest to VM2's, BACK
# (default BYTES) the other way, at once, in the background ($X1, $X2);
# files $T/TAG.{1,2}.{out,in}.
xfer2() {
	random "$T/$1.1.out" "$4"
	random "$T/$1.2.out" "${5:-$4}"
	"$BUILD/helpers/xfer" -t 15 "$T/$2.guest" "$T/$1.1.out" "$T/$1.1.in" "${5:-$4}" &
	X1=$!
	"$BUILD/helpers/xfer" -t 15 "$T/$3.guest" "$T/$1.2.out" "$T/$1.2.in" "$4" &
	X2=$!
	PIDS="$PIDS $X1 $X2"
}
# check2 TAG: both transfers done, both ways intact.
check2() {
	wait "$X1" || fail "$1: transfer from the host guest"
	wait "$X2" || fail "$1: transfer from the target guest"
	same "$T/$1.1.out" "$T/$1.2.in"
	same "$T/$1.2.out" "$T/$1.1.in"
}
# holds PATTERN: the daemon has an fd open on the pty behind $T/PATTERN.vm.
holds() {
	pts=$(readlink -f "$T/$1.vm")
	for fd in /proc/"$RELAY"/fd/*; do
		[ "$(readlink "$fd")" = "$pts" ] && return 0
	done
	return 1
}

# until CMD...: poll up to 10 s for a command to succeed.
until_ok() {
	i=0
	while ! "$@"; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1
		sleep 0.05
	done
}
released() { ! holds b1 && ! holds b2; }

# --- two pairs at once ----------------------------------------------------
xfer2 a0 a1 a2 $M; XA1=$X1; XA2=$X2
xfer2 b0 b1 b2 $M
check2 b0
X1=$XA1; X2=$XA2; check2 a0
note "pairs A and B: 1 MiB each way on each, at once"
holds b1 && holds b2 || fail "the daemon does not hold B's ptys"

# --- reload during a transfer on A ----------------------------------------
xfer2 big a1 a2 $N $M; XB1=$X1; XB2=$X2
i=0
while [ "$(stat -c %s "$T/big.2.in" 2>/dev/null || echo 0)" -lt $((4 * M)) ]; do
	i=$((i + 1)); [ $i -gt 400 ] && fail "pair A: the transfer does not start"
	sleep 0.01
done
cp "$T/new.conf" "$T/kd.conf"
kill -HUP "$RELAY"
wait_log "$T/relay.log" "reloaded: " || fail "no 'reloaded' after SIGHUP"
got=$(stat -c %s "$T/big.2.in")
note "reloaded with $got of $N bytes arrived on A"
[ "$got" -lt "$N" ] || fail "A's transfer ended before the reload: no overlap"
wait_log "$T/relay.log" "B: stopped" || fail "pair B was not stopped"
until_ok released || fail "B's ptys are still open in the daemon"
wait_log "$T/relay.log" "C/target: .*connected" || fail "C/target did not connect"
wait_log "$T/relay.log" "C/host: .*connected" || fail "C/host did not connect"
xfer2 c0 c1 c2 $M
check2 c0
note "pair C: 1 MiB each way"
X1=$XB1; X2=$XB2; check2 big
note "pair A: $N bytes (and $M back) intact across the reload"
grep -q "A: stopped" "$T/relay.log" && fail "pair A was restarted by the reload"
[ "$(grep -c "A: relaying" "$T/relay.log")" = 1 ] || fail "pair A started twice"
released || fail "B's ptys were opened again"

# --- a reload that fails --------------------------------------------------
printf '[global]\nlog-level = info\n[pair A]\nhost %s\n' "$T/a1.vm" >"$T/kd.conf"
kill -HUP "$RELAY"
wait_log "$T/relay.log" "reload failed.*$T/kd.conf:4: syntax error" ||
    fail "the failed reload was not logged with file:line"
note "$(grep 'reload failed' "$T/relay.log")"
xfer2 a1 a1 a2 $M; XA1=$X1; XA2=$X2
xfer2 c1 c1 c2 $M
check2 c1
X1=$XA1; X2=$XA2; check2 a1
note "after the failed reload A and C still relay"

# --- SIGUSR1: every pair's counters ---------------------------------------
lines=$(wc -l <"$T/relay.log")
kill -USR1 "$RELAY"
# reported P: both directions of pair P logged since the signal.
reported() {
	tail -n +"$((lines + 1))" "$T/relay.log" >"$T/usr1.log"
	grep -q "$1: host->target: " "$T/usr1.log" &&
	    grep -q "$1: target->host: " "$T/usr1.log"
}
until_ok reported A || fail "SIGUSR1: no counters for A"
until_ok reported C || fail "SIGUSR1: no counters for C"
grep -q "B: " "$T/usr1.log" && fail "SIGUSR1 reported the removed pair B"
grep -q "kdrelayd: notice: A: host connected to $T/a1.vm, target connected to $T/a2.vm" \
    "$T/usr1.log" || fail "SIGUSR1: no state line for A"
# A carried 1 + 64 + 1 MiB to the target and 3 MiB back, C 2 MiB each way.
for x in "A host->target $((N + 2 * M))" "A target->host $((3 * M))" \
    "C host->target $((2 * M))" "C target->host $((2 * M))"; do
	set -- $x
	grep -q "$1: $2: $3 bytes in, $3 out," "$T/usr1.log" ||
	    fail "SIGUSR1: $1 $2: expected $3 bytes in and out: $(grep "$1: $2" "$T/usr1.log")"
done
note "SIGUSR1: A and C counters exact, B gone"
kill -TERM "$RELAY"; wait "$RELAY"; rc=$?
[ $rc = 0 ] || fail "kdrelayd exit status $rc on SIGTERM"
note "ok"
