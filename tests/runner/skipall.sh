#!/bin/sh
# A test that cannot run here at all.
. "$TESTS/lib/common.sh"
skip_all "the machine lacks what it needs"
