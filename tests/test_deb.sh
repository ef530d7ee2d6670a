#!/bin/sh
# The Debian package (debian/, `make deb`), built once from a clean clone:
#  - the build leaves the clone clean; blhc finds every compile and link
#    line with the dpkg-buildflags hardening flags, and each binary is PIE,
#    full RELRO, bind-now, stack-protected (and fortified where it can be);
#  - lintian reports no error and no warning (an override must follow a
#    comment saying why);
#  - contents: what `make install` installs, plus README, changelog and
#    copyright; owners root, modes 0755 for programs and 0644 for the rest;
#    a man page for every program; every file in /etc a conffile
#    (kdrelay.conf, the logrotate snippet);
#    Depends names neither libxenstore nor libvirt, nor any Xen library;
#  - on this machine (root; it is left as found, purged also on failure):
#    dpkg -i with systemd not running succeeds, kdrelayd.service enabled and
#    the template not, both units pass `systemd-analyze verify` as
#    installed, the service's command with the shipped kdrelay.conf (no
#    pairs) starts and waits; the installed kdrelayd relays a kdgen
#    session between two kdreplay peers on socat pty pairs, and kdrelayctl
#    counts its packets;
#    an edited conffile survives remove, is asked about when a newer
#    package ships a new one (answer N: kept, the new one as .dpkg-dist),
#    and purge removes it, /var/log/kdrelay and every file of ours.
#    (Debian asks on upgrade; purge deletes conffiles, edited or not.)
. "$TESTS/lib/common.sh"
# The package is built from a clone with its own flags: nothing of $BUILD is
# under test, so a sanitizer run (make check-asan) has nothing to add here.
nm "$BUILD/kdrelayd" 2>/dev/null | grep -q ' __asan_init$' &&
    skip_all "the package does not use this sanitizer build (make check builds and tests it)"
top=$(cd "$TESTS/.." && pwd)

# The tools (tests/deps.sh installs them with `make check`).
tools="dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian
fakeroot:fakeroot blhc:blhc readelf:binutils git:git socat:socat"
missing=""
for tp in $tools; do
	command -v "${tp%%:*}" >/dev/null 2>&1 || missing="$missing ${tp#*:}"
done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
	note "installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing \
	    >"$T/apt.log" 2>&1 || :
	missing=""
	for tp in $tools; do
		command -v "${tp%%:*}" >/dev/null 2>&1 || missing="$missing ${tp#*:}"
	done
fi
[ -z "$missing" ] ||
    skip_all "needs$missing (not installed, and cannot install them here)"
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
    skip_all "$top is not a git checkout: no clean clone to build from"

# ---- build once, from a clean clone ----
git clone -q "$top" "$T/src" || fail "git clone $top"
ver=$(sed -n '1s/^kdrelayd (\([^)]*\)).*/\1/p' "$T/src/debian/changelog")
[ -n "$ver" ] || fail "no version in debian/changelog"
start=$(date +%s)
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD make -C "$T/src" --no-print-directory \
    deb >"$T/make-deb.log" 2>&1 || { tail -n 40 "$T/make-deb.log"; fail "make deb"; }
note "make deb in a clean clone: $(( $(date +%s) - start )) s"
D=$T/src/build/deb
deb=$(ls "$D"/kdrelayd_"$ver"_*.deb 2>/dev/null)
[ -f "$deb" ] || fail "no kdrelayd_${ver}_*.deb in $D: $(ls "$D")"
[ -n "$(git -C "$T/src" status --porcelain --ignored | grep -v '^!! build/$')" ] &&
    fail "make deb left the tree unclean: $(git -C "$T/src" status --porcelain --ignored)"
note "built $(basename "$deb"); the clone is clean but for build/"

# ---- hardening ----
blhc "$D/build.log" >"$T/blhc.out" 2>&1 ||
    { cat "$T/blhc.out"; fail "blhc: hardening flags missing from the build"; }
