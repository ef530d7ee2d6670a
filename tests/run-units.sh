#!/bin/sh
# Run each Check unit-test binary; report, count skips, fail once at the end.
#
# The conventions of tests/run-integration.sh: a suite prints one line
# "SKIP: WHAT: WHY" for each group of cases it could not register here
# (tests/kdtest.h: kt_have_fixture), the runner shows and counts them, and
# nothing a suite starts may outlive it (the same KDTEST_ID mark and
# session; a survivor is ended and fails the suite).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/procs.sh"
pass=0 fail=0 skip=0 failed=""
out=$(mktemp /tmp/kdrelay-units.XXXXXX) || exit 1
trap 'rm -f "$out" "$out.sid"' EXIT
for t; do
	name=$(basename "$t")
	echo "== unit $name"
	mark=$(procs_mark)
	KDTEST_ID=$mark setsid sh -c 'echo $$ >"$1.sid"; "$2" </dev/null & wait $!' \
	    sh "$out" "$t" >"$out" 2>&1 </dev/null &
	wait $!
	rc=$?
	sid=$(cat "$out.sid" 2>/dev/null)
	grep -v '^SKIP: ' "$out"
	why=""
	[ "$rc" = 0 ] || why="exit $rc"
	procs_end "$mark" "$sid" "$name" || why="processes left behind"
	n=$(grep -c '^SKIP: ' "$out")
	skip=$((skip + n))
	grep '^SKIP: ' "$out" | sed "s/^SKIP: /SKIP $name: /"
	if [ -z "$why" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name: $why"
	fi
done
echo "units: $pass passed, $fail failed, $skip skipped${failed:+ (}${failed# }${failed:+)}"
[ "$fail" = 0 ]
