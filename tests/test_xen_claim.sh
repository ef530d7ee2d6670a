#!/bin/sh
# test_xen_claim.sh - xen: claims a domain's pty as an explicit pty is
# claimed (tests/test_tty_claim.sh): against a real oxenstored, another
# reader of the pty is refused by pid and name, and the pty taken once it
# goes; a live UUCP lock (minicom's) is respected; while kdrelayd holds the
# pty it holds LCK..pts_N and TIOCEXCL (an unprivileged open gets EBUSY);
# both are gone once the domain is.  Each refusal is logged once.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/xenstore.sh"
. "$TESTS/lib/xenvm.sh"
xs_enter_namespace "$@"
need socat runuser
xs_start
export KDRELAY_LOCK_DIR="$T/lock"
mkdir "$KDRELAY_LOCK_DIR"
KDRELAY_XEN_LOCK_DIR=$T/xenlock
export KDRELAY_XEN_LOCK_DIR
mkdir "$KDRELAY_XEN_LOCK_DIR"

xvm a
PTS=$XVM_TTY
LCK="$KDRELAY_LOCK_DIR/LCK..$(echo "${PTS#/dev/}" | tr / _)"
WHAT="domain win7 (domid 5) serial 0"

# 1. Another reader first: refused by pid and name, the pty taken once it
# goes.
bg cat "$PTS"
CAT=$LAST
wait_until 10 sh -c "ls -l /proc/$CAT/fd | grep -q '$PTS'" ||
    fail "cat did not open $PTS"
xs_domain_create win7 5 "$PTS"
relay_start r1 "unix-listen:$T/host.sock" xen:win7
log_wait r1 "$WHAT: not opening $PTS: in use by pid $CAT (cat); retrying" ||
    fail "cat not named: $(cat "$T/r1.log")"
sleep 1			# several retries meanwhile
[ "$(log_count r1 "xen:win7: connected$")" = 0 ] ||
    fail "opened $PTS while cat read it"
stop "$CAT"
log_wait r1 "xen:win7: connected$" 1 8 || fail "not taken after cat left"
[ "$(log_count r1 "in use by pid $CAT")" = 1 ] ||
    fail "the refusal was logged more than once"
note "ok: cat named as the holder, the pty taken when it left"

# 2. Held: our UUCP lock and TIOCEXCL.
[ "$(tr -d ' \n' <"$LCK" 2>/dev/null)" = "$RELAY_PID" ] ||
    fail "lock $LCK: '$(cat "$LCK" 2>/dev/null)', not $RELAY_PID"
chmod 0666 "$PTS"
runuser -u nobody -- sh -c "exec 3<>$PTS" 2>"$T/excl" &&
    fail "an unprivileged open of $PTS succeeded"
grep -q "busy" "$T/excl" || fail "not EBUSY: $(cat "$T/excl")"
exchange "unix:$T/host.sock" "$T/a.guest" 65536 || fail "traffic with win7"
note "ok: kdrelayd $RELAY_PID holds $LCK and TIOCEXCL on $PTS"

# 3. The domain goes: the lock and TIOCEXCL with it.
xs_domain_destroy 5
log_wait r1 "xen:win7: closed (the domain is gone)" ||
    fail "the relay did not let go of the dead domain"
wait_until 5 test ! -e "$LCK" || fail "$LCK left behind"
runuser -u nobody -- sh -c "exec 3<>$PTS" || fail "TIOCEXCL left set on $PTS"
stop "$RELAY_PID"
note "ok: lock and TIOCEXCL released with the domain"

# 4. A live UUCP lock is respected; the pty is taken once its holder goes.
xvm b
PTS=$XVM_TTY
LCK="$KDRELAY_LOCK_DIR/LCK..$(echo "${PTS#/dev/}" | tr / _)"
bg sleep 600
SLEEP=$LAST
printf '%10d\n' "$SLEEP" >"$LCK"
xs_domain_create win8 6 "$PTS"
relay_start r2 "unix-listen:$T/host2.sock" xen:win8
log_wait r2 "domain win8 (domid 6) serial 0: not opening $PTS: locked by pid $SLEEP (sleep); retrying" ||
    fail "a held lock not respected: $(cat "$T/r2.log")"
stop "$SLEEP"
log_wait r2 "xen:win8: connected$" 1 8 || fail "the stale lock not replaced"
[ "$(tr -d ' \n' <"$LCK")" = "$RELAY_PID" ] || fail "lock not ours: $(cat "$LCK")"
[ ! -e "$KDRELAY_XEN_LOCK_DIR/xenconsole.5" ] ||
    fail "the xenconsole lock of domain 5 was left behind"
stop "$RELAY_PID"
[ ! -e "$LCK" ] || fail "$LCK left behind"
note "ok: a live UUCP lock respected, a stale one replaced, ours removed"
exit 0
