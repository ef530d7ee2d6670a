#!/bin/sh
# Fault injection, with nothing lost and nothing stale:
#  1. The target VM dies in the middle of a packet, 100 times in a row in
#     each direction (a half packet it was sending; a half packet on its
#     way to it), then a few times more with the VM on a pty: after each
#     restart a complete packet goes through intact, the half packet is
#     counted as garbage (never glued to the next session's packet), and
#     what the host sent while the VM was away never reaches the new VM.
#  2. The host's reader stalls for 30 s while the target floods: the relay's
#     RSS stays flat (backpressure, not buffering) and every byte arrives
#     once the reader resumes.
#  3. SIGHUP 100 times during traffic (-c FILE; a second pair comes and
#     goes), 1000 SIGUSR1 during traffic: every byte exact, the first pair
#     never restarted.
#  4. SIGTERM in the middle of a transfer: exit 0 within 1 s.
#  5. Two peers that write a whole 12 MiB blocking before they read (as
#     socat does, in 8 KiB writes) get through a relay whose buffers can
#     hold it: the relay reads as long as it has room.
. "$TESTS/lib/common.sh"
XFER=$BUILD/helpers/xfer

fds() { ls "/proc/$RELAY/fd" | wc -l; }
# cfail MSG: fail with the end of the relay's log, for the post-mortem.
cfail() {
	echo "-- last lines of the relay log:" >&2
	grep -v -e '->' -e 'host .*, target ' "$T/relay.log" | tail -n 12 >&2
	fail "$@"
}
size() { wc -c <"$1"; }


# mkpkt FILE LEN ID: a valid KDCOM STATE_MANIPULATE data packet with a
# random payload of LEN bytes.
mkpkt() {
	perl -e 'my ($len, $id) = @ARGV; my $p = "";
	    open(my $r, "<:raw", "/dev/urandom") or die; read($r, $p, $len);
	    my $sum = 0; $sum += $_ for unpack("C*", $p);
	    print "0000", pack("vvVV", 2, $len, $id, $sum & 0xffffffff), $p,
	    "\xaa"' "$2" "$3" >"$1"
}

# --- 1. A VM dies in the middle of a packet ---------------------------
#
# The target VM is a socat: a pty for its guest ($T/target.guest) and, to
# the relay, either a unix-listen client ("listen": reconnects at once) or
# a pty pair as in common.sh ("pty": reopened through the endpoint's
# backoff, which grows for sessions shorter than 1 s, so fewer cycles).

vm_up() {
	rm -f "$T/target.guest"
	if [ "$MODE" = listen ]; then
		bg socat UNIX-CONNECT:"$T/target.sock" \
		    PTY,raw,echo=0,link="$T/target.guest"
		VM_target=$LAST
		wait_for -e "$T/target.guest" || cfail "target VM socat"
	else
		vm target
	fi
	UPS=$((UPS + 1))
	wait_count "$UP" $UPS || cfail "cycle $c: relay did not take the target back"
}

vm_down() {
	kill $VM_target
	wait $VM_target 2>/dev/null
	DOWNS=$((DOWNS + 1))
	wait_count "$DOWN" $DOWNS || cfail "cycle $c: loss of the target not logged"
}

# The pair: host on a pty VM, target as MODE says.  The host checks bytes
# exactly: no target shutdown for it when the target goes (test_tshutdown).
pair_up() {
	MODE=$1
	: >"$T/relay.log"
	vm host
	if [ "$MODE" = listen ]; then
		relay --no-target-shutdown "$T/host.vm" \
		    "unix-listen:$T/target.sock"
		wait_for -S "$T/target.sock" || cfail "no target socket"
		UP="target: .*client connected" DOWN="target: .*client left"
	else
		relay --no-target-shutdown "$T/host.vm" "$T/target.vm"
		UP="target: .*connected" DOWN="target: .*lost"
	fi
	wait_log "$T/relay.log" "host: .*connected" || cfail "host not opened"
	UPS=0 DOWNS=0 GARBAGE=0 STALE=0 PKTS=0 c=0
	vm_up
}

pair_down() {
	kill $RELAY; wait $RELAY 2>/dev/null
	kill $VM_target $VM_host 2>/dev/null
	wait $VM_target $VM_host 2>/dev/null
}

