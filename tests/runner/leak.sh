#!/bin/sh
# Passes, but leaves two processes behind: one in a session of its own
# (setsid: a process group kill misses it; it keeps the KDTEST_ID mark),
# one without the mark (still in the test's session).  Their pids go to
# $LEAKS for tests/test_runner.sh to check they were ended, once each
# runs its own program (not still a fork of this script: the runner
# names them by their command lines).
execd() {
	until tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "^$2"; do
		sleep 0.01
	done
}
setsid sleep 300 </dev/null >/dev/null 2>&1 &
echo $! >>"$LEAKS"
execd $! "sleep 300"
env -u KDTEST_ID sh -c 'trap "" TERM; sleep 300' </dev/null >/dev/null 2>&1 &
echo $! >>"$LEAKS"
execd $! "sh -c"
exit 0
