#!/bin/sh
# A target that goes away ends the debugger's session cleanly (issue 12):
# the Xen project's kdd as the target on a TCP connection kdrelayd accepts
# (tcp-listen), tests/helpers/kddrive as the debugger through a unix
# socket.  After a full session (RESET, GetVersion, reads) kdd is killed,
# which closes the target's socket:
#  a) mid-session, the target running (the debugger sent Continue2): the
#     debugger receives exactly one documented STATE_CHANGE64 (0x3031,
#     UnloadSymbols 1, checked field by field by kddrive) with the id kdd
#     would have used next; it ACKs and continues, and nothing more comes;
#  b) the target stopped at a state change: the first copy, and after the
#     debugger's Continue2 the second with the next id, never a third;
#  c) with --no-target-shutdown nothing at all comes;
# with a packet log (the watch beside packet events) and without one (the
# watch alone, told of packets in brief, as kdrelayd runs by default); and
# each time a new kdd then connects, and its whole session (initial
# state change, RESET, DbgPrint, GetVersion, reads) reaches the same
# debugger, on the same connection, intact.  The relay logs each target
# shutdown once and counts it.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
need socat ss
peers_setup
start=$(date +%s)

# run NAME MODE [relay options...]: one debugger, two kdd sessions.
run() {
	_n=$1 _m=$2
	shift 2
	_port=$(free_port)
	: >"$T/relay.log"
	relay -n "$_n" "$@" \
	    "unix-listen:$T/$_n.sock" "tcp-listen:$_port"
	wait_for -S "$T/$_n.sock" || fail "$_n: no debugger socket"
	wait_until 5 _peers_listening "$_port" ||
	    fail "$_n: the relay does not listen on $_port"
	bg timeout 60 "$KDDRIVE" -i -t 40 -n 2 -l 1000 -S "$_m" \
	    -m "$T/$_n.mark" "unix:$T/$_n.sock" >"$T/$_n.drv" 2>"$T/$_n.drv.err"
	_drv=$LAST
	wait_log "$T/relay.log" "$_n/host: .*client connected" ||
	    fail "$_n: the debugger did not connect"
	kdd_start "$_port"
	wait_for -e "$T/$_n.mark.1" || {
		cat "$T/$_n.drv" "$T/$_n.drv.err" >&2
		fail "$_n: the first session did not complete"
	}
	kdd_stop
	wait_until 15 test -e "$T/$_n.mark.2" || {
		cat "$T/$_n.drv" "$T/$_n.drv.err" >&2
		fail "$_n: kddrive never finished with the target gone"
	}
	# The target comes back: a new kdd, the same debugger.
	kdd_start "$_port"
	wait "$_drv"
	RC=$?
	# The debugger left first: killing this kdd then says nothing.
	wait_log "$T/relay.log" "$_n/host: .*client left" ||
	    fail "$_n: the relay did not see the debugger leave"
	kdd_stop
	kill -USR1 "$RELAY"
	wait_log "$T/relay.log" "$_n: target->host: " ||
	    fail "$_n: no counters on SIGUSR1"
	stop "$RELAY"
	[ "$RC" = 0 ] && [ "$(kv "$T/$_n.drv" result)" = pass ] || {
		cat "$T/$_n.drv" "$T/$_n.drv.err" >&2
		fail "$_n: kddrive: $(kv "$T/$_n.drv" reason)"
	}
	# Both sessions went through whole: one GetVersion each, 2 reads each.
	[ "$(kv "$T/$_n.drv" getversion.ok)" = 2 ] &&
	    [ "$(kv "$T/$_n.drv" reads.ok)" = 4 ] &&
	    [ "$(kv "$T/$_n.drv" statechange.inst_ok)" = 4 ] ||
	    fail "$_n: the second session is not whole: $(tr '\n' ' ' <"$T/$_n.drv")"
}

# Logged once, counted: "N target shutdowns sent (M packets)".
sent() {
	[ "$(grep -c "$1: target gone: sending the debugger a target shutdown" \
	    "$T/relay.log")" = "$2" ] || fail "$1: not logged $2 times"
	grep "$1: target->host: " "$T/relay.log" | tail -n 1 |
	    grep -q " $2 target shutdowns sent ($3 packets)" ||
	    fail "$1: counters: $(grep "$1: target->host: " "$T/relay.log" | tail -n 1)"
}

# watched NAME MODE COPIES [LOG]: a run with the watch on, beside a packet
# log when LOG is given: COPIES target shutdowns reached the debugger
# intact, logged once, counted.
watched() {
	_w=$1${4:-}
	if [ -n "${4:-}" ]; then
		run "$_w" "$2" --packet-log "$T/$_w.pktlog"
	else
		run "$_w" "$2"
	fi
	[ "$(kv "$T/$_w.drv" shutdown.count)" = "$3" ] &&
	    [ "$(kv "$T/$_w.drv" shutdown.bad)" = 0 ] ||
	    fail "$_w: $(tr '\n' ' ' <"$T/$_w.drv")"
	sent "$_w" 1 "$3"
}

for log in "" pktlog; do
	watched running run 1 $log
	note "ok: target gone mid-session${log:+ (packet log)}: one target" \
	    "shutdown, id $(kv "$T/running$log.drv" shutdown.id), then a new" \
	    "session intact"
	watched stopped stop 2 $log
	note "ok: target gone while stopped${log:+ (packet log)}: two copies" \
	    "(after Continue), no third, then a new session intact"
done

run off none --no-target-shutdown --packet-log "$T/off.pktlog"
[ "$(kv "$T/off.drv" shutdown.count)" = 0 ] ||
    fail "off: $(tr '\n' ' ' <"$T/off.drv")"
grep -q "target gone" "$T/relay.log" && fail "off: the relay said target gone"
note "ok: --no-target-shutdown: nothing injected, the next session intact"
note "test_tshutdown: passed in $(( $(date +%s) - start ))s"
