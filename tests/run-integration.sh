#!/bin/sh
# Run each tests/test_*.sh with the build directory; report and fail once.
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0 failed=""
for t in "$here"/test_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	start=$(date +%s)
	if BUILD="$build" TESTS="$here" sh "$t" >"$build/$name.log" 2>&1; then
		pass=$((pass + 1)); echo "PASS $name ($(( $(date +%s) - start ))s)"
	else
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s); log follows"
		tail -n 40 "$build/$name.log" | sed 's/^/    /'
	fi
done
echo "integration: $pass passed, $fail failed${failed:+ (}${failed# }${failed:+)}"
[ "$fail" = 0 ]
