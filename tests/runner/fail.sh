#!/bin/sh
# A test that fails.
. "$TESTS/lib/common.sh"
fail "on purpose"
