# common.sh - shared pieces of the integration tests (sourced).
#
# Sets $T (a private temp dir), kills everything started through bg() on
# exit, and gives helpers to make "VMs" out of socat pty pairs and to start
# kdrelayd.  $BUILD is the absolute build directory.

set -u
: "${BUILD:?BUILD must be set}"
T=$(mktemp -d /tmp/kdrelay-test.XXXXXX)
PIDS=""

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	# Up to 2 s to exit: a sanitizer build checks for leaks on the way out.
	i=0
	for p in $PIDS; do
		while kill -0 "$p" 2>/dev/null && [ $i -lt 40 ]; do
			sleep 0.05; i=$((i + 1))
		done
	done
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	# A sanitizer build's daemon reports to its log: any report fails.
	if grep -q -e 'ERROR: [A-Za-z]*Sanitizer' -e 'runtime error:' \
	    "$T/relay.log" 2>/dev/null; then
		echo "FAIL: sanitizer report in the relay log:" >&2
		grep -A 40 -e 'ERROR: [A-Za-z]*Sanitizer' -e 'runtime error:' \
		    "$T/relay.log" | head -n 80 >&2
		[ -n "${KEEP:-}" ] || rm -rf "$T"
		exit 1
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

# bg CMD...: run in the background, remember the pid in $LAST.
bg() { "$@" & LAST=$!; PIDS="$PIDS $LAST"; }

# wait_for TEST-ARGS...: poll up to 10 s for a condition.
wait_for() {
	i=0
	while ! test "$@"; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1
		sleep 0.05
	done
}

# wait_log FILE PATTERN [COUNT]: until PATTERN appears COUNT times (10 s).
wait_log() {
	i=0
	while [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -lt "${3:-1}" ]; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1
		sleep 0.05
	done
}

# vm NAME: a VM's serial line as a socat pty pair.  The relay opens
# $T/NAME.vm (what dom0 sees); the test plays the guest on $T/NAME.guest.
vm() {
	bg socat PTY,raw,echo=0,link="$T/$1.guest" PTY,raw,echo=0,link="$T/$1.vm"
	eval "VM_$1=$LAST"
	wait_for -e "$T/$1.guest" -a -e "$T/$1.vm" || fail "socat pty $1"
}

# kdrelayd ARGS...: start the daemon, log in $T/relay.log, pid in $RELAY.
relay() {
	bg "$BUILD/kdrelayd" -v "$@" 2>>"$T/relay.log"
	RELAY=$LAST
}

# random FILE BYTES
random() { head -c "$2" /dev/urandom >"$1"; }

same() { cmp "$1" "$2" >/dev/null || fail "$1 and $2 differ: $(cmp "$1" "$2" 2>&1 | head -1)"; }
