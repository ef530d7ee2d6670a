#!/bin/sh
# test_xen_name.sh - xen:NAME against a real oxenstored (no hypervisor, a
# private mount namespace): the relay finds a domain by name and relays to
# its serial pty both ways; the domain is destroyed and made again with a
# new domid and a new pty while the host side keeps sending, and the relay
# follows it within a second of the tty node being written; a Qubes-style
# stubdomain (NAME-dm, console 3) works with the CRLF repair guessed on
# (the guest's side corrupts every LF, the host gets the original bytes);
# the console option takes the PV console.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/xenstore.sh"
. "$TESTS/lib/xenvm.sh"
xs_enter_namespace "$@"
need socat
xs_start
# The lock directory, moved (the default is exercised by the other tests).
KDRELAY_XEN_LOCK_DIR=$T/locks
export KDRELAY_XEN_LOCK_DIR
mkdir -p "$KDRELAY_XEN_LOCK_DIR"

# 1. By name, traffic both ways.
xvm a
xs_domain_create win7 5 "$XVM_TTY"
relay_start r1 -v "unix-listen:$T/host.sock" xen:win7	# -v -v: debug
log_wait r1 "xen:win7: connected$" || fail "win7 not opened"
log_wait r1 "domain win7 (domid 5) serial 0: opening $XVM_TTY" ||
    fail "win7: not the right pty"
[ -e "$KDRELAY_XEN_LOCK_DIR/xenconsole.5" ] ||
    fail "no xenconsole lock in \$KDRELAY_XEN_LOCK_DIR"
exchange "unix:$T/host.sock" "$T/a.guest" 262144 ||
    fail "traffic with win7 (domid 5)"
note "win7: 256 KiB each way"

# A busy store costs nothing: 400 writes below the domain that are not
# about names or ttys are not even looked at (no read, no rescan); then a
# name write, which is.
scans=$(log_count r1 "read the names of all")
set --
i=0
while [ $i -lt 100 ]; do
	set -- "$@" /local/domain/5/data/meminfo "$i" \
	    /local/domain/5/memory/target "$i" /local/domain/6/name "x$i" \
	    /local/domain/5/serial/0/tty-rx "$i"
	i=$((i + 1))
done
xenstore-write "$@" || fail "xenstore-write (busy store)"
xenstore-rm /local/domain/6 || fail "xenstore-rm"
xenstore-write /local/domain/5/name win7 || fail "xenstore-write name"
log_wait r1 "xenstore: /local/domain/5/name changed" ||
    fail "a name write was not looked at"
[ "$(log_count r1 "/data/meminfo changed")" = 0 ] &&
    [ "$(log_count r1 "/memory/target changed")" = 0 ] &&
    [ "$(log_count r1 "/tty-rx changed")" = 0 ] ||
    fail "writes that do not matter were looked at"
[ "$(log_count r1 "/local/domain/6/name changed")" = 100 ] ||
    fail "name writes of another domain: not one look each"
[ "$(log_count r1 "read the names of all")" = "$scans" ] ||
    fail "a busy store caused rescans"
note "300 irrelevant writes ignored, 100 name writes read one by one"

# 2. Destroyed and made again while the host keeps sending.
# The loop ends when socat is gone (a write fails), even with SIGPIPE
# ignored: killing socat does not kill its SYSTEM: child.
printf 'while echo ping; do sleep 0.01; done\n' >"$T/ping.sh"
bg socat -u "SYSTEM:sh $T/ping.sh" "UNIX-CONNECT:$T/host.sock" \
    >"$T/pinger.log" 2>&1
pinger=$LAST
bg cat "$T/a.guest" >"$T/rx-a.log" 2>/dev/null
wait_until 5 grep -q ping "$T/rx-a.log" || fail "no pings reach domain 5"
xs_domain_destroy 5
log_wait r1 "xen:win7: closed (the domain is gone)" ||
    fail "the relay did not let go of the dead domain"
xvm_kill a		# its QEMU goes too (after: the order is a race)
xvm b
xs_domain_create win7 9
log_wait r1 "waiting for /local/domain/9/serial/0/tty" ||
    fail "the new domain was not noticed"
bg cat "$T/b.guest" >"$T/rx-b.log"
rxb=$LAST
t0=$(now_ms)
xs_domain_set_tty 9 "$XVM_TTY"
wait_until 5 grep -q ping "$T/rx-b.log" ||
    fail "no pings reach the new domain 9"