# exchange FROM TO: a fresh complete packet FROM's guest -> TO's guest.
exchange() {
	mkpkt "$T/q" $((64 + c * 13 % 900)) $((0x80800000 + c % 2))
	"$XFER" -t 30 "$T/$2.guest" - "$T/q.in" "$(size "$T/q")" & R=$!
	"$XFER" -t 30 "$T/$1.guest" "$T/q" /dev/null 0 || cfail "cycle $c: send"
	wait $R || cfail "cycle $c: fresh packet $1 -> $2 not received"
	cmp -s "$T/q" "$T/q.in" ||
	    cfail "cycle $c: the next session's packet $1 -> $2 is not intact"
	PKTS=$((PKTS + 1))
}

# Direction target -> host: the target dies having sent a half packet.
dies_sending() {
	mkpkt "$T/p" 300 $((0x80800000 + c % 2))
	k=$((1 + c * 37 % 316))		# header, body or trailer
	head -c $k "$T/p" >"$T/part"
	"$XFER" -t 30 "$T/host.guest" - "$T/part.in" $k & R=$!
	"$XFER" -t 30 "$T/target.guest" "$T/part" /dev/null 0 ||
	    cfail "cycle $c: partial send"
	wait $R || cfail "cycle $c: the half packet did not reach the host"
	cmp -s "$T/part" "$T/part.in" || cfail "cycle $c: half packet changed"
	vm_down
	vm_up
	GARBAGE=$((GARBAGE + k))
	exchange target host
}

# Direction host -> target: the target dies with a half packet on its way
# to it; the rest of that packet is sent while it is away.
dies_receiving() {
	mkpkt "$T/p" 300 $((0x80800000 + c % 2))
	k=$((1 + c * 37 % 316))
	head -c $k "$T/p" >"$T/part"
	tail -c +$((k + 1)) "$T/p" >"$T/rest"
	"$XFER" -t 30 "$T/target.guest" - "$T/part.in" $k & R=$!
	"$XFER" -t 30 "$T/host.guest" "$T/part" /dev/null 0 ||
	    cfail "cycle $c: partial send"
	wait $R || cfail "cycle $c: the half packet did not reach the target"
	# The rest follows after longer than the relay's 200 ms quiet time, so
	# the validator has counted the half packet as cut short (as a KD
	# peer would have timed it out) whatever the machine's load.
	sleep 0.3
	vm_down
	"$XFER" -t 30 "$T/host.guest" "$T/rest" /dev/null 0 ||
	    cfail "cycle $c: stale send"
	STALE=$((STALE + $(size "$T/rest")))
	# Read and dropped by the relay before the VM comes back.
	tries=0
	while :; do
		line=$(counters host-\>target)
		[ "$(field "$line" dropped)" -ge $STALE ] && break
		tries=$((tries + 1))
		[ $tries -gt 200 ] && cfail "cycle $c: stale bytes not dropped: $line"
	done
	vm_up
	exchange host target
}

# check_counters: what the validator saw over the cycles.
check_counters() {
	th=$(counters target-\>host)
	ht=$(counters host-\>target)
	for f in "bad checksum" "bad trailer" "bad type" oversize; do
		[ "$(field "$th" "$f")" = 0 ] && [ "$(field "$ht" "$f")" = 0 ] ||
		    fail "$MODE: $f: $th / $ht"
	done
	[ "$(field "$th" garbage)" = $GARBAGE ] ||
	    cfail "$MODE: half packets from dead VMs: expected $GARBAGE garbage bytes: $th"
	[ "$(field "$th" data)" = $TH_PKTS ] ||
	    cfail "$MODE: expected $TH_PKTS intact packets target->host: $th"
	[ "$(field "$ht" data)" = $HT_PKTS ] ||
	    cfail "$MODE: expected $HT_PKTS intact packets host->target: $ht"
	[ "$(field "$ht" dropped)" = $STALE ] ||
	    cfail "$MODE: expected $STALE stale bytes dropped: $ht"
}

# cycles MODE N
cycles() {
	pair_up $1
	fd0=$(fds)
	c=0
	while [ $c -lt $2 ]; do
		c=$((c + 1)); dies_sending
	done
	TH_PKTS=$PKTS
	# A pty session shorter than 1 s makes the endpoint back off: start
	# the second direction from a stable session.
	[ "$MODE" = pty ] && sleep 1.1
	PKTS=0
	while [ $c -lt $((2 * $2)) ]; do
		c=$((c + 1)); dies_receiving
	done
	# The half packets sent to the dead VMs were completed only after the
	# quiet time: no whole packets there, just the fresh ones.
	HT_PKTS=$PKTS
	check_counters
	kill -0 $RELAY || cfail "$MODE: relay died"
	fd1=$(fds)
	[ "$fd1" = "$fd0" ] || cfail "$MODE: fds $fd0 -> $fd1 after $c VM deaths"
	note "ok: $MODE: the target died mid-packet $2 times each way; $GARBAGE half-packet bytes counted as garbage, $STALE stale bytes dropped, $((TH_PKTS + PKTS)) fresh packets intact, fds $fd0 -> $fd1"
	pair_down
}

