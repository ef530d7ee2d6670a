# libvirt.sh - a real libvirtd (Debian's libvirt-daemon with the QEMU
# driver) started by the test, running the echo guest (qemu.sh) as TCG
# domains.  POSIX sh, set -u clean; source after common.sh, xenstore.sh
# and qemu.sh, and call xs_enter_namespace first: everything runs in the
# test's private mount namespace (tmpfs on /run), and virt_setup hides the
# host's libvirt state there too:
#
#   virt_setup          tmpfs on /etc/libvirt (a qemu.conf with
#                       stdio_handler "file", security_driver "none",
#                       QEMU as root), /var/lib/libvirt, /var/log/libvirt,
#                       /var/cache/libvirt and /sys/fs/cgroup (no machine
#                       slice on the host); /etc/passwd and /etc/group
#                       copies with the libvirt-qemu user and the kvm
#                       group bind-mounted over the host's
#   virt_start          start libvirtd; returns when virsh answers.
#                       VIRT_PID; its log $T/libvirtd.log
#   virt_stop           SIGKILL libvirtd and reap it (domains keep running,
#                       as when libvirtd crashes)
#   virt_define NAME SERIAL-XML
#                       define a domain booting the echo guest with the
#                       given <serial> element(s)
#   virt_pty NAME       the pty of its serial 0 (virsh ttyconsole)
#   virt_cleanup        destroy and undefine every domain, stop libvirtd
#                       (registered with atexit by virt_start)
#   $VIRSH              virsh -q -c qemu:///system

VIRSH="virsh -q -c qemu:///system"

virt_setup() {
	xs_in_namespace || fail "virt_setup: call xs_enter_namespace first"
	need libvirtd virsh
	for _d in /etc/libvirt /var/lib/libvirt /var/log/libvirt \
	    /var/cache/libvirt /sys/fs/cgroup; do
		mkdir -p "$_d" 2>/dev/null
		mount -t tmpfs -o mode=0755 kdrelay-virt "$_d" ||
		    fail "virt_setup: tmpfs on $_d"
	done
	mkdir -p /var/lib/libvirt/images /var/lib/libvirt/qemu \
	    /var/log/libvirt/qemu /run/libvirt /run/lock ||
	    fail "virt_setup: mkdir"
	cat >/etc/libvirt/qemu.conf <<-EOF
	stdio_handler = "file"
	security_driver = "none"
	user = "root"
	group = "root"
	cgroup_controllers = [ ]
	EOF
	printf 'auth_unix_rw = "none"\nauth_unix_ro = "none"\n' \
	    >/etc/libvirt/libvirtd.conf
	cp /etc/passwd "$T/passwd" && cp /etc/group "$T/group" ||
	    fail "virt_setup: cannot copy passwd and group"
	grep -q '^kvm:' "$T/group" || echo 'kvm:x:990:' >>"$T/group"
	grep -q '^libvirt-qemu:' "$T/group" ||
	    echo 'libvirt-qemu:x:991:' >>"$T/group"
	grep -q '^libvirt-qemu:' "$T/passwd" ||
	    echo 'libvirt-qemu:x:991:991::/var/lib/libvirt:/usr/sbin/nologin' \
	    >>"$T/passwd"
	mount --bind "$T/passwd" /etc/passwd &&
	    mount --bind "$T/group" /etc/group ||
	    fail "virt_setup: cannot bind passwd and group"
	unset LIBVIRT_DEFAULT_URI
}

_virt_up() {
	$VIRSH version >/dev/null 2>&1
}

virt_start() {
	bg libvirtd >>"$T/libvirtd.log" 2>&1
	VIRT_PID=$LAST
	wait_until 20 _virt_up || {
		tail -n 20 "$T/libvirtd.log" >&2
		fail "libvirtd does not answer"
	}
	case $ATEXIT in
	*virt_cleanup*) ;;
	*) atexit virt_cleanup ;;
	esac
}

virt_stop() {
	[ -n "${VIRT_PID:-}" ] || return 0
	kill -KILL "$VIRT_PID" 2>/dev/null
	wait "$VIRT_PID" 2>/dev/null || :
	VIRT_PID=
}

virt_define() {
	cat >"$T/dom-$1.xml" <<-EOF
	<domain type='qemu'>
	  <name>$1</name>
	  <memory unit='MiB'>16</memory>
	  <vcpu>1</vcpu>
	  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='fd'/></os>
	  <devices>
	    <emulator>$(command -v "$QEMU_BIN")</emulator>
	    <disk type='file' device='floppy'>
	      <source file='$QEMU_ECHO_BIN'/>
	      <target dev='fda' bus='fdc'/>
	      <readonly/>
	    </disk>
	    $2
	    <controller type='usb' model='none'/>
	    <memballoon model='none'/>
	  </devices>
	</domain>
	EOF
	$VIRSH define "$T/dom-$1.xml" >/dev/null || fail "virsh define $1"
}

virt_pty() {
	$VIRSH ttyconsole "$1"
}

# The domains' QEMUs are libvirtd's children no more once it is killed:
# destroy them through a libvirtd (started again if needed), then end it.
virt_cleanup() {
	if [ -z "${VIRT_PID:-}" ] || ! _virt_up; then
		bg libvirtd >>"$T/libvirtd.log" 2>&1
		VIRT_PID=$LAST
		wait_until 20 _virt_up || :
	fi
	for _n in $($VIRSH list --all --name 2>/dev/null); do
		$VIRSH destroy "$_n" >/dev/null 2>&1
		$VIRSH undefine "$_n" >/dev/null 2>&1
	done
	[ -n "${VIRT_PID:-}" ] && kill "$VIRT_PID" 2>/dev/null
	wait_until 5 eval "! kill -0 ${VIRT_PID:-0}" || virt_stop
	# A QEMU libvirtd could not end: by the pid it recorded.
	for _f in /run/libvirt/qemu/*.pid; do
		[ -f "$_f" ] && kill -KILL "$(cat "$_f")" 2>/dev/null
	done
	return 0
}
