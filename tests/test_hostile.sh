#!/bin/sh
# Hostile input that is not xenstore's (tests/test_xen*.sh cover that; the
# config file's own errors at start-up are in test_config_cli.sh; the
# parsers are fuzzed in fuzz/):
#  1. A running daemon's pairs are untouched by a bad file on SIGHUP
#     (unknown key, duplicate pair, bad values, a directory, a missing
#     file, a FIFO, binary junk, a 1 MB line, an endpoint that cannot
#     start):
#     each refused with FILE:LINE and the reason, traffic byte-exact.
#  2. Every malformed endpoint spec on the command line: exit 64 and a
#     one-line error, control characters in it escaped.
#  3. tcp-listen off loopback is refused unless allow-remote.
#  4. A second client on a listen endpoint is refused and logged while the
#     first keeps working byte-exact (its bytes never reach the peer).
#  5. unix-listen sockets are 0600 whatever the umask, and never replace
#     a file that is not a stale socket.
#  6. KDCOM garbage at full speed, 64 MiB of random bytes and 64 MiB of
#     broken packets, is forwarded byte-exact and counted exactly.
. "$TESTS/lib/common.sh"
XFER=$BUILD/helpers/xfer
KD=$BUILD/kdrelayd

size() { wc -c <"$1"; }

# transfer N: N random bytes from the host guest to the target guest and
# N back, one direction at a time (see oneway in test_faults.sh).
transfer() {
	for dir in "host target" "target host"; do
		set -- "$1" $dir
		random "$T/x" "$1"
		"$XFER" -t 60 "$T/$3.guest" - "$T/x.in" "$1" & H=$!
		"$XFER" -t 60 "$T/$2.guest" "$T/x" /dev/null 0 || fail "send $2 -> $3"
		wait $H || fail "receive $2 -> $3"
		same "$T/x" "$T/x.in"
	done
}

# --- 1. Bad files on SIGHUP ---------------------------------------------
vm host
vm target
cat >"$T/good.conf" <<EOF
[pair kd]
host = $T/host.vm
target = $T/target.vm
EOF
cp "$T/good.conf" "$T/relay.conf"
relay -c "$T/relay.conf"
wait_log "$T/relay.log" "target: .*connected" || fail "target not opened"
wait_log "$T/relay.log" "host: .*connected" || fail "host not opened"

# bad NAME EXPECT: install $T/bad (atomically), SIGHUP, and expect the
# reload to fail with EXPECT (a grep pattern after "go on: ").
bad() {
	rm -rf "$T/relay.conf"
	mv "$T/bad" "$T/relay.conf"
	n=$(count "reload failed")
	kill -HUP $RELAY
	wait_count "reload failed" $((n + 1)) || fail "$1: reload did not fail"
	msg=$(grep "reload failed" "$T/relay.log" | tail -n 1)
	printf '%s\n' "$msg" | grep -q -- "the running pairs go on: $2" ||
	    fail "$1: unexpected message: $msg"
	note "refused on SIGHUP: $1: ${msg#*go on: }"
	transfer 65536
}
good_pair() { sed -n 1,3p "$T/good.conf"; }

