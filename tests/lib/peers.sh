# peers.sh - the real third-party peers of kdrelayd's integration tests:
# the Xen project's KD target emulator xen-kdd, and oxenstored (see
# tests/lib/xenstore.sh), both from Debian's xen-utils-4.17, run here
# without a hypervisor.  POSIX sh, set -u clean; source after common.sh:
#
#   . "$TESTS/lib/common.sh"
#   . "$TESTS/lib/peers.sh"
#
#   peers_setup         fetch, unpack and build everything below (once;
#                       cached in $BUILD/peers, safe to call again)
#   kdd_start PORT [DOMID]
#                       run xen-kdd against a TCP listener on
#                       127.0.0.1:PORT (it connects once and exits if
#                       nobody listens: start the listener first); returns
#                       once the TCP connection is up.  Sets KDD_PID; its
#                       output is in $T/kdd.PORT.log.  KDD_FLAGS="-v -v"
#                       makes it log every packet there.  Killed at exit.
#   kdd_start_tty LINK [raw|crlf] [DOMID]
#                       xen-kdd behind a pty, like a Xen guest's serial
#                       port: LINK (a symlink to a pty slave) is what
#                       serial/0/tty would name; open it raw.  With crlf,
#                       everything kdd sends arrives with each 0x0a turned
#                       into 0x0d 0x0a (a Qubes stubdomain's mini-os does
#                       this); what is written to LINK reaches kdd intact.
#                       Built from two socats: one joins two ptys
#                       (LINK.guest and LINK), the other joins kdd's TCP
#                       connection to the slave LINK.guest, whose termios
#                       is raw except, with crlf, OPOST|ONLCR (a default
#                       pty's output processing).  Sets KDD_PID, KDD_TTY.
#   kdd_stop [PID]      stop it (default $KDD_PID)
#   $KDDRIVE            tests/helpers/kddrive, the debugger-side driver
#                       (its header says how to use it)
#   $XSCTL              tests/helpers/xsctl (introduce/release domains)
#
# Variables set by peers_setup: PEERS_DIR ($BUILD/peers), PEERS_XEN_BIN
# (the package's usr/lib/xen-4.17/bin), PEERS_LIB (the stub
# libxenctrl.so.4.17 for kdd), PEERS_OXS_SHIM (LD_PRELOAD for oxenstored),
# KDD, OXENSTORED.
#
# The package: $XEN_UTILS_DEB if set, else a cached
# $BUILD/peers/deb/xen-utils-4.17_*.deb or /tmp/xenpkg/xen-utils-4.17_*.deb,
# else `apt-get download xen-utils-4.17` into $BUILD/peers/deb (running
# `apt-get update` first if the package is unknown).  It is unpacked with
# dpkg -x, never installed.  oxenstored also needs libxenctrl.so.4.17,
# libxenguest.so.4.17 and libxenevtchn.so.1, which libxen-dev (a build
# dependency) pulls in.
#
# kdd behaviour worth knowing (tools/debugger/kdd in xen.git):
#   - on connect it sends a STATE_CHANGE64 (id 0x80800000, 240 bytes);
#   - it answers RESET (only one with id 0) with a RESET of id 0xdeadbeef,
#     then a DbgPrint "[kdd: connected to a xen guest with domain id N]\r\n",
#     then a STATE_CHANGE64; its own ids never restart: they alternate
#     0x80800000/1 from the first packet on, across resets;
#   - it ACKs each data packet with the packet's id at once, and sends its
#     reply right after without waiting for our ACKs; it never resends;
#   - a GetVersion is answered by a DbgPrint "[kdd: unknown OS @0x0]\r\n"
#     and then the 56-byte reply (MajorVersion 0xf, protocol 6, machine
#     0x14c); ReadVirtualMemory by a 56-byte header plus the data;
#   - it ignores the ids of our packets; a bad checksum gets a RESEND
#     (echoing the id), and so does a data packet of any type but 2;
#   - a lone 'b' is a break-in only at a packet boundary (answered by a
#     STATE_CHANGE64); elsewhere it slides one byte at a time to resync;
#   - it caps a read at 65479 bytes, not at KDCOM's 4000: a
#     ReadVirtualMemory of more than 3944 bytes yields an oversize packet
#     (seen: ByteCount 5056); kddrive itself refuses -l above 3944;
#   - bytes 0x0a in what it sends: the DbgPrints' "\r\n", and the data of
#     reads (every 256-byte run of tests/peers/kddmem.h's pattern has one);
#     a 210-byte read has ByteCount 0x010a.  The STATE_CHANGE64 has kdd's
#     filler bytes (0x0c 0x0d 0x0e 0x0f ...) but no 0x0a;
#   - when the peer closes, it does not exit but spins at 100% CPU: stop it.

