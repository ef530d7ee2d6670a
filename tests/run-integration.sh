#!/bin/sh
# Run the integration tests one by one, report each, fail once at the end.
#
#   tests/run-integration.sh BUILD [SCRIPT...]    (default: tests/test_*.sh)
#
# Each test runs with BUILD and TESTS set, its output in BUILD/NAME.log.
#
# Skips: a test exits 0 to pass, 77 when it cannot run here at all, any
# other status to fail.  Whatever it cannot do here (the real WinDbg
# session in ../shared absent, a tool missing) it reports with one line
# "SKIP: WHAT: WHY" (tests/lib/common.sh: `skip WHAT WHY` for one case,
# `skip_all WHY` for the whole test, which exits 77).  The runner shows
# every SKIP line and counts them; the summary reads
#     integration: N passed, N failed, N skipped
# where passed and failed count tests and skipped counts SKIP lines (a
# test skipped as a whole is one).  A test that exits 77 without saying
# why fails.  Skip only for what the machine lacks, never to hide a
# failure; where a generated input (kdgen) covers the same ground, use it
# and skip nothing.
#
# Processes: nothing a test starts may outlive it.  Each test runs in its
# own session (setsid) with KDTEST_ID=<unique mark> in its environment.
# When it has exited, every process still carrying the mark or still in
# that session is listed, sent SIGTERM, then SIGKILL after 2 s, and the
# test FAILS (tests/lib/procs.sh).  A test still running after
# KDTEST_TIMEOUT seconds (900; sanitizer builds are slow) is ended and
# fails.
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd) || exit 2
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- "$here"/test_*.sh
. "$here/lib/procs.sh"
tmo=${KDTEST_TIMEOUT:-900}
pass=0 fail=0 skip=0 failed=""
for t; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$build/$name.log
	mark=$(procs_mark)
	start=$(date +%s)
	# The session's leader is a shell that only waits: the test itself
	# is no session leader, so a tty it opens never becomes its
	# controlling terminal.
	# timeout: a test that hangs (a peer that never answers) fails
	# after KDTEST_TIMEOUT seconds rather than holding up the run; its
	# session leader is ended and procs_end below ends the rest.
	KDTEST_ID=$mark BUILD="$build" TESTS="$here" timeout "$tmo" setsid \
	    sh -c 'echo $$ >"$1.sid"; sh "$2" </dev/null & wait $!' sh \
	    "$log" "$t" >"$log" 2>&1 </dev/null &
	wait $!
	rc=$?
	sid=$(cat "$log.sid" 2>/dev/null)
	rm -f "$log.sid"
	secs=$(( $(date +%s) - start ))
	why=""
	left=$(procs_end "$mark" "$sid" "$name") || {
		echo "$left" >>"$log"
		why="processes left behind"
	}
	nskip=$(grep -c '^SKIP: ' "$log")
	if [ "$rc" = 124 ]; then
		why="no end after ${tmo}s (KDTEST_TIMEOUT), ended"
	elif [ -z "$why" ] && [ "$rc" = 77 ] && [ "$nskip" = 0 ]; then
		why="exit 77 (skipped) without a SKIP line saying why"
	elif [ -z "$why" ] && [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		why="exit $rc"
	fi
	skip=$((skip + nskip))
	grep '^SKIP: ' "$log" | sed "s/^SKIP: /SKIP $name: /"
	if [ -n "$why" ]; then
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name (${secs}s): $why; log follows"
		tail -n 40 "$log" | sed 's/^/    /'
	elif [ "$rc" = 0 ]; then
		pass=$((pass + 1)); echo "PASS $name (${secs}s)"
	fi
done
echo "integration: $pass passed, $fail failed, $skip skipped${failed:+ (}${failed# }${failed:+)}"
[ "$fail" = 0 ]
