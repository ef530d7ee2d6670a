#!/bin/sh
# CRLF repair across reads: a 0x0d ending one write and 0x0a starting the
# next is repaired; a 0x0d followed by nothing is released after the hold
# time, not held forever; inside a KDCOM packet, where the rest is sure to
# come, it waits for the next byte however late that is.
. "$TESTS/lib/common.sh"
vm host
vm target
relay --hold-ms 5 "$T/host.vm" "$T/target.vm,crlf=on"
wait_log "$T/relay.log" "target: .*connected" || fail "target not opened"
wait_log "$T/relay.log" "host: .*connected" || fail "host not opened"

# send BYTES SPLIT GAP EXPECT: target writes BYTES in two writes, host
# must read exactly EXPECT.
send() {
	printf "$1" >"$T/s.out"
	printf "$4" >"$T/s.want"
	n=$(wc -c <"$T/s.want")
	"$BUILD/helpers/xfer" -t 5 "$T/host.guest" - "$T/s.in" "$n" & H=$!
	sleep 0.2
	"$BUILD/helpers/xfer" -t 5 -s "$2" -g "$3" "$T/target.guest" "$T/s.out" "$T/none" 0 ||
	    fail "target write"
	wait $H || fail "host read of '$4' ($(od -An -tx1 "$T/s.in"))"
	same "$T/s.want" "$T/s.in"
}
send 'A\r\nB' 2 0 'A\nB'
note "0x0d | 0x0a split across writes: repaired"
send 'C\r\nD' 2 300 'C\r\nD'
note "0x0d, 300 ms, 0x0a: 0x0d released after hold, kept"
send 'E\r' 0 0 'E\r'
note "trailing 0x0d delivered without a following byte"
send 'F\r\r\nG\r' 3 0 'F\r\nG\r'
note "0x0d 0x0d 0x0a split after the second 0x0d: exact inverse"

# A DEBUG_IO packet, payload "x\ny" (sum 0xfb), as the corrupting line
# carries it, split after the 0x0d with a gap longer than the quiet and
# hold timers: the packet arrives exact, not with the 0x0d released.
hdr='0000\003\000\003\000\000\000\200\200\373\000\000\000'
send "${hdr}x\r\ny\252" 18 600 "${hdr}x\ny\252"
note "0x0d | 600 ms | 0x0a inside a packet: repaired"