PEERS_DIR=$BUILD/peers
PEERS_XEN=$PEERS_DIR/xen-utils
PEERS_XEN_BIN=$PEERS_XEN/usr/lib/xen-4.17/bin
PEERS_LIB=$PEERS_DIR/lib
PEERS_OXS_SHIM=$PEERS_DIR/oxs_shim.so
KDD=$PEERS_XEN_BIN/xen-kdd
OXENSTORED=$PEERS_XEN_BIN/oxenstored
KDDRIVE=$BUILD/helpers/kddrive
XSCTL=$BUILD/helpers/xsctl
: "${KDD_FLAGS:=}"

_peers_find_deb() {
	for _d in "${XEN_UTILS_DEB:-}" "$PEERS_DIR"/deb/xen-utils-4.17_*.deb \
	    /tmp/xenpkg/xen-utils-4.17_*.deb; do
		[ -n "$_d" ] && [ -f "$_d" ] && { echo "$_d"; return 0; }
	done
	return 1
}

_peers_fetch() {
	_deb=$(_peers_find_deb) && return 0
	note "peers: downloading xen-utils-4.17 into $PEERS_DIR/deb"
	mkdir -p "$PEERS_DIR/deb" || return 1
	(cd "$PEERS_DIR/deb" && { apt-get download -qq xen-utils-4.17 ||
	    { apt-get update -qq && apt-get download -qq xen-utils-4.17; }; }) \
	    >"$PEERS_DIR/deb/apt.log" 2>&1 || {
		cat "$PEERS_DIR/deb/apt.log" >&2
		echo "peers: apt-get download xen-utils-4.17 failed" >&2
		return 1
	}
	_deb=$(_peers_find_deb)
}

_peers_unpack() {
	[ -x "$KDD" ] && [ -x "$OXENSTORED" ] && return 0
	_peers_fetch || return 1
	rm -rf "$PEERS_XEN.tmp"
	dpkg -x "$_deb" "$PEERS_XEN.tmp" || {
		echo "peers: dpkg -x $_deb failed" >&2
		return 1
	}
	[ -x "$PEERS_XEN.tmp/usr/lib/xen-4.17/bin/xen-kdd" ] || {
		echo "peers: $_deb has no usr/lib/xen-4.17/bin/xen-kdd" >&2
		return 1
	}
	rm -rf "$PEERS_XEN" && mv "$PEERS_XEN.tmp" "$PEERS_XEN"
}

# _peers_cc OUT SONAME FILE...: build a shared object from the .c files
# (a .map is the version script), only when OUT is older than any FILE.
_peers_cc() {
	_out=$1
	_soname=$2
	shift 2
	_stale=
	[ -f "$_out" ] || _stale=1
	_srcs=
	_flags=
	for _s in "$@"; do
		[ "$_out" -nt "$_s" ] || _stale=1
		case $_s in
		*.c) _srcs="$_srcs $_s" ;;
		*.map) _flags="$_flags -Wl,--version-script,$_s" ;;
		esac
	done
	[ -n "$_stale" ] || return 0
	[ -n "$_soname" ] && _flags="$_flags -Wl,-soname,$_soname"
	# shellcheck disable=SC2086
	${CC:-cc} -O2 -g -std=gnu11 -Wall -Wextra -shared -fPIC $_flags \
	    -o "$_out.tmp" $_srcs || {
		echo "peers: building $_out failed" >&2
		return 1
	}
	mv "$_out.tmp" "$_out"
}

