#!/bin/sh
# bench/ipb.sh COREBENCH LABEL CSV [TRACE] - instructions per input byte of
# the pure core (crlf + kdcom + stream), counted by callgrind: unlike the
# wall-clock figures it does not depend on the machine's load.
#
# Appends one row per input (dump, session when TRACE is readable,
# garbage), corruption (clean, corrupting line) and mode (repair: CRLF
# repair alone; validate: repair and validation, as the relay runs on a
# corrupting line; auto: detection with both readings validated;
# listened: validate with the listener kdrelayd passes by default, the
# target-shutdown watch on the target's side, corebench -l target;
# listened-debugger: the same watch on the debugger's side) to CSV:
#   build,input,corrupt,mode,bytes,instructions,ipb
# Environment: BENCH_IPB_SIZE [4M] bytes per input, BENCH_IPB_CHUNK [4096]
# bytes per read.
set -u
BIN=$1 LABEL=$2 CSV=$3 TRACE=${4:-}
SIZE=${BENCH_IPB_SIZE:-4M}
CHUNK=${BENCH_IPB_CHUNK:-4096}
command -v valgrind >/dev/null || { echo "ipb: valgrind missing" >&2; exit 1; }
[ -x "$BIN" ] || { echo "ipb: $BIN missing" >&2; exit 1; }
T=$(mktemp -d /tmp/kdrelay-ipb.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
[ -s "$CSV" ] || echo "build,input,corrupt,mode,bytes,instructions,ipb" >"$CSV"
inputs="dump garbage"
if [ -n "$TRACE" ] && [ -r "$TRACE" ]; then
	inputs="dump session garbage"
else
	echo "ipb: no session trace: skipping that input" >&2
fi
for input in $inputs; do
	for c in 0 1; do
		for mode in repair validate auto listened listened-debugger; do
			cflag=""; [ $c = 1 ] && cflag=-c
			m=$mode lflag=""
			case $mode in
			listened*)
				side=target
				[ $mode = listened ] || side=debugger
				# An older corebench has no listener: no row.
				"$BIN" -l $side -s 1M garbage >/dev/null 2>&1 ||
				    continue
				m=validate lflag="-l $side"
			esac
			out=$(valgrind --tool=callgrind --toggle-collect=process \
			    --callgrind-out-file="$T/cg" "$BIN" $cflag -m $m $lflag \
			    -s "$SIZE" -k "$CHUNK" ${TRACE:+-f "$TRACE"} $input \
			    2>"$T/err") || { cat "$T/err" >&2; exit 1; }
			bytes=$(printf '%s\n' "$out" | tr ' ' '\n' | sed -n 's/^bytes=//p')
			ir=$(sed -n 's/^totals: *//p' "$T/cg")
			[ "${ir:-0}" -gt 0 ] || {
				echo "ipb: $BIN: nothing counted in process()" >&2
				exit 1
			}
			ipb=$(awk -v i="$ir" -v b="$bytes" 'BEGIN { printf "%.3f", i / b }')
			echo "$LABEL,$input,$c,$mode,$bytes,$ir,$ipb" >>"$CSV"
			echo "ipb $LABEL $input corrupt=$c $mode: $ipb instructions/byte" >&2
		done
	done
done