dpkg-deb -x "$deb" "$T/root"
progs=$(cd "$T/root" && ls usr/sbin/* usr/bin/*)
for p in $progs; do
	readelf -hlSdsW "$T/root/$p" >"$T/elf" 2>/dev/null || fail "$p: not ELF"
	grep -q 'Type: *DYN' "$T/elf" || fail "$p: not PIE"
	grep -q 'GNU_RELRO' "$T/elf" || fail "$p: no RELRO"
	grep -q 'BIND_NOW' "$T/elf" || fail "$p: not bind-now"
	grep -q '__stack_chk_fail' "$T/elf" || fail "$p: no stack protector"
	grep -q '\.debug_' "$T/elf" && fail "$p: not stripped"
done
readelf -sW "$T/root/usr/sbin/kdrelayd" | grep -q '__[a-z]*_chk' ||
    fail "kdrelayd: no fortified function"
note "hardening: blhc clean; $(echo $progs | wc -w) programs PIE, RELRO, bind-now, stack-protected"

# ---- lintian ----
for o in "$T"/src/debian/*lintian-overrides "$T"/src/debian/source/lintian-overrides; do
	[ -e "$o" ] || continue
	awk '!/^#/ && NF && prev !~ /^#/ { print FILENAME ":" NR ": " $0; bad = 1 }
	    { prev = $0 } END { exit bad }' "$o" ||
	    fail "a lintian override without a comment saying why"
done
lintian --fail-on error,warning "$deb" >"$T/lintian.out" 2>&1; rc=$?
grep -v 'running with root privileges' "$T/lintian.out"
[ $rc = 0 ] && ! grep -q '^[EW]:' "$T/lintian.out" ||
    fail "lintian (status $rc)"
note "lintian: no error, no warning"

# ---- contents ----
dpkg-deb -c "$deb" >"$T/contents"
awk '$2 != "root/root" { print; bad = 1 } END { exit bad }' "$T/contents" ||
    fail "files not owned by root"
awk '{ p = $NF; sub(/^\./, "", p) }
    $1 ~ /^d/ && $1 != "drwxr-xr-x" { print; bad = 1 }
    $1 ~ /^-/ && p ~ /^\/usr\/s?bin\// && $1 != "-rwxr-xr-x" { print; bad = 1 }
    $1 ~ /^-/ && p !~ /^\/usr\/s?bin\// && $1 != "-rw-r--r--" { print; bad = 1 }
    $1 !~ /^[-d]/ { print; bad = 1 }
    END { exit bad }' "$T/contents" || fail "unexpected modes or file types"
sed -n 's|^-[^ ]* *[^ ]* *[^ ]* *[^ ]* *[^ ]* *\./|/|p' "$T/contents" |
    sort >"$T/files"
# What `make install` lays out (so new programs follow; from the
# package's build tree, nothing rebuilt), man pages compressed, and the
# docs.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD make -C "$D/kdrelayd-$ver" \
    --no-print-directory install DESTDIR="$T/inst" PREFIX=/usr \
    SYSCONFDIR=/etc UNITDIR=/lib/systemd/system >"$T/install.log" 2>&1 ||
    { cat "$T/install.log"; fail "make install"; }
{
	(cd "$T/inst" && find . ! -type d) | sed 's|^\.||; s|^/usr/share/man/.*|&.gz|'
	printf '%s\n' /usr/share/doc/kdrelayd/README.md.gz \
	    /usr/share/doc/kdrelayd/changelog.gz /usr/share/doc/kdrelayd/copyright
} | sort >"$T/want"
diff "$T/want" "$T/files" >"$T/diff" || fail "contents differ from make install + docs:
$(cat "$T/diff")"
for f in /usr/sbin/kdrelayd /usr/bin/kdreplay /usr/bin/kdgen \
    /lib/systemd/system/kdrelayd.service /lib/systemd/system/kdrelayd@.service \
    /etc/kdrelay.conf /usr/share/man/man5/kdrelay.conf.5.gz; do
	grep -qx "$f" "$T/files" || fail "$f is not in the package"
done
for p in $progs; do
	n=${p##*/}
	grep -q "^/usr/share/man/man[18]/$n\.[18]\.gz$" "$T/files" ||
	    fail "$p has no man page"
done
dpkg-deb -f "$deb" Package Version Architecture Depends Suggests Recommends \
    >"$T/fields"
grep -qx "Version: $ver" "$T/fields" || fail "version: $(cat "$T/fields")"
# Built with both platforms' headers: the loaders are in, the libraries not.
for so in libxenstore.so.4 libvirt.so.0; do
	grep -qa "$so" "$T/root/usr/sbin/kdrelayd" ||
	    fail "the packaged kdrelayd cannot load $so (built without its headers?)"
done
dep=$(dpkg-deb -f "$deb" Depends)
printf '%s\n' "$dep" | grep -qi -e xenstore -e libxen -e virt &&
    fail "Depends names a platform's library: $dep"
