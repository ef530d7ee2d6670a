#!/bin/sh
# The command line and the configuration file's errors, as an admin meets
# them: every kind of bad file is refused with FILE:LINE: and the reason,
# exit 78, both when running (-c FILE) and with --check-config; a file that
# cannot be read names the file and why.  Usage errors exit 64 with one
# line.  --help and kdrelayd(8) mention every long option the source has.
. "$TESTS/lib/common.sh"
top=$(cd "$TESTS/.." && pwd)
K="$BUILD/kdrelayd"

# run CMD...: stdout in $T/out, stderr in $T/err, status in $rc; a daemon
# that started instead of refusing is stopped after 5 s (status 124).
run() {
	timeout 5 "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
one_line() {
	[ "$(wc -l <"$T/err")" = 1 ] ||
	    fail "$*: expected one line on stderr, got: $(cat "$T/err")"
}

# bad FILE LINE REGEX: refused with "FILE:LINE: " and a reason matching
# REGEX, exit 78, by the daemon and by --check-config.
bad() {
	for mode in run check; do
		if [ $mode = run ]; then run "$K" -c "$1"
		else run "$K" -c "$1" --check-config; fi
		[ $rc = 78 ] || fail "$mode $1: exit $rc, not 78: $(cat "$T/err")"
		one_line "$mode $1"
		grep -q -- "^kdrelayd: $1:$2: $3" "$T/err" ||
		    fail "$mode $1: expected '$1:$2: $3', got: $(cat "$T/err")"
		[ -s "$T/out" ] && fail "$mode $1: wrote to stdout: $(cat "$T/out")"
	done
	note "$(basename "$1"): $(cut -d: -f3- "$T/err")"
}

# unreadable FILE REASON: "FILE: REASON", exit 78, both ways.
unreadable() {
	f=$1; shift
	for mode in run check; do
		if [ $mode = run ]; then run "$@" "$K" -c "$f"
		else run "$@" "$K" -c "$f" --check-config; fi
		[ $rc = 78 ] || fail "$mode $f: exit $rc, not 78: $(cat "$T/err")"
		one_line "$mode $f"
		grep -q -- "^kdrelayd: $f: $REASON\$" "$T/err" ||
		    fail "$mode $f: expected '$f: $REASON', got: $(cat "$T/err")"
	done
	note "$(basename "$f"): $(cut -d: -f3- "$T/err")"
}

# --- configuration errors ---------------------------------------------
pair() { printf '[pair %s]\nhost = %s\ntarget = %s\n' "$1" "$2" "$3"; }

{ printf '# a comment\n[global]\nlog-level info\n'; } >"$T/syntax.conf"
bad "$T/syntax.conf" 3 "syntax error"

printf '[global]\n[pair x]\nunterminated = "abc\n' >"$T/quote.conf"
bad "$T/quote.conf" 3 "unterminated quoted value"

printf '[global]\nstats-interval = 5\nfrobnicate = yes\n' >"$T/key.conf"
bad "$T/key.conf" 3 "unknown key 'frobnicate' in \[global\]"

printf '[kdrelay]\n' >"$T/section.conf"
bad "$T/section.conf" 1 "unknown section \[kdrelay\]"

{ pair a /dev/pts/1 /dev/pts/2; printf 'hold-ms = 0\n'; } >"$T/value.conf"
bad "$T/value.conf" 4 "hold-ms: expected milliseconds from 1 to 1000, not '0'"

{ pair a /dev/pts/1 bogus:x; } >"$T/endpoint.conf"
bad "$T/endpoint.conf" 3 "target: .*unknown endpoint kind"

{ pair a /dev/pts/1 /dev/pts/2; echo; pair a /dev/pts/3 /dev/pts/4; } \
    >"$T/dup-pair.conf"
bad "$T/dup-pair.conf" 5 "duplicate pair 'a' (first at line 1)"

{ pair a /dev/pts/1 /dev/pts/2; pair b /dev/pts/3 /dev/pts/1; } \
    >"$T/dup-port.conf"
bad "$T/dup-port.conf" 6 "target: '/dev/pts/1' is already used by pair 'a'"

{ pair a /dev/pts/1 /dev/pts/2; printf 'hold-ms = 5\nhold-ms = 6\n'; } \
    >"$T/dup-key.conf"
bad "$T/dup-key.conf" 5 "duplicate key 'hold-ms'"

printf '[pair lonely]\nhost = /dev/pts/1\n' >"$T/no-target.conf"
bad "$T/no-target.conf" 1 "pair 'lonely' has no 'target'"

{ pair a /dev/pts/1 /dev/pts/2; printf 'packet-log = %s\n' "$T"; } >"$T/log-dir.conf"
bad "$T/log-dir.conf" 4 "packet-log: $T is a directory"

# Binary junk: a control byte, a NUL, bytes of no charset.
printf '[global]\nlog = stderr\n\001\002\377\376junk\000\n' >"$T/binary.conf"
bad "$T/binary.conf" 3 "invalid control character 0x01"
printf '[global]\nlog = st\000derr\n' >"$T/nul.conf"
bad "$T/nul.conf" 2 "NUL byte"
# Random bytes: some line is refused, never a crash.
head -c 65536 /dev/urandom >"$T/random.conf"
bad "$T/random.conf" "[0-9][0-9]*" ""

# A line of 1 MB.
{ printf '[global]\n# fine\n'; head -c 1048576 /dev/zero | tr '\0' a; echo; } \
    >"$T/long.conf"
bad "$T/long.conf" 3 "line too long (more than 4096 characters)"

# No pair is not an error: the daemon idles (test_config_start).
printf '# nothing\n[global]\n' >"$T/empty.conf"
run "$K" -c "$T/empty.conf" --check-config
[ $rc = 0 ] && grep -q "$T/empty.conf: OK, 0 pairs" "$T/out" ||
    fail "empty config: exit $rc: $(cat "$T/out" "$T/err")"

# Missing, a directory, unreadable (root reads a mode 000 file: as nobody).
REASON="No such file or directory"
unreadable "$T/missing.conf"
REASON="Is a directory"
mkdir "$T/dir.conf"
unreadable "$T/dir.conf"
cp "$T/value.conf" "$T/secret.conf"
chmod 000 "$T/secret.conf"
chmod 0711 "$T"		# nobody may look up the file, not read it
REASON="Permission denied"
if [ "$(id -u)" = 0 ]; then
	# nobody runs a copy it can reach (the checkout may be under /root).
	K=$(user_copy "$BUILD/kdrelayd")
	unreadable "$T/secret.conf" runuser -u nobody --
	K=$BUILD/kdrelayd
else
	unreadable "$T/secret.conf"
fi

# --- good files ---------------------------------------------------------
run "$K" -c "$top/kdrelay.conf" --check-config
[ $rc = 0 ] || fail "--check-config on the sample kdrelay.conf: exit $rc: $(cat "$T/err")"
grep -q "^$top/kdrelay.conf: OK, 0 pairs" "$T/out" ||
    fail "--check-config on the sample: $(cat "$T/out")"
note "sample: $(cat "$T/out")"
sed 's/^;\(\[pair \|host = \|target = \|allow-remote = \)/\1/' "$top/kdrelay.conf" >"$T/examples.conf"
run "$K" -c "$T/examples.conf" --pair win10 --check-config
[ $rc = 0 ] && grep -q "OK, 1 pair\$" "$T/out" ||
    fail "--check-config --pair win10: exit $rc: $(cat "$T/out" "$T/err")"
run "$K" -c "$T/examples.conf" --pair nosuch --check-config
[ $rc = 78 ] && grep -q "no pair named 'nosuch'" "$T/err" ||
    fail "--pair nosuch: exit $rc: $(cat "$T/err")"
# CRLF line ends and a BOM, as a Windows editor leaves them.
printf '\357\273\277[pair w]\r\nhost = /dev/pts/1\r\ntarget = "/dev/pts/2" # c\r\n' \
    >"$T/crlf.conf"
run "$K" -c "$T/crlf.conf" --check-config
[ $rc = 0 ] || fail "CRLF/BOM file: exit $rc: $(cat "$T/err")"

# --- usage errors: 64, one line ---------------------------------------
# usage REGEX ARGS...
usage() {
	want=$1; shift
	run "$K" "$@"
	[ $rc = 64 ] || fail "kdrelayd $*: exit $rc, not 64: $(cat "$T/err")"
	one_line "kdrelayd $*"
	grep -q -- "^kdrelayd: .*$want" "$T/err" ||
	    fail "kdrelayd $*: expected '$want', got: $(cat "$T/err")"
	[ -s "$T/out" ] && fail "kdrelayd $*: wrote to stdout"
	note "usage: kdrelayd $*: $(cat "$T/err")"
}
usage "HOST endpoint: bogus:x: unknown endpoint kind" bogus:x /dev/pts/1
usage "TARGET endpoint: tcp:nohost: " /dev/pts/1 tcp:nohost
usage "TARGET endpoint: /dev/pts/2,crlf=sometimes: " /dev/pts/1 /dev/pts/2,crlf=sometimes
usage "unknown option '--frobnicate'" --frobnicate /dev/pts/1 /dev/pts/2
usage "unknown option '-Z'" -Z /dev/pts/1 /dev/pts/2
usage "'--config' needs an argument" --config
usage "'--check-config' takes no argument" --check-config=yes
usage "expected two endpoints, HOST and TARGET, got 0"
usage "expected two endpoints, HOST and TARGET, got 1" /dev/pts/1
usage "expected two endpoints, HOST and TARGET, got 3" /dev/pts/1 /dev/pts/2 /dev/pts/3
usage "endpoints on the command line do not go with -c" -c "$top/kdrelay.conf" /dev/pts/1 /dev/pts/2
usage "--pair and --check-config need -c FILE" --pair win10
usage "--pair and --check-config need -c FILE" --check-config
usage "--hold-ms: '0' is too small: from 1 to 1000" --hold-ms 0 /dev/pts/1 /dev/pts/2
usage "--buffer-size: '1k' is too small: from 4096 to 16777216" --buffer-size 1k /dev/pts/1 /dev/pts/2
usage "--buffer-size: '1x' is not a number" --buffer-size 1x /dev/pts/1 /dev/pts/2
usage "--hold-ms is for the pair on the command line" -c "$top/kdrelay.conf" --hold-ms 9
usage "--match.* need --auto" --match 'win*' /dev/pts/1 /dev/pts/2
usage "--auto: which VMs? give --match GLOB" --auto
# An output file that cannot be made: said before anything starts, as the
# file's packet-log and capture are.
: >"$T/plain"
usage "--packet-log: $T/plain is not a directory" --packet-log "$T/plain/kd.log" /dev/pts/1 /dev/pts/2
usage "--capture: $T/plain is not a directory" --capture "$T/plain/a/kd.kdtrace" /dev/pts/1 /dev/pts/2
usage "--packet-log: $T is a directory" --packet-log "$T" /dev/pts/1 /dev/pts/2
# One the kernel refuses at the start (sysfs makes no files, for root
# either): EX_CANTCREAT, the pair and the key named, nothing relayed.
run "$K" --no-control --packet-log /sys/kernel/kdrelay-test.log \
    "unix-listen:$T/pl-h.sock" "unix-listen:$T/pl-t.sock"
[ $rc = 73 ] || fail "an uncreatable packet log: exit $rc, not 73: $(cat "$T/err")"
grep -q "err: kd: packet log /sys/kernel/kdrelay-test.log: Permission denied$" \
    "$T/err" || fail "an uncreatable packet log: $(cat "$T/err")"
note "packet log the kernel refuses: exit 73, $(grep -o 'kd: packet log.*' "$T/err")"

# --- --help and kdrelayd(8) against the source's longopts --------------
longs=$(sed -n '/^static const struct option longopts\[\] = {/,/^};/p' \
    "$top/src/daemon/kdrelayd.c" | sed -n 's/^[[:space:]]*{ "\([a-z0-9-]*\)",.*/\1/p')
[ "$(printf '%s\n' "$longs" | wc -l)" -ge 10 ] ||
    fail "could not read longopts from src/daemon/kdrelayd.c: '$longs'"
run "$K" --help
[ $rc = 0 ] || fail "--help: exit $rc"
[ -s "$T/err" ] && fail "--help wrote to stderr: $(cat "$T/err")"
cp "$T/out" "$T/help"
mandoc -Tascii -Owidth=200 "$top/man/kdrelayd.8" | sed 's/.\x08//g' >"$T/man" ||
    fail "cannot render man/kdrelayd.8"
missing=""
for o in $longs; do
	grep -Eq -- "--$o([^a-z0-9-]|\$)" "$T/help" || missing="$missing --help:--$o"
	grep -Eq -- "--$o([^a-z0-9-]|\$)" "$T/man" || missing="$missing kdrelayd.8:--$o"
done
[ -z "$missing" ] || fail "long options not documented:$missing"
# Options with a short form show it beside the long one.
shorts=$(sed -n '/^static const struct option longopts\[\] = {/,/^};/p' \
    "$top/src/daemon/kdrelayd.c" |
    sed -n "s/^[[:space:]]*{ \"\([a-z0-9-]*\)\",.*'\(.\)' },*\$/\2 \1/p")
printf '%s\n' "$shorts" | while read -r s l; do
	grep -q -- "-$s, --$l" "$T/help" || fail "--help: no '-$s, --$l'"
	grep -q -- "-$s, --$l" "$T/man" || fail "kdrelayd.8: no '-$s, --$l'"
done || exit 1
run "$K" --version
[ $rc = 0 ] && grep -q '^kdrelayd [0-9]' "$T/out" || fail "--version: $(cat "$T/out")"
note "ok: $(printf '%s\n' $longs | wc -l) long options documented in --help and kdrelayd(8)"