cycles listen 100
cycles pty 3

# --- 2. The reader stalls for 30 s while the writer floods ------------
: >"$T/relay.log"
vm host
vm target
relay "$T/host.vm" "$T/target.vm"
wait_log "$T/relay.log" "target: .*connected" || fail "target not opened"
wait_log "$T/relay.log" "host: .*connected" || fail "host not opened"
N=$((32 * 1024 * 1024))
random "$T/flood" $N
rss0=$(rss)
"$XFER" -t 120 "$T/host.guest" - "$T/flood.in" $N & R=$!
"$XFER" -t 120 "$T/target.guest" "$T/flood" /dev/null 0 & W=$!
wait_for -s "$T/flood.in" || fail "flood did not start"
kill -STOP $R
note "host reader stopped after $(size "$T/flood.in") bytes; target keeps writing"
max=$rss0 t=0
while [ $t -lt 30 ]; do
	sleep 1
	t=$((t + 1))
	r=$(rss)
	[ "$r" -gt "$max" ] && max=$r
done
kill -0 $W 2>/dev/null || fail "the writer finished $N bytes with no one reading"
got=$(size "$T/flood.in")
kill -CONT $R
wait $W || fail "flood writer"
wait $R || fail "flood reader after the stall"
same "$T/flood" "$T/flood.in"
line=$(counters target-\>host)
[ "$(field "$line" "bytes in")" = $N ] && [ "$(field "$line" out)" = $N ] ||
    fail "flood counters: $line"
note "ok: reader stalled 30 s at $got bytes: RSS $rss0 -> max $max kB; all $N bytes intact after"
[ $((max - rss0)) -le 3072 ] ||
    fail "RSS grew by $((max - rss0)) kB while the reader stalled"

# --- 3. Signals during traffic ----------------------------------------
kill $RELAY; wait $RELAY 2>/dev/null
: >"$T/relay.log"
cat >"$T/a.conf" <<EOF
[pair kd]
host = $T/host.vm
target = $T/target.vm
EOF
cp "$T/a.conf" "$T/b.conf"
cat >>"$T/b.conf" <<EOF
[pair extra]
host = unix-listen:$T/x.sock
target = unix-listen:$T/y.sock
EOF
cp "$T/a.conf" "$T/relay.conf"
relay -c "$T/relay.conf"
wait_log "$T/relay.log" "target: .*connected" || fail "target not opened"
wait_log "$T/relay.log" "host: .*connected" || fail "host not opened"
fd0=$(fds)

# oneway FROM TO FILE: FILE from FROM's guest to TO's guest, checked.
# One direction at a time: socat, playing each VM, writes blocking and
# reads nothing meanwhile, so two of them with both directions saturated
# can fill both of the relay's buffers and hold each other through it
# (README, Reliability).
oneway() {
	"$XFER" -t 30 "$T/$2.guest" - "$T/in" "$(size "$3")" & R=$!
	"$XFER" -t 30 "$T/$1.guest" "$3" /dev/null 0 || fail "send $1 -> $2"
	wait $R || fail "receive $1 -> $2"
	same "$3" "$T/in"
}

# traffic_until PID: 1 MiB transfers each way, each checked, while PID runs.
traffic_until() {
	n=0
	while kill -0 "$1" 2>/dev/null || [ $n = 0 ]; do
		random "$T/x" 1048576
		random "$T/y" 1048576
		oneway host target "$T/x"
		oneway target host "$T/y"
		n=$((n + 1))
	done
	TRANSFERS=$n
}

# 100 reloads, one at a time, the file alternating between one pair and
# two: the running pair is unchanged each time.  The file is replaced
# atomically, as an editor or a config manager would.
(
	h=0
	while [ $h -lt 100 ]; do
		h=$((h + 1))
		if [ $((h % 2)) = 1 ]; then cp "$T/b.conf" "$T/new.conf"
		else cp "$T/a.conf" "$T/new.conf"; fi
		mv "$T/new.conf" "$T/relay.conf"
		kill -HUP $RELAY
		wait_count "reloaded:" $h || exit 1
	done
) & HUPS=$!
traffic_until $HUPS
wait $HUPS || fail "only $(count "reloaded:") of 100 reloads done"
[ "$(count "kd: stopped")" = 0 ] || fail "SIGHUP restarted the unchanged pair"
[ "$(count "extra: stopped")" = 50 ] ||
    fail "the second pair stopped $(count "extra: stopped") times, not 50"
