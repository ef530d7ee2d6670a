#!/bin/sh
# Install the Debian packages a command needs, when missing.
#
#   sh tests/deps.sh [PROFILE...]           (make demo runs `deps.sh demo`;
#                                           no PROFILE: ci, everything)
#   sh tests/deps.sh --list [PROFILE...]    print the packages, one a line
#
# As root, what is missing is installed with apt-get.  As another user,
# the missing packages and the apt-get command are printed and deps.sh
# exits 69 (EX_UNAVAILABLE): nothing is built or run without them.
#
# The profiles: one line each, its name and what it needs: Debian packages,
# and @NAME for all of profile NAME's.  To add what your command or tests
# need, add the package to the profile of the make target that runs them
# (`check` for a test in make check); a new make target gets a new profile,
# named by the target's `sh tests/deps.sh NAME` and added to `ci`, which is
# what .ci/run installs on a clean machine.
profiles='
build     build-essential pkg-config libevent-dev libxen-dev libsystemd-dev
demo      @build socat
check     @build check socat systemd xenstore-utils mandoc procps util-linux iproute2 strace python3 @kvm @deb
kvm       binutils qemu-system-x86 libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
deb       @build libvirt-dev dpkg-dev debhelper lintian fakeroot blhc git
asan      @check clang llvm
valgrind  @build check valgrind
fuzz      @build clang llvm
bench     @build socat procps binutils qemu-system-x86 linux-perf valgrind
ci        @check @asan @valgrind @fuzz @bench
'
# Installed without their recommends: the KVM tests' QEMU and libvirtd (no
# GUI, lvm2, swtpm or other hypervisor drivers), the package test's tools.
norec=$(echo "$profiles" | awk '$1 == "kvm" || $1 == "deb" { $1 = ""; print }')

# expand PROFILE...: the packages, in order (repeats left in).
expand() {
	for _w; do
		_line=$(echo "$profiles" | awk -v p="$_w" '$1 == p')
		[ -n "$_line" ] || { echo "deps: no profile '$_w'" >&2; exit 64; }
		for _x in ${_line#* }; do
			case $_x in
			@*) expand "${_x#@}" ;;
			*) echo "$_x" ;;
			esac
		done
	done
}

list=0
[ "${1:-}" = --list ] && { list=1; shift; }
[ $# -gt 0 ] || set -- ci
pkgs=$(expand "$@") || exit 64
pkgs=$(echo "$pkgs" | awk '!seen[$0]++')
if [ $list = 1 ]; then
	echo "$pkgs"
	exit 0
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
missing=${missing# }
# The apt-get commands: those of $norec without their recommends.
with="" without=""
for p in $missing; do
	case " $(echo $norec) " in
	*" $p "*) without="$without $p" ;;
	*) with="$with $p" ;;
	esac
done
cmds=""
[ -z "$with" ] || cmds="apt-get install -y$with"
[ -z "$without" ] || cmds="$cmds${cmds:+
}apt-get install -y --no-install-recommends$without"
if [ "$(id -u)" != 0 ]; then
	{
		echo "deps: $* needs Debian packages that are not installed: $missing"
		echo "deps: install them as root, then run this again:"
		echo "$cmds" | sed 's/^/    /'
	} >&2
	exit 69
fi
echo "deps: installing $missing"
export DEBIAN_FRONTEND=noninteractive
apt() {
	echo "$cmds" | while read -r _cmd; do
		# shellcheck disable=SC2086
		$_cmd -qq >/dev/null || exit 1
	done
}
apt 2>/dev/null || { apt-get update -qq >/dev/null && apt; } ||
    { echo "deps: $cmds: failed" >&2; exit 69; }