{ good_pair; echo "bogus = 1"; } >"$T/bad"
bad "unknown key" "$T/relay.conf:4: unknown key 'bogus' in \[pair kd\]"
{ good_pair; good_pair; } >"$T/bad"
bad "duplicate pair" "$T/relay.conf:4: duplicate pair 'kd' (first at line 1)"
{ good_pair; echo "hold-ms = 0"; } >"$T/bad"
bad "hold-ms out of range" "$T/relay.conf:4: hold-ms: expected milliseconds"
{ good_pair; echo "buffer-size = 12Q"; } >"$T/bad"
bad "bad buffer size" "$T/relay.conf:4: buffer-size: expected bytes"
{ good_pair; echo "target-crlf = sometimes"; } >"$T/bad"
bad "bad crlf" "$T/relay.conf:4: target-crlf: expected on, off or auto"
{ echo "[pair kd]"; echo "host = tcp-listen:0.0.0.0:9"; echo "target = $T/target.vm"; } >"$T/bad"
bad "tcp-listen off loopback" "$T/relay.conf:2: host: .*reachable from the network"
{ echo "[pair kd]"; echo "host = pty:relative"; echo "target = $T/target.vm"; } >"$T/bad"
bad "bad endpoint" "$T/relay.conf:2: host: pty:relative: relative path"
mkdir "$T/bad"
bad "a directory" "$T/relay.conf: Is a directory"
rm -f "$T/bad"; ln -s "$T/missing" "$T/bad"
bad "missing file" "$T/relay.conf: No such file or directory"
# Binary junk, fixed (random bytes would make the first error a matter of
# luck): each kind refused with its own reason at its line.
{ good_pair; printf 'host = \000x\n'; } >"$T/bad"
bad "a NUL byte" "$T/relay.conf:4: NUL byte in line (not a text file?)"
{ good_pair; printf '\001\002\n'; } >"$T/bad"
bad "a control character" "$T/relay.conf:4: invalid control character 0x01"
{ good_pair; printf '\377\376 = \200\n'; } >"$T/bad"
bad "bytes that are not text" "$T/relay.conf:4: syntax error: expected 'key = value'"
{ good_pair; "$BUILD/kdgen" -s 3 -n 2 | head -c 4096; } >"$T/bad"
bad "binary junk (a kdtrace)" "$T/relay.conf:4: NUL byte in line"
{ good_pair; printf 'target-crlf = '; head -c 1048576 /dev/zero | tr '\0' o; echo; } >"$T/bad"
bad "a 1 MB line" "$T/relay.conf:4: line too long"
mkfifo "$T/bad"
bad "a FIFO with no writer" "$T/relay.conf: a FIFO, not a file"

# A file that parses, with a new pair that cannot start: the new pair is
# left out, the running one goes on.
echo "precious" >"$T/regular"
{ cat "$T/good.conf"; echo "[pair new]"; echo "host = unix-listen:$T/regular"
  echo "target = unix-listen:$T/other.sock"; } >"$T/relay.conf.new"
mv "$T/relay.conf.new" "$T/relay.conf"
kill -HUP $RELAY
wait_count "reloaded:" 1 || fail "reload with a failing new pair"
grep -q "new/host: .*regular exists and is not a socket; not replacing it" \
    "$T/relay.log" || fail "the failing new pair is not reported"
[ "$(cat "$T/regular")" = precious ] || fail "the regular file was touched"
mkfifo "$T/fifo.conf"
timeout 10 "$KD" -c "$T/fifo.conf" 2>"$T/err"
[ $? = 78 ] && grep -q "fifo.conf: a FIFO, not a file" "$T/err" ||
    fail "-c FIFO: $(cat "$T/err")"
transfer 1048576
[ "$(count "kd: stopped")" = 0 ] || fail "a bad file stopped the running pair"
[ "$(count "kd: relaying")" = 1 ] || fail "the running pair was restarted"
note "ok: 12 bad files refused on SIGHUP, a new pair that cannot start left out; pair kd never stopped, traffic exact after each"
kill $RELAY; wait $RELAY 2>/dev/null

# --- 2. Malformed endpoint specs on the command line --------------------
long=$(head -c 600 /dev/zero | tr '\0' a)
sock=/tmp/$(head -c 120 /dev/zero | tr '\0' s)
n=0
while IFS= read -r spec; do
	case $spec in
	LONG) spec=$long ;;
	LONGSOCK) spec=unix-listen:$sock ;;
	NEWLINE) spec=$(printf '/dev/pts/1\nforged: line') ;;
	ESCAPE) spec=$(printf '/dev/pts/\033[2J1') ;;
	EMPTY) spec= ;;
	esac
	for side in HOST TARGET; do
		if [ $side = HOST ]; then "$KD" "$spec" /dev/null 2>"$T/err"
		else "$KD" /dev/null "$spec" 2>"$T/err"; fi
		rc=$?
		[ $rc = 64 ] || fail "spec '$spec' as $side: exit $rc, not 64"
		[ "$(wc -l <"$T/err")" = 1 ] ||
		    fail "spec '$spec' as $side: not one line: $(cat "$T/err")"
		grep -q "^kdrelayd: $side endpoint: " "$T/err" ||
		    fail "spec '$spec' as $side: message: $(cat "$T/err")"
		! tr -d '\n' <"$T/err" | grep -q '[[:cntrl:]]' ||
		    fail "spec as $side: control characters in: $(od -c "$T/err" | head -3)"
	done
	n=$((n + 1))
