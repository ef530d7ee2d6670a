#!/bin/sh
# test_xen_restart.sh - oxenstored dies and comes back (a fresh, empty
# store that the toolstack fills again) under a running relay: bulk
# traffic in both directions goes on intact through it, the relay logs the
# loss once and the reconnection once, and it still follows its domain
# afterwards (destroyed, made again with a new domid and pty).  Then the
# store comes back without the domain: the pty held open still works until
# it closes, and the relay lets it go then.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/xenstore.sh"
. "$TESTS/lib/xenvm.sh"
xs_enter_namespace "$@"
t_need socat
xs_start

xvm a
xs_domain_create win7 5 "$XVM_TTY"
relay_start r "unix-listen:$T_TMP/host.sock" xen:win7
log_wait r "xen:win7: connected" || t_fail "win7 not opened"

# Bulk traffic both ways while xenstored is killed and started again.
n=$((4 * 1024 * 1024))
head -c "$n" /dev/urandom >"$T_TMP/h2g"
head -c "$n" /dev/urandom >"$T_TMP/g2h"
"$BUILD/helpers/xfer" -t 20 "unix:$T_TMP/host.sock" "$T_TMP/h2g" \
    "$T_TMP/g2h.in" "$n" >"$T_TMP/xfer-h.log" 2>&1 &
xh=$!
"$BUILD/helpers/xfer" -w -t 20 "$T_TMP/a.guest" "$T_TMP/g2h" \
    "$T_TMP/h2g.in" "$n" >"$T_TMP/xfer-g.log" 2>&1 &
xg=$!
t_wait_for 5 test -s "$T_TMP/h2g.in" || t_fail "no traffic before the restart"
xs_restart
log_wait r "lost the connection to xenstored (xenstored closed the connection); reconnecting" ||
    t_fail "the loss of xenstored was not noticed"
log_wait r "connected to xenstored again" || t_fail "no reconnection"
wait "$xh" || { cat "$T_TMP/xfer-h.log"; t_fail "host side transfer"; }
wait "$xg" || { cat "$T_TMP/xfer-g.log"; t_fail "guest side transfer"; }
cmp -s "$T_TMP/h2g" "$T_TMP/h2g.in" || t_fail "host->guest data differs"
cmp -s "$T_TMP/g2h" "$T_TMP/g2h.in" || t_fail "guest->host data differs"
[ "$(log_count r "xen:win7: connected$")" = 1 ] ||
    t_fail "the pty was reopened across the restart"
[ "$(log_count r "xen:win7: closed")" = 0 ] ||
    t_fail "the pty was closed across the restart"
t_log "4 MiB each way intact through an oxenstored restart"

# Still following: the domain restarts with a new domid and pty.
xs_domain_destroy 5
log_wait r "xen:win7: closed (the domain is gone)" ||
    t_fail "after the restart: domain death not seen"
xvm_kill a
xvm b
xs_domain_create win7 6 "$XVM_TTY"
log_wait r "domain win7 (domid 6) serial 0: opening $XVM_TTY" ||
    t_fail "after the restart: the new domain was not followed"
log_wait r "xen:win7: connected$" 2 || t_fail "after the restart: not opened"
exchange "unix:$T_TMP/host.sock" "$T_TMP/b.guest" 65536 ||
    t_fail "traffic with the new domain"
t_log "after the restart: followed win7 to domid 6"

# A store that comes back empty: what is open stays open while it works.
xs_restart --empty
log_wait r "connected to xenstored again" 2 || t_fail "no second reconnection"
log_wait r "domain win7 is not in xenstore; keeping $XVM_TTY open while it works" ||
    t_fail "an empty store: no word about the open pty"
exchange "unix:$T_TMP/host.sock" "$T_TMP/b.guest" 65536 ||
    t_fail "traffic after an empty restart"
xvm_kill b		# its console daemon goes: EIO on the pty
log_wait r "xen:win7: lost" || t_fail "the pty's end was not seen"
log_wait r "domain win7 is not running; waiting for it" 2 ||
    t_fail "not waiting for win7 after its pty ended"
[ "$(log_count r "lost the connection to xenstored")" = 2 ] ||
    t_fail "each loss of xenstored must be logged once"
t_alive "$RELAY_PID" || t_fail "relay died"
t_log "an empty store: the open pty kept until it ended, then let go"
exit 0
