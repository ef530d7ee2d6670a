#!/bin/sh
# make demo's script (tests/demo.sh), as a newcomer runs it:
#  - without ../shared it passes on the generated session and says that
#    the real session's part is skipped, and why;
#  - with the real session it plays it too, and explains the RESENDs the
#    relay counts (part of the recording, not recovery);
#  - every "RESEND sent" a player prints comes with what it means;
#  - the README says a tty endpoint is any absolute path.
. "$TESTS/lib/common.sh"
need socat
check_out() {
	if grep -q 'RESEND sent' "$1"; then
		grep -q 'asked for it again' "$1" ||
		    fail "$2: a RESEND line without an explanation: $(cat "$1")"
	fi
	grep -q '^RESULT: every packet arrived intact' "$1" ||
	    fail "$2: no RESULT line: $(cat "$1")"
}

KDRELAY_SHARED=$T/none sh "$TESTS/demo.sh" "$BUILD" >"$T/none.out" 2>&1 ||
    fail "demo without ../shared: $(cat "$T/none.out")"
grep -q "^2. The real WinDbg session: skipped, $T/none/fixtures/windbg-session.kdtrace\$" \
    "$T/none.out" && grep -q 'is absent' "$T/none.out" ||
    fail "demo without ../shared: part 2 not said skipped: $(cat "$T/none.out")"
check_out "$T/none.out" "demo without ../shared"
note "ok: demo without ../shared: passes, says part 2 is skipped and why"

if have_fixture "the demo's part 2"; then
	sh "$TESTS/demo.sh" "$BUILD" >"$T/real.out" 2>&1 ||
	    fail "demo: $(cat "$T/real.out")"
	grep -q '^2. The real WinDbg session from' "$T/real.out" ||
	    fail "demo: part 2 did not run: $(cat "$T/real.out")"
	grep -q 'part of the$' "$T/real.out" ||
	    fail "demo: the recorded RESENDs are not explained: $(cat "$T/real.out")"
	check_out "$T/real.out" "demo"
	note "ok: demo with the real session: played, its RESENDs explained"
fi

# The README's endpoint table: any absolute path is a tty (the tests all
# use socat links under /tmp), not only /dev/PATH.
top=$(cd "$TESTS/.." && pwd)
grep -q '`/dev/PATH`' "$top/README.md" && fail "README: /dev/PATH"
grep -q '^| `/PATH` (any absolute path), `pty:PATH` | a tty' "$top/README.md" ||
    fail "README: the tty row of the endpoint table"
note "ok: README: a tty is any absolute path"
