# common.sh - shared shell helpers for tests/test_*.sh (POSIX sh; dash).
#
# Source it first:   . "$TESTS/lib/common.sh"
# tests/run-integration.sh sets $BUILD (absolute build dir) and $TESTS
# (absolute tests dir); when run by hand they default to ./build and the
# test script's directory.
#
# On sourcing: T_TMP is a fresh private directory, and an EXIT trap (also
# run on INT/TERM) calls t_cleanup, which runs t_atexit commands (last
# first), stops every tracked process (TERM, then KILL after 2 s) and
# removes T_TMP.  Do not set your own EXIT trap; register with t_atexit.
#
#   t_log MSG...            print "# MSG" to stderr
#   t_fail MSG...           print "FAIL: MSG" and exit 1 (cleanup runs)
#   t_wait_for SECS CMD...  run CMD every 20 ms until it succeeds; 1 on
#                           timeout (SECS an integer; CMD's output dropped)
#   t_alive PID             true while PID exists
#   t_bg NAME CMD...        run CMD in the background, stdout+stderr to
#                           $T_TMP/NAME.log, tracked; its pid in T_PID
#   t_track PID             stop PID at exit
#   t_stop PID              stop PID now (TERM, KILL after 2 s), reap it
#   t_atexit CMD            eval CMD at exit, before processes are stopped
#   t_free_port             print a free TCP port on 127.0.0.1
#   t_kv FILE KEY           print the value of a key=value line in FILE
#   t_need CMD...           fail unless each CMD is in PATH

: "${BUILD:=$(pwd)/build}"
: "${TESTS:=$(cd "$(dirname "$0")" && pwd)}"
export BUILD TESTS

T_PIDS=""
T_ATEXIT=""
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kdrelay-test.XXXXXX") ||
    { echo "FAIL: mktemp" >&2; exit 1; }

t_log() {
	echo "# $*" >&2
}

t_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

t_need() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || t_fail "$_c: not installed"
	done
}

t_wait_for() {
	_secs=$1
	shift
	_tries=$((_secs * 50))
	while ! "$@" >/dev/null 2>&1; do
		_tries=$((_tries - 1))
		[ "$_tries" -gt 0 ] || return 1
		sleep 0.02
	done
	return 0
}

t_track() {
	T_PIDS="$1 $T_PIDS"
}

t_alive() {
	kill -0 "$1" 2>/dev/null
}

t_stop() {
	_p=$1
	if kill "$_p" 2>/dev/null; then
		t_wait_for 2 eval "! kill -0 $_p" || kill -9 "$_p" 2>/dev/null
	fi
	wait "$_p" 2>/dev/null || :
	return 0
}

t_bg() {
	_name=$1
	shift
	"$@" >"$T_TMP/$_name.log" 2>&1 &
	T_PID=$!
	t_track "$T_PID"
}

t_atexit() {
	T_ATEXIT="$1
$T_ATEXIT"
}

t_cleanup() {
	_rc=$?
	trap - EXIT INT TERM
	set +e
	_cmds=$T_ATEXIT
	T_ATEXIT=""
	eval "$_cmds"
	for _p in $T_PIDS; do
		kill "$_p" 2>/dev/null
	done
	for _p in $T_PIDS; do
		t_wait_for 2 eval "! kill -0 $_p" || kill -9 "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	T_PIDS=""
	[ -n "$T_TMP" ] && rm -rf "$T_TMP"
	exit "$_rc"
}

t_free_port() {
	while :; do
		_port=$(( $(od -An -N2 -tu2 /dev/urandom) % 30000 + 20000 ))
		ss -Htln "sport = :$_port" 2>/dev/null | grep -q . ||
		    { echo "$_port"; return 0; }
	done
}

t_kv() {
	sed -n "s/^$2=//p" "$1" | head -n 1
}

trap t_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
