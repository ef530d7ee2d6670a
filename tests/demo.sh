#!/bin/sh
# make demo: two simulated VMs on socat ptys, the target's serial line
# corrupting every 0x0a into 0x0d 0x0a the way a Xen stubdomain console does,
# kdrelayd between them, and a KD session played through both ways by two
# kdreplay processes (one per VM), checked packet for packet.
set -u
BUILD=$(cd "${1:-build}" && pwd)
T=$(mktemp -d /tmp/kdrelay-demo.XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT INT TERM
say() { printf '%s\n' "$*"; }

vm() {
	socat PTY,raw,echo=0,link="$T/$1.guest" PTY,raw,echo=0,link="$T/$1.vm" &
	PIDS="$PIDS $!"
	i=0; while [ ! -e "$T/$1.guest" ] || [ ! -e "$T/$1.vm" ]; do
		i=$((i + 1)); [ $i -gt 200 ] && { say "socat failed"; exit 1; }; sleep 0.05
	done
}

# play NAME TRACE: one session through kdrelayd; prints both players' lines.
play() {
	vm host; vm target
	"$BUILD/kdrelayd" -n demo --packet-log "$T/$1.pktlog" "$T/host.vm" "$T/target.vm" 2>"$T/$1.relay.log" &
	relay=$!; PIDS="$PIDS $relay"
	"$BUILD/kdreplay" --as target --onlcr "$2" "$T/target.guest" >"$T/$1.target" 2>&1 & tp=$!
	"$BUILD/kdreplay" --as debugger "$2" "$T/host.guest" >"$T/$1.debugger" 2>&1; dr=$?
	wait $tp; tr=$?
	kill -TERM $relay; wait $relay 2>/dev/null
	sed 's/^/    /' "$T/$1.debugger" "$T/$1.target"
	say "    relay:"
	grep -E 'switched|->' "$T/$1.relay.log" | sed 's/^[^:]*: [a-z]*: /      /'
	# Detection holds the first packet the corruption hits: no RESEND.
	rs=$(sed -n 's/.* resends sent=\([0-9]*\) .*/\1/p' "$T/$1.debugger" "$T/$1.target" |
	    awk '{ n += $1 } END { print n + 0 }')
	say "    RESENDs the players had to ask for: $rs"
	explain "$1"
	[ $dr = 0 ] && [ $tr = 0 ] && [ "$rs" = 0 ]
}

# explain NAME: what the lines above mean where they could mislead.
explain() {
	if grep -q 'RESEND sent' "$T/$1.debugger" "$T/$1.target"; then
		say "    (\"record N: ... packet, RESEND sent\": that player received"
		say "    packet N damaged on the line and asked for it again, as a KD"
		say "    peer does; the other side sent it again and the session went on.)"
	fi
	if grep -q ' [1-9][0-9]* resends,' "$T/$1.relay.log"; then
		say "    (The relay's \"resends\" count RESEND packets that are part of the"
		say "    recorded session itself, replayed as WinDbg and the target sent"
		say "    them then: not recovery on this line.)"
	fi
}

say "kdrelayd demo: a KD session through a corrupting serial line"
say ""
"$BUILD/kdgen" -s 7 -o "$T/session.kdtrace" || exit 1
say "1. A generated session ($(wc -c <"$T/session.kdtrace") bytes of KDCOM packets,"
say "   payloads full of 0x0a), target line corrupting, crlf=auto:"
play gen "$T/session.kdtrace" && ok1=1 || ok1=0
fixture="${KDRELAY_SHARED:-$(dirname "$0")/../../shared}/fixtures/windbg-session.kdtrace"
ok2=1
say ""
if [ ! -r "$fixture" ]; then
	say "2. The real WinDbg session: skipped, $fixture"
	say "   is absent (it comes in ../shared beside the checkout; the generated"
	say "   session above covers the same ground)."
else
	for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; PIDS=""
	rm -f "$T"/*.vm "$T"/*.guest
	say "2. The real WinDbg session from ../shared/fixtures, same line:"
	play real "$fixture" && ok2=1 || ok2=0
fi
say ""
say "DbgPrint text the relay logged (TraceAssist-style), first lines:"
grep -h '"' "$T"/*.pktlog 2>/dev/null | sed 's/^.*DEBUG_IO.*PrintString /    /' | head -5
say ""
if [ $ok1 = 1 ] && [ $ok2 = 1 ]; then
	say "RESULT: every packet arrived intact through the corrupting line,"
	say "        the first one included: not one RESEND."
	exit 0
fi
say "RESULT: FAILED (logs above)"
exit 1
