#!/bin/sh
# test_libvirt.sh - libvirt:NAME against a real libvirtd (started here, in
# a private mount namespace) running the echo guest as TCG domains:
#   - a <serial type='pty'>: exact bytes through the guest's UART and back;
#   - libvirt's console lock: taken while we hold the pty, so virsh
#     console is refused, and the other way round;
#   - virsh destroy + start (a new pty, a new lock): followed, no restart
#     of kdrelayd;
#   - libvirtd killed mid-session: what is open keeps relaying, the loss
#     and the return are logged once each, and the domain is followed
#     after it (destroy + start);
#   - a <serial type='unix' mode='bind'>: connected, exact bytes;
#   - <serial type='tcp'> mode bind (we connect) and connect (we listen),
#     <serial type='unix' mode='connect'> (we listen): exact bytes,
#     destroy + start followed (listened on from the config before the
#     start, no <reconnect> needed); a listen address off loopback and a
#     regular file at the socket path refused, the file left alone;
#   - odd and hostile values: a file serial, a serial with no source, a
#     missing serial port, a domain that does not exist: refused or
#     waited for, logged once;
#   - every domain destroyed and undefined, libvirtd ended (virt_cleanup).
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/xenstore.sh"
. "$TESTS/lib/xenvm.sh"
. "$TESTS/lib/qemu.sh"
. "$TESTS/lib/libvirt.sh"
# A sanitizer build cannot talk to libvirtd: ASan intercepts the XDR
# functions and calls glibc's, which Debian 12's glibc keeps only as
# compat symbols (NULL to the interceptor), while libvirt's are libtirpc's.
nm "$BUILD/kdrelayd" 2>/dev/null | grep -q ' __interceptor_xdrmem_create$' &&
    skip_all "libvirt under AddressSanitizer: its XDR interceptors call a NULL glibc xdrmem_create (libvirt uses libtirpc)"
xs_enter_namespace "$@"
qemu_setup
virt_setup
rmdir /run/xenstored 2>/dev/null

# kdrelayd first: libvirtd is not there yet.
relay_start lv "unix-listen:$T/lv.sock,crlf=off" libvirt:kdt-a,crlf=off
LV=$RELAY_PID
log_wait lv "libvirt: cannot connect to qemu:///system" 1 10 ||
    fail "no word about the missing libvirtd"
virt_start
virt_define kdt-a "<serial type='pty'><target port='0'/></serial>"
log_wait lv "libvirt: connected to qemu:///system" 1 10 ||
    fail "libvirtd not connected to once it came"
log_wait lv "domain kdt-a is not running; waiting for it" ||
    fail "a stopped domain was not waited for"
$VIRSH start kdt-a >/dev/null || fail "virsh start kdt-a"
pty=$(virt_pty kdt-a)
log_wait lv "libvirt:kdt-a: domain kdt-a serial 0: opening $pty" 1 10 ||
    fail "kdt-a's pty $pty not opened"
"$ECHOGUEST" "unix:$T/lv.sock" check 32768 ||
    fail "libvirt:kdt-a: the echo through the guest is not exact"
[ "$(log_count lv "libvirt: cannot connect")" = 1 ] ||
    fail "the missing libvirtd was logged more than once"
note "libvirt:kdt-a: $pty, 32 KiB through the guest's UART and back, exact"

