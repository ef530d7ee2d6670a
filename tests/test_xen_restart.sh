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
need socat
xs_start

xvm a
xs_domain_create win7 5 "$XVM_TTY"
relay_start r "unix-listen:$T/host.sock" xen:win7
log_wait r "xen:win7: connected$" || fail "win7 not opened"

# Bulk traffic both ways while xenstored is killed and started again.
n=$((4 * 1024 * 1024))
head -c "$n" /dev/urandom >"$T/h2g"
head -c "$n" /dev/urandom >"$T/g2h"
"$BUILD/helpers/xfer" -t 20 "unix:$T/host.sock" "$T/h2g" \
    "$T/g2h.in" "$n" >"$T/xfer-h.log" 2>&1 &
xh=$!
"$BUILD/helpers/xfer" -w -t 20 "$T/a.guest" "$T/g2h" \
    "$T/h2g.in" "$n" >"$T/xfer-g.log" 2>&1 &
xg=$!
wait_until 5 test -s "$T/h2g.in" || fail "no traffic before the restart"
xs_restart
log_wait r "lost the connection to xenstored (xenstored closed the connection); reconnecting" ||
    fail "the loss of xenstored was not noticed"
log_wait r "connected to xenstored again" || fail "no reconnection"
wait "$xh" || { cat "$T/xfer-h.log"; fail "host side transfer"; }
wait "$xg" || { cat "$T/xfer-g.log"; fail "guest side transfer"; }
cmp -s "$T/h2g" "$T/h2g.in" || fail "host->guest data differs"
cmp -s "$T/g2h" "$T/g2h.in" || fail "guest->host data differs"
[ "$(log_count r "xen:win7: connected$")" = 1 ] ||
    fail "the pty was reopened across the restart"
[ "$(log_count r "xen:win7: closed")" = 0 ] ||
    fail "the pty was closed across the restart"
note "4 MiB each way intact through an oxenstored restart"

# Still following: the domain restarts with a new domid and pty.
xs_domain_destroy 5
log_wait r "xen:win7: closed (the domain is gone)" ||
    fail "after the restart: domain death not seen"
xvm_kill a
xvm b
xs_domain_create win7 6 "$XVM_TTY"
log_wait r "domain win7 (domid 6) serial 0: opening $XVM_TTY" ||
    fail "after the restart: the new domain was not followed"
log_wait r "xen:win7: connected$" 2 || fail "after the restart: not opened"
exchange "unix:$T/host.sock" "$T/b.guest" 65536 ||
    fail "traffic with the new domain"
note "after the restart: followed win7 to domid 6"

# A store that comes back empty: what is open stays open while it works.
xs_restart --empty
log_wait r "connected to xenstored again" 2 || fail "no second reconnection"
log_wait r "domain win7 is not in xenstore; keeping $XVM_TTY open while it works" ||
    fail "an empty store: no word about the open pty"
exchange "unix:$T/host.sock" "$T/b.guest" 65536 ||
    fail "traffic after an empty restart"
xvm_kill b		# its console daemon goes: EIO on the pty
log_wait r "xen:win7: lost" || fail "the pty's end was not seen"
log_wait r "domain win7 is not running; waiting for it" 2 ||
    fail "not waiting for win7 after its pty ended"
[ "$(log_count r "lost the connection to xenstored")" = 2 ] ||
    fail "each loss of xenstored must be logged once"
alive "$RELAY_PID" || fail "relay died"
note "an empty store: the open pty kept until it ended, then let go"
exit 0
