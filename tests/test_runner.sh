#!/bin/sh
# The test runners themselves, on the scripts in tests/runner/ (and the
# same scripts as unit "binaries"):
#  - pass, fail, skip-all (exit 77 with a SKIP line), skipped cases in a
#    passing test, exit 77 without a reason (a failure), and a test that
#    passes but leaves two processes behind (one that setsid'd away, one
#    that cleared its environment and ignores SIGTERM): the leaker FAILS,
#    both are named and gone afterwards;
#  - a test that never ends: ended after KDTEST_TIMEOUT, failed;
#  - the summary line: `N passed, N failed, N skipped`.
. "$TESTS/lib/common.sh"
r=$TESTS/runner
LEAKS=$T/leaks
export LEAKS
: >"$LEAKS"

gone() {
	for _p in $(cat "$LEAKS"); do
		[ ! -d "/proc/$_p" ] ||
		    [ "$(ps -o stat= -p "$_p" | cut -c1)" = Z ] ||
		    fail "$1: pid $_p ($(tr '\0' ' ' <"/proc/$_p/cmdline")) still runs"
	done
}

mkdir "$T/b"
"$TESTS/run-integration.sh" "$T/b" "$r/pass.sh" "$r/fail.sh" \
    "$r/skipall.sh" "$r/skipcase.sh" "$r/nowhy.sh" "$r/leak.sh" \
    >"$T/int.out" 2>&1
rc=$?
cat "$T/int.out"
[ "$rc" = 1 ] || fail "run-integration: exit $rc, not 1"
[ "$(wc -l <"$LEAKS")" = 2 ] || fail "leak.sh did not start its two"
gone run-integration
for w in "PASS pass " "FAIL fail " "s): exit 77 (skipped) without a SKIP line" \
    "SKIP skipall: skipall: the machine lacks what it needs" \
    "SKIP skipcase: the real session: /" \
    "SKIP skipcase: case b: not here" "PASS skipcase " \
    "s): processes left behind" \
    "leak: left pid $(sed -n 1p "$LEAKS"): sleep 300" \
    "leak: left pid $(sed -n 2p "$LEAKS"): sh -c" \
    "integration: 2 passed, 3 failed, 3 skipped (fail nowhy leak)"; do
	grep -qF -- "$w" "$T/int.out" || fail "run-integration: no \"$w\""
done
grep -q "PASS skipall\|FAIL skipall" "$T/int.out" &&
    fail "run-integration: a skipped test counted as passed or failed"
note "ok: run-integration: passes, fails, skips counted, leaks ended and failed"

# A test that never ends is ended and failed, and the run goes on.
: >"$LEAKS"
KDTEST_TIMEOUT=2 "$TESTS/run-integration.sh" "$T/b" "$r/hang.sh" \
    "$r/pass.sh" >"$T/hang.out" 2>&1
rc=$?
cat "$T/hang.out"
[ "$rc" = 1 ] || fail "run-integration: exit $rc on a hung test, not 1"
gone run-integration
for w in "FAIL hang (" "s): no end after 2s (KDTEST_TIMEOUT), ended" \
    "waiting for nothing" "PASS pass " \
    "integration: 1 passed, 1 failed, 0 skipped (hang)"; do
	grep -qF -- "$w" "$T/hang.out" || fail "run-integration: no \"$w\""
done
note "ok: run-integration: a hung test ended after KDTEST_TIMEOUT and failed"

# The unit runner: the same scripts as suites (BUILD, TESTS set for them).
: >"$LEAKS"
BUILD=$T/b "$TESTS/run-units.sh" "$r/pass.sh" "$r/skipcase.sh" \
    "$r/leak.sh" "$r/fail.sh" >"$T/units.out" 2>&1
rc=$?
cat "$T/units.out"
[ "$rc" = 1 ] || fail "run-units: exit $rc, not 1"
gone run-units
for w in "SKIP skipcase.sh: case b: not here" "FAIL leak.sh: processes left behind" \
    "FAIL fail.sh: exit 1" "units: 2 passed, 2 failed, 2 skipped (leak.sh fail.sh)"; do
	grep -qF -- "$w" "$T/units.out" || fail "run-units: no \"$w\""
done
note "ok: run-units: skips counted, leaks ended and failed"

# The library's wait_log waits for a file not made yet (a background
# command's redirection may not have run when the wait starts).
bg sh -c "sleep 0.3; echo ready >'$T/late'"
wait_log "$T/late" ready 2>"$T/wl.err" || fail "wait_log: $T/late never said ready"
grep -q ready "$T/late" 2>/dev/null || fail "wait_log returned before $T/late was made"
[ ! -s "$T/wl.err" ] || fail "wait_log: $(cat "$T/wl.err")"
note "ok: wait_log waits for its file to be made"
