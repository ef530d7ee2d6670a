#!/bin/sh
# kvm.sh - the real line: what a VM's serial port (QEMU's emulated 16550,
# here under TCG) costs, and what a relay adds to it.
#
#   sh bench/kvm.sh BUILD        (make bench runs it as its "kvm" part)
#
# One QEMU boots the echo guest (tests/peers/echo.S: every byte that
# reaches COM1 is sent back) with -serial pty.  Taking turns on that pty,
# alternating, BENCH_KVM_REPS times:
#   direct    tests/helpers/echoguest on the pty itself
#   kdrelayd  kdrelayd unix-listen:S,crlf=off PTY,crlf=off, echoguest on S
#   socat     socat -b 65536 UNIX-LISTEN:S PTY,raw,echo=0, echoguest on S
# each measuring 16-byte round trips (BENCH_KVM_ROUNDS, 1000), 1 KiB round
# trips (BENCH_KVM_ROUNDS_1K, 100) and the echo's throughput, BENCH_KVM_TPUT
# bytes (65536) with 4 KiB in flight.  Every byte is checked.  Writes
# kvm.csv and kvm.md to BENCH_OUT (bench/results).  About a minute.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 1
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$HERE/results}
REPS=${BENCH_KVM_REPS:-3}
ROUNDS=${BENCH_KVM_ROUNDS:-1000}
ROUNDS_1K=${BENCH_KVM_ROUNDS_1K:-100}
TPUT=${BENCH_KVM_TPUT:-65536}
EG=$BUILD/helpers/echoguest
T=$(mktemp -d /tmp/kdrelay-kvmbench.XXXXXX)
PIDS=""

say() { printf '%s\n' "$*" >&2; }
die() { say "bench kvm: $*"; exit 1; }
bg() { "$@" & LAST=$!; PIDS="$PIDS $LAST"; }
stop() {
	for _p; do kill "$_p" 2>/dev/null; done
	for _p; do wait "$_p" 2>/dev/null; done
}
cleanup() {
	for _p in $PIDS; do kill "$_p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for c in qemu-system-x86_64 as ld socat; do
	command -v $c >/dev/null || die "$c: not installed (sh tests/deps.sh bench)"
done
[ -x "$EG" ] || die "$EG: not built (make helpers)"
[ -x "$BUILD/kdrelayd" ] || die "$BUILD/kdrelayd: not built"
mkdir -p "$OUT" || die "cannot create $OUT"
as --32 -o "$T/echo.o" "$HERE/../tests/peers/echo.S" &&
    ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o "$T/echo.bin" \
    "$T/echo.o" || die "cannot assemble the echo guest"

bg qemu-system-x86_64 -nographic -nodefaults -monitor none -no-user-config \
    -machine pc,accel=tcg -m 16 \
    -drive "file=$T/echo.bin,format=raw,if=floppy,readonly=on" -boot a \
    -serial pty >"$T/qemu.log" 2>&1
i=0
until PTY=$(sed -n 's|.*redirected to \(/dev/pts/[0-9]*\).*|\1|p' \
    "$T/qemu.log") && [ -n "$PTY" ]; do
	i=$((i + 1)); [ $i -lt 500 ] || die "QEMU made no pty"
	sleep 0.02
done
QEMU_VER=$(qemu-system-x86_64 --version | head -n 1)

# on CONTENDER: start what sits between echoguest and the pty; $EP is the
# endpoint echoguest opens.
on() {
	RELAY=""
	case $1 in
	direct)
		EP=$PTY ;;
	kdrelayd)
		rm -f "$T/k.sock"
		bg "$BUILD/kdrelayd" -q "unix-listen:$T/k.sock,crlf=off" \
		    "$PTY,crlf=off" 2>>"$T/kdrelayd.log"
		RELAY=$LAST
		EP=unix-listen-wait:$T/k.sock ;;
	socat)
		rm -f "$T/s.sock"
		bg socat -b 65536 "UNIX-LISTEN:$T/s.sock" "$PTY,raw,echo=0" \
		    2>>"$T/socat.log"
		RELAY=$LAST
		EP=unix-listen-wait:$T/s.sock ;;
	esac
	case $EP in
	unix-listen-wait:*)
		EP=unix:${EP#unix-listen-wait:}
		i=0
		until [ -S "${EP#unix:}" ]; do
			i=$((i + 1)); [ $i -lt 250 ] || die "$1 did not listen"
			sleep 0.02
		done ;;
	esac
}
off() { [ -n "$RELAY" ] && stop "$RELAY"; RELAY=""; }

CSV=$OUT/kvm.csv
echo "rep,contender,test,p50_us,p99_us,max_us,kbps" >"$CSV"
rep=1
while [ $rep -le "$REPS" ]; do
	case $((rep % 3)) in
	1) order="direct kdrelayd socat" ;;
	2) order="kdrelayd socat direct" ;;
	0) order="socat direct kdrelayd" ;;
	esac
	for c in $order; do
		on $c
		r16=$("$EG" -t 60 "$EP" rtt 16 "$ROUNDS") ||
		    die "$c: 16-byte round trips failed"
		off; on $c
		r1k=$("$EG" -t 60 "$EP" rtt 1024 "$ROUNDS_1K") ||
		    die "$c: 1 KiB round trips failed"
		off; on $c
		tp=$("$EG" -t 60 "$EP" tput "$TPUT") ||
		    die "$c: throughput failed"
		off
		set -- $r16
		echo "$rep,$c,rtt16,$2,$4,$6," >>"$CSV"
		set -- $r1k
		echo "$rep,$c,rtt1k,$2,$4,$6," >>"$CSV"
		set -- $tp
		echo "$rep,$c,tput,,,,$2" >>"$CSV"
		say "kvm rep $rep $c: 16 B $r16; 1 KiB $r1k; $tp"
	done
	rep=$((rep + 1))
done

# Medians over the repetitions.
med() {	# med CONTENDER TEST COLUMN
	awk -F, -v c="$1" -v t="$2" -v k="$3" '$2 == c && $3 == t { print $k }' \
	    "$CSV" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
{
	echo "# The real line: QEMU's 16550 under TCG, the echo guest"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $QEMU_VER; $REPS repetitions, medians; $ROUNDS 16-byte and $ROUNDS_1K 1 KiB round trips, $TPUT bytes streamed (4 KiB in flight), every byte checked (bench/kvm.sh)."
	echo
	echo "| | direct | kdrelayd | socat |"
	echo "|---|---|---|---|"
	printf '| round trip, 16 bytes, p50 / p99 (us) |'
	for c in direct kdrelayd socat; do
		printf ' %s / %s |' "$(med $c rtt16 4)" "$(med $c rtt16 5)"
	done
	echo
	printf '| round trip, 1 KiB, p50 / p99 (us) |'
	for c in direct kdrelayd socat; do
		printf ' %s / %s |' "$(med $c rtt1k 4)" "$(med $c rtt1k 5)"
	done
	echo
	printf '| echo throughput (KB/s) |'
	for c in direct kdrelayd socat; do
		printf ' %s |' "$(med $c tput 7)"
	done
	echo
} >"$OUT/kvm.md"
cat "$OUT/kvm.md"
