#!/bin/sh
# Every man page lints clean: mandoc -Tlint -W warning, and groff -ww when
# groff is installed (-mandoc reads man(7) and mdoc(7) pages alike).
set -u
: "${TESTS:?TESTS must be set}"
top=$(cd "$TESTS/.." && pwd)
fail=0 n=0
command -v mandoc >/dev/null || { echo "FAIL: mandoc not installed" >&2; exit 1; }
for page in "$top"/man/*.[0-9]; do
	[ -e "$page" ] || continue
	n=$((n + 1))
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL: mandoc -Tlint $page:"; echo "$out"; fail=1
	fi
	if command -v groff >/dev/null; then
		out=$(groff -ww -mandoc -z "$page" 2>&1)
		if [ -n "$out" ]; then
			echo "FAIL: groff -ww $page:"; echo "$out"; fail=1
		fi
	fi
done
[ $n -gt 0 ] || { echo "FAIL: no man pages in $top/man" >&2; exit 1; }
echo "-- $n man pages checked"
exit $fail
