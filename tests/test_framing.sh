#!/bin/sh
# A KD session through kdrelayd between two socat pty pairs standing in for
# the debugger's and the target's VMs, played by two kdreplays, one per VM;
# a generated session (kdgen, never skipped), then the real WinDbg session
# (the fixture) when ../shared has it:
#  a) both VMs' lines corrupting (each guest writes with OPOST|ONLCR, every
#     0x0a becomes 0x0d 0x0a) and crlf=on on both sides: the session goes
#     through with no recovery at all, and the counters the relay reports
#     on SIGUSR1 equal what the trace holds, per direction (packets by
#     type, data, control, resends, resets; bytes, CRs removed);
#  b) the same lines with crlf=auto, which starts from the wrong guess
#     (off, for a plain pty) both ways: detection costs nothing, the first
#     packet each way that the corruption hits is held until it validates
#     repaired: no RESEND, no retransmission, no damaged packet, each
#     direction switched on exactly once, counters = trace;
#  c) clean lines, crlf=auto: no recovery, no switch, no CR removed.
# Expected numbers come from the trace (tests/helpers/kdstat), never from
# constants.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/framing.sh"
start=$(date +%s)


# session NAME HOSTOPTS TARGETOPTS [replay options...]: new VMs, a relay
# between them, one replay of the fixture; the relay keeps running.
session() {
	_s=$1 _ho=$2 _to=$3
	shift 3
	vm "h$_s"
	vm "t$_s"
	: >"$T/relay.log"
	relay -n "$_s" "$T/h$_s.vm$_ho" "$T/t$_s.vm$_to"
	wait_log "$T/relay.log" "$_s/target: .*connected" ||
	    fail "$_s: relay did not open the target's pty"
	wait_log "$T/relay.log" "$_s/host: .*connected" ||
	    fail "$_s: relay did not open the host's pty"
	replay "$_s" "$TRACE" "$T/h$_s.guest" "$T/t$_s.guest" --timeout 300 "$@"
	cp "$T/relay.log" "$T/$_s.relay.log"
}

intact() {
	[ "$RC_T" = 0 ] && [ "$RC_D" = 0 ] || {
		cat "$T/$1.t.out" "$T/$1.d.out" "$T/relay.log" >&2
		fail "$1: exit target=$RC_T debugger=$RC_D"
	}
	# Every record of the trace crossed, each side's own ones sent.
	[ "$(get "$T/$1.d.kv" received)" -ge "$(get "${TKV:-$T/trace.kv}" T.records)" ] &&
	    [ "$(get "$T/$1.t.kv" received)" -ge "$(get "${TKV:-$T/trace.kv}" D.records)" ] ||
	    fail "$1: packets missing: $(cat "$T/$1.d.out")"
}

no_recovery() {
	for _side in t d; do
		for _k in resends_sent resends_received retransmits duplicates; do
			[ "$(get "$T/$1.$_side.kv" $_k)" = 0 ] ||
			    fail "$1: $_side $_k=$(get "$T/$1.$_side.kv" $_k): $(cat "$T/$1.$_side.out")"
		done
	done
}

# lossless NAME: crlf=auto from the wrong guess, both lines corrupting.
lossless() {
	_n=$1
	TKV=$T/$_n.trace.kv
	"$KDSTAT" "$TRACE" >"$TKV" || fail "kdstat $TRACE"
	session "$_n" "" "" t:--onlcr d:--onlcr
	intact "$_n"
	no_recovery "$_n"
	for _d in "host->target" "target->host"; do
		_c=$(grep -c "$_n: $_d: CRLF repair switched on" "$T/relay.log")
		[ "$_c" = 1 ] || fail "$_n: $_d switched on $_c times"
	done
	grep -q 'switched off' "$T/relay.log" &&
	    fail "$_n: a direction switched off"
	relay_report "$_n"
	for _x in D T; do
		_kv=$T/$_n.$_x.kv
		[ "$(get "$TKV" $_x.lf)" -gt 0 ] ||
		    fail "$_n: the trace has no 0x0a from $_x: nothing tested"
		expect_counts "$_n" "$_kv" $_x "$TKV"
		[ "$(get "$_kv" repair)" = on ] &&
		    [ "$(get "$_kv" CRs_removed)" = "$(get "$TKV" $_x.lf)" ] &&
		    [ "$(get "$_kv" out)" = "$(get "$TKV" $_x.bytes)" ] ||
		    fail "$_n $_x: $(tr '\n' ' ' <"$_kv"), trace" \
			"$(get "$TKV" $_x.bytes) bytes $(get "$TKV" $_x.lf) LF"
	done
	stop "$RELAY"
	TKV=
}
# framing NAME TRACE: the three cases on one session.
framing() {
	S=$1 TRACE=$2
	"$KDSTAT" "$TRACE" >"$T/trace.kv" || fail "kdstat $TRACE"
	# a) crlf=on both ways, both lines corrupting.
	session on ",crlf=on" ",crlf=on" t:--onlcr d:--onlcr
	intact on
	no_recovery on
	relay_report on
	for x in D T; do
		expect_counts "crlf=on" "$T/on.$x.kv" $x "$T/trace.kv"
		bytes=$(get "$T/trace.kv" $x.bytes) lf=$(get "$T/trace.kv" $x.lf)
		[ "$lf" -gt 0 ] || fail "the trace has no 0x0a from $x: nothing tested"
		kv=$T/on.$x.kv
		[ "$(get "$kv" bytes_in)" = $((bytes + lf)) ] &&
		    [ "$(get "$kv" out)" = "$bytes" ] &&
		    [ "$(get "$kv" CRs_removed)" = "$lf" ] &&
		    [ "$(get "$kv" repair)" = on ] ||
		    fail "crlf=on $x: $(tr '\n' ' ' <"$kv"), trace $bytes bytes $lf LF"
	done
	grep -q 'switched' "$T/relay.log" && fail "crlf=on: the relay switched"
	stop "$RELAY"
	note "$S: ok: crlf=on both corrupting: intact, no recovery, counters = trace"

	# b) crlf=auto from the wrong guess, both lines corrupting: lossless.
	lossless auto
	note "$S: ok: crlf=auto, wrong first guess both ways: no RESEND, no" \
	    "damage, counters = trace, switched once each way"

	# c) crlf=auto, clean lines.
	session clean "" ""
	intact clean
	no_recovery clean
	relay_report clean
	grep -q 'switched' "$T/relay.log" && fail "clean: the relay switched repair"
	for x in D T; do
		expect_counts "auto, clean" "$T/clean.$x.kv" $x "$T/trace.kv"
		kv=$T/clean.$x.kv
		[ "$(get "$kv" CRs_removed)" = 0 ] && [ "$(get "$kv" repair)" = off ] &&
		    [ "$(get "$kv" bytes_in)" = "$(get "$T/trace.kv" $x.bytes)" ] ||
		    fail "clean $x: $(tr '\n' ' ' <"$kv")"
	done
	stop "$RELAY"
	note "$S: ok: crlf=auto, clean lines: no recovery, no switch, counters = trace"
}

each_session "the three cases" framing
note "test_framing: passed in $(( $(date +%s) - start ))s"