printf '%s\n' "$dep" | grep -q libevent || fail "Depends lacks libevent: $dep"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles | sort >"$T/conffiles"
grep '^/etc/' "$T/files" | cmp -s - "$T/conffiles" ||
    fail "conffiles are not the files in /etc: $(cat "$T/conffiles")"
grep -qx /etc/kdrelay.conf "$T/conffiles" || fail "kdrelay.conf is not a conffile"
note "contents: $(wc -l <"$T/files") files as make install lays them out; conffiles:" $(cat "$T/conffiles")
note "Depends: $dep"

# ---- on this machine ----
[ "$(id -u)" = 0 ] || { skip "install, relay, remove, purge" "needs root"; exit 0; }
# One run at a time on a machine (a flock on dpkg's directory, which dpkg
# itself does not flock: no lock file left behind); wait for dpkg or apt
# run by others.
exec 9</var/lib/dpkg
flock -w 600 9 || fail "another test_deb held the lock for 10 minutes"
dpkg_do() {
	_i=0
	while ! dpkg "$@" >"$T/dpkg.out" 2>&1; do
		grep -q 'lock' "$T/dpkg.out" && [ $_i -lt 300 ] ||
		    { cat "$T/dpkg.out"; return 1; }
		_i=$((_i + 1)); sleep 0.2
	done
	cat "$T/dpkg.out"
}
st=$(dpkg-query -W -f='${db:Status-Abbrev}' kdrelayd 2>/dev/null)
case $st in
''|un*) ;;
*)	skip install "kdrelayd is installed here ($st): not touching it"
	exit 0;;
esac
for f in /etc/kdrelay.conf /usr/sbin/kdrelayd /lib/systemd/system/kdrelayd.service \
    /var/log/kdrelay; do
	[ -e "$f" ] && { skip install "$f is there (make install?): not touching it"; exit 0; }
done
ours() {
	find /etc /var/lib/systemd /var/lib/dpkg/info /lib/systemd /usr/lib/systemd \
	    /usr/sbin /usr/bin /usr/share/man /usr/share/doc \
	    /usr/share/bash-completion -name '*kdrelay*' 2>/dev/null | sort
}
ours >"$T/before"
atexit 'dpkg-query -W kdrelayd >/dev/null 2>&1 && dpkg_do --purge kdrelayd >/dev/null'

[ -d /run/systemd/system ] && note "systemd is running here: the service will start"
dpkg_do -i "$deb" >"$T/install.out" || { cat "$T/install.out"; fail "dpkg -i"; }
[ "$(dpkg-query -W -f='${db:Status-Abbrev}' kdrelayd)" = "ii " ] ||
    fail "not installed: $(dpkg-query -W -f='${db:Status-Abbrev}' kdrelayd)"
dpkg -L kdrelayd >"$T/listed"
wants=/etc/systemd/system/multi-user.target.wants
[ "$(readlink "$wants/kdrelayd.service")" = /lib/systemd/system/kdrelayd.service ] ||
    fail "kdrelayd.service is not enabled"
find /etc/systemd -name 'kdrelayd@*' | grep -q . && fail "the template was enabled"
note "dpkg -i: ok (systemd not PID 1), kdrelayd.service enabled, kdrelayd@ not"

for u in kdrelayd.service kdrelayd@.service; do
	out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$u" 2>&1) &&
	    [ -z "$out" ] || fail "systemd-analyze verify $u as installed: $out"
done
note "systemd-analyze verify: both units clean as installed"

# What the enabled service runs (its ExecStart, the shipped kdrelay.conf,
# every pair an example): up and idle until reloaded, not a failed unit.
cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/kdrelayd.service)
$cmd --check-config >"$T/cc" 2>&1 || fail "$cmd --check-config: $(cat "$T/cc")"
bg $cmd --control "$T/unit.sock" 2>"$T/unit.log"
wait_log "$T/unit.log" "no pairs configured" ||
    fail "$cmd: $(cat "$T/unit.log")"
alive $LAST || fail "$cmd exited: $(cat "$T/unit.log")"
stop $LAST
note "$cmd: $(cat "$T/cc"), starts and waits for a reload"

/usr/sbin/kdrelayd --version >"$T/version" || fail "kdrelayd --version"
grep -q "^kdrelayd $ver" "$T/version" || fail "--version: $(cat "$T/version")"
/usr/bin/kdgen -n 30 -o "$T/s.kdtrace" || fail "kdgen"
vm dbg
vm win
bg /usr/sbin/kdrelayd --control "$T/ctl.sock" "$T/dbg.vm" "$T/win.vm" \
    2>"$T/relay.log"
