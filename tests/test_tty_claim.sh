#!/bin/sh
# One reader per serial line (issue 10, defect 2): while kdrelayd holds a
# tty no second kdrelayd, cat/socat/screen, or UUCP-lock user gets it
# silently; each refusal names the holder; kdrelayd's own lock and
# TIOCEXCL are there while it holds the tty and gone after.
. "$TESTS/lib/common.sh"
need runuser
export KDRELAY_LOCK_DIR="$T/lock"
mkdir "$KDRELAY_LOCK_DIR"
vm host
vm target
vm other
pts=$(readlink "$T/host.vm")
lck="$KDRELAY_LOCK_DIR/LCK..$(echo "${pts#/dev/}" | tr / _)"

# The same tty under two names on one command line.
relay "$T/host.vm" "$pts"
wait_log "$T/relay.log" "connected" || fail "neither side opened"
wait_log "$T/relay.log" "in use by another pair of this kdrelayd\|in use by pid" ||
    fail "the same tty opened twice: $(cat "$T/relay.log")"
stop $RELAY
: >"$T/relay.log"

relay "$T/host.vm" "$T/target.vm"
A=$RELAY
wait_log "$T/relay.log" "kd/host: .*connected" || fail "host not opened"
[ "$(tr -d ' \n' <"$lck")" = "$A" ] || fail "lock $lck: '$(cat "$lck" 2>/dev/null)', not $A"
note "kdrelayd $A holds $pts and $lck"

# A non-root opener gets EBUSY (TIOCEXCL).
chmod 0666 "$pts"
runuser -u nobody -- sh -c "exec 3<>$pts" 2>"$T/excl" &&
    fail "an unprivileged open of $pts succeeded"
grep -q "busy" "$T/excl" || fail "not EBUSY: $(cat "$T/excl")"

# A second kdrelayd on the same tty is refused, naming the first.
bg "$BUILD/kdrelayd" -v "$T/host.vm" "$T/other.vm" 2>"$T/b.log"
B=$LAST
wait_log "$T/b.log" "kd/host: .*in use by pid $A (kdrelayd); retrying" ||
    fail "second reader: $(cat "$T/b.log")"
stop $B
note "ok: a second kdrelayd refused: $(grep 'in use' "$T/b.log")"
stop $A
[ ! -e "$lck" ] || fail "$lck left behind"
runuser -u nobody -- sh -c "exec 3<>$pts" || fail "TIOCEXCL left set on $pts"

# Another program reading the tty first: refused by pid, taken once it goes.
: >"$T/relay.log"
bg cat "$T/host.vm"
CAT=$LAST
wait_until 10 sh -c "ls -l /proc/$CAT/fd | grep -q '$pts'" || fail "cat did not open $pts"
relay "$T/host.vm" "$T/target.vm"
wait_log "$T/relay.log" "kd/host: .*in use by pid $CAT (cat); retrying" ||
    fail "cat not named: $(cat "$T/relay.log")"
stop $CAT
wait_log "$T/relay.log" "kd/host: .*connected" || fail "not taken after cat left"
stop $RELAY
note "ok: cat named as the holder, the tty taken when it left"

# A UUCP lock of a live process (minicom's, say) is respected; a stale
# one (its pid gone) is replaced.
: >"$T/relay.log"
bg sleep 600
SLEEP=$LAST
printf '%10d\n' $SLEEP >"$lck"
relay "$T/host.vm" "$T/target.vm"
wait_log "$T/relay.log" "kd/host: .*locked by pid $SLEEP (sleep); retrying" ||
    fail "a held lock not respected: $(cat "$T/relay.log")"
stop $SLEEP
wait_log "$T/relay.log" "kd/host: .*connected" || fail "the stale lock not replaced"
[ "$(tr -d ' \n' <"$lck")" = "$RELAY" ] || fail "lock not ours: $(cat "$lck")"
stop $RELAY
[ ! -e "$lck" ] || fail "$lck left behind"
note "ok: a live UUCP lock respected, a stale one replaced, ours removed"
