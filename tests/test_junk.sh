#!/bin/sh
# Junk on the line among real packets, through kdrelayd between two socat
# pty "VMs", both ways at once:
#   target -> host, the target's line corrupting (OPOST|ONLCR), crlf=on:
#     packets, garbage text (CR LF, runs of leader bytes that do not make a
#     leader), a data packet with a bad checksum, one with a bad trailer,
#     a packet cut short followed by silence (the sender gave up on it),
#     then more packets, and text after the last packet;
#   host -> target, clean, crlf=auto: packets, a break-in between two of
#     them, garbage, a control leader on a data type, a header with
#     ByteCount 65535, more packets.
# Everything arrives byte for byte; the relay counts each kind of junk
# exactly and every valid packet, those after the junk included (by type,
# computed from the session records the streams were made of); auto mode
# does not switch on junk; the relay survives, logs it, exits 0.  The
# streams are made of a generated session (kdgen), then of the real WinDbg
# session (the fixture) when ../shared has it.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/framing.sh"
start=$(date +%s)
GAP=400		# ms of silence after the cut packet

rec() { "$KDSTAT" -r "$1" "$TRACE"; }
# records X FROM COUNT: indices of COUNT records of direction X from FROM
records() {
	awk -v x="$1" -v from="$2" -v n="$3" 'NR - 1 >= from && n > 0 &&
	    $1 ~ "^" x { print NR - 1; n-- }' "$T/lines"
}
# A data record of direction X with a payload of at least 64 bytes.
data_rec() {
	awk -v x="$1" -v from="$2" 'NR - 1 >= from && $1 ~ "^" x &&
	    $2 !~ /^(ACKNOWLEDGE|RESEND|RESET)$/ {
		split($4, l, "="); if (l[2] >= 64) { print NR - 1; exit } }' \
	    "$T/lines"
}
# byte FILE OFFSET VALUE: overwrite one byte.
byte() {
	printf "\\$(printf %03o "$3")" |
	    dd of="$1" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}
# Expected valid-packet counters of the records listed in a file.
count() {
	while read -r i; do sed -n "$((i + 1))p" "$T/lines"; done <"$1" |
	    awk '{ n[$2]++; if ($2 ~ /^(ACKNOWLEDGE|RESEND|RESET)$/) c++;
		else d++ }
		END { for (t in n) print t "=" n[t]; print "data=" d + 0;
		    print "control=" c + 0; print "resends=" n["RESEND"] + 0;
		    print "resets=" n["RESET"] + 0 }' >"$2"
}
# append FILE RECORD-INDEX...: valid packets, noted in FILE.idx.
append() {
	_f=$1
	shift
	for _i; do rec "$_i" >>"$_f"; echo "$_i" >>"$_f.idx"; done
}

