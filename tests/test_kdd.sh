#!/bin/sh
# A real KD target we did not write, through kdrelayd: the Xen project's
# xen-kdd (tests/lib/peers.sh) behind a pty whose guest end has OPOST|ONLCR,
# so every 0x0a kdd sends arrives as 0x0d 0x0a, as from a Qubes stubdomain
# console; kdrelayd between that pty and a socat pty pair standing in for
# the debugger's VM, where kddrive plays the debugger (RESET, GetVersion,
# ReadVirtualMemory; every packet checked, every DbgPrint must end in a
# genuine "\r\n").
#  a) target crlf=on: the session passes without a single damaged packet,
#     kdd's DbgPrints (text ending in 0d 0a inside the payload) arrive
#     unchanged and are logged as such, and the relay's counters equal what
#     kddrive sent and received, per packet type and in bytes;
#  b) default crlf (auto, first guess off) on both sides, and both lines
#     corrupting (kddrive's too, through a pty slave with ONLCR): detection
#     is lossless: each side's first packet the corruption hits is held
#     until it validates repaired, so not one packet is damaged, nobody
#     asks for a RESEND, and kdd's first DbgPrint ("connected", which kdd
#     never sends again) is in the packet log, intact, with every packet;
#  c) target crlf=off: the session breaks (the corruption is real);
#  d) a clean line, crlf=auto: kdd's genuine CR LF inside DbgPrints must
#     not make the relay switch; everything arrives intact.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/framing.sh"
need socat ss
peers_setup
start=$(date +%s)
DOM=7

# session NAME TARGETOPTS KDDRIVE-OPTIONS...: a fresh kdd, VM and relay;
# kdd's pty corrupts unless LINE=raw.
session() {
	_s=$1 _to=$2
	shift 2
	vm "h$_s"
	_hep=$T/h$_s.guest
	if [ "${HOSTLINE:-raw}" = crlf ]; then
		# The debugger's writes go through a slave with OPOST|ONLCR.
		_hport=$(free_port)
		bg socat "TCP-LISTEN:$_hport,bind=127.0.0.1,reuseaddr" \
		    "OPEN:$T/h$_s.guest,raw,echo=0,opost=1,onlcr=1" \
		    >"$T/h$_s.socat.log" 2>&1
		wait_until 5 _peers_listening "$_hport" ||
		    fail "$_s: socat does not listen on $_hport"
		_hep=tcp:127.0.0.1:$_hport
	fi
	kdd_start_tty "$T/kdd$_s" "${LINE:-crlf}" $DOM
	: >"$T/relay.log"
	relay -n "$_s" --packet-log "$T/$_s.pktlog" "$T/h$_s.vm" \
	    "$T/kdd$_s$_to"
	wait_log "$T/relay.log" "$_s/target: .*connected" ||
	    fail "$_s: relay did not open kdd's pty"
	wait_log "$T/relay.log" "$_s/host: .*connected" ||
	    fail "$_s: relay did not open the host's pty"
	timeout 20 "$KDDRIVE" -i -t 10 "$@" "$_hep" \
	    >"$T/$_s.drv" 2>"$T/$_s.drv.err"
	RC=$?
	# kddrive's last ACK may still be on its way through the relay.
	_i=0
	while :; do
		relay_report "$_s"
		[ $(( $(get "$T/$_s.D.kv" data) + $(get "$T/$_s.D.kv" control) )) \
		    -ge "$(kv "$T/$_s.drv" sent.packets)" ] && break
		_i=$((_i + 1))
		[ $_i -lt 50 ] || fail "$_s: the relay never saw all kddrive sent"
		sleep 0.1
	done
}

drv() { _dv=$(kv "$T/$1.drv" "$2"); echo "${_dv:-0}"; }

