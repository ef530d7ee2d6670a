#!/bin/sh
# A path given as an endpoint is checked for what it must be before a byte
# is written to it (issue 10, defects 1 and 6): a regular file, a directory
# or a /dev/null as a tty, a file as unix:, are refused with one line (64
# on the command line, FILE:LINE and 78 in a file) or, when the path turns
# into one later, a logged error; the file is never written.  And the
# messages: the path a pve: endpoint waits for, "not a socket", the spec
# named once, tcp-listen off loopback is a usage error.
. "$TESTS/lib/common.sh"
K="$BUILD/kdrelayd"
printf precious >"$T/file"
mkdir "$T/dir"

# usage WANT ARGS...: exit 64, one line matching WANT, nothing else.
usage() {
	want=$1; shift
	timeout 5 "$K" "$@" >/dev/null 2>"$T/err"; rc=$?
	[ $rc = 64 ] || fail "kdrelayd $*: exit $rc, not 64: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "kdrelayd $*: not one line: $(cat "$T/err")"
	grep -q -- "^kdrelayd: $want" "$T/err" ||
	    fail "kdrelayd $*: expected '$want', got: $(cat "$T/err")"
}
vm target
usage "HOST endpoint: $T/file is a regular file, not a tty" "$T/file" "$T/target.vm"
usage "TARGET endpoint: $T/dir is a directory, not a tty" "$T/target.vm" "pty:$T/dir"
usage "HOST endpoint: $T/file is a regular file, not a socket" "unix:$T/file" "$T/target.vm"
usage "HOST endpoint: $T/target.vm is a character device, not a socket" "unix:$T/target.vm" tcp:localhost:1
usage "TARGET endpoint: $T/target.vm,crlf=on is the same endpoint as HOST" "$T/target.vm" "$T/target.vm,crlf=on"
usage "HOST endpoint: tcp-listen:0.0.0.0:9 listens on 0.0.0.0, reachable" tcp-listen:0.0.0.0:9 "$T/target.vm"
usage 'HOST endpoint: foo:bar: unknown endpoint kind "foo:"' foo:bar "$T/target.vm"
[ "$(grep -o 'foo:bar' "$T/err" | wc -l)" = 1 ] || fail "the spec twice: $(cat "$T/err")"
note "ok: file, directory, non-socket, same endpoint twice, exposed listener, unknown kind: 64, one line"

printf '[pair a]\nhost = %s\n\ntarget = %s\n' "$T/target.vm" "$T/file" >"$T/a.conf"
for mode in run check; do
	if [ $mode = run ]; then timeout 5 "$K" -c "$T/a.conf" 2>"$T/err"
	else timeout 5 "$K" -c "$T/a.conf" --check-config 2>"$T/err"; fi
	rc=$?
	[ $rc = 78 ] || fail "$mode: exit $rc, not 78: $(cat "$T/err")"
	grep -q "^kdrelayd: $T/a.conf:4: target: $T/file is a regular file, not a tty" "$T/err" ||
	    fail "$mode: $(cat "$T/err")"
done
note "ok: in a file, FILE:LINE and 78, run and --check-config alike"

# A path that becomes something else after the start: a logged error, and
# not one byte written.  The link first names a regular file, then a
# directory, then /dev/null, then the real pty.  (At the start each would
# have been refused with 64, as above.)
relay "$T/h" "$T/target.vm"
wait_log "$T/relay.log" "kd/host: .*waiting for it to appear" || fail "not waiting for $T/h"
ln -s "$T/file" "$T/h"
wait_log "$T/relay.log" "kd/host: $T/h: a regular file, not a tty; retrying" ||
    fail "no error for the regular file: $(cat "$T/relay.log")"
grep -q "err: kd/host: $T/h: a regular file" "$T/relay.log" || fail "not logged as an error"
printf 'XXXX' >"$T/target.guest"
ln -sfn "$T/dir" "$T/h"
wait_log "$T/relay.log" "kd/host: $T/h: a directory, not a tty" || fail "no error for the directory"
ln -sfn /dev/null "$T/h"
wait_log "$T/relay.log" "kd/host: $T/h: a character device that is not a tty" || fail "no error for /dev/null"
vm host
ln -sfn "$(readlink "$T/host.vm")" "$T/h"
wait_log "$T/relay.log" "kd/host: .*connected" || fail "the pty behind the link not opened"
[ "$(cat "$T/file")" = precious ] || fail "the regular file was written: $(cat "$T/file")"
[ "$(grep -c "a regular file, not a tty" "$T/relay.log")" = 1 ] ||
    fail "the refusal logged more than once: $(cat "$T/relay.log")"
stop $RELAY
note "ok: a file, a directory, /dev/null refused at run time, each logged once; the file intact"

# unix: at a path that is not a socket says so, once.
: >"$T/relay.log"
relay "unix:$T/s" "$T/target.vm"
wait_log "$T/relay.log" "kd/host: .*waiting for it to appear" || fail "not waiting for $T/s"
ln -s "$T/file" "$T/s"
wait_log "$T/relay.log" "kd/host: unix:$T/s: a regular file, not a socket; retrying" ||
    fail "unix: at a file: $(cat "$T/relay.log")"
grep -q "Connection refused" "$T/relay.log" && fail "still 'Connection refused'"
stop $RELAY

# pve: names the socket it waits for.
: >"$T/relay.log"
relay pve:999 "$T/target.vm"
wait_log "$T/relay.log" "kd/host: pve:999: /var/run/qemu-server/999.serial0: No such file or directory; waiting" ||
    fail "pve:999 wait: $(cat "$T/relay.log")"
stop $RELAY
note "ok: 'not a socket', the socket pve:999 waits for"