_peers_build() {
	_p=$TESTS/peers
	mkdir -p "$PEERS_LIB" || return 1
	_peers_cc "$PEERS_LIB/libxenctrl.so.4.17" libxenctrl.so.4.17 \
	    "$_p/xenctrl_stub.c" "$_p/kddmem.h" "$_p/xenctrl_stub.map" &&
	    _peers_cc "$PEERS_OXS_SHIM" "" "$_p/oxs_shim.c"
}

peers_setup() {
	mkdir -p "$PEERS_DIR" || fail "peers: cannot create $PEERS_DIR"
	# One test at a time may fetch and build.
	(
		flock 9
		_peers_unpack && _peers_build
	) 9>"$PEERS_DIR/.lock" || fail "peers: setup failed (see above)"
	for _h in "$KDDRIVE" "$XSCTL"; do
		[ -x "$_h" ] || fail "peers: $_h missing (run make helpers)"
	done
}

# Connected, or was: after a short session the peer may have closed
# already, leaving kdd's end in CLOSE-WAIT (kdd never closes it).
_kdd_connected() {
	for _st in established close-wait; do
		ss -Htnp state "$_st" "( dport = :$2 )" 2>/dev/null |
		    grep -q "pid=$1," && return 0
	done
	return 1
}

kdd_start() {
	_port=$1
	_dom=${2:-7}
	peers_setup
	# shellcheck disable=SC2086
	bg env LD_LIBRARY_PATH="$PEERS_LIB" "$KDD" $KDD_FLAGS "$_dom" \
	    127.0.0.1 "$_port" >"$T/kdd.$_port.log" 2>&1
	KDD_PID=$LAST
	_tries=250
	until _kdd_connected "$KDD_PID" "$_port"; do
		alive "$KDD_PID" || {
			cat "$T/kdd.$_port.log" >&2
			fail "kdd_start: xen-kdd could not connect to" \
			    "127.0.0.1:$_port"
		}
		_tries=$((_tries - 1))
		[ "$_tries" -gt 0 ] ||
		    fail "kdd_start: no connection to 127.0.0.1:$_port after 5 s"
		sleep 0.02
	done
}

_peers_listening() {
	ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

kdd_start_tty() {
	_link=$1
	case ${2:-raw} in
	raw) _out=raw,echo=0 ;;
	crlf) _out=raw,echo=0,opost=1,onlcr=1 ;;
	*) fail "kdd_start_tty: mode ${2:-} is not raw or crlf" ;;
	esac
	need socat ss
	peers_setup
	rm -f "$_link" "$_link.guest"
	bg socat "PTY,link=$_link.guest,raw,echo=0" \
	    "PTY,link=$_link,raw,echo=0" >"$T/pty.${_link##*/}.log" 2>&1
	wait_until 5 test -e "$_link.guest" -a -e "$_link" ||
	    fail "kdd_start_tty: socat made no ptys at $_link"
	_tport=$(free_port)
	bg socat "TCP-LISTEN:$_tport,bind=127.0.0.1,reuseaddr" \
	    "OPEN:$_link.guest,$_out" >"$T/tcp.${_link##*/}.log" 2>&1
	wait_until 5 _peers_listening "$_tport" ||
	    fail "kdd_start_tty: socat does not listen on $_tport"
	kdd_start "$_tport" "${3:-7}"
	KDD_TTY=$_link
}

kdd_stop() {
	stop "${1:-$KDD_PID}"
}
