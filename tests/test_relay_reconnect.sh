#!/bin/sh
# A VM's pty disappears while the other side keeps sending, then comes back
# (a new socat, same path): the relay survives, what was sent meanwhile is
# dropped and counted (never delivered to the new session), traffic resumes.
. "$TESTS/lib/common.sh"
vm host
vm target
relay "$T/host.vm" "$T/target.vm"
wait_log "$T/relay.log" "target: .*connected" || fail "target not opened"
wait_log "$T/relay.log" "host: .*connected" || fail "host not opened"
random "$T/a" 1048576
"$BUILD/helpers/xfer" -t 30 "$T/target.guest" - "$T/a.in" 1048576 & R=$!
"$BUILD/helpers/xfer" -t 30 "$T/host.guest" "$T/a" /dev/null 0 || fail "first send"
wait $R || fail "first transfer"
same "$T/a" "$T/a.in"

note "target VM goes away"
kill $VM_target
wait_log "$T/relay.log" "target: .*\(lost\|end of file\|error\)" || fail "loss not logged"
head -c 65536 /dev/zero | tr '\0' S >"$T/stale"
"$BUILD/helpers/xfer" -t 10 "$T/host.guest" "$T/stale" /dev/null 0 || fail "stale send"
# Every stale byte must have been read and dropped before the VM returns.
i=0
while :; do
	kill -USR1 $RELAY
	sleep 0.1
	d=$(grep 'host->target:' "$T/relay.log" | tail -1 | sed -n 's/.* \([0-9]*\) dropped.*/\1/p')
	[ "${d:-0}" -ge 65536 ] && break
	i=$((i + 1)); [ $i -gt 100 ] && fail "stale bytes not counted as dropped (got ${d:-none})"
done
note "65536 stale bytes dropped and counted"
losses=$(grep -c "target: .*connected" "$T/relay.log")

note "target VM comes back"
vm target
wait_log "$T/relay.log" "target: .*connected" $((losses + 1)) || fail "no reconnect"
random "$T/b" 1048576
random "$T/c" 1048576
"$BUILD/helpers/xfer" -t 30 "$T/host.guest" "$T/b" "$T/c.in" 1048576 & H=$!
"$BUILD/helpers/xfer" -t 30 "$T/target.guest" "$T/c" "$T/b.in" 1048576 || fail "target side after reconnect"
wait $H || fail "host side after reconnect"
same "$T/b" "$T/b.in"
same "$T/c" "$T/c.in"
kill -0 $RELAY || fail "relay died"
note "traffic resumed both ways, no stale byte delivered"
