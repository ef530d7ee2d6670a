# xenvm.sh - helpers for the xen:, pve: and --auto tests (POSIX sh), to
# source after common.sh:
#
#   xvm NAME            a VM's serial line as a socat pty pair: the guest's
#                       end is $T/NAME.guest, dom0's (the pty a
#                       toolstack would publish) $T/NAME.dom0.  Sets
#                       XVM_TTY (dom0's /dev/pts/N) and XVM_PID_NAME.
#   xvm_kill NAME       stop that socat (the VM's QEMU or console daemon
#                       goes away: the pty vanishes)
#   relay_start LOG ARGS...
#                       kdrelayd -v ARGS in the background, its log in
#                       $T/LOG.log; pid in RELAY_PID
#   log_count LOG FIXED-STRING      how many lines of $T/LOG.log have it
#                       (a final $: that end with it)
#   log_wait LOG FIXED-STRING [N [SECS]]
#                       until N (1) lines have it, at most SECS (5) s
#   exchange A B BYTES [XFER-OPTS-FOR-B]   (B starts once A is heard)
#                       BYTES of random data from A to B and from B to A at
#                       the same time (tests/helpers/xfer on both ends), and
#                       check both arrived intact
#   now_ms              monotonic-enough wall clock in milliseconds
#   pve_host            this namespace is a Proxmox host: no xenstored, a
#                       tmpfs on /etc/pve (unmounted at exit) with
#                       qemu-server/, and /var/run/qemu-server

xvm() {
	bg socat PTY,raw,echo=0,link="$T/$1.guest" \
	    PTY,raw,echo=0,link="$T/$1.dom0" >"$T/vm-$1.log" 2>&1
	eval "XVM_PID_$1=\$LAST"
	wait_until 5 test -e "$T/$1.guest" -a -e "$T/$1.dom0" ||
	    fail "socat did not make the ptys of $1"
	XVM_TTY=$(readlink "$T/$1.dom0")
}

xvm_kill() {
	eval "stop \$XVM_PID_$1"
}

relay_start() {
	_l=$1
	shift
	bg "$BUILD/kdrelayd" -v --no-control "$@" >"$T/$_l.log" 2>&1
	RELAY_PID=$LAST
}

log_count() {
	case $2 in
	*'$')	awk -v s="${2%?}" 'substr($0, length($0) - length(s) + 1) == s \
		    { n++ } END { print n + 0 }' "$T/$1.log" 2>/dev/null ;;
	*)	grep -c -F -- "$2" "$T/$1.log" 2>/dev/null ;;
	esac
}

_log_has() {
	[ "$(log_count "$1" "$2")" -ge "$3" ]
}

log_wait() {
	wait_until "${4:-5}" _log_has "$1" "$2" "${3:-1}"
}

exchange() {
	_n=$3
	head -c "$_n" /dev/urandom >"$T/x.a"
	head -c "$_n" /dev/urandom >"$T/x.b"
	rm -f "$T/x.a.in" "$T/x.b.in"
	"$BUILD/helpers/xfer" -t 10 "$1" "$T/x.a" "$T/x.b.in" "$_n" \
	    >"$T/xfer-a.log" 2>&1 &
	_xa=$!
	# shellcheck disable=SC2086
	"$BUILD/helpers/xfer" -w ${4:-} -t 10 "$2" "$T/x.b" "$T/x.a.in" \
	    "$_n" >"$T/xfer-b.log" 2>&1
	_rb=$?
	wait "$_xa"
	_ra=$?
	[ "$_ra" = 0 ] && [ "$_rb" = 0 ] || {
		cat "$T/xfer-a.log" "$T/xfer-b.log" >&2
		return 1
	}
	cmp -s "$T/x.a" "$T/x.a.in" && cmp -s "$T/x.b" "$T/x.b.in"
}

now_ms() {
	date +%s%3N
}

pve_host() {
	rmdir /run/xenstored 2>/dev/null
	if [ ! -d /etc/pve ]; then
		mkdir /etc/pve || fail "mkdir /etc/pve"
		atexit "rmdir /etc/pve 2>/dev/null"
	fi
	mount -t tmpfs -o mode=0755 kdrelay-pve /etc/pve ||
	    fail "tmpfs on /etc/pve"
	atexit "umount /etc/pve 2>/dev/null"
	mkdir -p /etc/pve/qemu-server /var/run/qemu-server || fail "mkdir"
}
