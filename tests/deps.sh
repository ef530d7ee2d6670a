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
check     @build check socat systemd xenstore-utils mandoc procps util-linux iproute2 strace
asan      @check clang llvm
valgrind  @build check valgrind
fuzz      @build clang llvm
bench     @build socat procps
ci        @check @asan @valgrind @fuzz @bench
'

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
if [ "$(id -u)" != 0 ]; then
	cat >&2 <<EOF
deps: $* needs Debian packages that are not installed: $missing
deps: install them as root, then run this again:
    apt-get install -y $missing
EOF
	exit 69
fi
echo "deps: installing $missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null; } ||
    { echo "deps: apt-get install $missing failed" >&2; exit 69; }
