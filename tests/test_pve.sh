#!/bin/sh
# test_pve.sh - pve:NAME and pve:VMID at the real Proxmox paths, in a
# private mount namespace with a tmpfs on /run and on /etc/pve: VM
# configs with name: lines, socat listening on
# /var/run/qemu-server/<vmid>.serial0 as QEMU does.  Traffic both ways by
# name; the VM restarts (its socket goes and comes back) and the relay is
# connected again at once (inotify, measured); a rename in the configs
# moves the relay to the VM that now has the name; pve:VMID; an ambiguous
# name is refused; a name in an old snapshot section is not the VM's.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/xenstore.sh"
. "$TESTS/lib/xenvm.sh"
xs_enter_namespace "$@"
need socat
pve_host		# no xenstore here
CONF=/etc/pve/qemu-server
RUN=/var/run/qemu-server

conf() {	# VMID NAME [more lines]: write a config as pmxcfs would
	printf 'boot: order=scsi0\nmemory: 4096\nname: %s\nserial0: socket\n%b' \
	    "$2" "${3:-}" >"$CONF/$1.conf.tmp" && mv "$CONF/$1.conf.tmp" \
	    "$CONF/$1.conf" || fail "writing $CONF/$1.conf"
}
qemu() {	# VMID: QEMU's serial0 chardev, the guest's end $T/VMID.guest
	bg socat PTY,raw,echo=0,link="$T/$1.guest" \
	    "UNIX-LISTEN:$RUN/$1.serial0" >"$T/qemu-$1.log" 2>&1
	eval "QEMU_$1=\$LAST"
	wait_until 5 test -S "$RUN/$1.serial0" || fail "no socket for VM $1"
}

conf 100 win10
conf 101 dbg
conf 102 dup
conf 103 dup
conf 104 snapvm '[before-upgrade]\nname: oldname\n'
qemu 100
relay_start r "unix-listen:$T/host.sock" pve:win10
R=$RELAY_PID
log_wait r "VM win10 is VMID 100: following $RUN/100.serial0" ||
    fail "win10 not looked up"
log_wait r "pve:win10: connected$" || fail "win10's socket not connected"
exchange "unix:$T/host.sock" "$T/100.guest" 262144 || fail "traffic by name"
note "pve:win10 -> VMID 100, 256 KiB each way"

# The VM restarts: QEMU exits (its socket goes), a new one listens.
stop "$QEMU_100"
# Waited for by a watch on the run directory, not by a retry timer
# (its time is only reported: timing belongs in make bench).
log_wait r "pve:win10: lost (end of file); $RUN/100.serial0: No such file or directory; waiting for it to appear" ||
    fail "the end of QEMU was not seen, or the socket is not watched for"
t0=$(now_ms)
qemu 100
log_wait r "pve:win10: connected$" 2 || fail "not connected again"
t1=$(now_ms)
note "VM restart: socket back -> connected in $((t1 - t0)) ms"
exchange "unix:$T/host.sock" "$T/100.guest" 65536 ||
    fail "traffic after the restart"

# A rename: the name now belongs to VMID 105.
qemu 105
conf 100 win10-old
conf 105 win10
log_wait r "VM win10 is VMID 105: following $RUN/105.serial0" ||
    fail "the rename was not seen"
log_wait r "pve:win10: closed (the VM name now means another VMID)" ||
    fail "the old VM's socket was kept"
log_wait r "pve:win10: connected$" 3 || fail "VMID 105 not connected"
exchange "unix:$T/host.sock" "$T/105.guest" 65536 ||
    fail "traffic with VMID 105"
note "rename followed to VMID 105"

# pve:VMID, and a name nobody has.
qemu 101
relay_start v "unix-listen:$T/v.sock" pve:101
log_wait v "pve:101: connected$" || fail "pve:101 not connected"
exchange "unix:$T/v.sock" "$T/101.guest" 65536 || fail "traffic by VMID"
relay_start o "unix-listen:$T/o.sock" pve:oldname
log_wait o "no VM named oldname in $CONF; waiting for one" ||
    fail "a name from a snapshot section was taken"
relay_start s "unix-listen:$T/s.sock" pve:snapvm
log_wait s "VM snapvm is VMID 104: following $RUN/104.serial0" ||
    fail "snapvm not found"
relay_start d "unix-listen:$T/d.sock" pve:dup
log_wait d "refusing: the name dup is used by VMIDs 102 and 103 (ambiguous)" ||
    fail "an ambiguous name was not refused"
conf 103 notdup
log_wait d "VM dup is VMID 102: following $RUN/102.serial0" ||
    fail "dup not taken once unique"
[ "$(log_count d "(ambiguous)")" = 1 ] || fail "ambiguity logged again"
note "pve:VMID, snapshot sections, ambiguity"
alive "$RELAY_PID" || fail "relay died"

# --auto on Proxmox: a VM counts while its serial0 socket exists.
stop "$R"
wait_until 5 test ! -e "$RUN/105.serial0" || fail "QEMU 105 did not exit"
relay_start auto --auto --match 'win*'
log_wait auto "auto: watching $CONF" || fail "auto: not watching $CONF"
qemu 105
log_wait auto "auto: win10 appeared: pair win10, unix-listen:/run/kdrelay/win10.sock <-> pve:105" ||
    fail "auto: VM 105 (win10) not paired"
log_wait auto "win10/target: pve:105: connected$" || fail "auto: 105 not connected"
exchange "unix:/run/kdrelay/win10.sock" "$T/105.guest" 65536 ||
    fail "auto: traffic with VM 105"
grep -q "auto: win10-old appeared" "$T/auto.log" &&
    fail "auto: a stopped VM got a pair"
stop "$QEMU_105"
log_wait auto "auto: win10 is gone: pair removed" ||
    fail "auto: VM 105's stop not seen"
note "--auto: Proxmox VM paired while its socket exists"
exit 0
