#!/bin/sh
# A checkout in a directory only root can enter (a clone under /root, mode
# 0700): the tests that drop privileges (runuser) still pass, because they
# run a copy the other user can reach (common.sh: user_copy).  Here
# test_config_cli runs with its build directory inside a mode-0700
# directory.
. "$TESTS/lib/common.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (runuser) to drop privileges"
need runuser
mkdir -m 0700 "$T/priv"
mkdir "$T/priv/build"
cp "$BUILD/kdrelayd" "$T/priv/build/"
runuser -u nobody -- test -x "$T/priv/build/kdrelayd" &&
    fail "nobody can reach $T/priv/build/kdrelayd: nothing tested"
BUILD=$T/priv/build sh "$TESTS/test_config_cli.sh" >"$T/cli.log" 2>&1 || {
	cat "$T/cli.log" >&2
	fail "test_config_cli in a mode-0700 directory"
}
note "ok: test_config_cli passes with its build under a mode-0700 directory"
