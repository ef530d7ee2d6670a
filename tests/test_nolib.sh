#!/bin/sh
# kdrelayd links no platform library: it opens libxenstore when an xen:
# endpoint or Xen discovery needs it, libvirt when a libvirt: endpoint
# does (src/util/dynlib.c).  Here, in a private mount namespace, the real
# libxenstore.so.4 and libvirt.so.0 are made unloadable: a plain relay
# works as before, and those endpoints are refused with a message naming
# the Debian package to install (exit 69).
if [ -z "${KD_NOLIB_NS:-}" ]; then
	[ "$(id -u)" = 0 ] && command -v unshare >/dev/null ||
	    { echo "SKIP: test_nolib: needs root and unshare (a private mount namespace)"; exit 77; }
	KD_NOLIB_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "$TESTS/lib/common.sh"
need objdump socat

objdump -p "$BUILD/kdrelayd" >"$T/objdump" || fail "objdump kdrelayd"
grep -q NEEDED "$T/objdump" || fail "objdump shows no NEEDED entries"
! grep NEEDED "$T/objdump" | grep -e xenstore -e virt &&
    note "kdrelayd links neither libxenstore nor libvirt" || fail "kdrelayd links a platform library"

# hide SONAME: bind /dev/null over the library, if installed.
hide() {
	_lib=$(ldconfig -p | sed -n "s/^[[:space:]]*$1 (.*) => //p" | head -n 1)
	[ -n "$_lib" ] || return 1
	mount --bind /dev/null "$(readlink -f "$_lib")" || fail "cannot hide $_lib"
	note "$_lib hidden in this mount namespace"
}
xen=0 virt=0
hide 'libxenstore\.so\.4' && xen=1 || skip xen: "libxenstore4 is not installed"
hide 'libvirt\.so\.0' && virt=1 || skip libvirt: "libvirt0 is not installed"

# A relay between two ptys needs neither.
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
note "a pty relay works without them"

# On the command line: refused at start, naming the package.
refused() {
	"$BUILD/kdrelayd" --no-control "$1" "$T/a.vm" 2>"$T/err"; rc=$?
	cat "$T/err"
	[ $rc = 69 ] || fail "$1 without its library: exit $rc, not 69"
	grep -q "host: $1: needs $2 (apt install $2): " "$T/err" ||
	    fail "the error for $1 does not name $2"
}
[ $xen = 0 ] || refused xen:win10 libxenstore4
[ $virt = 0 ] || refused libvirt:win10 libvirt0

# Xen discovery on a host that looks like Xen (XENSTORED_PATH) and not
# like Proxmox: refused likewise.
if [ $xen = 1 ]; then
	XENSTORED_PATH=$T/xs.sock "$BUILD/kdrelayd" --no-control --auto \
	    --match 'win*' 2>"$T/auto.err"; rc=$?
	cat "$T/auto.err"
	[ $rc = 69 ] || fail "--auto without libxenstore: exit $rc, not 69"
	grep -q "xenstore: needs libxenstore4 (apt install libxenstore4): " \
	    "$T/auto.err" || fail "the --auto error does not name libxenstore4"
fi
note "ok"