# What the relay counted each way against what kddrive sent and received.
agree() {
	_s=$1
	for _t in STATE_MANIPULATE ACKNOWLEDGE RESET RESEND; do
		[ "$(get "$T/$_s.D.kv" $_t)" = "$(drv "$_s" "sent.$_t")" ] ||
		    fail "$_s: D $_t: relay $(get "$T/$_s.D.kv" $_t)," \
			"kddrive sent $(drv "$_s" "sent.$_t")"
	done
	[ $(( $(get "$T/$_s.D.kv" data) + $(get "$T/$_s.D.kv" control) )) = \
	    "$(drv "$_s" sent.packets)" ] &&
	    [ $(( $(get "$T/$_s.D.kv" bytes_in) - $(get "$T/$_s.D.kv" CRs_removed) )) = \
		"$(drv "$_s" sent.bytes)" ] &&
	    [ "$(get "$T/$_s.D.kv" out)" = "$(drv "$_s" sent.bytes)" ] ||
	    fail "$_s: D: relay $(tr '\n' ' ' <"$T/$_s.D.kv"); kddrive sent" \
		"$(drv "$_s" sent.packets) packets, $(drv "$_s" sent.bytes) bytes"
	# Each packet kddrive received intact the relay counted as valid.
	for _t in STATE_MANIPULATE DEBUG_IO ACKNOWLEDGE RESET STATE_CHANGE64; do
		[ "$(get "$T/$_s.T.kv" $_t)" = "$(drv "$_s" "recv.$_t")" ] ||
		    fail "$_s: T $_t: relay $(get "$T/$_s.T.kv" $_t)," \
			"kddrive received $(drv "$_s" "recv.$_t")"
	done
	[ $(( $(get "$T/$_s.T.kv" data) + $(get "$T/$_s.T.kv" control) )) = \
	    "$(drv "$_s" recv.packets)" ] || fail "$_s: T packet totals differ"
	[ "$(get "$T/$_s.T.kv" out)" = "$(drv "$_s" recv.bytes)" ] ||
	    fail "$_s: T: relay wrote $(get "$T/$_s.T.kv" out) bytes," \
		"kddrive read $(drv "$_s" recv.bytes)"
	# Removed CRs are exactly what the line added.
	[ $(( $(get "$T/$_s.T.kv" bytes_in) - $(get "$T/$_s.T.kv" out) )) = \
	    "$(get "$T/$_s.T.kv" CRs_removed)" ] ||
	    fail "$_s: T: bytes in - out is not the CRs removed"
	for _k in D T; do
		for _b in garbage_bytes bad_type oversize; do
			[ "$(get "$T/$_s.$_k.kv" $_b)" = 0 ] ||
			    fail "$_s: $_k $_b: $(get "$T/$_s.$_k.kv" $_b)"
		done
	done
}

# a) crlf=on.
session on ",crlf=on" -n 6 -l 2000
[ "$RC" = 0 ] && [ "$(drv on result)" = pass ] || {
	cat "$T/on.drv" "$T/on.drv.err" >&2
	fail "on: kddrive failed: $(drv on reason)"
}
[ "$(drv on getversion.ok)" = 1 ] && [ "$(drv on reads.ok)" = 6 ] &&
    [ "$(drv on statechange.inst_ok)" = "$(drv on statechange.count)" ] ||
    fail "on: steps missing: $(tr '\n' ' ' <"$T/on.drv")"
for k in recv.bad_checksum recv.bad_trailer recv.oversize recv.garbage; do
	[ "$(drv on $k)" = 0 ] || fail "on: kddrive $k=$(drv on $k)"
done
n=$(drv on dbgprint.count)
[ "$n" -ge 2 ] && [ "$(drv on dbgprint.crlf)" = "$n" ] ||
    fail "on: $n DbgPrints, $(drv on dbgprint.crlf) ending in \\r\\n"
agree on
[ "$(get "$T/on.T.kv" CRs_removed)" -gt "$n" ] ||
    fail "on: only $(get "$T/on.T.kv" CRs_removed) CRs removed"
hello="[kdd: connected to a xen guest with domain id $DOM]"
grep -qF "T>D DEBUG_IO id=0x8080000" "$T/on.pktlog" &&
    grep -F "T>D DEBUG_IO" "$T/on.pktlog" |
    grep -qF " ok PrintString \"$hello\\r\\n\"" ||
    fail "on: kdd's DbgPrint not logged intact: $(grep DEBUG_IO "$T/on.pktlog")"
[ "$(grep -c 'T>D DEBUG_IO .* ok PrintString ".*\\r\\n"$' "$T/on.pktlog")" = "$n" ] ||
    fail "on: not all $n DbgPrints logged with their \\r\\n"
kdd_stop
stop "$RELAY"
note "ok: kdd, crlf=on: $(drv on recv.packets) packets received intact," \
    "$n DbgPrints ending in CR LF, $(get "$T/on.T.kv" CRs_removed) CRs removed"