t1=$(now_ms)
lat=$((t1 - t0))
note "followed the new domain: tty node written -> first byte in the" \
    "guest in $lat ms"
[ "$lat" -lt 1000 ] || fail "following took $lat ms (>= 1 s)"
log_wait r1 "domain win7 (domid 9) serial 0: opening $XVM_TTY" ||
    fail "win7: not the new pty"
[ ! -e "$KDRELAY_XEN_LOCK_DIR/xenconsole.5" ] ||
    fail "the lock of dead domain 5 was kept"
# Stop the pings and let the last of them reach the guest's reader, so
# that none is taken for the exchange's first byte.
left=$(log_count r1 "client left")
stop "$pinger"
log_wait r1 "client left" $((left + 1)) || fail "the pinger did not leave"
quiet() {	# FILE: unchanged for 300 ms
	_q0=$(wc -c <"$1")
	sleep 0.3
	[ "$(wc -c <"$1")" = "$_q0" ]
}
wait_until 5 quiet "$T/rx-b.log" || fail "pings still arriving"
stop "$rxb"
exchange "unix:$T/host.sock" "$T/b.guest" 262144 ||
    fail "traffic with win7 (domid 9)"
[ "$(log_count r1 "xen:win7: connected$")" = 2 ] ||
    fail "expected exactly two opens of win7"
grep -q "CRLF repair guessed on" "$T/r1.log" &&
    fail "CRLF guess on for a domain without a stubdomain"
note "win7 followed to domid 9, traffic both ways"

# 2b. Its pty closes while the domain stays: the relay must not open that
# /dev/pts/N again by itself (the number may go to another terminal), only
# once the node is written again.
xvm_kill b
log_wait r1 "xen:win7: lost" || fail "the closed pty was not noticed"
log_wait r1 "waiting for /local/domain/9/serial/0/tty to be written again" ||
    fail "no word about waiting for a new tty"
xvm b2
xs_domain_set_tty 9 "$XVM_TTY"
log_wait r1 "xen:win7: connected$" 3 || fail "not opened once rewritten"
exchange "unix:$T/host.sock" "$T/b2.guest" 65536 ||
    fail "traffic with the rewritten tty"
note "a closed pty is opened again only once its node is rewritten"

# 3. The PV console of the same domain (a second relay: the first one
# holds the domain's xenconsole lock, so stop it first).
stop "$RELAY_PID"
xvm c
xenstore-write /local/domain/9/console/tty "$XVM_TTY" ||
    fail "xenstore-write console/tty"
relay_start r3 "unix-listen:$T/con.sock" xen:win7,console
log_wait r3 "domain win7 (domid 9) PV console: opening $XVM_TTY" ||
    fail "console: not the PV console's pty"
log_wait r3 "xen:win7: connected$" || fail "console: not opened"
exchange "unix:$T/con.sock" "$T/c.guest" 65536 ||
    fail "traffic with the PV console"
stop "$RELAY_PID"

# 4. Qubes: the guest's COM1 is its stubdomain's console 3; a bare name.
xvm q
xs_stubdom_create qube 12 13 "$XVM_TTY"
relay_start r2 "unix-listen:$T/q.sock" qube
log_wait r2 "domain qube (domid 12) via stubdomain qube-dm (domid 13) console 3: opening $XVM_TTY (a stubdomain console: CRLF repair guessed on)" ||
    fail "qube: not the stubdomain's console 3"
log_wait r2 "qube: connected$" || fail "qube not opened"
[ -e "$KDRELAY_XEN_LOCK_DIR/xenconsole.13" ] ||
    fail "qube: the stubdomain's console lock is not held"
# The guest's side adds a CR before every LF, as a stubdomain console
# does; the host must get the bytes the guest meant.
exchange "unix:$T/q.sock" "$T/q.guest" 262144 -o ||
    fail "qube: traffic through the corrupting console"
kill -USR1 "$RELAY_PID"
log_wait r2 "target->host:" || fail "qube: no counters"
grep "target->host:" "$T/r2.log" | grep -q "repair on" ||
    fail "qube: the CRLF repair is not on"
note "qube via qube-dm console 3: CRLF guessed on, bytes intact"
alive "$RELAY_PID" || fail "relay died"
exit 0