[ ! -e "$T/x.sock" ] || fail "the removed pair left its socket behind"
note "ok: 100 SIGHUPs during $TRANSFERS exact 2 x 1 MiB transfers; pair kd untouched, pair extra started and stopped 50 times"

(
	u=0
	while [ $u -lt 1000 ]; do kill -USR1 $RELAY; u=$((u + 1)); done
) & STORM=$!
traffic_until $STORM
wait $STORM
kill -0 $RELAY || fail "relay died in the SIGUSR1 storm"
reports=$(count "host->target:")
[ "$reports" -ge 1 ] || fail "no counters logged during the SIGUSR1 storm"
fd1=$(fds)
[ "$fd1" = "$fd0" ] || fail "fds $fd0 -> $fd1 after the signals"
note "ok: 1000 SIGUSR1 during $TRANSFERS exact transfers ($reports reports logged), fds $fd0 -> $fd1"

# --- 4. SIGTERM mid-transfer ------------------------------------------
N=$((256 * 1024 * 1024))
head -c $N /dev/zero >"$T/big"
"$XFER" -t 60 "$T/host.guest" - "$T/big.in" $N & R=$!
"$XFER" -t 60 "$T/target.guest" "$T/big" /dev/null 0 & W=$!
tries=0
while [ "$(size "$T/big.in" 2>/dev/null || echo 0)" -lt 1048576 ]; do
	tries=$((tries + 1)); [ $tries -gt 1000 ] && fail "big transfer did not start"
	sleep 0.01
done
t0=$(date +%s%N)
kill -TERM $RELAY
while kill -0 $RELAY 2>/dev/null; do
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 5000 ] && break
	sleep 0.005
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait $RELAY; rc=$?
kill $R $W 2>/dev/null
[ $rc = 0 ] || fail "exit status $rc on SIGTERM mid-transfer"
[ $ms -lt 1000 ] || fail "took $ms ms to exit on SIGTERM mid-transfer"
grep -q "exiting" "$T/relay.log" || fail "no exit message"
note "ok: SIGTERM mid-transfer (at $(size "$T/big.in") of $N bytes): exit 0 in $ms ms"

# --- 5. Peers that write blocking before they read ----------------------
# Each writes 12 MiB in blocking writes, then reads 12 MiB.  The relay's
# 16 MiB buffers can hold it all: it must keep reading while it has room,
# not stop at half full, or each peer waits for the other for ever.
: >"$T/relay.log"
N=$((12 * 1024 * 1024))
random "$T/h.out" $N
random "$T/t.out" $N
relay --buffer-size 16M "unix-listen:$T/h.sock" "unix-listen:$T/t.sock"
wait_for -S "$T/h.sock" -a -S "$T/t.sock" || fail "no sockets"
# lockstep SOCKET SEND RECV: connect, wait for $T/go, send all, read all.
lockstep() {
	perl -MIO::Socket::UNIX -e '
	    my ($path, $send, $recv, $want, $go) = @ARGV;
	    my $s = IO::Socket::UNIX->new(Peer => $path) or die "$path: $!\n";
	    select(undef, undef, undef, 0.01) until -e $go;
	    open(my $f, "<:raw", $send) or die; local $/; my $d = <$f>;
	    for (my $o = 0; $o < length $d; ) {
		my $n = syswrite($s, $d, 65536, $o);
		die "write: $!\n" unless defined $n;
		$o += $n;
	    }
	    my $got = "";
	    while (length($got) < $want) {
		sysread($s, $got, 65536, length $got) or die "read: EOF\n";
	    }
	    open(my $o, ">:raw", $recv) or die; print $o $got;
	' "$1" "$2" "$3" $N "$T/go"
}
lockstep "$T/h.sock" "$T/h.out" "$T/h.in" & A=$!
lockstep "$T/t.sock" "$T/t.out" "$T/t.in" & B=$!
PIDS="$PIDS $A $B"
wait_log "$T/relay.log" "host: .*client connected" || fail "host peer"
wait_log "$T/relay.log" "target: .*client connected" || fail "target peer"
touch "$T/go"
tries=0
while { kill -0 $A 2>/dev/null || kill -0 $B 2>/dev/null; }; do
	tries=$((tries + 1))
	[ $tries -gt 300 ] && fail "peers writing before reading held each other for 30 s"
	sleep 0.1
done
wait $A || fail "host peer"
wait $B || fail "target peer"
same "$T/h.out" "$T/t.in"
same "$T/t.out" "$T/h.in"
note "ok: two peers writing 12 MiB blocking before reading got through"
