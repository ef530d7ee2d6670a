#!/bin/sh
# --packet-log and --capture through kdrelayd, with two kdreplays on socat
# pty "VMs" whose lines both corrupt (OPOST|ONLCR):
#  a) the session with a break-in spliced into the middle of
#     the traffic, crlf=on: the packet log has one line per packet, in
#     order, with monotonic time, direction, type, id, length, ok and the
#     API name, and the DbgPrint texts escaped (all seven of the trace's,
#     each as often as it was sent); the capture is a kdtrace equal to the
#     session, record for record and byte for byte, the break-in included;
#  b) crlf=auto from the wrong guess: detection is lossless, so the
#     capture is the session itself, byte for byte (no damaged packet in
#     the packet log, no recovery), agrees with the relay's counters, and
#     is a kdtrace kdreplay accepts;
#  c) round trip: two kdreplays play that capture through a fresh relay,
#     whose own capture is then identical to it.
# On a generated session (kdgen), then on the real WinDbg session (the
# fixture) when ../shared has it.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/framing.sh"
start=$(date +%s)

# session NAME TRACE HOSTOPTS TARGETOPTS [replay options...]
session() {
	_s=$1 _tr=$2 _ho=$3 _to=$4
	shift 4
	vm "h$_s"
	vm "t$_s"
	: >"$T/relay.log"
	relay -n "$_s" --packet-log "$T/$_s.pktlog" --capture "$T/$_s.kdtrace" \
	    "$T/h$_s.vm$_ho" "$T/t$_s.vm$_to"
	wait_log "$T/relay.log" "$_s/target: .*connected" ||
	    fail "$_s: relay did not open the target's pty"
	wait_log "$T/relay.log" "$_s/host: .*connected" ||
	    fail "$_s: relay did not open the host's pty"
	replay "$_s" "$_tr" "$T/h$_s.guest" "$T/t$_s.guest" --timeout 300 \
	    t:--onlcr d:--onlcr "$@"
	[ "$RC_T" = 0 ] && [ "$RC_D" = 0 ] || {
		cat "$T/$_s.t.out" "$T/$_s.d.out" "$T/relay.log" >&2
		fail "$_s: exit target=$RC_T debugger=$RC_D"
	}
	relay_report "$_s"
	stop "$RELAY"
}

# Packet lines of a packet log, without the time stamps.
# A packet log line's time: 2026-12-01T23:50:01.123456+01:00.
ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}[+-][0-9]{2}:[0-9]{2}'
packets() {
	grep -E "^$ISO (D>T|T>D) " "$1" | cut -d' ' -f2-
}

