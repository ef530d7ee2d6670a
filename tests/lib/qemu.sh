# qemu.sh - a real QEMU (Debian's qemu-system-x86, TCG: no KVM needed)
# running the echo guest (tests/peers/echo.S: COM1 8N1, every byte
# echoed), so that QEMU's 16550 and its chardevs are in a test's path.
# POSIX sh, set -u clean; source after common.sh:
#
#   qemu_setup          assemble the echo guest into $QEMU_ECHO_BIN (once;
#                       cached in $BUILD/peers)
#   qemu_start NAME CHARDEV-ARGS...
#                       boot the echo guest with the given serial/chardev
#                       options; log $T/qemu-NAME.log, pid in QEMU_PID_NAME
#                       (killed at exit)
#   qemu_socket NAME PATH
#                       the Proxmox form: -chardev socket,...,server=on,
#                       wait=off at PATH (QEMU listens, one client at a
#                       time); returns once PATH is a socket
#   qemu_pty NAME       -serial pty; returns once QEMU has said which pty:
#                       QEMU_PTY is its /dev/pts/N
#   qemu_kill NAME      SIGKILL it (a VM that crashes or is destroyed), reap
#   $ECHOGUEST          tests/helpers/echoguest (its header says how to
#                       use it: check, rtt, tput through any endpoint)

QEMU_ECHO_BIN=$BUILD/peers/echo.bin
ECHOGUEST=$BUILD/helpers/echoguest
QEMU_BIN=qemu-system-x86_64

qemu_setup() {
	need "$QEMU_BIN" as ld
	[ -x "$ECHOGUEST" ] || fail "$ECHOGUEST: not built (make helpers)"
	if [ ! -s "$QEMU_ECHO_BIN" ] ||
	    [ "$TESTS/peers/echo.S" -nt "$QEMU_ECHO_BIN" ]; then
		mkdir -p "$BUILD/peers" || fail "mkdir $BUILD/peers"
		as --32 -o "$T/echo.o" "$TESTS/peers/echo.S" &&
		    ld -m elf_i386 -Ttext 0x7c00 --oformat binary \
		    -o "$QEMU_ECHO_BIN.tmp" "$T/echo.o" &&
		    mv "$QEMU_ECHO_BIN.tmp" "$QEMU_ECHO_BIN" ||
		    fail "cannot assemble the echo guest"
	fi
	[ "$(wc -c <"$QEMU_ECHO_BIN")" = 512 ] ||
	    fail "the echo guest is not one 512-byte sector"
}

qemu_start() {
	_qn=$1
	shift
	bg "$QEMU_BIN" -nographic -nodefaults -monitor none -no-user-config \
	    -machine pc,accel=tcg -m 16 \
	    -drive "file=$QEMU_ECHO_BIN,format=raw,if=floppy,readonly=on" \
	    -boot a "$@" >"$T/qemu-$_qn.log" 2>&1
	eval "QEMU_PID_$_qn=\$LAST"
}

qemu_socket() {
	qemu_start "$1" -chardev \
	    "socket,id=serial0,path=$2,server=on,wait=off" \
	    -serial chardev:serial0
	wait_until 10 test -S "$2" || {
		cat "$T/qemu-$1.log" >&2
		fail "QEMU $1 did not listen on $2"
	}
}

_qemu_said_pty() {
	grep -q 'char device redirected to /dev/pts/[0-9]*' "$1"
}

qemu_pty() {
	qemu_start "$1" -serial pty
	wait_until 10 _qemu_said_pty "$T/qemu-$1.log" || {
		cat "$T/qemu-$1.log" >&2
		fail "QEMU $1 did not say which pty it made"
	}
	QEMU_PTY=$(sed -n 's|.*char device redirected to \(/dev/pts/[0-9]*\).*|\1|p' \
	    "$T/qemu-$1.log" | head -n 1)
}

qemu_kill() {
	eval "_qp=\$QEMU_PID_$1"
	kill -KILL "$_qp" 2>/dev/null
	wait "$_qp" 2>/dev/null || :
}
