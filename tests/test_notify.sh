#!/bin/sh
# kdrelayd as a Type=notify service: with NOTIFY_SOCKET pointing at a unix
# datagram socket this test listens on, READY=1 arrives once the pairs run,
# STATUS= says what each side is doing (and follows it), RELOADING=1 (with
# MONOTONIC_USEC) then READY=1 bracket a SIGHUP, a failed reload too, and
# STOPPING=1 is the last word at SIGTERM.
. "$TESTS/lib/common.sh"
sock="$T/notify.sock"

# The listener: socat -v dumps each datagram after a "length=" header.
: >"$T/dump"
bg socat -u -v UNIX-RECV:"$sock" OPEN:/dev/null 2>"$T/dump"
wait_for -S "$sock" || fail "socat did not bind $sock"

# dgrams: the datagrams so far, one a line, newlines inside shown as \n.
dgrams() {
	sed 's|> [0-9]\{4\}/[0-9][0-9]/[0-9][0-9] [0-9:.]*  length=[0-9]* from=[0-9]* to=[0-9]*$|\n@@|' "$T/dump" |
	    awk '/^@@/ { if (n) print rec; n = 1; rec = ""; first = 1; next }
		n { rec = rec (first ? "" : "\\n") $0; first = 0 }
		END { if (n) print rec }'
}
count() { dgrams | wc -l; }
# since N: the datagrams after the first N.
since() { dgrams | tail -n +"$(($1 + 1))"; }
# wait_dgram N REGEX: until a datagram after the first N matches (10 s).
wait_dgram() {
	i=0
	while ! since "$1" | grep -q -- "$2"; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1
		sleep 0.05
	done
}
# wait_status N TEXT: until the latest STATUS= after the first N is TEXT.
wait_status() {
	i=0
	while [ "$(since "$1" | grep '^STATUS=' | tail -n 1)" != "STATUS=$2" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			echo "datagrams:" >&2; dgrams >&2
			return 1
		fi
		sleep 0.05
	done
}
show() { dgrams | sed 's/^/    /'; }

vm host
cat >"$T/one.conf" <<EOF
[global]
log-level = info
[pair kd]
host = $T/host.vm
target = $T/target.vm
EOF
cp "$T/one.conf" "$T/kd.conf"
bg env NOTIFY_SOCKET="$sock" "$BUILD/kdrelayd" -v -c "$T/kd.conf" \
    2>>"$T/relay.log"
RELAY=$LAST

# --- start: READY=1, and STATUS= with the missing target ------------------
wait_dgram 0 '^READY=1$' || { show; fail "no READY=1 after start"; }
grep -q "kd: relaying" "$T/relay.log" || fail "READY=1 before the pair ran"
wait_status 0 "kd: host connected to $T/host.vm, target waiting for $T/target.vm" ||
    fail "STATUS= does not say the target is awaited"
note "READY=1; $(dgrams | grep '^STATUS=' | tail -n 1)"
since 0 | grep -q '^STOPPING=1$' && fail "STOPPING=1 while running"

# The target VM appears: the status follows.
vm target
wait_status 0 "kd: host connected to $T/host.vm, target connected to $T/target.vm" ||
    fail "STATUS= did not follow the target connecting"
note "$(dgrams | grep '^STATUS=' | tail -n 1)"

# --- SIGHUP adding a pair: RELOADING=1, READY=1, then the count ------------
cp "$T/one.conf" "$T/kd.conf"
cat >>"$T/kd.conf" <<EOF
[pair two]
host = $T/twohost.vm
target = $T/twotarget.vm
EOF
vm twohost
n=$(count)
kill -HUP "$RELAY"
wait_dgram "$n" '^READY=1$' || { show; fail "no READY=1 after SIGHUP"; }
first=$(since "$n" | head -n 1)
printf '%s\n' "$first" | grep -qx 'RELOADING=1\\nMONOTONIC_USEC=[1-9][0-9]*' ||
    { show; fail "first datagram after SIGHUP: '$first', not RELOADING=1"; }
since "$n" | sed -n '/^RELOADING=1/,$p' | grep -q '^READY=1$' ||
    fail "READY=1 did not follow RELOADING=1"
wait_status "$n" "2 pairs, 1 with both sides connected; two: host connected to $T/twohost.vm, target waiting for $T/twotarget.vm" ||
    fail "STATUS= after the reload"
note "SIGHUP: RELOADING=1 ... READY=1; $(dgrams | grep '^STATUS=' | tail -n 1)"
vm twotarget
wait_status "$n" "2 pairs, 2 with both sides connected" ||
    fail "STATUS= did not count both pairs connected"
note "$(dgrams | grep '^STATUS=' | tail -n 1)"

# --- a reload that fails: still RELOADING=1 then READY=1 -----------------
printf '[pair broken\n' >"$T/kd.conf"
n=$(count)
kill -HUP "$RELAY"
wait_dgram "$n" '^READY=1$' || { show; fail "no READY=1 after a failed reload"; }
since "$n" | head -n 1 | grep -q '^RELOADING=1' ||
    fail "failed reload: no RELOADING=1 first"
wait_log "$T/relay.log" "reload failed.*kd.conf:1: " ||
    fail "the failed reload was not logged with file:line"
note "failed reload: RELOADING=1 ... READY=1, logged"

# --- SIGTERM: STOPPING=1, last -------------------------------------------
n=$(count)
kill -TERM "$RELAY"
wait "$RELAY"; rc=$?
[ $rc = 0 ] || fail "kdrelayd exit status $rc on SIGTERM"
wait_dgram "$n" '^STOPPING=1$' || { show; fail "no STOPPING=1 at SIGTERM"; }
[ "$(dgrams | tail -n 1)" = "STOPPING=1" ] ||
    { show; fail "STOPPING=1 is not the last datagram"; }
[ "$(dgrams | grep -c '^READY=1$')" = 3 ] ||
    { show; fail "expected READY=1 three times (start, two reloads)"; }
note "ok: $(count) datagrams"
