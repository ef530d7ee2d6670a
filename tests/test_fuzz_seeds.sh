#!/bin/sh
# make fuzz's seeds (fuzz/seeds.sh) without ../shared: the KD seeds come
# from the generated session, and it says so; with the real session, from
# that one.
. "$TESTS/lib/common.sh"
gen_session "$T/gen.kdtrace"
KDRELAY_SHARED=$T/none KDRELAY_SESSION=$T/gen.kdtrace \
    sh "$TESTS/../fuzz/seeds.sh" "$T/seeds" >"$T/out" 2>&1 ||
    fail "seeds.sh without ../shared: $(cat "$T/out")"
grep -q "absent (a clone without ../shared): KD seeds from the generated session $T/gen.kdtrace" \
    "$T/out" || fail "seeds.sh does not say where its seeds come from: $(cat "$T/out")"
for t in crlf kdcom stream config epspec; do
	[ -n "$(ls "$T/seeds/$t")" ] || fail "no $t seeds"
done
KDRELAY_SHARED=$T/none KDRELAY_SESSION= sh "$TESTS/../fuzz/seeds.sh" \
    "$T/seeds2" >"$T/out" 2>&1 && fail "seeds.sh with no session at all: exit 0"
note "ok: seeds without ../shared: $(ls "$T/seeds/kdcom" | wc -l) KD seeds from the generated session"
if have_fixture "seeds from the real WinDbg session"; then
	sh "$TESTS/../fuzz/seeds.sh" "$T/seeds3" >"$T/out" 2>&1 ||
	    fail "seeds.sh: $(cat "$T/out")"
	grep -q absent "$T/out" && fail "seeds.sh: the real session unused: $(cat "$T/out")"
	note "ok: seeds from the real session: $(ls "$T/seeds3/kdcom" | wc -l) KD seeds"
fi
