#!/bin/sh
# seeds.sh OUTDIR: write the fuzzers' seed corpora into OUTDIR/<target>/.
#
# The KD seeds come from the real session, $KDRELAY_SHARED/fixtures/
# windbg-session.kdtrace, split at run time (the fixture is never copied
# into the repository): one file per packet, runs of consecutive packets
# as the line carries them, and the same with the Xen CRLF corruption and
# with damage (cut short, bad checksum, break-ins between packets).  The
# config and endpoint seeds are the repository's sample configuration and
# the forms the tests use.  Without the real session (a clone without
# ../shared) the KD seeds come from the generated one, $KDRELAY_SESSION
# (make fuzz: build/kdgen.kdtrace), and it says so.
set -eu
out=${1:?usage: seeds.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
fixture=${KDRELAY_SHARED:-$top/../shared}/fixtures/windbg-session.kdtrace
if [ ! -r "$fixture" ]; then
	echo "seeds.sh: $fixture is absent (a clone without ../shared):" \
	    "KD seeds from the generated session ${KDRELAY_SESSION:-(none)}"
	fixture=${KDRELAY_SESSION:-}
	[ -r "$fixture" ] ||
	    { echo "seeds.sh: no session to seed from (set KDRELAY_SESSION)" >&2; exit 1; }
fi
rm -rf "$out"
mkdir -p "$out/crlf" "$out/kdcom" "$out/stream" "$out/config" "$out/epspec" \
    "$out/ctlproto" "$out/wanted"

perl -e '
	use strict;
	my ($fixture, $out) = @ARGV;
	open(my $f, "<:raw", $fixture) or die "$fixture: $!\n";
	local $/;
	my $t = <$f>;
	substr($t, 0, 8) eq "KDTRACE1" or die "$fixture: not a kdtrace\n";
	my @pkts;
	for (my $o = 8; $o + 4 <= length $t; ) {
		my ($dir, $flags, $len) = unpack("a C v", substr($t, $o, 4));
		push @pkts, [$dir, substr($t, $o + 4, $len)];
		$o += 4 + $len;
	}
	sub put {
		my ($name, $data) = @_;
		open(my $w, ">:raw", "$out/$name") or die "$out/$name: $!\n";
		print $w $data;
		close $w;
	}
	sub corrupt { my $s = shift; $s =~ s/\n/\r\n/g; $s }
	my $i = 0;
	for my $p (@pkts) {
		my ($dir, $pkt) = @$p;
		put(sprintf("kdcom/pkt%03d%s", $i, $dir), $pkt);
		# Packets the corruption hits are the interesting ones to repair.
		if ($pkt =~ /[\r\n]/) {
			put(sprintf("crlf/pkt%03d", $i), $pkt);
			put(sprintf("crlf/pkt%03d.cor", $i), corrupt($pkt));
		}
		$i++;
	}
	# Runs of eight packets as one side of the line carries them.
	for (my $s = 0; $s < @pkts; $s += 8) {
		my %run = (D => "", T => "");
		for my $p (@pkts[$s .. ($s + 7 < $#pkts ? $s + 7 : $#pkts)]) {
			$run{$p->[0]} .= $p->[1];
		}
		for my $d ("D", "T") {
			my $r = $run{$d};
			next if $r eq "";
			my $name = sprintf("run%03d%s", $s, $d);
			put("kdcom/$name", $r);
			put("kdcom/$name.cor", corrupt($r));
			# Damage: cut short, a flipped payload byte, break-ins.
			put("kdcom/$name.cut", substr($r, 0, length($r) / 2));
			my $bad = $r;
			substr($bad, 20, 1) = chr(ord(substr($bad, 20, 1)) ^ 1)
			    if length($bad) > 20;
			put("kdcom/$name.bad", $bad);
			put("kdcom/$name.brk", "b" . join("b", map { $_->[1] }
			    grep { $_->[0] eq $d } @pkts[$s .. ($s + 7 < $#pkts ?
			    $s + 7 : $#pkts)]) . "b");
			# Stream: off, on, auto (guess off and on), validator off.
			put("stream/$name.off", "\x00$r");
			put("stream/$name.on", "\x01" . corrupt($r));
			put("stream/$name.auto0", "\x02" . corrupt($r));
			put("stream/$name.auto1", "\x06$r");
			put("stream/$name.auto1c", "\x06" . corrupt($r));
			put("stream/$name.noval", "\x0a" . corrupt($r));
		}
	}
	put("crlf/edges", "\r\r\n\r\n\n\r\rA\r");
' "$fixture" "$out"

cp "$top/kdrelay.conf" "$out/config/sample.conf"
cat >"$out/config/pairs.conf" <<'CONF'
[global]
log-level = info
stats-interval = 60
hold-ms = 5
buffer-size = 64k
allow-remote = no

[pair win10]
host = unix-listen:/run/kdrelay/win10.sock
target = xen:win10,serial=0
target-crlf = on
packet-log = win10.log
capture = "/var/log/kdrelay/win10 capture.kdtrace"

[pair lab]
host = "tcp-listen:0.0.0.0:9000"   # needs allow-remote
target = /dev/pts/9,crlf=auto
allow-remote = yes
validate = no
CONF
cat >"$out/config/auto.conf" <<'CONF'
; comments, quoting, CRLF line ends and a BOM are all accepted
[auto]
enable = yes
match = win* "test-??" dbg
tcp-ports = 9000-9099
crlf = auto
CONF
printf '\357\273\277[global]\r\nlog = syslog\r\n[auto]\r\nenable = true\r\nmatch = *\r\npair-with = "%%n-dbg"\r\n' \
    >"$out/config/bom-crlf.conf"

n=0
while IFS= read -r spec; do
	n=$((n + 1))
	printf '%s' "$spec" >"$out/epspec/spec$n"
done <<'SPECS'
/dev/pts/7
/dev/pts/9,crlf=on
pty:/dev/pts/3,crlf=off
tty:/dev/ttyS0
unix:/var/run/qemu-server/101.serial0
unix-listen:/run/kdrelay/win10.sock,crlf=auto
tcp:localhost:9000
tcp:[::1]:9000
tcp-listen:9000
tcp-listen:127.0.0.1:9000
tcp-listen:[::]:9000,allow-remote
xen:win10,serial=1
xen:win10,console
win10-dm
pve:101,serial=3
pve:win-vm
UNIX-LISTEN:/x,CRLF=ON
tcp:host:0
tcp-listen:99999
unix:relative
xen:bad/name
pty:/dev/pts/1,crlf=maybe
xen:a,console,serial=1
SPECS
n=0
while IFS= read -r req; do
	n=$((n + 1))
	printf '%s' "$req" >"$out/ctlproto/req$n"
done <<'REQS'
help
pairs
status
status win10 "lab 2" x.y-z
stats win10
watch win10
break win10
reload
reopen
capture win10 /var/log/kdrelay/win10.kdtrace
capture "win10" "/tmp/a \"quoted\" \\ name"
capture-stop win10
	status	 a   b	
"status
status "a\x"
status "a"b
break a b
REQS
# Auto mode's policy: templates, globs, ports, then VMs (fuzz_wanted.c).
printf 'unix-listen:/run/kdrelay/%%n.sock\n\nwin*\n\nxwin10\nxlinux\npwin7\nlwin11\n' \
    >"$out/wanted/template"
printf 'unix-listen:/x\n%%n-dbg\nwin* lab?\n\nxwin10\nxwin10-dbg\npwin8\npwin8-dbg\nxwin7\npwin7-dbg\n' \
    >"$out/wanted/pairwith"
printf 'x\n\n*\n9000 9001\nxa\nxb\nxc\npa\nxbad name\n' \
    >"$out/wanted/ports"

echo "seeds: $(find "$out" -type f | wc -l) files in $out"