done <<'EOF'
EMPTY
,crlf=on
pty:
pty:relative
./relative
relative/path
unix:
unix:relative
unix-listen:
LONGSOCK
tcp:
tcp:host
tcp:host:
tcp::9000
tcp:host:0
tcp:host:65536
tcp:host:9x
tcp:::1:9000
tcp:[::1:9000
tcp:[::1]9000
tcp:[]:9000
tcp-listen:
tcp-listen:0
tcp-listen:127.0.0.1:
xen:
xen:bad/name
xen:a,serial=256
xen:a,serial=x
xen:a,console,serial=1
pve:
pve:101,serial=4
pve:a_b
foo:bar
:x
/dev/pts/1,crlf=maybe
/dev/pts/1,crlf
/dev/pts/1,crlf=on,crlf=off
/dev/pts/1,bogus
/dev/pts/1,
/dev/pts/1,serial=1
/dev/pts/1,console
/dev/pts/1,allow-remote
tcp:h:1,allow-remote
LONG
NEWLINE
ESCAPE
EOF
note "ok: $n malformed specs, each as HOST and as TARGET: exit 64, one line"

# --- 3. tcp-listen off loopback -----------------------------------------
port=$(free_port)
for addr in 0.0.0.0 "[::]"; do
	"$KD" "tcp-listen:$addr:$port" "unix-listen:$T/u.sock" 2>"$T/err"
	rc=$?
	[ $rc = 64 ] || fail "tcp-listen:$addr:$port: exit $rc, not 64"
	grep -q "reachable from the network: add ,allow-remote" "$T/err" ||
	    fail "tcp-listen:$addr: message: $(cat "$T/err")"
	[ ! -e "$T/u.sock" ] || fail "the other endpoint's socket stayed behind"
done
: >"$T/relay.log"
relay "tcp-listen:0.0.0.0:$port,allow-remote" "unix-listen:$T/u.sock"
wait_log "$T/relay.log" "listening on 0.0.0.0:$port" ||
    fail "allow-remote: not listening"
kill $RELAY; wait $RELAY 2>/dev/null
note "ok: tcp-listen off loopback refused (exit 64, a usage error) unless allow-remote"

# --- 4. A second client on a listen endpoint ----------------------------
for kind in unix tcp; do
	: >"$T/relay.log"
	if [ $kind = unix ]; then
		ep=unix-listen:$T/h.sock addr=unix:$T/h.sock
	else
		ep=tcp-listen:$((port + 1)) addr=tcp:127.0.0.1:$((port + 1))
	fi
	relay "$ep" "$T/target.vm"
	wait_log "$T/relay.log" "listening on" || fail "$kind: not listening"
	wait_log "$T/relay.log" "target: .*connected" || fail "target not opened"
	N=4194304
	random "$T/x" $N
	random "$T/y" $N
	# The first client waits for the target's first byte before sending:
	# it is connected, mid-session, while 20 intruders come and send.
	"$XFER" -w -t 60 "$addr" "$T/x" "$T/y.in" $N & A=$!
	wait_log "$T/relay.log" "client connected" || fail "$kind: first client"
	"$BUILD/helpers/churn" -n 20 -s 4096 -t 30 "$addr" >/dev/null ||
	    fail "$kind: the second clients could not connect"
	wait_log "$T/relay.log" "refused a second client" ||
	    fail "$kind: the second client was not logged"
	"$XFER" -t 60 "$T/target.guest" "$T/y" "$T/x.in" $N & B=$!
	wait $A || fail "$kind: first client's transfer"
	wait $B || fail "$kind: target's transfer"
	same "$T/x" "$T/x.in"
	same "$T/y" "$T/y.in"
	grep -q "refused a second client .*one client at a time" "$T/relay.log" ||
	    fail "$kind: the second client was not logged"
	# The intruders' bytes would come first in x.in: none came.
	[ "$(count "client connected")" = 1 ] ||
	    fail "$kind: a second client was taken"
	kill $RELAY; wait $RELAY 2>/dev/null
	note "ok: $kind-listen: 20 intruders refused and logged, the first client's 2 x $N bytes exact"
done

# --- 5. unix-listen: 0600, never over a file that is not a socket -------
: >"$T/relay.log"
(umask 0; exec "$KD" -v "unix-listen:$T/m.sock" "$T/target.vm" 2>>"$T/relay.log") &
M=$!
PIDS="$PIDS $M"
wait_for -S "$T/m.sock" || fail "no socket"
[ "$(stat -c %a "$T/m.sock")" = 600 ] ||
    fail "socket mode $(stat -c %a "$T/m.sock") under umask 0"
kill $M; wait $M 2>/dev/null
[ ! -e "$T/m.sock" ] || fail "the socket stayed after exit"

echo "keep me" >"$T/file"
mkdir "$T/dir"
mkfifo "$T/fifo"
ln -s "$T/file" "$T/link"
ln -s "$T/nowhere" "$T/dangling"
for f in file dir fifo link dangling; do
	"$KD" "unix-listen:$T/$f" /dev/null 2>"$T/err"
	rc=$?
	[ $rc = 69 ] || fail "unix-listen over a $f: exit $rc, not 69"
	grep -q "$T/$f exists and is not a socket; not replacing it" "$T/err" ||
	    fail "unix-listen over a $f: $(cat "$T/err")"
done
[ "$(cat "$T/file")" = "keep me" ] && [ -d "$T/dir" ] && [ -p "$T/fifo" ] &&
    [ -L "$T/link" ] && [ -L "$T/dangling" ] || fail "a file was replaced"
bg socat UNIX-LISTEN:"$T/live.sock" /dev/null
wait_for -S "$T/live.sock" || fail "socat listener"
"$KD" "unix-listen:$T/live.sock" /dev/null 2>"$T/err"
[ $? = 69 ] && grep -q "in use by another listener" "$T/err" ||
    fail "took over a live socket: $(cat "$T/err")"
kill $LAST 2>/dev/null; wait $LAST 2>/dev/null
# A stale socket (its listener gone without unlinking) may go.
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 1) or die' \
    "$T/stale.sock"