RELAY=$LAST
timeout 30 /usr/bin/kdreplay --as target "$T/s.kdtrace" "$T/win.guest" \
    >"$T/t.out" 2>&1 & TP=$!
timeout 30 /usr/bin/kdreplay --as debugger "$T/s.kdtrace" "$T/dbg.guest" \
    >"$T/d.out" 2>&1 || { cat "$T/d.out" "$T/relay.log"; fail "debugger side"; }
wait $TP || { cat "$T/t.out" "$T/relay.log"; fail "target side"; }
if [ -x /usr/sbin/kdrelayctl ]; then
	/usr/sbin/kdrelayctl -s "$T/ctl.sock" status >"$T/status" ||
	    fail "kdrelayctl status: $(cat "$T/status")"
	grep -q "host->target .* [1-9][0-9]* packets" "$T/status" ||
	    fail "kdrelayctl status shows no packets: $(cat "$T/status")"
	note "installed kdrelayctl: $(grep 'host->target' "$T/status")"
fi
stop "$RELAY"
note "installed kdrelayd $ver relayed a kdgen session between two kdreplays: $(tail -n 1 "$T/d.out")"

# The admin edits the conffile; remove keeps it.
echo "# edited by test_deb" >>/etc/kdrelay.conf
cp /etc/kdrelay.conf "$T/edited"
dpkg_do --remove kdrelayd >/dev/null || fail "dpkg --remove"
[ "$(dpkg-query -W -f='${db:Status-Abbrev}' kdrelayd)" = "rc " ] ||
    fail "after remove: $(dpkg-query -W -f='${db:Status-Abbrev}' kdrelayd)"
[ -e /usr/sbin/kdrelayd ] && fail "remove left /usr/sbin/kdrelayd"
cmp -s /etc/kdrelay.conf "$T/edited" || fail "remove did not keep the edited conffile"
note "an edited conffile survives remove"

# A newer package that ships a changed kdrelay.conf, installed over the
# removed one: dpkg asks about the admin's file; N keeps it.
dpkg-deb -R "$deb" "$T/v2"
echo "# new in $ver+test" >>"$T/v2/etc/kdrelay.conf"
sed -i "s/^Version: .*/Version: $ver+test/" "$T/v2/DEBIAN/control"
(cd "$T/v2" && sed -i '/ etc\/kdrelay\.conf$/d' DEBIAN/md5sums &&
    md5sum etc/kdrelay.conf >>DEBIAN/md5sums)
dpkg-deb -b --root-owner-group "$T/v2" "$T/v2.deb" >/dev/null || fail "repack v2"
printf 'N\n' | dpkg_do -i "$T/v2.deb" >"$T/upgrade.out" ||
    { cat "$T/upgrade.out"; fail "upgrade"; }
grep -q "Configuration file '/etc/kdrelay.conf'" "$T/upgrade.out" ||
    fail "dpkg did not ask about the conffile: $(cat "$T/upgrade.out")"
cmp -s /etc/kdrelay.conf "$T/edited" || fail "N did not keep the admin's file"
cmp -s /etc/kdrelay.conf.dpkg-dist "$T/v2/etc/kdrelay.conf" ||
    fail "the new version is not in /etc/kdrelay.conf.dpkg-dist"
note "upgrade: asked about the edited conffile, kept it, new one in .dpkg-dist"

# What kdrelayd.service would have logged (LogsDirectory=kdrelay).
mkdir -m 0700 /var/log/kdrelay
echo "a packet log" >/var/log/kdrelay/win10.packets
dpkg_do --purge kdrelayd >/dev/null || fail "dpkg --purge"
[ -e /var/log/kdrelay ] && fail "purge left /var/log/kdrelay"
dpkg-query -W kdrelayd >/dev/null 2>&1 && fail "still known to dpkg after purge"
while read -r f; do
	[ -d "$f" ] && continue
	{ [ -e "$f" ] || [ -L "$f" ]; } && fail "purge left $f"
done <"$T/listed"
ours >"$T/after"
diff "$T/before" "$T/after" >"$T/diff" || fail "purge left files of ours:
$(cat "$T/diff")"
note "purge: conffile, .dpkg-dist, units, enable link, /var/log/kdrelay, every file gone"
note "ok"
