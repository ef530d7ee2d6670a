#!/bin/sh
# make install / uninstall into a DESTDIR: the daemon in sbin, the tools in
# bin, both units with ExecStart pointing at the installed daemon and
# config, every man page in its section, the sample /etc/kdrelay.conf;
# an admin's changed kdrelay.conf survives a second install and an
# uninstall; uninstall leaves nothing else behind.
. "$TESTS/lib/common.sh"
top=$(cd "$TESTS/.." && pwd)
R="$T/root"

# mk TARGET VARS...: make TARGET from the top with this build, output in
# $T/make.out.
mk() {
	t=$1; shift
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -C "$top" --no-print-directory BUILD="$BUILD" "$t" "$@" \
	    >"$T/make.out" 2>&1 ||
	    { cat "$T/make.out"; fail "make $t $*"; }
}
files() { (cd "$R" && find . ! -type d | sed 's|^\./|/|' | sort); }
mode() { stat -c %a "$R$1"; }

# The files an install must lay out, for PREFIX=$1, SYSCONFDIR=$2.
expected() {
	{
		echo "$1/sbin/kdrelayd"
		echo "$1/sbin/kdrelayctl"
		echo "$1/share/bash-completion/completions/kdrelayctl"
		echo "$2/logrotate.d/kdrelayd"
		echo "$1/bin/kdreplay"
		echo "$1/bin/kdgen"
		for u in "$top"/systemd/*.service; do
			echo "$1/lib/systemd/system/${u##*/}"
		done
		for m in "$top"/man/*.[0-9]; do
			echo "$1/share/man/man${m##*.}/${m##*/}"
		done
		echo "$2/kdrelay.conf"
	} | sort
}

# check_layout PREFIX SYSCONFDIR
check_layout() {
	expected "$1" "$2" >"$T/want"
	files >"$T/got"
	diff "$T/want" "$T/got" >"$T/diff" ||
	    fail "installed files differ from the expected ones: $(cat "$T/diff")"
	for p in "$1/sbin/kdrelayd" "$1/sbin/kdrelayctl" "$1/bin/kdreplay" \
	    "$1/bin/kdgen"; do
		cmp -s "$BUILD/${p##*/}" "$R$p" || fail "$p is not the built one"
		[ "$(mode "$p")" = 755 ] || fail "$p: mode $(mode "$p")"
	done
	for m in "$top"/man/*.[0-9]; do
		p="$1/share/man/man${m##*.}/${m##*/}"
		cmp -s "$m" "$R$p" || fail "$p differs from man/${m##*/}"
		[ "$(mode "$p")" = 644 ] || fail "$p: mode $(mode "$p")"
	done
	for u in "$top"/systemd/*.service; do
		p="$1/lib/systemd/system/${u##*/}"
		[ "$(mode "$p")" = 644 ] || fail "$p: mode $(mode "$p")"
		grep -q "^ExecStart=$1/sbin/kdrelayd -c $2/kdrelay.conf" "$R$p" ||
		    fail "$p: $(grep ^ExecStart= "$R$p")"
		# Nothing but ExecStart= was touched.
		grep -v '^ExecStart=' "$u" >"$T/u.src"
		grep -v '^ExecStart=' "$R$p" >"$T/u.inst"
		cmp -s "$T/u.src" "$T/u.inst" ||
		    fail "$p: changed beyond ExecStart: $(diff "$T/u.src" "$T/u.inst")"
		[ "$(grep -c '^ExecStart=' "$R$p")" = 1 ] || fail "$p: ExecStart count"
	done
	cmp -s "$top/kdrelay.conf" "$R$2/kdrelay.conf" ||
	    fail "$2/kdrelay.conf is not the sample"
	cmp -s "$top/completion/kdrelayctl" \
	    "$R$1/share/bash-completion/completions/kdrelayctl" ||
	    fail "the bash completion is not completion/kdrelayctl"
	grep -q "^[[:space:]]*$1/sbin/kdrelayctl reopen" "$R$2/logrotate.d/kdrelayd" ||
	    fail "logrotate.d/kdrelayd: $(grep reopen "$R$2/logrotate.d/kdrelayd")"
	for p in "$1/share/bash-completion/completions/kdrelayctl" \
	    "$2/logrotate.d/kdrelayd"; do
		[ "$(mode "$p")" = 644 ] || fail "$p: mode $(mode "$p")"
	done
}

# --- PREFIX=/usr ------------------------------------------------------------
mk install DESTDIR="$R" PREFIX=/usr
check_layout /usr /etc
grep -q "ExecStart=/usr/sbin/kdrelayd -c /etc/kdrelay.conf --pair %i" \
    "$R/usr/lib/systemd/system/kdrelayd@.service" ||
    fail "kdrelayd@.service lost --pair %i"
# The installed daemon runs and accepts the installed file.
"$R/usr/sbin/kdrelayd" -c "$R/etc/kdrelay.conf" --check-config >"$T/out" ||
    fail "installed kdrelayd --check-config on the installed kdrelay.conf"
note "PREFIX=/usr: $(files | wc -l) files laid out as expected"

# An admin edits the configuration: a second install keeps it ...
printf '\n[pair mine]\nhost = /dev/pts/40\ntarget = /dev/pts/41\n' \
    >>"$R/etc/kdrelay.conf"
cp "$R/etc/kdrelay.conf" "$T/changed.conf"
mk install DESTDIR="$R" PREFIX=/usr
cmp -s "$T/changed.conf" "$R/etc/kdrelay.conf" ||
    fail "a second install replaced the changed kdrelay.conf"
grep -q "kdrelay.conf exists: kept" "$T/make.out" ||
    fail "install did not say it kept kdrelay.conf: $(cat "$T/make.out")"
note "second install: changed kdrelay.conf kept"

# ... and uninstall leaves it, saying so, and removes everything else.
mk uninstall DESTDIR="$R" PREFIX=/usr
[ "$(files)" = "/etc/kdrelay.conf" ] ||
    fail "after uninstall: $(files | tr '\n' ' ')"
cmp -s "$T/changed.conf" "$R/etc/kdrelay.conf" ||
    fail "uninstall touched the changed kdrelay.conf"
grep -q "kdrelay.conf differs from the sample: left in place" "$T/make.out" ||
    fail "uninstall did not say it left kdrelay.conf: $(cat "$T/make.out")"
note "uninstall: everything removed but the changed kdrelay.conf"

# An unchanged one goes with the rest.
rm "$R/etc/kdrelay.conf"
mk install DESTDIR="$R" PREFIX=/usr
mk uninstall DESTDIR="$R" PREFIX=/usr
[ -z "$(files)" ] || fail "after uninstall: $(files | tr '\n' ' ')"
note "uninstall of an untouched install: nothing left"

# --- another PREFIX and SYSCONFDIR: ExecStart= follows ----------------------
mk install DESTDIR="$R" PREFIX=/opt/kd SYSCONFDIR=/opt/kd/etc
check_layout /opt/kd /opt/kd/etc
note "PREFIX=/opt/kd: $(grep -h ^ExecStart= "$R"/opt/kd/lib/systemd/system/kdrelayd.service)"
mk uninstall DESTDIR="$R" PREFIX=/opt/kd SYSCONFDIR=/opt/kd/etc
[ -z "$(files)" ] || fail "after uninstall: $(files | tr '\n' ' ')"
note "ok"
