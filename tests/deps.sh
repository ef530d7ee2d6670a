#!/bin/sh
# Install the Debian packages the build and the tests need, when missing.
pkgs="build-essential pkg-config libevent-dev libxen-dev check socat
libsystemd-dev systemd xenstore-utils mandoc clang llvm procps util-linux
iproute2 strace valgrind python3"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null
