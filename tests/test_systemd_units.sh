#!/bin/sh
# The systemd units: "systemd-analyze verify" has nothing to say about
# either, their hardening keeps an exposure level of at most 2.5, and
# notify.c's messages reach $NOTIFY_SOCKET (a path and an abstract name),
# one datagram each, both as built (libsystemd) and through the fallback
# built here without libsystemd.
set -u
: "${BUILD:?BUILD must be set}" "${TESTS:?TESTS must be set}"
top=$(cd "$TESTS/.." && pwd)
T=$(mktemp -d /tmp/kdrelay-units.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

# wait_for CMD...: poll up to 5 s for a command to succeed.
wait_for() {
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 100 ] && return 1
		sleep 0.05
	done
}

# --- systemd-analyze verify -------------------------------------------
# ExecStart= must name an executable that exists: point a copy of each unit
# at the built daemon, or at a stub while there is none yet.
exe="$BUILD/kdrelayd"
if [ ! -x "$exe" ]; then
	exe="$T/kdrelayd-stub"
	printf '#!/bin/sh\nexit 0\n' >"$exe"
	chmod +x "$exe"
	note "no $BUILD/kdrelayd: ExecStart points at a stub"
fi
# Documentation=man: pages are looked up: the repository's man pages.
mkdir -p "$T/units" "$T/man"
for page in "$top"/man/*.[0-9]; do
	[ -e "$page" ] || continue
	sec=${page##*.}
	mkdir -p "$T/man/man$sec"
	cp "$page" "$T/man/man$sec/"
done
for u in kdrelayd.service kdrelayd@.service; do
	sed "s|^ExecStart=/usr/sbin/kdrelayd |ExecStart=$exe |" \
	    "$top/systemd/$u" >"$T/units/$u"
	grep -q "^ExecStart=$exe -c /etc/kdrelay.conf" "$T/units/$u" ||
	    fail "$u: no 'ExecStart=/usr/sbin/kdrelayd -c /etc/kdrelay.conf'"
	out=$(cd "$T/units" && MANPATH="$T/man" SYSTEMD_LOG_COLOR=0 \
	    systemd-analyze verify "$T/units/$u" 2>&1)
	rc=$?
	# kdrelayd(8) is the daemon's page, written with the daemon.
	if [ ! -e "$top/man/kdrelayd.8" ]; then
		note "man/kdrelayd.8 is missing: not checked for $u"
		out=$(printf '%s\n' "$out" |
		    grep -v "Command 'man kdrelayd(8)' failed")
		[ -n "$out" ] || rc=0
	fi
	[ $rc = 0 ] && [ -z "$out" ] ||
	    fail "systemd-analyze verify $u (status $rc): $out"
	note "verify $u: clean"

	out=$(cd "$T/units" && systemd-analyze security --offline=true \
	    --threshold=25 "$T/units/$u" 2>&1) ||
	    fail "$u: exposure above 2.5: $(printf '%s\n' "$out" | tail -n 1)"
	note "$u: $(printf '%s\n' "$out" | grep 'Overall exposure')"
done
grep -Eq '^ExecStart=.* --pair %i( |$)' "$top/systemd/kdrelayd@.service" ||
    fail "kdrelayd@.service does not run the one pair %i"
# Instances side by side: each its own control socket.
grep -q '^ExecStart=.* --control /run/kdrelay/%i.control' \
    "$top/systemd/kdrelayd@.service" ||
    fail "kdrelayd@.service instances would share one control socket"
grep -q '^Type=notify$' "$top/systemd/kdrelayd.service" ||
    fail "kdrelayd.service is not Type=notify"

# --- NOTIFY_SOCKET ------------------------------------------------------
[ -x "$BUILD/helpers/notifytest" ] ||
    fail "$BUILD/helpers/notifytest missing (make helpers)"
# The same helper without libsystemd: notify.c's own datagram code.
${CC:-cc} -std=gnu11 -D_GNU_SOURCE -Wall -I"$top/include/daemon" -I"$top/include/util" \
    -o "$T/notifytest-fallback" "$TESTS/helpers/notifytest.c" \
    "$top/src/daemon/notify.c" "$top/src/util/sock.c" \
    "$top/src/util/errbuf.c" "$top/src/util/log.c" || fail "cannot build the fallback notifytest"

# records DUMP: one line per datagram, "LENGTH|DATA" with newlines as \n,
# from socat -v's dump (a header with length= before each datagram).
records() {
	sed 's|> [0-9]\{4\}/[0-9][0-9]/[0-9][0-9] [0-9:.]*  length=|\n@@|g' "$1" |
	    awk '
		/^@@/ { if (n) print len "|" data; n++; split(substr($0, 3), f, " ");
			len = f[1]; data = ""; first = 1; next }
		n { data = data (first ? "" : "\\n") $0; first = 0 }
		END { if (n) print len "|" data }'
}

# listen ADDRESS-KIND NAME: socat receiving datagrams, dump in $T/dump.
listen() {
	: >"$T/dump"
	socat -u -v "$1:$2" OPEN:/dev/null 2>"$T/dump" &
	SOCAT=$!
	PIDS="$PIDS $SOCAT"
}

dgrams_ge() { [ "$(grep -c 'length=' "$T/dump")" -ge "$1" ]; }

# check BINARY NOTIFY_SOCKET
check() {
	NOTIFY_SOCKET="$2" "$1" -s || fail "$1 exited with $?"
	wait_for dgrams_ge 4 ||
	    fail "$1 -> $2: only $(grep -c 'length=' "$T/dump") datagrams"
	kill "$SOCAT"; wait "$SOCAT" 2>/dev/null
	records "$T/dump" >"$T/got"
	# Each datagram whole: the length socat read is the text's length.
	awk -F'|' '{ d = $2; gsub(/\\n/, "\n", d);
	    if (length(d) != $1) { print "length " $1 " != " length(d) ": " $0; exit 1 } }' \
	    "$T/got" || fail "$2: a datagram was cut or merged"
	sed -n 1p "$T/got" | grep -qx '7|READY=1' ||
	    fail "$2: first datagram: $(sed -n 1p "$T/got")"
	sed -n 2p "$T/got" | grep -qx '21|STATUS=host connected' ||
	    fail "$2: second datagram: $(sed -n 2p "$T/got")"
	# RELOADING=1 and MONOTONIC_USEC in one message (systemd 253+).
	sed -n 3p "$T/got" |
	    grep -qx '[0-9]*|RELOADING=1\\nMONOTONIC_USEC=[1-9][0-9]*' ||
	    fail "$2: third datagram: $(sed -n 3p "$T/got")"
	sed -n 4p "$T/got" | grep -qx '10|STOPPING=1' ||
	    fail "$2: fourth datagram: $(sed -n 4p "$T/got")"
	[ "$(wc -l <"$T/got")" = 4 ] || fail "$2: extra datagrams: $(cat "$T/got")"
	note "$(basename "$1") -> $2: READY, STATUS, RELOADING+MONOTONIC_USEC, STOPPING"
}

for bin in "$BUILD/helpers/notifytest" "$T/notifytest-fallback"; do
	rm -f "$T/notify.sock"
	listen UNIX-RECV "$T/notify.sock"
	wait_for test -S "$T/notify.sock" || fail "socat did not bind"
	check "$bin" "$T/notify.sock"

	name="kdrelay-test-$$-$(basename "$bin")"
	listen ABSTRACT-RECV "$name"
	wait_for grep -q "@$name\$" /proc/net/unix || fail "socat did not bind @$name"
	check "$bin" "@$name"

	# Unset or unusable: nothing to do, and no failure.
	env -u NOTIFY_SOCKET "$bin" -s || fail "$bin without NOTIFY_SOCKET"
	NOTIFY_SOCKET=relative/path "$bin" -s || fail "$bin, relative path"
	NOTIFY_SOCKET="$T/none.sock" "$bin" -s || fail "$bin, no listener"
done
note "ok"
