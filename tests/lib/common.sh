# common.sh - shared pieces of the integration tests (sourced).
#
# Sets $T (a private temp dir), kills everything started through bg() on
# exit, and gives helpers to make "VMs" out of socat pty pairs and to start
# kdrelayd.  $BUILD is the absolute build directory, $TESTS the tests
# directory (tests/run-integration.sh sets both).  The real third-party
# peers (xen-kdd, oxenstored) are in peers.sh and xenstore.sh, which build
# on this file.
#
#   fail MSG / note MSG        stop the test (exit 1) / say something
#   bg CMD...                  run in the background, pid in $LAST, killed
#                              at exit; redirect as usual: bg cmd >"$T/x.log"
#   track PID                  kill PID at exit too
#   stop PID                   TERM now, KILL after 2 s, reap
#   alive PID                  true while PID exists
#   atexit CMD                 eval CMD at exit, before the kills
#   wait_for TEST-ARGS...      poll `test ARGS` up to 10 s
#   wait_until SECS CMD...     poll CMD every 20 ms up to SECS (an integer)
#   wait_log FILE PATTERN [N]  until PATTERN is in FILE N times (10 s)
#   count PATTERN              lines of $T/relay.log that match (0 while
#                              there is no such file yet)
#   wait_count PATTERN N       until N lines of it match, every 10 ms
#                              (30 s): for waits on a test's hot path
#   counters DIR               the relay's last counter line for DIR
#                              (host->target or target->host), after a
#                              fresh SIGUSR1
#   field LINE NAME            the number before NAME in a counter line
#   rss [PID]                  the VmRSS of PID ($RELAY) in kB, empty once
#                              it is gone
#   vm NAME                    a socat pty pair: $T/NAME.vm, $T/NAME.guest
#   relay ARGS...              kdrelayd -v --no-control ARGS, log
#                              $T/relay.log, $RELAY
#   random FILE BYTES / same A B
#   free_port                  print a free TCP port on 127.0.0.1, below
#                              the ephemeral range
#   kv FILE KEY                the value of a key=value line in FILE
#   need CMD...                fail unless each CMD is installed
#   skip WHAT WHY              report one case skipped ("SKIP: WHAT: WHY")
#                              and go on; skip_all WHY: the whole test
#                              (exit 77).  See tests/run-integration.sh.
#   have_fixture WHAT          true when the real WinDbg session
#                              ($FIXTURE, in ../shared) is readable; else
#                              skip WHAT and false
#   user_copy FILE             print the path of a copy of FILE that any
#                              user can run (a test that drops privileges
#                              must not run FILE itself: the checkout may
#                              be under a mode-0700 directory such as /root)
#   gen_session FILE [SEED [N]]
#                              a generated KD session (kdgen -s SEED,
#                              default 2: both directions hold 0x0a;
#                              N exchanges, kdgen's default if none)
# KEEP=1 keeps $T after the test.

set -u
: "${BUILD:?BUILD must be set}"
: "${TESTS:=$(cd "$(dirname "$0")" && pwd)}"
. "$TESTS/lib/port.sh"
T=$(mktemp -d /tmp/kdrelay-test.XXXXXX)
T_ROOT=$T
PIDS=""
ATEXIT=""

