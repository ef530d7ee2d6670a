# xenstore.sh - a real xenstored (oxenstored from Debian xen-utils-4.17)
# for tests, with no hypervisor, plus helpers that fake domains the way a
# toolstack would.  POSIX sh, set -u clean; needs root (mount namespaces).
# Use:
#
#   . "$TESTS/lib/common.sh"
#   . "$TESTS/lib/peers.sh"
#   . "$TESTS/lib/xenstore.sh"
#   xs_enter_namespace "$@"   # first, before starting anything
#   xs_start
#   xs_domain_create win7 5 /dev/pts/9
#   ... kdrelayd, socat, xenstore-* all see this xenstored ...
#
# oxenstored's socket is fixed at /var/run/xenstored/socket, so the whole
# test runs in a private mount namespace with a tmpfs on /run (also holding
# /run/lock, mode 1777, which is Debian's XEN_LOCK_DIR /var/lock).  Every
# process the test starts after xs_enter_namespace sees that /run; the host
# /run is untouched.  XENSTORED_PATH and XENSTORED_RUNDIR are unset so that
# libxenstore clients use the default socket, as in production.
#
#   xs_enter_namespace "$@"   re-executes the script (same shell, same
#                       arguments) under `unshare -m --propagation private`
#                       and mounts the tmpfs; a no-op when already inside
#                       (a script run from a test inherits the namespace)
#   xs_start            start oxenstored; returns when it answers.  XS_PID,
#                       XS_DIR (config; its log $XS_DIR/xenstored.log,
#                       stdout and stderr $XS_DIR/stdout.log).
#                       XS_LOG_LEVEL=debug for a detailed log.
#   xs_stop             SIGKILL it and reap it (the socket file stays, so
#                       new clients get ECONNREFUSED; connected ones EOF).
#                       Not SIGTERM: oxenstored 4.17 treats it like a live
#                       update and exits only once no unix-socket client is
#                       connected and no domain has XS_SET_TARGET
#                       permissions, i.e. possibly never ("Dn prevents live
#                       update" in its log every 15 s).
#   xs_restart [--empty]
#                       stop and start it again.  oxenstored keeps no
#                       state across a restart (its "persistent" option
#                       stores nothing in 4.17, and --restart needs the
#                       file descriptors of a live update): every node,
#                       watch, permission and introduced domain is lost and
#                       every client connection is closed.  Unless --empty,
#                       the domains made with xs_domain_create /
#                       xs_stubdom_create (and still alive) are made again,
#                       with their current tty, firing @introduceDomain.
#   xs_domain_create NAME DOMID [TTY]
#                       like a toolstack: write /local/domain/DOMID/name and
#                       domid, give the domain ownership of its subtree
#                       (xenstore-chmod -r ... nDOMID), introduce it
#                       (XS_INTRODUCE: fires @introduceDomain), and, with
#                       TTY, write serial/0/tty as QEMU would (a node dom0
#                       writes there inherits the domain's ownership)
#   xs_domain_set_tty DOMID TTY [N]
#                       write /local/domain/DOMID/serial/N/tty (N=0)
#   xs_domain_destroy DOMID
#                       rm /local/domain/DOMID, then XS_RELEASE (fires
#                       @releaseDomain)
#   xs_stubdom_create NAME DOMID DMID [TTY]
#                       Qubes-style HVM guest with a stubdomain device
#                       model: guest NAME (DOMID) with
#                       image/device-model-domid = DMID; domain NAME-dm
#                       (DMID) with target = DOMID, XS_SET_TARGET, and with
#                       TTY, device/console/3/tty (the guest's COM1)
#   xs_stubdom_set_tty DMID TTY [CONSOLE]
#                       write /local/domain/DMID/device/console/CONSOLE/tty
#                       (CONSOLE=3)
#   xs_stubdom_destroy DOMID DMID
#                       destroy the stubdomain, then the guest
#   xs_wait_node PATH [SECS]          wait until PATH exists (5 s)
#   xs_wait_value PATH VALUE [SECS]   wait until PATH reads VALUE (5 s)
#
# Watches: every watch fires once when set, as with any xenstored.
# @introduceDomain fires on each XS_INTRODUCE of a new domain (not on a
# repeated one), @releaseDomain on each XS_RELEASE of an introduced one.
# They fire only because xs_start runs oxenstored WITH domain 0 set up
# (no --no-domain-init): oxenstored fires special watches on behalf of
# domain 0's connection and, without one, fails the request instead
# (XS_INTRODUCE answers EINVAL, XS_RELEASE ENOENT, and nothing fires).
# Domain 0's ring is a file ($XS_DIR/kva, named by the xenstored-kva
# option) and its event channel a file holding "1" (xenstored-port).
# The hypervisor's way (VIRQ_DOM_EXC, then a domain missing from
# xc_domain_getinfolist) is not simulated: XS_RELEASE stands in for it.
# A domain must be introduced before XS_SET_TARGET names it, and XS_RELEASE
# of an unknown domain is EINVAL.
#
# Clients when xenstored goes away (xs_stop, xs_restart): libxenstore 4.17
# (threaded, as Debian builds it) closes its socket, but the fd of
# xs_fileno() never becomes readable, so an event loop waiting on it alone
# never notices; the next request fails with EBADF.  xenstore-watch then
# spins at 100% CPU (it retries xs_read_watch forever): stop watchers
# before stopping xenstored.  Nodes owned by a released domain are
# given back to dom0 by oxenstored ("Cleaning up xenstore ACLs").

