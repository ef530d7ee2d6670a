#!/bin/sh
# pktdiff.sh BUILD OUT [FIXTURE] - what kdrelayd BUILD writes for sessions
# played through it, for comparing two builds (run from the source tree;
# the tests' helpers and socat ptys as in tests/test_framing.sh): the
# WinDbg session FIXTURE and two kdgen sessions, each through a fresh pair
# in crlf=on with both lines corrupting, off on clean lines, and auto
# (from the wrong guess) on corrupting and clean lines.  For each into OUT:
# the packet log without its time stamps (NAME.log), the capture
# (NAME.cap) and the relay's counters both ways (NAME.kv).  Then
#   for f in A/*; do cmp "$f" "B/${f##*/}"; done
BUILD=$(cd "$1" && pwd) OUT=$2
FIXTURE=${3:-../shared/fixtures/windbg-session.kdtrace}
TESTS=$(pwd)/tests
export BUILD TESTS
. "$TESTS/lib/common.sh"
. "$TESTS/lib/framing.sh"
mkdir -p "$OUT"
"$BUILD/kdgen" -s 3 -o "$T/gen3.kdtrace" || fail kdgen
"$BUILD/kdgen" -s 7 -n 40 -o "$T/gen7.kdtrace" || fail kdgen
k9=0
for tr in "$FIXTURE" "$T/gen3.kdtrace" "$T/gen7.kdtrace"; do
	tn=$(basename "$tr" .kdtrace)
	for m in on:c off:p auto:c auto:p; do
		mode=${m%%:*} c=${m#*:} n=$tn-${m%%:*}-${m#*:}
		k9=$((k9 + 1))
		vm "h$k9"; vm "t$k9"
		: >"$T/relay.log"
		relay -n "$n" --packet-log "$T/$n.log" --capture "$T/$n.cap" \
		    "$T/h$k9.vm,crlf=$mode" "$T/t$k9.vm,crlf=$mode"
		wait_log "$T/relay.log" "$n/target: .*connected" || fail "$n: target"
		wait_log "$T/relay.log" "$n/host: .*connected" || fail "$n: host"
		opts=""
		[ "$c" = c ] && opts="t:--onlcr d:--onlcr"
		# shellcheck disable=SC2086
		play "$n" "$tr" "$T/h$k9.guest" "$T/t$k9.guest" --timeout 3000 $opts
		relay_report "$n"
		stop "$RELAY"
		sed 's/^[^ ]* //' "$T/$n.log" >"$OUT/$n.log"
		cp "$T/$n.cap" "$OUT/$n.cap"
		cat "$T/$n.D.kv" "$T/$n.T.kv" >"$OUT/$n.kv"
		echo "$n: $(wc -l <"$OUT/$n.log") lines"
	done
done