cleanup() {
	trap - EXIT INT TERM
	eval "$ATEXIT" || :
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
		[ -n "${KEEP:-}" ] || rm -rf "$T_ROOT" "$T_ROOT.user"
		exit 1
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$T_ROOT" "$T_ROOT.user"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

# bg CMD...: run in the background, remember the pid in $LAST.
bg() { "$@" & LAST=$!; PIDS="$PIDS $LAST"; }
track() { PIDS="$PIDS $1"; }
alive() { kill -0 "$1" 2>/dev/null; }
atexit() { ATEXIT="$1
$ATEXIT"; }

# stop PID: TERM, KILL if still there after 2 s, and reap it.
stop() {
	if kill "$1" 2>/dev/null; then
		wait_until 2 eval "! kill -0 $1" || kill -9 "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null || :
}

# wait_for TEST-ARGS...: poll up to 10 s for a condition.
wait_for() {
	i=0
	while ! test "$@"; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1
		sleep 0.05
	done
}

# wait_until SECS CMD...: poll CMD (output dropped) every 20 ms.
wait_until() {
	_wu=$(($1 * 50))
	shift
	while ! "$@" >/dev/null 2>&1; do
		_wu=$((_wu - 1)); [ "$_wu" -gt 0 ] || return 1
		sleep 0.02
	done
}

# wait_log FILE PATTERN [COUNT]: until PATTERN appears COUNT times (10 s).
# FILE may not exist yet (a background command's redirection makes it):
# that is a count of 0, not an error that would end the wait.
wait_log() {
	i=0
	while _wl=$(grep -c -- "$2" "$1" 2>/dev/null)
	    [ "${_wl:-0}" -lt "${3:-1}" ]; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1
		sleep 0.05
	done
}

count() {
	_ct=$(grep -c -- "$1" "$T/relay.log" 2>/dev/null)
	echo "${_ct:-0}"
}

# (Helpers keep their loop counters to themselves: shell variables are
# global.)
wait_count() {
	_wc=0
	while [ "$(count "$1")" -lt "$2" ]; do
		_wc=$((_wc + 1)); [ $_wc -gt 3000 ] && return 1
		sleep 0.01
	done
}

counters() {
	_cn=$(count "$1:")
	kill -USR1 "$RELAY"
	wait_count "$1:" $((_cn + 1)) || fail "no counters for $1 on SIGUSR1"
	grep -- "$1:" "$T/relay.log" | tail -n 1
}

field() { printf '%s\n' "$1" | sed -n "s/.* \([0-9][0-9]*\) $2.*/\1/p"; }

rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/${1:-$RELAY}/status" \
	    2>/dev/null
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
	# No control socket unless the test asks (--control after this wins):
	# tests must not share /run/kdrelay/control, with each other or a
	# daemon of the machine.
	bg "$BUILD/kdrelayd" -v --no-control "$@" 2>>"$T/relay.log"
	RELAY=$LAST
}

# random FILE BYTES
random() { head -c "$2" /dev/urandom >"$1"; }

same() { cmp "$1" "$2" >/dev/null || fail "$1 and $2 differ: $(cmp "$1" "$2" 2>&1 | head -1)"; }

kv() { sed -n "s/^$2=//p" "$1" | head -n 1; }

skip() { echo "SKIP: $1: $2"; }
skip_all() { echo "SKIP: $(basename "$0" .sh): $1"; exit 77; }

# The real WinDbg session, beside the checkout (Makefile: SHARED).
FIXTURE=${KDRELAY_SHARED:-$TESTS/../../shared}/fixtures/windbg-session.kdtrace
have_fixture() {
	[ -r "$FIXTURE" ] && return 0
	skip "$1" "$FIXTURE is absent (a clone without ../shared)"
	return 1
}

# One directory beside $T (which is 0700), removed by the test's own exit:
# user_copy runs in $(...), a subshell whose atexit would never fire.
user_copy() {
	mkdir -p "$T_ROOT.user" && chmod 0755 "$T_ROOT.user" &&
	    _uc=$(mktemp -d "$T_ROOT.user/c.XXXXXX") && chmod 0755 "$_uc" &&
	    cp "$1" "$_uc/" && chmod 0755 "$_uc/${1##*/}" || fail "user_copy $1"
	echo "$_uc/${1##*/}"
}

gen_session() {
	"$BUILD/kdgen" -s "${2:-2}" ${3:+-n "$3"} -o "$1" ||
	    fail "kdgen -s ${2:-2} ${3:+-n $3 }-o $1"
}

need() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || fail "$_c: not installed"
	done
}