XS_NS_TMPFS_SIZE=64m

xs_in_namespace() {
	[ -n "${XS_NS_MNT:-}" ] &&
	    [ "$XS_NS_MNT" = "$(readlink /proc/self/ns/mnt)" ]
}

xs_enter_namespace() {
	xs_in_namespace && return 0
	if [ "${XS_NS_EXEC:-}" != "$$" ]; then
		[ "$(id -u)" = 0 ] || fail "xenstore tests need root (unshare -m)"
		need unshare
		XS_NS_EXEC=$$
		export XS_NS_EXEC
		# The re-executed script makes its own $T and trap.
		rm -rf "$T"
		trap - EXIT INT TERM
		exec unshare -m --propagation private -- \
		    "$(readlink /proc/$$/exe)" "$0" "$@"
	fi
	# unshare(1) without --fork keeps our pid: we are the new namespace.
	mount -t tmpfs -o "mode=0755,size=$XS_NS_TMPFS_SIZE" kdrelay-run /run ||
	    fail "mount tmpfs on /run failed"
	mkdir -p /run/lock /run/xenstored && chmod 1777 /run/lock ||
	    fail "cannot populate /run"
	XS_NS_MNT=$(readlink /proc/self/ns/mnt)
	export XS_NS_MNT
	unset XENSTORED_PATH XENSTORED_RUNDIR
}

_xs_alive() {
	xenstore-exists /tool/xenstored
}

xs_start() {
	xs_in_namespace || fail "xs_start: call xs_enter_namespace first"
	need xenstore-read xenstore-write xenstore-exists xenstore-chmod \
	    xenstore-rm
	peers_setup
	XS_DIR=$T/xenstored
	mkdir -p "$XS_DIR" || fail "xs_start: cannot create $XS_DIR"
	printf 1 >"$XS_DIR/port"
	[ -f "$XS_DIR/kva" ] ||
	    dd if=/dev/zero of="$XS_DIR/kva" bs=4096 count=1 2>/dev/null
	cat >"$XS_DIR/oxenstored.conf" <<-EOF
	pid-file = $XS_DIR/xenstored.pid
	xenstored-log-file = $XS_DIR/xenstored.log
	xenstored-log-level = ${XS_LOG_LEVEL:-info}
	xenstored-port = $XS_DIR/port
	xenstored-kva = $XS_DIR/kva
	merge-activate = true
	perms-activate = true
	quota-activate = true
	persistent = false
	EOF
	[ -f "$XS_DIR/domains" ] || : >"$XS_DIR/domains"
	bg env LD_PRELOAD="$PEERS_OXS_SHIM" "$OXENSTORED" --no-fork \
	    --no-access-log --config-file "$XS_DIR/oxenstored.conf" \
	    >"$XS_DIR/stdout.log" 2>&1
	XS_PID=$LAST
	_tries=250
	until _xs_alive 2>/dev/null; do
		alive "$XS_PID" || {
			cat "$XS_DIR/stdout.log" >&2
			fail "xs_start: oxenstored exited"
		}
		_tries=$((_tries - 1))
		[ "$_tries" -gt 0 ] || fail "xs_start: oxenstored does not answer"
		sleep 0.02
	done
}

xs_stop() {
	[ -n "${XS_PID:-}" ] || return 0
	# SIGTERM would wait for a quiescent store (see the header); a crash
	# is what a test wants anyway.
	kill -KILL "$XS_PID" 2>/dev/null
	wait "$XS_PID" 2>/dev/null || :
	XS_PID=
}

