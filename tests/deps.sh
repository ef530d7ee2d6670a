#!/bin/sh
# Install the Debian packages the build and the tests need, when missing.
pkgs="build-essential pkg-config libevent-dev libxen-dev check socat
libsystemd-dev systemd xenstore-utils mandoc clang llvm procps util-linux
iproute2 strace valgrind"
# The KVM tests' QEMU and libvirtd, without their recommends (a GUI, lvm2,
# swtpm, the other hypervisor drivers); the package test's tools likewise.
norec="binutils qemu-system-x86 libvirt-dev libvirt-daemon
libvirt-daemon-driver-qemu libvirt-clients
dpkg-dev debhelper lintian fakeroot blhc git"
missing="" missing_norec=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
for p in $norec; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing_norec="$missing_norec $p"
done
[ -z "$missing$missing_norec" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing$missing_norec (run as root to install)" >&2
	exit 1
fi
echo "deps: installing$missing$missing_norec"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || exit 1
[ -z "$missing" ] || apt-get install -y -qq $missing >/dev/null || exit 1
[ -z "$missing_norec" ] ||
    apt-get install -y -qq --no-install-recommends $missing_norec >/dev/null
