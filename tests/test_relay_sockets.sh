#!/bin/sh
# Unix and TCP endpoints, listening and connecting, each carry a transfer.
. "$TESTS/lib/common.sh"
N=4194304
random "$T/x" $N
random "$T/y" $N
port=$(free_port)

note "unix-listen <-> tcp-listen"
relay -n listen "unix-listen:$T/h.sock" "tcp-listen:$port"
wait_for -S "$T/h.sock" || fail "no unix socket"
[ "$(stat -c %a "$T/h.sock")" = 600 ] || fail "unix socket mode $(stat -c %a "$T/h.sock")"
# Bytes sent while the other side has no client are dropped by design, so
# the unix client connects first and sends only once the tcp one is heard.
"$BUILD/helpers/xfer" -t 60 -w "unix:$T/h.sock" "$T/x" "$T/y.in" $N & A=$!
wait_log "$T/relay.log" "host: .*client connected" || fail "unix client not seen"
"$BUILD/helpers/xfer" -t 60 "tcp:127.0.0.1:$port" "$T/y" "$T/x.in" $N || fail "tcp client"
wait $A || fail "unix client"
same "$T/x" "$T/x.in"
same "$T/y" "$T/y.in"
kill $RELAY; wait $RELAY 2>/dev/null

note "unix <-> tcp (QEMU-style servers played by socat)"
bg socat UNIX-LISTEN:"$T/q.sock" PTY,raw,echo=0,link="$T/q.guest"
bg socat TCP-LISTEN:$((port + 1)),bind=127.0.0.1,reuseaddr PTY,raw,echo=0,link="$T/w.guest"
wait_for -S "$T/q.sock" || fail "socat unix listener"
relay -n connect "unix:$T/q.sock" "tcp:127.0.0.1:$((port + 1))"
wait_for -e "$T/q.guest" -a -e "$T/w.guest" || fail "relay did not connect"
rm -f "$T/x.in" "$T/y.in"
"$BUILD/helpers/xfer" -t 60 "$T/q.guest" "$T/x" "$T/y.in" $N & A=$!
"$BUILD/helpers/xfer" -t 60 "$T/w.guest" "$T/y" "$T/x.in" $N || fail "tcp side"
wait $A || fail "unix side"
same "$T/x" "$T/x.in"
same "$T/y" "$T/y.in"
note "ok"
