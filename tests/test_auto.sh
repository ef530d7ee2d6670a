#!/bin/sh
# test_auto.sh - kdrelayd --auto against a real oxenstored: domains come
# and go, and each running one whose name matches gets its own pair.
#   1. win7, win10, linux appear (plus Domain-0 and a "win-dm" that look
#      like infrastructure): only win7 and win10 get a unix-listen socket
#      in /run/kdrelay (made 0700), each carrying its own VM's traffic;
#   2. win7 is destroyed: its pair and socket go, win10's stays and works;
#      win7 comes back with a new domid: its pair is back;
#   3. --tcp-ports: a port per VM from the range, kept while it runs;
#   4. --pair-with %n-dbg: a target and its debugger VM are paired (only
#      once both exist), guest to guest.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/xenstore.sh"
. "$TESTS/lib/xenvm.sh"
xs_enter_namespace "$@"
need socat ss
xs_start
SOCKS=/run/kdrelay

relay_start a --auto --match 'win*' --match 'Domain-*'
log_wait a "auto: watching xenstore" || fail "auto-discovery did not start"
xvm w7
xs_domain_create win7 5 "$XVM_TTY"
xvm w10
xs_domain_create win10 6 "$XVM_TTY"
xvm lx
xs_domain_create linux 7 "$XVM_TTY"
xvm wdm
xs_domain_create win-dm 8 "$XVM_TTY"
xenstore-write /local/domain/0/name Domain-0 || fail "naming Domain-0"
wait_until 5 test -S "$SOCKS/win7.sock" -a -S "$SOCKS/win10.sock" ||
    fail "no sockets for win7 and win10"
[ "$(stat -c %a "$SOCKS")" = 700 ] || fail "$SOCKS is not mode 0700"
log_wait a "auto: win7 appeared: pair win7, unix-listen:$SOCKS/win7.sock <-> xen:win7" ||
    fail "win7's pair not logged"
log_wait a "win7/target: xen:win7: connected$" || fail "win7 not opened"
log_wait a "win10/target: xen:win10: connected$" || fail "win10 not opened"
exchange "unix:$SOCKS/win7.sock" "$T/w7.guest" 65536 || fail "win7 traffic"
exchange "unix:$SOCKS/win10.sock" "$T/w10.guest" 65536 ||
    fail "win10 traffic"
ls "$SOCKS" >"$T/socks"
[ "$(cat "$T/socks")" = "win10.sock
win7.sock" ] || fail "unexpected pairs: $(tr '\n' ' ' <"$T/socks")"
for n in linux win-dm Domain-0; do
	grep -q "auto: $n appeared" "$T/a.log" && fail "$n got a pair"
done
note "win7 and win10 paired; linux, win-dm, Domain-0 not"

# 2. A domain goes, and comes back.
xs_domain_destroy 5
log_wait a "auto: win7 is gone: pair removed" || fail "win7's end not seen"
wait_until 5 test ! -e "$SOCKS/win7.sock" || fail "win7's socket stayed"
exchange "unix:$SOCKS/win10.sock" "$T/w10.guest" 65536 ||
    fail "win10 traffic after win7 went"
[ "$(log_count a "auto: win10 appeared")" = 1 ] || fail "win10 was redone"
xs_domain_create win7 15 "$(readlink "$T/w7.dom0")"
log_wait a "auto: win7 appeared" 2 || fail "win7 did not come back"
wait_until 5 test -S "$SOCKS/win7.sock" || fail "win7's socket not back"
log_wait a "win7/target: xen:win7: connected$" 2 || fail "win7 not reopened"
exchange "unix:$SOCKS/win7.sock" "$T/w7.guest" 65536 ||
    fail "win7 traffic after its return"
[ "$(log_count a "appeared")" = 3 ] || fail "a pair appeared twice"
note "win7 gone and back; win10 untouched"
stop "$RELAY_PID"
wait_until 5 test ! -e "$SOCKS/win10.sock" || fail "sockets left at exit"

# 3. TCP ports from a range, one per VM, kept while it runs.
lo=$(free_port)
relay_start p --auto --match 'win*' --tcp-ports "$lo-$((lo + 3))"
log_wait p "auto: win7: port " || fail "no port for win7"
log_wait p "auto: win10: port " || fail "no port for win10"
p7=$(sed -n 's/.*auto: win7: port \([0-9]*\).*/\1/p' "$T/p.log")
p10=$(sed -n 's/.*auto: win10: port \([0-9]*\).*/\1/p' "$T/p.log")
[ "$p7" != "$p10" ] && [ "$p7" -ge "$lo" ] && [ "$p7" -le $((lo + 1)) ] &&
    [ "$p10" -ge "$lo" ] && [ "$p10" -le $((lo + 1)) ] ||
    fail "ports $p7 and $p10 are not the two lowest of $lo-$((lo + 3))"
log_wait p "win10/target: xen:win10: connected$" || fail "win10 (tcp)"
exchange "tcp:127.0.0.1:$p10" "$T/w10.guest" 65536 || fail "tcp traffic"
xvm w11
xs_domain_create win11 16 "$XVM_TTY"
log_wait p "auto: win11: port $((lo + 2))" || fail "win11: not the next port"
[ "$(log_count p ": port ")" = 3 ] || fail "a port changed hands"
ss -Htln "sport = :$p7" | grep -q . || fail "win7's port is not listening"
note "tcp ports $p7, $p10, $((lo + 2)) (range $lo-$((lo + 3)))"
stop "$RELAY_PID"

# 4. --pair-with: target and debugger VM, guest to guest.
relay_start w --auto --match 'tgt*' --pair-with '%n-dbg'
xvm t1
xs_domain_create tgt1 21 "$XVM_TTY"
xvm t2
xs_domain_create tgt2 22 "$XVM_TTY"
xvm d1
xs_domain_create tgt1-dbg 23 "$XVM_TTY"
log_wait w "auto: tgt1 appeared: pair tgt1, xen:tgt1-dbg <-> xen:tgt1" ||
    fail "tgt1 not paired with tgt1-dbg"
log_wait w "tgt1/host: xen:tgt1-dbg: connected$" || fail "tgt1-dbg not opened"
log_wait w "tgt1/target: xen:tgt1: connected$" || fail "tgt1 not opened"
exchange "$T/d1.guest" "$T/t1.guest" 65536 || fail "debugger <-> target"
grep -q "auto: tgt2 appeared" "$T/w.log" && fail "tgt2 paired without a debugger"
grep -q "auto: tgt1-dbg appeared" "$T/w.log" && fail "a debugger VM got a pair"
xvm d2
xs_domain_create tgt2-dbg 24 "$XVM_TTY"
log_wait w "auto: tgt2 appeared: pair tgt2, xen:tgt2-dbg <-> xen:tgt2" ||
    fail "tgt2 not paired once tgt2-dbg exists"
log_wait w "tgt2/target: xen:tgt2: connected$" || fail "tgt2 not opened"
log_wait w "tgt2/host: xen:tgt2-dbg: connected$" || fail "tgt2-dbg not opened"
exchange "$T/d2.guest" "$T/t2.guest" 65536 || fail "tgt2-dbg <-> tgt2"
note "pair-with: tgt1 and tgt2 paired with their -dbg VMs"
alive "$RELAY_PID" || fail "relay died"
exit 0