# capture NAME TRACE: the three cases on one session.
capture() {
	S=$1 TRACE=$2
	# The session with a debugger's break-in between two packets: before the
	# first debugger record, past the middle, that follows a target record.
	n=$("$KDSTAT" -l "$TRACE" | wc -l)
	at=$("$KDSTAT" -l "$TRACE" | awk -v h=$((n / 2)) \
	    'NR > h && prev == "T>D" && $1 == "D>T" { print NR - 1; exit }
	    { prev = $1 }')
	[ -n "$at" ] || fail "no place for a break-in in the session"
	off=$("$KDSTAT" -s "$at" "$TRACE")
	trace=$T/breakin.kdtrace
	{ head -c "$off" "$TRACE"; printf 'D\000\001\000b'
	  tail -c +"$((off + 1))" "$TRACE"; } >"$trace"
	"$KDSTAT" "$trace" >"$T/trace.kv" || fail "kdstat $trace"
	[ "$(get "$T/trace.kv" D.breakins)" = 1 ] || fail "splicing the break-in"

	# a) crlf=on: packet log and capture of the session with a break-in.
	session on "$trace" ",crlf=on" ",crlf=on"
	for s in t d; do
		[ "$(get "$T/on.$s.kv" resends_sent)" = 0 ] &&
		    [ "$(get "$T/on.$s.kv" retransmits)" = 0 ] ||
		    fail "on: recovery was needed: $(cat "$T/on.$s.out")"
	done
	[ "$(get "$T/on.D.kv" break-ins)" = 1 ] || fail "on: the relay saw no break-in"
	"$KDSTAT" -l "$trace" >"$T/on.want"
	packets "$T/on.pktlog" >"$T/on.got"
	cmp -s "$T/on.want" "$T/on.got" || {
		diff "$T/on.want" "$T/on.got" | head -n 10 >&2
		fail "on: the packet log is not the trace's packets, in order"
	}
	# Wall-clock time the journal can be matched with, never going back.
	! grep -Ev "^$ISO " "$T/on.pktlog" | grep . ||
	    fail "on: packet log lines without an ISO 8601 time"
	awk '$1 < prev { print "time goes back: " $0; exit 1 }
	    { prev = $1 }' "$T/on.pktlog" || fail "on: packet log times go back"
	now=$(date +%s)
	first=$(date -d "$(head -n 1 "$T/on.pktlog" | cut -d' ' -f1)" +%s) ||
	    fail "date cannot read $(head -n 1 "$T/on.pktlog")"
	[ $((now - first)) -ge 0 ] && [ $((now - first)) -lt 600 ] ||
	    fail "the packet log's time is not now: $(head -n 1 "$T/on.pktlog")"
	"$KDSTAT" -p "$TRACE" >"$T/prints"
	[ "$(wc -l <"$T/prints")" = "$(get "$T/trace.kv" T.DEBUG_IO)" ] ||
	    fail "kdstat -p and the DEBUG_IO count disagree"
	sort -u "$T/prints" | while IFS= read -r text; do
		want=$(grep -cxF -- "$text" "$T/prints")
		got=$(grep -F -- " PrintString $text" "$T/on.pktlog" | grep -c ' ok ')
		[ "$got" = "$want" ] || fail "on: DbgPrint $text logged $got times, sent $want"
	done || exit 1
	grep -q '\\n' "$T/on.pktlog" && ! grep -q "$(printf '\r')" "$T/on.pktlog" ||
	    fail "on: DbgPrint text not escaped"
	cmp "$trace" "$T/on.kdtrace" ||
	    fail "on: the capture is not the session that crossed"
	note "$S: ok: crlf=on: $n packets + a break-in logged and captured exactly," \
	    "$(wc -l <"$T/prints") DbgPrints"

	# b) crlf=auto from the wrong guess: what the capture holds.
	session auto "$TRACE" "" ""
	"$KDSTAT" "$T/auto.kdtrace" >"$T/auto.kv" ||
	    fail "auto: the capture is not a kdtrace"
	for x in D T; do
		for k in data control resends resets STATE_MANIPULATE DEBUG_IO \
		    ACKNOWLEDGE RESEND RESET STATE_CHANGE64 FILE_IO; do
			[ "$(get "$T/auto.$x.kv" $k)" = "$(get "$T/auto.kv" $x.$k)" ] ||
			    fail "auto: capture $x.$k=$(get "$T/auto.kv" $x.$k)," \
				"relay counted $(get "$T/auto.$x.kv" $k)"
		done
	done
	bad=$(grep -cE ' (T>D|D>T) .* bad-(trailer|checksum)' "$T/auto.pktlog")
	[ "$bad" = 0 ] || fail "auto: $bad damaged packets in the packet log"
	[ "$(grep -c 'CRLF repair on' "$T/auto.pktlog")" = 2 ] ||
	    fail "auto: the switches are not in the packet log"
	# Detection held the first packets the corruption hit: no recovery, the
	# capture has the trace's records exactly.
	"$KDSTAT" "$TRACE" >"$T/session.kv" || fail "kdstat $TRACE"
	for x in D T; do
		[ "$(get "$T/auto.kv" $x.records)" = "$(get "$T/session.kv" $x.records)" ] ||
		    fail "auto: the capture has $(get "$T/auto.kv" $x.records) $x" \
			"records, the session $(get "$T/session.kv" $x.records)"
	done
	cmp -s "$TRACE" "$T/auto.kdtrace" ||
	    fail "auto: the capture is not the session that crossed"
	note "$S: ok: crlf=auto: capture = the session, no damage, no recovery"

	# c) The capture played back through a relay: captured the same again.
	session again "$T/auto.kdtrace" ",crlf=on" ",crlf=on"
	for s in t d; do
		[ "$(get "$T/again.$s.kv" resends_sent)" = 0 ] ||
		    fail "again: recovery was needed: $(cat "$T/again.$s.out")"
	done
	cmp "$T/auto.kdtrace" "$T/again.kdtrace" ||
	    fail "again: the replayed capture was captured differently"
	note "$S: ok: capture -> replay -> capture round trip is exact"
}

each_session "packet log and capture" capture
note "test_capture: passed in $(( $(date +%s) - start ))s"
