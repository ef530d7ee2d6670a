#!/bin/sh
# kdrelayd links no libxenstore: it opens it when an xen: endpoint or Xen
# discovery needs it (src/util/dynlib.c).  Here, in a private mount
# namespace, the real libxenstore.so.4 is made unloadable: a plain relay
# works as before, and xen: endpoints and Xen discovery are refused with a
# message naming the Debian package to install (exit 69).
if [ -z "${KD_NOLIB_NS:-}" ]; then
	[ "$(id -u)" = 0 ] && command -v unshare >/dev/null ||
	    { echo "SKIP: needs root and unshare (a private mount namespace)"; exit 0; }
	KD_NOLIB_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "$TESTS/lib/common.sh"
need objdump socat

objdump -p "$BUILD/kdrelayd" >"$T/objdump" || fail "objdump kdrelayd"
grep -q NEEDED "$T/objdump" || fail "objdump shows no NEEDED entries"
! grep NEEDED "$T/objdump" | grep -e xenstore -e virt &&
    note "kdrelayd links no libxenstore" || fail "kdrelayd links a platform library"

lib=$(ldconfig -p | sed -n 's/^[[:space:]]*libxenstore\.so\.4 (.*) => //p' | head -n 1)
[ -n "$lib" ] || { echo "SKIP: libxenstore4 is not installed"; exit 0; }
mount --bind /dev/null "$(readlink -f "$lib")" || fail "cannot hide $lib"
note "$lib hidden in this mount namespace"

# A relay between two ptys needs no Xen.
vm a
vm b
relay "$T/a.vm" "$T/b.vm"
wait_log "$T/relay.log" "host: .*connected" || fail "host side not connected"
wait_log "$T/relay.log" "target: .*connected" || fail "target side not connected"
random "$T/a.out" 65536
random "$T/b.out" 65536
"$BUILD/helpers/xfer" -t 30 "$T/a.guest" "$T/a.out" "$T/a.in" 65536 & A=$!
"$BUILD/helpers/xfer" -t 30 "$T/b.guest" "$T/b.out" "$T/b.in" 65536 & B=$!
wait $A || fail "host side transfer"
wait $B || fail "target side transfer"
same "$T/a.out" "$T/b.in"
same "$T/b.out" "$T/a.in"
stop "$RELAY"
note "a pty relay works without libxenstore"

# xen: on the command line: refused at start, naming the package.
"$BUILD/kdrelayd" xen:win10 "$T/a.vm" 2>"$T/xen.err"; rc=$?
cat "$T/xen.err"
[ $rc = 69 ] || fail "xen: endpoint without libxenstore: exit $rc, not 69"
grep -q "host: xen:win10: needs libxenstore4 (apt install libxenstore4): " \
    "$T/xen.err" || fail "the error does not name libxenstore4"

# Xen discovery on a host that looks like Xen (XENSTORED_PATH) and not
# like Proxmox: refused likewise.
XENSTORED_PATH=$T/xs.sock "$BUILD/kdrelayd" --auto --match 'win*' \
    2>"$T/auto.err"; rc=$?
cat "$T/auto.err"
[ $rc = 69 ] || fail "--auto without libxenstore: exit $rc, not 69"
grep -q "xenstore: needs libxenstore4 (apt install libxenstore4): " \
    "$T/auto.err" || fail "the --auto error does not name libxenstore4"
note "ok"
