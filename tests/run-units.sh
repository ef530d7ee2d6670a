#!/bin/sh
# Run each Check unit-test binary; fail if any fails.
fail=0
for t in "$@"; do
	echo "== unit $(basename "$t")"
	"$t" || { echo "FAIL: $t"; fail=1; }
done
exit $fail