[ -S "$T/stale.sock" ] || fail "could not make a stale socket"
: >"$T/relay.log"
relay "unix-listen:$T/stale.sock" "$T/target.vm"
wait_log "$T/relay.log" "listening on $T/stale.sock" || fail "stale socket not replaced"
kill $RELAY; wait $RELAY 2>/dev/null
note "ok: unix-listen: 0600 under umask 0; a file, directory, fifo, symlinks and a live socket left alone (exit 69); a stale socket replaced"

# --- 6. KDCOM garbage at full speed --------------------------------------
: >"$T/relay.log"
relay "$T/host.vm" "$T/target.vm"
wait_log "$T/relay.log" "target: .*connected" || fail "target not opened"
wait_log "$T/relay.log" "host: .*connected" || fail "host not opened"
N=$((64 * 1024 * 1024))

# through FILE: the target guest sends FILE, the host guest must get it.
through() {
	n=$(size "$1")
	"$XFER" -t 120 "$T/host.guest" - "$T/got" "$n" & H=$!
	"$XFER" -t 120 "$T/target.guest" "$1" /dev/null 0 || fail "send $1"
	wait $H || fail "receive $1"
	same "$1" "$T/got"
}

random "$T/random" $N
through "$T/random"
before=$(counters target-\>host)
[ "$(field "$before" "bytes in")" = $N ] && [ "$(field "$before" out)" = $N ] ||
    fail "random: counters: $before"
[ "$(field "$before" garbage)" -ge $((N / 10 * 9)) ] ||
    fail "random: not counted as garbage: $before"
note "ok: $N random bytes forwarded exact: $before"