# junk NAME TRACE: both streams made of one session's records.
junk() {
	S=$1 TRACE=$2
	"$KDSTAT" -l "$TRACE" >"$T/lines"
	# Target -> host.
	tx=$T/t.bin
	: >"$tx"
	: >"$tx.idx"
	append "$tx" $(records T 0 6)
	printf 'Loading modules...\r\nKD: 000x iii0x 00ii\n\r%s\001\377\r\n' 'fdsa' \
	    >"$T/g1"
	cat "$T/g1" >>"$tx"
	append "$tx" $(records T 12 4)
	i=$(data_rec T 30)
	rec "$i" >"$T/badsum"
	b=$(od -An -tu1 -j 20 -N1 "$T/badsum" | tr -d ' ')
	byte "$T/badsum" 20 $(( (b + 1) % 256 ))
	cat "$T/badsum" >>"$tx"
	append "$tx" $(records T 40 3)
	i=$(data_rec T 60)
	rec "$i" >"$T/badtrail"
	byte "$T/badtrail" $(( $(wc -c <"$T/badtrail") - 1 )) 85
	cat "$T/badtrail" >>"$tx"
	append "$tx" $(records T 70 3)
	i=$(data_rec T 90)
	cut=40
	rec "$i" | head -c $cut >>"$tx"
	split=$(wc -c <"$tx")
	append "$tx" $(records T 100 30)
	# Text after the last packet, nothing after it: still counted, once the
	# line has been quiet a while.
	printf 'KD: target shut down\r\n00' >"$T/g3"
	cat "$T/g3" >>"$tx"
	garbage_t=$(( $(wc -c <"$T/g1") + cut + $(wc -c <"$T/g3") ))

	# Host -> target.
	dx=$T/d.bin
	: >"$dx"
	: >"$dx.idx"
	append "$dx" $(records D 0 6)
	printf 'b' >>"$dx"
	append "$dx" $(records D 12 5)
	printf '\r\n~~ 000 iii 0i0i0i \t\r\n\r ~~' >"$T/g2"
	cat "$T/g2" >>"$dx"
	append "$dx" $(records D 30 3)
	# A control leader with a data packet's type, header only.
	printf 'iiii\002\000\000\000\000\000\200\200\000\000\000\000' >>"$dx"
	append "$dx" $(records D 40 3)
	# ByteCount 65535: the header only, then straight on.
	printf '0000\002\000\377\377\001\000\200\200\377\377\000\000' >>"$dx"
	append "$dx" $(records D 50 30)
	garbage_d=$(wc -c <"$T/g2")

	count "$tx.idx" "$T/want.T"
	count "$dx.idx" "$T/want.D"
	[ "$(get "$T/want.T" DEBUG_IO)" -gt 0 ] || fail "no DbgPrint in the T stream"

	vm host
	vm target
	relay -n junk --packet-log "$T/junk.pktlog" "$T/host.vm" "$T/target.vm,crlf=on"
	wait_log "$T/relay.log" "junk/target: .*connected" || fail "relay: no target"
	wait_log "$T/relay.log" "junk/host: .*connected" || fail "relay: no host"
	"$BUILD/helpers/xfer" -t 10 "$T/host.guest" "$dx" "$T/t.recv" \
	    "$(wc -c <"$tx")" &
	h=$!
	"$BUILD/helpers/xfer" -t 10 -o -s "$split" -g $GAP "$T/target.guest" "$tx" \
	    "$T/d.recv" "$(wc -c <"$dx")" || fail "target side transfer"
	wait $h || fail "host side transfer"
	same "$tx" "$T/t.recv"
	same "$dx" "$T/d.recv"
	alive "$RELAY" || fail "kdrelayd died"
	tries=0
	while relay_report junk; [ "$(get "$T/junk.T.kv" garbage_bytes)" != "$garbage_t" ]; do
		tries=$((tries + 1))
		[ $tries -lt 20 ] || break
		sleep 0.1
	done

	check() {
		_x=$1 _k=$2 _want=$3
		[ "$(get "$T/junk.$_x.kv" "$_k")" = "$_want" ] ||
		    fail "$_x $_k: relay counted $(get "$T/junk.$_x.kv" "$_k"), expected $_want"
	}
	for x in D T; do
		for k in data control resends resets STATE_MANIPULATE DEBUG_IO \
		    ACKNOWLEDGE RESEND RESET STATE_CHANGE64 FILE_IO; do
			check $x $k "$(get "$T/want.$x" $k)"
		done
	done
	check T garbage_bytes "$garbage_t"
	check T bad_checksum 1
	check T bad_trailer 1
	check T oversize 0
	check T break-ins 0
	check T CRs_removed "$(tr -dc '\n' <"$tx" | wc -c)"
	check D garbage_bytes "$garbage_d"
	check D break-ins 1
	check D bad_type 1
	check D oversize 1
	check D bad_checksum 0
	check D bad_trailer 0
	check D CRs_removed 0
	check D repair off
	grep -q switched "$T/relay.log" && fail "auto mode switched on junk"
	# Every valid packet is in the log, in order, those after the junk too.
	for x in T D; do
		case $x in T) a='T>D' f=$tx ;; *) a='D>T' f=$dx ;; esac
		while read -r i; do sed -n "$((i + 1))p" "$T/lines"; done <"$f.idx" \
		    >"$T/want.$x.log"
		grep -E "^[^ ]+ $a [A-Z_0-9]+ id=.* ok" "$T/junk.pktlog" |
		    cut -d' ' -f2- >"$T/got.$x.log"
		cmp -s "$T/want.$x.log" "$T/got.$x.log" || {
			diff "$T/want.$x.log" "$T/got.$x.log" | head >&2
			fail "$x: the valid packets logged are not those sent"
		}
	done
	for w in "D>T BREAKIN" "D>T GARBAGE" "T>D GARBAGE" "bad-checksum" \
	    "bad-trailer" "bad-type" "oversize"; do
		grep -q -- "$w" "$T/junk.pktlog" || fail "packet log has no $w"
	done
	kill -TERM "$RELAY"
	wait "$RELAY"
	rc=$?
	[ "$rc" = 0 ] || fail "kdrelayd exit $rc"
	note "$S: ok: junk both ways: byte-exact, counted (T garbage $garbage_t, D garbage $garbage_d)"
}

each_session "junk among the packets" junk
note "test_junk: passed in $(( $(date +%s) - start ))s"
