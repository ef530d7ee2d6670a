#!/bin/sh
# Passes, but leaves two processes behind: one in a session of its own
# (setsid: a process group kill misses it; it keeps the KDTEST_ID mark),
# one without the mark (still in the test's session).  Their pids go to
# $LEAKS for tests/test_runner.sh to check they were ended.
setsid sleep 300 </dev/null >/dev/null 2>&1 &
echo $! >>"$LEAKS"
env -u KDTEST_ID sh -c 'trap "" TERM; sleep 300' </dev/null >/dev/null 2>&1 &
echo $! >>"$LEAKS"
exit 0