xs_restart() {
	xs_stop
	_reg=$(cat "$XS_DIR/domains")
	: >"$XS_DIR/domains"
	xs_start
	[ "${1:-}" = --empty ] && return 0
	# A redirected loop, not a pipe: it must run in this shell.
	while read -r _kind _d _dm _name _tty; do
		case $_kind in
		guest) xs_domain_create "$_name" "$_d" "${_tty#-}" ;;
		stubdom) xs_stubdom_create "$_name" "$_d" "$_dm" "${_tty#-}" ;;
		esac
	done <<-EOF
	$_reg
	EOF
}

# Registry lines: KIND DOMID DMID NAME TTY ("-" for none).
_xs_register() {
	echo "$1 $2 ${3:--} $4 ${5:--}" >>"$XS_DIR/domains"
}

_xs_unregister() {
	grep -v "^[a-z]* $1 " "$XS_DIR/domains" >"$XS_DIR/domains.new" || :
	mv "$XS_DIR/domains.new" "$XS_DIR/domains"
}

_xs_retty() {
	# Keep the registry's tty current for xs_restart.
	awk -v d="$1" -v t="$2" '$1 == "guest" && $2 == d { $5 = t } { print }' \
	    "$XS_DIR/domains" >"$XS_DIR/domains.new" &&
	    mv "$XS_DIR/domains.new" "$XS_DIR/domains"
}

_xs_make() {
	_n=$1
	_d=$2
	_p=/local/domain/$_d
	xenstore-write "$_p/name" "$_n" "$_p/domid" "$_d" ||
	    fail "xs: writing $_p failed"
	xenstore-chmod -r "$_p" "n$_d" || fail "xs: chmod $_p failed"
	"$XSCTL" introduce "$_d" || fail "xs: introducing domain $_d failed"
}

xs_domain_create() {
	_xs_make "$1" "$2"
	[ -n "${3:-}" ] && xs_domain_set_tty "$2" "$3"
	_xs_register guest "$2" - "$1" "${3:-}"
}

xs_domain_set_tty() {
	xenstore-write "/local/domain/$1/serial/${3:-0}/tty" "$2" ||
	    fail "xs: writing the tty of domain $1 failed"
	[ "${3:-0}" = 0 ] && _xs_retty "$1" "$2"
	return 0
}

xs_domain_destroy() {
	xenstore-rm "/local/domain/$1" || fail "xs: rm /local/domain/$1 failed"
	"$XSCTL" release "$1" || fail "xs: releasing domain $1 failed"
	_xs_unregister "$1"
}

xs_stubdom_create() {
	_sn=$1
	_sd=$2
	_sdm=$3
	_xs_make "$_sn" "$_sd"
	_xs_make "$_sn-dm" "$_sdm"
	xenstore-write "/local/domain/$_sdm/target" "$_sd" ||
	    fail "xs: writing the target of $_sdm failed"
	"$XSCTL" set-target "$_sdm" "$_sd" ||
	    fail "xs: set-target $_sdm $_sd failed"
	xenstore-write "/local/domain/$_sd/image/device-model-domid" "$_sdm" ||
	    fail "xs: writing device-model-domid of $_sd failed"
	_xs_register stubdom "$_sd" "$_sdm" "$_sn" "${4:-}"
	[ -n "${4:-}" ] && xs_stubdom_set_tty "$_sdm" "$4"
	return 0
}

xs_stubdom_set_tty() {
	xenstore-write "/local/domain/$1/device/console/${3:-3}/tty" "$2" ||
	    fail "xs: writing console tty of domain $1 failed"
	if [ "${3:-3}" = 3 ]; then
		awk -v d="$1" -v t="$2" '$1 == "stubdom" && $3 == d { $5 = t }
		    { print }' \
		    "$XS_DIR/domains" >"$XS_DIR/domains.new" &&
		    mv "$XS_DIR/domains.new" "$XS_DIR/domains"
	fi
	return 0
}

xs_stubdom_destroy() {
	xenstore-rm "/local/domain/$2" || fail "xs: rm /local/domain/$2 failed"
	"$XSCTL" release "$2" || fail "xs: releasing domain $2 failed"
	xs_domain_destroy "$1"
}

xs_wait_node() {
	wait_until "${2:-5}" xenstore-exists "$1"
}

_xs_is() {
	[ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ]
}

xs_wait_value() {
	wait_until "${3:-5}" _xs_is "$1" "$2"
}
