#!/bin/sh
# A test that passes with two cases skipped, one through have_fixture.
. "$TESTS/lib/common.sh"
FIXTURE=$T/absent.kdtrace
have_fixture "the real session" && fail "have_fixture: $FIXTURE is absent"
skip "case b" "not here"
