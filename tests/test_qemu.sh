#!/bin/sh
# test_qemu.sh - a real QEMU in the path: the echo guest (tests/peers/
# echo.S) booted by qemu-system-x86_64 under TCG, its COM1 reached three
# ways kdrelayd supports, every byte through QEMU's 16550 and back:
#   - Proxmox form: -chardev socket,server=on,wait=off at
#     /var/run/qemu-server/VMID.serial0 with /etc/pve/qemu-server/VMID.conf
#     (private mount namespace, tmpfs on /run and /etc/pve); pve:VMID
#     relays exact bytes; QEMU is killed and started again and the relay
#     reconnects by itself, the next bytes exact;
#   - -serial pty, the pty path given explicitly;
#   - -serial pty published in xenstore (oxenstored) as a Xen HVM's device
#     model does (serial/0/tty); xen:NAME relays exact bytes, and follows
#     the domain to its new pty when QEMU is replaced.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/xenstore.sh"
. "$TESTS/lib/xenvm.sh"
. "$TESTS/lib/qemu.sh"
xs_enter_namespace "$@"
qemu_setup
pve_host		# a Proxmox host first
RUN=/var/run/qemu-server
printf 'boot: order=floppy0\nmemory: 16\nname: echo\nserial0: socket\n' \
    >/etc/pve/qemu-server/100.conf || fail "writing 100.conf"

# Proxmox: QEMU listens on 100.serial0, the relay connects to it.
qemu_socket 100 "$RUN/100.serial0"
relay_start pve "unix-listen:$T/pve.sock,crlf=off" pve:100,crlf=off
log_wait pve "pve:100: connected$" 1 10 || fail "pve:100 not connected"
"$ECHOGUEST" "unix:$T/pve.sock" check 32768 ||
    fail "pve:100: the echo through QEMU's UART is not exact"
note "pve:100: 32 KiB through kdrelayd and QEMU's 16550 and back, exact"

# The VM dies and is started again: a new QEMU, a new socket.
qemu_kill 100
log_wait pve "pve:100: lost" 1 10 || fail "pve:100: QEMU's end not seen"
qemu_socket 100 "$RUN/100.serial0"
# Up twice: "connected", or "lost (why); connected again" when the first
# look after the loss already finds the new QEMU listening.
pve_ups() {
	[ "$(grep -cE 'pve:100: (connected|lost \(.*\); connected again)$' \
	    "$T/pve.log")" -ge 2 ]
}
wait_until 10 pve_ups || {
	cat "$T/pve.log" >&2
	fail "pve:100 not reconnected"
}
"$ECHOGUEST" "unix:$T/pve.sock" check 32768 ||
    fail "pve:100: bytes after QEMU's restart are not exact"
alive "$RELAY_PID" || fail "the relay died"
note "pve:100: QEMU killed and restarted, reconnected, next bytes exact"

# -serial pty, the path given on the command line.
qemu_pty pty
relay_start pty "unix-listen:$T/pty.sock,crlf=off" "$QEMU_PTY,crlf=off"
log_wait pty "$QEMU_PTY: connected$" 1 10 || fail "$QEMU_PTY not opened"
"$ECHOGUEST" "unix:$T/pty.sock" check 32768 ||
    fail "-serial pty: the echo is not exact"
note "-serial pty ($QEMU_PTY): 32 KiB exact"

# A Xen HVM: its device model's pty in serial/0/tty.
xs_start
qemu_pty hvm
xs_domain_create hvm1 7 "$QEMU_PTY"
relay_start xen "unix-listen:$T/xen.sock,crlf=off" xen:hvm1,crlf=off
log_wait xen "xen:hvm1: connected$" 1 10 || fail "xen:hvm1 not connected"
"$ECHOGUEST" "unix:$T/xen.sock" check 32768 ||
    fail "xen:hvm1: the echo is not exact"
old=$QEMU_PTY
qemu_kill hvm
log_wait xen "xen:hvm1: lost" 1 10 || fail "xen:hvm1: QEMU's end not seen"
qemu_pty hvm
[ "$QEMU_PTY" != "$old" ] || note "(the new QEMU got the same pty number)"
xs_domain_set_tty 7 "$QEMU_PTY"
log_wait xen "xen:hvm1: connected$" 2 10 || fail "xen:hvm1: new pty not taken"
"$ECHOGUEST" "unix:$T/xen.sock" check 32768 ||
    fail "xen:hvm1: the echo after the new device model is not exact"
note "xen:hvm1: QEMU's pty from xenstore, 32 KiB exact, new pty followed"
exit 0