# libvirt's console lock (virChrdevOpen's /var/lock/LCK..pts_N).
lock=/var/lock/LCK.._pts_${pty#/dev/pts/}
[ "$(tr -d ' \n' <"$lock")" = "$LV" ] ||
    fail "$lock does not hold kdrelayd's pid"
# script runs $SHELL -c: /bin/sh whatever the caller's is.  --foreground:
# timeout otherwise moves virsh out of the tty's foreground process group,
# and its tcsetattr (raw mode) then stops it with SIGTTOU (a hang CI saw
# where $SHELL was /bin/sh, whose -c does not exec its last command).
SHELL=/bin/sh script -qec "exec timeout --foreground -s KILL 5 \
    $VIRSH console kdt-a" /dev/null </dev/null >"$T/console.out" 2>&1
grep -q "is locked by lock file '$lock' held by process $LV" \
    "$T/console.out" || {
	cat "$T/console.out" >&2
	tail -n 20 "$T/libvirtd.log" >&2
	fail "virsh console was not refused"
}
note "virsh console refused while kdrelayd holds the pty"

# And the other way round: virsh console first, kdrelayd waits for it.
virt_define kdt-c "<serial type='pty'><target port='0'/></serial>"
$VIRSH start kdt-c >/dev/null || fail "virsh start kdt-c"
ptyc=$(virt_pty kdt-c)
lockc=/var/lock/LCK.._pts_${ptyc#/dev/pts/}
mkfifo "$T/console.in" && exec 7<>"$T/console.in" || fail "mkfifo"
bg env SHELL=/bin/sh script -qec "exec $VIRSH console kdt-c" /dev/null \
    <"$T/console.in" >"$T/console-c.out" 2>&1
CONSOLE=$LAST
wait_until 10 test -e "$lockc" || fail "virsh console took no lock"
relay_start c "unix-listen:$T/c.sock,crlf=off" libvirt:kdt-c,crlf=off
log_wait c "$lockc is locked by process" 1 10 ||
    fail "kdrelayd did not respect virsh console's lock"
stop "$CONSOLE"
log_wait c "libvirt:kdt-c: connected" 1 15 ||
    fail "kdrelayd did not take the pty once virsh console left"
"$ECHOGUEST" "unix:$T/c.sock" check 4096 ||
    fail "libvirt:kdt-c: the echo is not exact"
[ "$(log_count c "is locked by process")" = 1 ] ||
    fail "the lock was logged more than once"
stop "$RELAY_PID"
$VIRSH destroy kdt-c >/dev/null
note "virsh console first: kdrelayd waits for its lock, then takes the pty"

# destroy + start: a new pty, followed.
$VIRSH destroy kdt-a >/dev/null || fail "virsh destroy"
log_wait lv "libvirt:kdt-a: domain kdt-a is not running; waiting for it" 2 10 ||
    fail "the destroy was not seen"
[ ! -e "$lock" ] || fail "$lock left behind"
$VIRSH start kdt-a >/dev/null || fail "virsh start again"
pty2=$(virt_pty kdt-a)
log_wait lv "domain kdt-a serial 0: opening $pty2" 1 10 ||
    fail "the new pty $pty2 not opened"
"$ECHOGUEST" "unix:$T/lv.sock" check 16384 ||
    fail "the echo after destroy + start is not exact"
note "destroy + start: $pty -> $pty2 followed"

# A lock a live process holds (virsh console, say) is respected.
$VIRSH destroy kdt-a >/dev/null || fail "virsh destroy"
log_wait lv "domain kdt-a is not running; waiting for it" 3 10 ||
    fail "the destroy was not seen"
$VIRSH start kdt-a >/dev/null || fail "virsh start"
pty3=$(virt_pty kdt-a)
log_wait lv "opening $pty3" 1 10 || fail "$pty3 not opened"

# libvirtd killed mid-session: the pty goes on.
virt_stop
log_wait lv "libvirt: lost the connection to libvirtd" 1 10 ||
    fail "the loss of libvirtd was not seen"
"$ECHOGUEST" "unix:$T/lv.sock" check 8192 ||
    fail "the relay stopped while libvirtd was away"
virt_start
log_wait lv "libvirt: connected to qemu:///system again" 1 15 ||
    fail "not reconnected to libvirtd"
[ "$(log_count lv "libvirt: lost the connection")" = 1 ] ||
    fail "the loss was logged more than once"
$VIRSH destroy kdt-a >/dev/null || fail "virsh destroy after the restart"
log_wait lv "domain kdt-a is not running; waiting for it" 4 10 ||
    fail "a destroy after libvirtd's restart was not seen"
$VIRSH start kdt-a >/dev/null || fail "virsh start"
pty4=$(virt_pty kdt-a)
log_wait lv "opening $pty4" 1 10 || fail "$pty4 not opened after the restart"
"$ECHOGUEST" "unix:$T/lv.sock" check 8192 ||
    fail "the echo after libvirtd's restart is not exact"
alive "$LV" || fail "kdrelayd died"
note "libvirtd killed and started again: relaying throughout, followed after"

# A unix socket serial (QEMU listens).
virt_define kdt-u "<serial type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/kdt-u.serial0'/><target port='0'/></serial>"
$VIRSH start kdt-u >/dev/null || fail "virsh start kdt-u"
relay_start u "unix-listen:$T/u.sock,crlf=off" libvirt:kdt-u,crlf=off
log_wait u "following /var/lib/libvirt/qemu/kdt-u.serial0 (QEMU listens)" 1 10 ||
    fail "kdt-u's socket not followed"
log_wait u "libvirt:kdt-u: connected" 1 10 || fail "kdt-u not connected"
"$ECHOGUEST" "unix:$T/u.sock" check 16384 ||
    fail "libvirt:kdt-u: the echo is not exact"
note "libvirt:kdt-u: a unix serial, 16 KiB exact"

# Socket serials: tcp QEMU listens on (we connect), tcp and unix QEMU
# connects to (we listen there from the domain's config, before it
# starts: QEMU connects once, no <reconnect> needed).  Hostile: a tcp
# address off loopback and a unix path that is a regular file are
# refused or left alone.  All in one kdrelayd, domains at once.
PTB=$(free_port)
PTC=$(free_port)
echo "not a socket" >"$T/notasock"
virt_define kdt-tb "<serial type='tcp'><source mode='bind' host='127.0.0.1' service='$PTB'/><protocol type='raw'/><target port='0'/></serial>"
virt_define kdt-tc "<serial type='tcp'><source mode='connect' host='127.0.0.1' service='$PTC'/><protocol type='raw'/><target port='0'/></serial>"
virt_define kdt-uc "<serial type='unix'><source mode='connect' path='$T/kdt-uc.serial0'/><target port='0'/></serial>"
virt_define kdt-tx "<serial type='tcp'><source mode='connect' host='192.0.2.1' service='$PTC'/><protocol type='raw'/><target port='0'/></serial>"
virt_define kdt-ux "<serial type='unix'><source mode='connect' path='$T/notasock'/><target port='0'/></serial>"
cat >"$T/sock.conf" <<EOF
[pair tb]
host = unix-listen:$T/tb.sock,crlf=off
target = libvirt:kdt-tb,crlf=off
[pair tc]
host = unix-listen:$T/tc.sock,crlf=off
target = libvirt:kdt-tc,crlf=off
[pair uc]
host = unix-listen:$T/uc.sock,crlf=off
target = libvirt:kdt-uc,crlf=off
[pair tx]
host = unix-listen:$T/tx.sock
target = libvirt:kdt-tx
[pair ux]
host = unix-listen:$T/ux.sock
target = libvirt:kdt-ux
EOF
relay_start sk -c "$T/sock.conf"
SK=$RELAY_PID
log_wait sk "tc/target: libvirt:kdt-tc: listening on 127.0.0.1:$PTC" 1 10 ||
    fail "no listener where kdt-tc will connect"
log_wait sk "uc/target: libvirt:kdt-uc: listening on $T/kdt-uc.serial0" 1 10 ||
    fail "no listener where kdt-uc will connect"
for d in kdt-tb kdt-tc kdt-uc; do	# kdt-tx, kdt-ux: their config is enough
	$VIRSH start $d >/dev/null || fail "virsh start $d"
done
log_wait sk "tb/target: libvirt:kdt-tb: domain kdt-tb serial 0: following tcp 127.0.0.1:$PTB (QEMU listens)" 1 10 ||
    fail "kdt-tb's tcp serial not followed"
log_wait sk "libvirt:kdt-tx: domain kdt-tx serial 0: cannot listen where QEMU connects: 192.0.2.1:$PTC is not a loopback address" 1 10 ||
    fail "a listen address off loopback was not refused"
log_wait sk "libvirt:kdt-ux: domain kdt-ux serial 0: cannot listen where QEMU connects: $T/notasock exists and is not a socket" 1 10 ||
    fail "a regular file at a unix serial's path was not refused"
[ "$(cat "$T/notasock")" = "not a socket" ] ||
    fail "the regular file at kdt-ux's path was touched"
# Up N times: "connected", "client connected", "...; connected again".
sk_up() {
	[ "$(grep -c -E "^.*$1/target: libvirt:kdt-$1: .*connected" \
	    "$T/sk.log")" -ge "$2" ]
}
for p in tb tc uc; do
	wait_until 15 sk_up $p 1 || fail "kdt-$p's serial never came up"
	"$ECHOGUEST" "unix:$T/$p.sock" check 8192 ||
	    fail "libvirt:kdt-$p: the echo is not exact"
done
# destroy + start: each followed; the listeners stay for the next start.
for d in kdt-tb kdt-tc kdt-uc; do
	$VIRSH destroy $d >/dev/null || fail "virsh destroy $d"
done
for d in kdt-tb kdt-tc kdt-uc; do
	log_wait sk "domain $d is not running; waiting for it" 2 10 ||
	    fail "$d's destroy not seen"
done
[ -S "$T/kdt-uc.serial0" ] || fail "kdt-uc's listener went with the domain"
for d in kdt-tb kdt-tc kdt-uc; do
	$VIRSH start $d >/dev/null || fail "virsh start $d again"
done
for p in tb tc uc; do
	wait_until 15 sk_up $p 2 || fail "kdt-$p's restart not followed"
	"$ECHOGUEST" "unix:$T/$p.sock" check 8192 ||
	    fail "libvirt:kdt-$p: the echo after destroy + start is not exact"
done
[ "$(log_count sk "is not a loopback address")" = 1 ] ||
    fail "the refused listen address was logged more than once"
alive "$SK" || fail "kdrelayd died"
[ "$(log_count sk "listening on $T/kdt-uc.serial0")" = 1 ] ||
    fail "kdt-uc's listener was made again"
stop "$SK"
[ -e "$T/kdt-uc.serial0" ] && fail "kdt-uc's socket left behind"
for d in kdt-tb kdt-tc kdt-uc; do
	$VIRSH destroy $d >/dev/null
done
note "libvirt: tcp bind, tcp and unix connect (listened on before the start): 8 KiB exact each, destroy + start followed; off-loopback and a regular file refused"

# --auto with source = libvirt: two domains, each its pair; a stopped
# domain keeps its pair (its endpoint waits), an undefined one loses it.
for d in kdt-w1 kdt-w2; do
	virt_define $d "<serial type='pty'><target port='0'/></serial>"
	$VIRSH start $d >/dev/null || fail "virsh start $d"
done
cat >"$T/auto.conf" <<EOF
[auto]
enable = yes
source = libvirt
match = kdt-w*
endpoint = unix-listen:$T/auto-%n.sock,crlf=off
crlf = off
EOF
relay_start auto -c "$T/auto.conf"
AUTO=$RELAY_PID
for d in kdt-w1 kdt-w2; do
	log_wait auto "auto: $d appeared: pair $d, unix-listen:$T/auto-$d.sock,crlf=off <-> libvirt:$d,crlf=off" 1 10 ||
	    fail "auto: $d not paired"
	log_wait auto "$d/target: libvirt:$d: connected" 1 10 ||
	    fail "auto: $d's pty not opened"
	"$ECHOGUEST" "unix:$T/auto-$d.sock" check 8192 ||
	    fail "auto: the echo through $d is not exact"
done
[ "$(log_count auto "appeared")" = 2 ] || fail "auto: a domain not matching got a pair"
$VIRSH destroy kdt-w1 >/dev/null || fail "virsh destroy kdt-w1"
log_wait auto "kdt-w1/target: libvirt:kdt-w1: domain kdt-w1 is not running; waiting for it" 1 10 ||
    fail "auto: kdt-w1's stop not seen by its endpoint"
$VIRSH start kdt-w1 >/dev/null || fail "virsh start kdt-w1"
log_wait auto "kdt-w1/target: libvirt:kdt-w1: connected" 2 10 ||
    fail "auto: kdt-w1's restart not followed"
"$ECHOGUEST" "unix:$T/auto-kdt-w1.sock" check 8192 ||
    fail "auto: the echo after kdt-w1's restart is not exact"
[ "$(log_count auto "is gone")" = 0 ] || fail "auto: a restart removed the pair"
$VIRSH destroy kdt-w1 >/dev/null && $VIRSH undefine kdt-w1 >/dev/null ||
    fail "virsh undefine kdt-w1"
log_wait auto "auto: kdt-w1 is gone: pair removed" 1 10 ||
    fail "auto: an undefined domain kept its pair"
alive "$AUTO" || fail "auto: kdrelayd died"
stop "$AUTO"
note "--auto, source = libvirt: two domains paired, a restart followed, undefine removes"

# Odd and hostile values.
virt_define kdt-f "<serial type='file'><source path='$T/kdt-f.out'/><target port='0'/></serial>"
virt_define kdt-n "<serial type='null'><target port='0'/></serial>"
$VIRSH start kdt-f >/dev/null || fail "virsh start kdt-f"
$VIRSH start kdt-n >/dev/null || fail "virsh start kdt-n"
cat >"$T/odd.conf" <<EOF
[pair f]
host = unix-listen:$T/f.sock
target = libvirt:kdt-f
[pair n]
host = unix-listen:$T/n.sock
target = libvirt:kdt-n
[pair s]
host = unix-listen:$T/s.sock
target = libvirt:kdt-a,serial=1
[pair x]
host = unix-listen:$T/x.sock
target = libvirt:nosuch
EOF
relay_start odd -c "$T/odd.conf"
log_wait odd "libvirt:kdt-f: domain kdt-f serial 0: refusing: its type 'file' is not a pty or a socket" 1 10 ||
    fail "a file serial was not refused"
log_wait odd "libvirt:kdt-n: domain kdt-n serial 0: refusing: its type 'null' is not a pty or a socket" ||
    fail "a serial with no source was not refused"
log_wait odd "libvirt:kdt-a: domain kdt-a serial 1: refusing: the domain has no serial port 1" ||
    fail "a missing serial port was not refused"
log_wait odd "libvirt:nosuch: domain nosuch is not running; waiting for it" ||
    fail "a domain that does not exist was not waited for"
[ -s "$T/kdt-f.out" ] && fail "something was written to the file serial"
[ "$(log_count odd "connected$")" = 0 ] || fail "an odd serial was connected"
note "refused: a file serial, a null serial, a missing port; waited: no domain"
alive "$RELAY_PID" || fail "kdrelayd died"
exit 0
