#!/bin/sh
# The control socket against clients that are not what they should be:
#  a) a stale socket at the path is replaced at start; a live one (another
#     daemon's) is left alone and that daemon keeps it;
#  b) a user who is not root: refused by the socket's mode (0600), and,
#     with the mode opened up, by SO_PEERCRED with a message and a log line;
#  c) 1,000 malformed requests on one connection: one ERR each, then the
#     daemon still answers; overlong and binary requests on others;
#  d) a watcher stopped (SIGSTOP) while 32 MiB of KD packets flow, and 20
#     others leaving in the middle: every byte arrives, the daemon's RSS
#     stays flat, the lines a watcher could not take are dropped, counted
#     and said.
. "$TESTS/lib/common.sh"
need socat python3 runuser timeout
. "$TESTS/lib/ctl.sh"

vm h
vm t

# --- a) stale socket replaced, live one left alone ---
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/control"
[ -S "$T/control" ] || fail "no stale socket made"
relay --control "$T/control" -n p "$T/h.vm,crlf=off" "$T/t.vm,crlf=off"
wait_log "$T/relay.log" "control: removed the stale socket $T/control" ||
    fail "stale socket not replaced: $(cat "$T/relay.log")"
wait_until 10 ctl pairs || fail "no answer on the replacing socket"
first=$RELAY
"$BUILD/kdrelayd" -v --control "$T/control" -n q /dev/null-x /dev/null-y \
    2>"$T/second.log" &
second=$!
track $second
wait_log "$T/second.log" "$T/control is in use by another listener; no control socket" ||
    fail "second daemon: $(cat "$T/second.log")"
stop $second
[ "$(ctl pairs)" = p ] || fail "the first daemon lost its socket"
note "ok: stale socket replaced; a live one left to its daemon"
for s in host target; do
	wait_log "$T/relay.log" "p/$s: .*connected" || fail "p/$s did not connect"
done

# --- b) not root: refused ---
D=$(mktemp -d /tmp/kdrelay-ctl.XXXXXX)
atexit "rm -rf '$D'"
chmod 755 "$D"
cp "$CTL" "$D/kdrelayctl"
stop "$first"
[ ! -e "$T/control" ] || fail "socket left after exit"
: >"$T/relay.log"
relay --control "$D/control" -n p "$T/h.vm,crlf=off" "$T/t.vm,crlf=off"
wait_for -S "$D/control" || fail "no socket in $D"
runuser -u nobody -- "$D/kdrelayctl" -s "$D/control" status 2>"$T/err"; rc=$?
[ $rc = 77 ] && grep -q 'Permission denied' "$T/err" ||
    fail "nobody, mode 0600: exit $rc, $(cat "$T/err")"
chmod 666 "$D/control"		# as if the mode were wrong: credentials hold
runuser -u nobody -- "$D/kdrelayctl" -s "$D/control" status 2>"$T/err"; rc=$?
[ $rc = 77 ] && grep -q 'only root' "$T/err" ||
    fail "nobody, mode 0666: exit $rc, $(cat "$T/err")"
wait_log "$T/relay.log" "control: refused uid $(id -u nobody)" ||
    fail "no log line for the refusal"
"$D/kdrelayctl" -s "$D/control" pairs >/dev/null || fail "root refused"
note "ok: nobody refused by the mode and by SO_PEERCRED: $(cat "$T/err")"
ctl() { "$CTL" -s "$D/control" "$@"; }
for s in host target; do
	wait_log "$T/relay.log" "p/$s: .*connected" || fail "p/$s did not connect"
done

# --- c) 1,000 malformed requests ---
python3 - "$D/control" >"$T/malformed.out" <<'EOF' || fail "malformed: $(tail -3 "$T/malformed.out")"
import random, socket, sys
random.seed(14)
bad = [b"", b" ", b"\t", b"frobnicate", b"STATUS", b"break", b"break a b",
       b"watch", b"capture p", b"capture-stop", b"reload now", b"help me",
       b'"status', b'status "p', b'status "a\\x"', b'status "a"b',
       b"status nosuch", b"break nosuch", b"watch nosuch",
       b"status " + b"p " * 70, b"status " + b"x" * 1100,
       b"status \x01", b"\x7f", b"st\x00atus", b"\xff\xfe", b"\x1b[2J"]
reqs = []
for i in range(1000):
    if i < len(bad):
        reqs.append(bad[i])
    elif i % 2:
        reqs.append(random.choice(bad) + bytes(random.choice(b"\x00\x01\x1b\x7f\"")
                    for _ in range(random.randint(1, 5))))
    else:
        n = random.randint(1, 300)
        r = bytes(random.choice(range(256)) for _ in range(n)).replace(b"\n", b"")
        reqs.append(b"\x00" + r)  # a NUL: never a valid request
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"".join(r + b"\n" for r in reqs))
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
lines = data.split(b"\n")[:-1]
errs = [l for l in lines if l.startswith(b"ERR ")]
print(len(lines), "replies,", len(errs), "ERR")
assert len(lines) == 1000 and len(errs) == 1000, (len(lines), len(errs), lines[:5])
assert all(min(l) >= 0x20 and max(l) < 0x7f for l in lines), "a reply with control bytes"
# Others: overlong without a newline, and half a request then gone.
for req in (b"status " + b"y" * 9000, b"\x00" * 5000 + b"\n", b"stat"):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(req)
    s.shutdown(socket.SHUT_WR)
    r = s.recv(4096)
    assert r.startswith(b"ERR "), (req[:20], r)
    print(r.decode().strip())
