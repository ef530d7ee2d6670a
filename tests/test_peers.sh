#!/bin/sh
# test_peers.sh - smoke test of the real peers harness (tests/lib/peers.sh,
# tests/lib/xenstore.sh): kept so that a broken peer shows up here, not as
# a mysterious failure in a relay test.
#   a) xen-kdd + kddrive over TCP: RESET, GetVersion and ReadVirtualMemory
#      all answered correctly; a read kdd cannot satisfy is reported as bad
#      (the driver's checks can fail);
#   b) kdd behind a pty (kdd_start_tty), clean and CRLF-corrupted: the
#      corruption breaks the session, undoing it (kddrive -C) restores it;
#   c) oxenstored in a private mount namespace: write/read, a faked domain
#      with a tty and its ownership, @introduceDomain/@releaseDomain and a
#      tree watch firing, a Qubes-style stubdomain, a restart that drops
#      the clients and restores the domains.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/xenstore.sh"
xs_enter_namespace "$@"
need socat ss xenstore-watch xenstore-ls xenstore-list
peers_setup

# a) kdd straight into kddrive.
port=$(free_port)
out=$T/kddrive.log
bg "$KDDRIVE" -i -t 5 -r "$T/ready" "tcp-listen:$port" >"$out" 2>&1
drv=$LAST
wait_until 5 test -e "$T/ready" || fail "kddrive did not listen"
kdd_start "$port" 5
wait "$drv" || { cat "$out"; fail "kddrive over TCP failed"; }
for want in result=pass reads.ok=4 getversion.ok=1 statechange.inst_ok=2 \
    dbgprint.crlf=2 recv.RESET=1 recv.bad_checksum=0 recv.garbage=0 \
    recv.bad_id=0 recv.unexpected=0 sent.RESET=1; do
	grep -qx "$want" "$out" || { cat "$out"; fail "kdd/TCP: no $want"; }
done
kdd_stop

# A read in the unmapped hole must fail, and kddrive must say so.
port=$(free_port)
out=$T/kddrive-hole.log
bg "$KDDRIVE" -n 1 -a 0x81000000 -l 16 -t 5 -r "$T/ready2" \
    "tcp-listen:$port" >"$out" 2>&1
drv=$LAST
wait_until 5 test -e "$T/ready2" || fail "kddrive did not listen"
kdd_start "$port"
if wait "$drv"; then
	fail "kddrive passed a failed ReadVirtualMemory"
fi
grep -qx result=fail "$out" && grep -qx reads.bad=1 "$out" &&
    grep -qx getversion.ok=1 "$out" ||
    { cat "$out"; fail "kddrive did not report the failed read"; }
kdd_stop

# b) kdd behind a pty, clean and with the Xen CRLF corruption: kddrive
# passes on the clean one, fails on the corrupted one, and passes on it
# again once it undoes the corruption itself (-C).
kdd_start_tty "$T/clean" raw
"$KDDRIVE" -n 8 -l 2000 -t 5 "$T/clean" >"$T/pty-clean.log" 2>&1 ||
    { cat "$T/pty-clean.log"; fail "kddrive through a pty failed"; }
grep -qx reads.ok=8 "$T/pty-clean.log" ||
    fail "kddrive through a pty: reads missing"
kdd_start_tty "$T/crlf" crlf
"$KDDRIVE" -n 2 -t 2 "$T/crlf" >"$T/pty-crlf.log" 2>&1 &&
    fail "kddrive passed a CRLF-corrupted stream"
grep -qx recv.bad_checksum=0 "$T/pty-crlf.log" &&
    fail "the CRLF corruption broke no checksum"
kdd_start_tty "$T/crlf2" crlf
"$KDDRIVE" -C -n 8 -l 2000 -t 5 "$T/crlf2" >"$T/pty-crlf2.log" 2>&1 ||
    { cat "$T/pty-crlf2.log"; fail "kddrive -C could not undo CRLF"; }
n=$(kv "$T/pty-crlf2.log" recv.crlf_removed)
[ "${n:-0}" -gt 8 ] || fail "kddrive -C removed only '$n' 0x0d bytes"

# c) oxenstored.
xs_start
xenstore-write /test/key "hello world" || fail "xenstore-write failed"
[ "$(xenstore-read /test/key)" = "hello world" ] ||
    fail "xenstore-read did not return what was written"

watchers=
for w in w-intro:@introduceDomain w-release:@releaseDomain \
    w-tree:/local/domain; do
	bg xenstore-watch "${w#*:}" >"$T/${w%%:*}.log" 2>&1
	watchers="$watchers $LAST"
done
# Each watch fires once when set: wait for that, so none is missed.
for w in w-intro w-release w-tree; do
	wait_until 5 test -s "$T/$w.log" || fail "$w: no initial event"
done
_events() {
	[ "$(grep -c "^$2\$" "$T/$1.log")" -ge "$3" ]
}

xs_domain_create win7 5 /dev/pts/9
[ "$(xenstore-read /local/domain/5/name)" = win7 ] || fail "name not set"
[ "$(xenstore-read /local/domain/5/serial/0/tty)" = /dev/pts/9 ] ||
    fail "tty not set"
perm=$(xenstore-ls -p /local/domain/5 | sed -n 's/^ *tty = .*(\(.*\))$/\1/p')
[ "$perm" = n5 ] || fail "serial/0/tty owned by '$perm', not domain 5"
"$XSCTL" is-introduced 5 || fail "domain 5 not introduced"
wait_until 5 _events w-intro @introduceDomain 2 ||
    fail "@introduceDomain did not fire"
wait_until 5 _events w-tree /local/domain/5/serial/0/tty 1 ||
    fail "the tree watch missed serial/0/tty"

xs_stubdom_create qwin 7 8 /dev/pts/11
[ "$(xenstore-read /local/domain/8/name)" = qwin-dm ] &&
    [ "$(xenstore-read /local/domain/7/image/device-model-domid)" = 8 ] &&
    [ "$(xenstore-read /local/domain/8/device/console/3/tty)" = /dev/pts/11 ] ||
    fail "stubdomain layout wrong"
wait_until 5 _events w-intro @introduceDomain 4 ||
    fail "@introduceDomain did not fire for the stubdomain"

xs_domain_destroy 5
xenstore-exists /local/domain/5 && fail "domain 5 still in xenstore"
"$XSCTL" is-introduced 5 && fail "domain 5 still introduced"
wait_until 5 _events w-release @releaseDomain 2 ||
    fail "@releaseDomain did not fire"

# A restart drops every client and all state, then the library puts the
# remaining domains back.  (xenstore-watch spins at 100% CPU once its
# xenstored is gone: stop the watchers first.)
for p in $watchers; do
	stop "$p"
done
xs_domain_create w10 9 /dev/pts/4
bg socat -u UNIX-CONNECT:/var/run/xenstored/socket STDOUT >/dev/null 2>&1
client=$LAST
xs_restart
wait_until 5 eval "! alive $client" || fail "a client survived a restart"
xenstore-exists /test/key && fail "a node survived the restart"
[ "$(xenstore-read /local/domain/9/serial/0/tty)" = /dev/pts/4 ] &&
    [ "$(xenstore-read /local/domain/8/device/console/3/tty)" = /dev/pts/11 ] &&
    ! xenstore-exists /local/domain/5 ||
    fail "domains not restored after a restart"
xs_stubdom_destroy 7 8
xs_domain_destroy 9
[ -z "$(xenstore-list /local/domain)" ] || fail "domains left over"
xs_stop
note "peers: kdd, kddrive, socat pty and oxenstored all behave"