# b) crlf=auto (the default) both ways, both lines corrupting: lossless.
HOSTLINE=crlf session auto "" -n 4 -l 2058
[ "$RC" = 0 ] && [ "$(drv auto result)" = pass ] || {
	cat "$T/auto.drv" "$T/auto.drv.err" >&2
	fail "auto: kddrive failed: $(drv auto reason)"
}
for d in target-\>host host-\>target; do
	[ "$(grep -c "auto: $d: CRLF repair switched on" "$T/relay.log")" = 1 ] ||
	    fail "auto: $d did not switch repair on exactly once"
done
for k in recv.bad_checksum recv.bad_trailer recv.oversize recv.garbage \
    recv.RESEND sent.RESEND; do
	[ "$(drv auto $k)" = 0 ] || fail "auto: kddrive $k=$(drv auto $k)"
done
for k in D T; do
	for c in bad_checksum bad_trailer RESEND; do
		[ "$(get "$T/auto.$k.kv" $c)" = 0 ] ||
		    fail "auto: relay $k $c=$(get "$T/auto.$k.kv" $c)"
	done
done
[ "$(get "$T/auto.T.kv" CRs_removed)" -gt 0 ] &&
    [ "$(get "$T/auto.D.kv" CRs_removed)" -gt 0 ] ||
    fail "auto: a line did not corrupt: $(tr '\n' ' ' <"$T/auto.T.kv")"
[ "$(drv auto getversion.ok)" = 1 ] && [ "$(drv auto reads.ok)" = 4 ] &&
    [ "$(drv auto dbgprint.crlf)" = "$(drv auto dbgprint.count)" ] ||
    fail "auto: steps missing: $(tr '\n' ' ' <"$T/auto.drv")"
agree auto
# Every packet the packet log has is good, kdd's hello the first DbgPrint.
grep -E '^[^ ]+ [DT]>[DT] ' "$T/auto.pktlog" | grep -v ' ok' |
    grep -q . && fail "auto: bad packets logged:" \
	"$(grep -E '[DT]>[DT] ' "$T/auto.pktlog" | grep -v ' ok' | head -3)"
grep -F "T>D DEBUG_IO" "$T/auto.pktlog" | head -n 1 |
    grep -qF " ok PrintString \"$hello\\r\\n\"" ||
    fail "auto: kdd's first DbgPrint not logged intact:" \
	"$(grep DEBUG_IO "$T/auto.pktlog" | head -n 2)"
kdd_stop
stop "$RELAY"
note "ok: kdd, crlf=auto, both lines corrupting: no packet damaged, no" \
    "RESEND, kdd's hello logged intact"
# c) crlf=off: the corruption is real, the session breaks, the relay
# sees the damage it forwards unrepaired.
session off ",crlf=off" -n 1
[ "$RC" != 0 ] || fail "off: kddrive passed through a corrupting line"
[ $(( $(get "$T/off.T.kv" bad_checksum) + $(get "$T/off.T.kv" bad_trailer) )) -ge 1 ] &&
    [ "$(get "$T/off.T.kv" CRs_removed)" = 0 ] ||
    fail "off: the relay saw no damage: $(tr '\n' ' ' <"$T/off.T.kv")"
kdd_stop
stop "$RELAY"
note "ok: kdd, crlf=off: the corruption breaks the session"
# d) A clean line and crlf=auto: the CR LF in kdd's DbgPrints is real.
LINE=raw session clean "" -n 4 -l 2000
[ "$RC" = 0 ] && [ "$(drv clean result)" = pass ] || {
	cat "$T/clean.drv" "$T/clean.drv.err" >&2
	fail "clean: kddrive failed: $(drv clean reason)"
}
grep -q 'switched' "$T/relay.log" && fail "clean: the relay switched repair"
n=$(drv clean dbgprint.count)
[ "$n" -ge 2 ] && [ "$(drv clean dbgprint.crlf)" = "$n" ] ||
    fail "clean: $n DbgPrints, $(drv clean dbgprint.crlf) ending in CR LF"
[ "$(get "$T/clean.T.kv" CRs_removed)" = 0 ] &&
    [ "$(get "$T/clean.T.kv" bad_checksum)" = 0 ] &&
    [ "$(get "$T/clean.T.kv" bad_trailer)" = 0 ] ||
    fail "clean: $(tr '\n' ' ' <"$T/clean.T.kv")"
agree clean
kdd_stop
stop "$RELAY"
note "ok: kdd, clean line, crlf=auto: no switch, $n DbgPrints with CR LF intact"
note "test_kdd: passed in $(( $(date +%s) - start ))s"