EOF
ctl pairs >/dev/null || fail "the daemon no longer answers"
alive "$RELAY" || fail "the daemon died"
note "ok: $(head -1 "$T/malformed.out"); daemon fine"

# --- d) a stopped watcher during 32 MiB of packets ---
"$BUILD/kdgen" -s 3 -n 20 -o "$T/s.kdtrace" || fail kdgen
"$BUILD/helpers/kdstat" -w T "$T/s.kdtrace" >"$T/one.bin" || fail kdstat
one=$(stat -c %s "$T/one.bin")
n=$((32 * 1024 * 1024 / one))
i=0
while [ $i -lt $n ]; do cat "$T/one.bin"; i=$((i + 1)); done >"$T/big.bin"
size=$(stat -c %s "$T/big.bin")
# flood [N]: big.bin from the target to the host through the relay,
# every byte checked; N watchers that leave after the first 4 MiB.  The
# daemon's largest RSS meanwhile in $max.
flood() {
	churn=""
	_i=0
	while [ $_i -lt "${1:-0}" ]; do
		"$CTL" -s "$D/control" watch p >/dev/null 2>&1 &
		churn="$churn $!"; track $!
		_i=$((_i + 1))
	done
	rm -f "$T/got.bin"
	bg "$BUILD/helpers/xfer" -t 120 "$T/h.guest" - "$T/got.bin" "$size"
	_recv=$LAST
	bg "$BUILD/helpers/xfer" -t 120 "$T/t.guest" "$T/big.bin" /dev/null 0
	_send=$LAST
	max=$(rss "$RELAY")
	while alive $_recv; do
		_r=$(rss "$RELAY"); [ "${_r:-0}" -gt "$max" ] && max=$_r
		if [ -n "$churn" ] && [ "$(stat -c %s "$T/got.bin" 2>/dev/null ||
		    echo 0)" -gt 4194304 ]; then
			kill $churn
			churn=""
		fi
		sleep 0.1
	done
	wait $_send || fail "sending 32 MiB"
	wait $_recv || fail "the host side did not get the 32 MiB"
	[ -z "$churn" ] || fail "the transfer ended before 4 MiB were seen"
	_r=$(rss "$RELAY"); [ "$_r" -gt "$max" ] && max=$_r
	cmp -s "$T/big.bin" "$T/got.bin" || fail "the 32 MiB arrived changed"
}

# 20 watchers that leave in the middle, each with lines still coming
# into its ring.
flood 20
wait_log "$T/relay.log" "a watcher left" 20 ||
    fail "not 20 log lines for the watchers that left:" \
	"$(grep -c 'a watcher left' "$T/relay.log")"
alive "$RELAY" || fail "the daemon died"

"$CTL" -s "$D/control" watch p >"$T/w.out" 2>"$T/w.err" &
watcher=$!
track $watcher
wait_log "$T/w.err" "watching p" || fail "watch: $(cat "$T/w.err")"
kill -STOP $watcher
before=$(rss "$RELAY")
[ -n "$before" ] || fail "no RSS for $RELAY"
flood
after=$(rss "$RELAY")
kill -CONT $watcher
wait_log "$T/w.err" "lines dropped" ||
    fail "the watcher was not told of drops: $(cat "$T/w.err")"
said=$(sed -n 's/.* lines dropped: .*(\([0-9]*\) in all)/\1/p' "$T/w.err" |
    tail -1)
stop $watcher
wait_log "$T/relay.log" "a watcher left; [0-9]* lines dropped" 21 ||
    fail "no log line for the stopped watcher's drops"
logged=$(sed -n 's/.*a watcher left; \([0-9]*\) lines dropped.*/\1/p' \
    "$T/relay.log" | tail -1)
[ -n "$said" ] && [ -n "$logged" ] && [ "$logged" -ge "$said" ] &&
    [ "$said" -gt 0 ] || fail "dropped: said '$said', logged '$logged';" \
	"the watcher: $(cat "$T/w.err"); the log: $(grep 'watcher left' \
	"$T/relay.log" | tail -3)"
grows=$((max - before))
# Its 256 KiB ring and what is queued to its socket, not the 4 MB of
# lines that went by.
[ $grows -lt 2048 ] ||
    fail "RSS grew from $before kB to $max kB with a watcher stopped"
alive "$RELAY" || fail "the daemon died"
note "ok: 32 MiB exact past a stopped watcher and 20 that came and went; RSS $before kB, at most" \
    "$max kB, $after kB after; $said lines dropped (said), $logged logged"
