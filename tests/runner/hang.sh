#!/bin/sh
# Never ends (a peer that never answers): the runner ends it after
# KDTEST_TIMEOUT seconds and fails it.  Its pid goes to $LEAKS.
echo $$ >>"$LEAKS"
echo "waiting for nothing"
exec sleep 300