# A corpus of broken packets (and some good ones), with what the validator
# must count.  Payloads hold no 0x0d, so no reading of them is a repaired
# one and auto mode has nothing to switch to; line noise holds no leader
# byte and no 0x62; the corpus ends with a good packet, so the validator
# has reported all of it.
perl -e '
	use strict;
	my ($n, $out, $exp) = @ARGV;
	srand(7);
	open(my $r, "<:raw", "/dev/urandom") or die;
	sub bytes { my $b = ""; read($r, $b, shift); $b }
	sub payload { my $p = bytes(shift); $p =~ tr/\r/\x0e/; $p }
	sub noise { my $p = bytes(shift); $p =~ tr/0ib/\x01\x02\x03/; $p }
	my %c = map { $_ => 0 } qw(data control breakins resends resets
	    bad_checksum bad_trailer bad_type oversize garbage);
	my @dtypes = (1, 2, 3, 7, 9, 10, 11);
	sub sum { unpack("%32C*", shift) }
	sub hdr { my ($lead, $t, $l, $id, $ck) = @_;
	    $lead x 4 . pack("vvVV", $t, $l, $id, $ck & 0xffffffff) }
	open(my $o, ">:raw", $out) or die;
	my $len = 0;
	while (1) {
		my $k = $len >= $n ? 3 : int(rand(10));
		my $s;
		my $id = 0x80800000 + int(rand(2));
		if ($k <= 2) {			# a valid data packet
			my $p = payload(int(rand(rand() < 0.1 ? 4001 : 300)));
			$s = hdr("0", $dtypes[rand @dtypes], length $p, $id,
			    sum($p)) . $p . "\xaa";
			$c{data}++;
		} elsif ($k == 3) {		# a valid control packet
			my $t = 4 + int(rand(3));
			$s = hdr("i", $t, 0, $id, 0);
			$c{control}++;
			$c{resends}++ if $t == 5;
			$c{resets}++ if $t == 6;
			if ($len >= $n) {
				print $o $s;
				last;
			}
		} elsif ($k == 4) {		# bad checksum
			my $p = payload(1 + int(rand(300)));
			$s = hdr("0", 2, length $p, $id, sum($p) + 1) . $p . "\xaa";
			$c{bad_checksum}++;
		} elsif ($k == 5) {		# bad trailer, or cut short and padded
			my $p = payload(1 + int(rand(300)));
			if (rand() < 0.5) {
				$s = hdr("0", 2, length $p, $id, sum($p)) . $p . "\xab";
			} else {
				my $cut = int(rand(length $p));
				$s = hdr("0", 2, length $p, $id, sum($p)) .
				    substr($p, 0, $cut) . "\x00" x (length($p) + 1 - $cut);
			}
			$c{bad_trailer}++;
		} elsif ($k == 6) {		# ByteCount 65535 (or just over 4000)
			$s = hdr("0", 2, rand() < 0.5 ? 65535 : 4001, $id, 0);
			$c{oversize}++;
		} elsif ($k == 7) {		# bad type, or leader and kind disagree
			my @bad = ([ "0", 0 ], [ "0", 8 ], [ "0", 12 ], [ "0", 65535 ],
			    [ "0", 4 ], [ "i", 2 ], [ "i", 99 ]);
			my $b = $bad[rand @bad];
			$s = hdr($b->[0], $b->[1], 0, $id, 0);
			$c{bad_type}++;
		} elsif ($k == 8) {		# break-ins
			my $m = 1 + int(rand(3));
			$s = "b" x $m;
			$c{breakins} += $m;
		} else {			# line noise
			my $m = 1 + int(rand(64));
			$s = noise($m);
			$c{garbage} += $m;
		}
		print $o $s;
		$len += length $s;
	}
	open(my $e, ">", $exp) or die;
	print $e "$_=$c{$_}\n" for sort keys %c;
' $N "$T/broken" "$T/expect" || fail "cannot make the corpus"
# A fresh relay: the random bytes may have left the validator inside a
# packet, or holding garbage it reports with the next event.
kill $RELAY; wait $RELAY 2>/dev/null
: >"$T/relay.log"
relay "$T/host.vm" "$T/target.vm"
wait_log "$T/relay.log" "target: .*connected" || fail "target not opened"
wait_log "$T/relay.log" "host: .*connected" || fail "host not opened"
before=$(counters target-\>host)
n=$(size "$T/broken")
through "$T/broken"
after=$(counters target-\>host)
delta() { echo $(( $(field "$after" "$1") - $(field "$before" "$1") )); }
want() { sed -n "s/^$1=//p" "$T/expect"; }
for f in data control break-ins resends resets "bad checksum" "bad trailer" \
    "bad type" oversize garbage; do
	key=$(printf '%s' "$f" | tr ' -' '__' | sed 's/break_ins/breakins/')
	[ "$(delta "$f")" = "$(want "$key")" ] ||
	    fail "broken packets: $f: counted $(delta "$f"), expected $(want "$key")"
done
[ "$(delta "bytes in")" = "$n" ] && [ "$(delta out)" = "$n" ] ||
    fail "broken packets: bytes: $after"
[ "$(field "$after" "CRs removed")" = 0 ] || fail "bytes were repaired: $after"
note "ok: $n bytes of broken packets forwarded exact and counted: $(tr '\n' ' ' <"$T/expect")"
kill -TERM $RELAY; wait $RELAY; rc=$?
[ $rc = 0 ] || fail "kdrelayd exit status $rc"
