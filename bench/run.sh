#!/bin/sh
# bench/run.sh BUILD - kdrelayd side by side with what users run instead.
#
# Every contender relays between the same kind of VM lines (socat pty
# pairs, as in tests/lib/common.sh: a guest end, which a bench program
# plays, and a dom0 end, which the relay opens), in the same run,
# alternating, several repetitions; the results are medians with their
# spread (min..max over repetitions) and ratios, since absolute figures
# drift with the machine's load.  Contenders:
#   kdrelayd  CRLF repair on (crlf=on) on both sides, validation on
#   socat     socat -b 65536 TTY1,raw,echo=0 TTY2,raw,echo=0 (no repair)
#   ptycrlf   bench/ptycrlf.c, the Qubes one-byte-at-a-time repairing copy,
#             one process per direction
#   direct    no relay: the same two VM lines joined end to end (B's
#             line copies straight into A's dom0 pty), so the path lacks
#             exactly the relay's hop: the ceiling any relay is held to
#
# Environment (defaults in brackets):
#   BENCH_SIZE [256M]           throughput: bytes each way
#   BENCH_PTYCRLF_SIZE [1M]     throughput through ptycrlf (slow)
#   BENCH_REPS [5]              repetitions of throughput, latency, session
#   BENCH_ROUNDS [10000]        latency: round trips per measurement
#   BENCH_PTYCRLF_ROUNDS [1000] latency through ptycrlf
#   BENCH_SESSIONS [20]         session replays per contender and repetition
#   BENCH_IDLE_SEC [10]         idle: seconds watched (also scale1k's idle pairs)
#   BENCH_PAIRS [256]           scale: pairs in one daemon
#   BENCH_SCALE_SEC [10]        scale: seconds counted (after 2 s warm-up)
#   BENCH_SCALE_REPS [3]        scale: repetitions
#   BENCH_SCALE_IDLE [11]       scale: seconds of silence after, then
#                               kdrelayd's RSS again (0: not looked at)
#   BENCH_STALL_SEC [5]         scale, scale1k: seconds the guests stop
#                               reading on every line while writing on,
#                               then 12 s of streaming: kdrelayd's peak RSS
#                               in the stall and its RSS after (0: none)
#   BENCH_RECONN_REPS [10]      reconnect: repetitions per endpoint kind
#   BENCH_IPB_SIZE [4M]         ipb: bytes per input under callgrind
#   BENCH_CPU_SIZE [512M]       cpu: bytes one way per run
#   BENCH_CPU_REPS [9]          cpu: repetitions (alternating)
#   BENCH_IR_SIZE [64M]         cpu: bytes through each relay under callgrind
#   BENCH_PAIRS_BIG [1024]      scale1k: pairs in one daemon
#   BENCH_SCALE1K_REPS [1]      scale1k: repetitions (alternating with before)
#   BENCH_BEFORE []             a source tree of an earlier kdrelayd, built
#                               (make all): ipb, cpu and scale1k run it too,
#                               as "before", in the same run
#   BENCH_WATCH_SIZE [64M]      watch: bytes per run
#   BENCH_ONLY [all]            a subset: ipb tput cpu latency session idle
#                               scale scale1k reconn auto watch kvm (space
#                               separated)
#   BENCH_KVM_* (bench/kvm.sh)  kvm: the echo guest under a real QEMU
#   BENCH_MAX_LOAD []           wait (10 min at most) for the 1-minute load
#                               average to fall below this before starting
#   BENCH_OUT [bench/results]   where the CSV, results.md and bench.png go
#
# Quick run: BENCH_SIZE=16M BENCH_REPS=2 BENCH_ROUNDS=2000 BENCH_SESSIONS=3 \
#   BENCH_IDLE_SEC=3 BENCH_PAIRS=32 BENCH_SCALE_SEC=3 BENCH_SCALE_REPS=1 \
#   BENCH_RECONN_REPS=3 BENCH_OUT=/tmp/bench make bench
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 1
HERE=$(cd "$(dirname "$0")" && pwd)
SIZE=${BENCH_SIZE:-256M}
PSIZE=${BENCH_PTYCRLF_SIZE:-1M}
REPS=${BENCH_REPS:-5}
ROUNDS=${BENCH_ROUNDS:-10000}
PROUNDS=${BENCH_PTYCRLF_ROUNDS:-1000}
SESSIONS=${BENCH_SESSIONS:-20}
IDLE=${BENCH_IDLE_SEC:-10}
PAIRS=${BENCH_PAIRS:-256}
SCALE_SEC=${BENCH_SCALE_SEC:-10}
SCALE_REPS=${BENCH_SCALE_REPS:-3}
SCALE_IDLE=${BENCH_SCALE_IDLE:-11}
STALL=${BENCH_STALL_SEC:-5}
RECONN_REPS=${BENCH_RECONN_REPS:-10}
CPU_SIZE=${BENCH_CPU_SIZE:-512M}
CPU_REPS=${BENCH_CPU_REPS:-9}
IR_SIZE=${BENCH_IR_SIZE:-64M}
RELAY_WRAP=""
PAIRS_BIG=${BENCH_PAIRS_BIG:-1024}
SCALE1K_REPS=${BENCH_SCALE1K_REPS:-1}
BEFORE=${BENCH_BEFORE:-}
WSIZE=${BENCH_WATCH_SIZE:-64M}
ONLY=${BENCH_ONLY:-ipb tput cpu latency session idle scale scale1k reconn auto watch kvm}
OUT=${BENCH_OUT:-$HERE/results}
SHARED=${KDRELAY_SHARED:-$HERE/../../shared}
FIXTURE=$SHARED/fixtures/windbg-session.kdtrace
CONTENDERS="kdrelayd socat ptycrlf direct"

mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
T=$(mktemp -d /tmp/kdrelay-bench.XXXXXX)
# The ptys are the bench's own: a lock that another kdrelayd on this
# machine left on a pty number reused since must not stall a pair here.
mkdir "$T/lock" && export KDRELAY_LOCK_DIR="$T/lock"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }
bg() { "$@" & LAST=$!; PIDS="$PIDS $LAST"; }
stop() {	# stop PID...: end what bg started, and forget it
	for p; do kill "$p" 2>/dev/null; done
	for p; do wait "$p" 2>/dev/null; done
	for p; do PIDS=$(echo "$PIDS" | sed "s/ $p\b//"); done
}
wait_path() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1)); [ $i -gt 250 ] && die "waited 5 s for $1"
		sleep 0.02
	done
}
in_list() { case " $2 " in *" $1 "*) return 0;; esac; return 1; }
load1() { cut -d' ' -f1 /proc/loadavg; }

for p in tput pingpong ptycrlf ptyfloor scale reconn autocost; do
	[ -x "$BUILD/bench/$p" ] || die "$BUILD/bench/$p missing: run make bench"
done
[ -x "$BUILD/kdrelayd" ] || die "$BUILD/kdrelayd missing"
[ -x "$BUILD/kdrelayctl" ] || die "$BUILD/kdrelayctl missing"
command -v socat >/dev/null || die "socat missing (make deps)"
if ! command -v gnuplot >/dev/null; then
	say "bench: installing gnuplot-nox for the chart"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox \
	    >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    gnuplot-nox >/dev/null 2>&1; } || say "bench: no gnuplot: no chart"
fi

if [ -n "${BENCH_MAX_LOAD:-}" ]; then
	i=0
	while awk -v l="$(load1)" -v m="$BENCH_MAX_LOAD" 'BEGIN{exit !(l >= m)}'
	do
		[ $i = 0 ] && say "bench: load $(load1), waiting for < $BENCH_MAX_LOAD"
		i=$((i + 1)); [ $i -gt 60 ] && { say "bench: still loaded, going on"; break; }
		sleep 10
	done
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
say "bench: $(nproc) CPUs, Linux $(uname -r), load $LOAD_START"

# ---- the lines and the contenders ----

# line NAME: a VM's serial line, $T/NAME.guest (the guest) and $T/NAME.vm
# (dom0's end, what a relay opens).
line() {
	rm -f "$T/$1.guest" "$T/$1.vm"
	bg socat PTY,raw,echo=0,link="$T/$1.guest" PTY,raw,echo=0,link="$T/$1.vm"
	eval "LINE_$1=$LAST"
	wait_path "$T/$1.guest"; wait_path "$T/$1.vm"
}

# up CONTENDER: lines and relay; sets GA and GB, the guests' ttys, REPAIR
# (-r when the contender repairs) and RELAY_PIDS.
up() {
	RELAY_PIDS=""
	line a
	GA=$T/a.guest GB=$T/b.guest
	if [ "$1" = direct ]; then
		# B's line ends in A's dom0 pty instead of one of its own.
		rm -f "$T/b.guest"
		bg socat PTY,raw,echo=0,link="$T/b.guest" "$T/a.vm,raw,echo=0"
		LINE_b=$LAST
		wait_path "$T/b.guest"
		LINES="$LINE_a $LINE_b" REPAIR=""
		sleep 0.2
		return
	fi
	line b
	LINES="$LINE_a $LINE_b"
	case $1 in
	kdrelayd|before)
		d=$BUILD; [ $1 = before ] && d=$BEFORE/build
		bg $RELAY_WRAP "$d/kdrelayd" -q "pty:$T/a.vm,crlf=on" \
		    "pty:$T/b.vm,crlf=on" 2>>"$T/kdrelayd.log"
		RELAY_PIDS=$LAST REPAIR=-r ;;
	kdrelayd-auto)
		bg "$BUILD/kdrelayd" -q "pty:$T/a.vm" "pty:$T/b.vm" \
		    2>>"$T/kdrelayd.log"
		RELAY_PIDS=$LAST REPAIR=-r ;;
	socat)
		bg $RELAY_WRAP socat -b 65536 "$T/a.vm,raw,echo=0" \
		    "$T/b.vm,raw,echo=0" 2>>"$T/socat.log"
		RELAY_PIDS=$LAST REPAIR="" ;;
	floor)
		bg $RELAY_WRAP "$BUILD/bench/ptyfloor" "$T/a.vm" "$T/b.vm"
		RELAY_PIDS=$LAST REPAIR="" ;;
	ptycrlf)
		bg "$BUILD/bench/ptycrlf" "$T/a.vm" "$T/b.vm"
		RELAY_PIDS=$LAST
		bg "$BUILD/bench/ptycrlf" "$T/b.vm" "$T/a.vm"
		RELAY_PIDS="$RELAY_PIDS $LAST" REPAIR=-r ;;
	esac
	sleep 0.2		# the relay opens both lines
}
down() { stop $RELAY_PIDS $LINES; }

# The order of the contenders rotates with each repetition.
order_of() {	# order_of REP
	set -- $CONTENDERS $CONTENDERS
	shift $(( $1 % 4 ))
	echo "$1 $2 $3 $4"
}

# kv KEY LINE: the value of KEY=value in a bench program's output line.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | sed 's/s$//'; }

# cost PID...: "cpu_ticks cpu_ns ctxsw threads" summed over the processes
# and all their threads.
cost() {
	ticks=0 ns=0 cs=0 thr=0
	for p; do
		[ -d /proc/$p ] || continue
		t=$(sed 's/^.*) //' /proc/$p/stat | awk '{print $12 + $13}')
		ticks=$((ticks + t))
		for task in /proc/$p/task/*; do
			n=$(cut -d' ' -f1 "$task/schedstat" 2>/dev/null || echo 0)
			ns=$((ns + n))
			s=$(awk '/ctxt_switches/ {s += $2} END {print s + 0}' \
			    "$task/status" 2>/dev/null || echo 0)
			cs=$((cs + s))
			thr=$((thr + 1))
		done
	done
	echo "$ticks $ns $cs $thr"
}

# relay_ns: CPU time of the relay's processes so far, ns.
relay_ns() { set -- $(cost $RELAY_PIDS); echo "$2"; }

# ---- 1. throughput ----

run_tput() {
	f=$OUT/tput.csv
	echo "rep,contender,direction,bytes,sec,mbps,ok,relay_cpu_ms" >"$f"
	rep=1
	while [ $rep -le "$REPS" ]; do
		for c in $(order_of $rep); do
			size=$SIZE; [ $c = ptycrlf ] && size=$PSIZE
			for dir in ab ba; do
				up $c
				n0=$(relay_ns)
				out=$("$BUILD/bench/tput" -c $REPAIR -d $dir -s "$size" \
				    -t 600 "$GA" "$GB" 2>>"$T/tput.err")
				cpu=$(( ($(relay_ns) - n0) / 1000000 ))
				[ -n "$RELAY_PIDS" ] || cpu=""
				down
				[ -n "$out" ] || out="tput bytes=0 sec=0 mbps=0 ok=0"
				echo "$rep,$c,$dir,$(kv bytes "$out"),$(kv sec "$out"),$(kv mbps "$out"),$(kv ok "$out"),$cpu" >>"$f"
				say "tput rep $rep $c $dir: $out"
			done
		done
		rep=$((rep + 1))
	done
}

# ---- 1b. instructions per byte of the core (callgrind) ----

run_ipb() {
	f=$OUT/ipb.csv
	rm -f "$f"
	if [ -n "$BEFORE" ]; then
		# The same bench program against the earlier core; one that
		# does not build there (a listener API it lacks: stream_brief)
		# is replaced by the earlier tree's own, which listens the way
		# that kdrelayd did.
		cc -O2 -std=gnu11 -D_GNU_SOURCE $(for l in "$BEFORE"/include/*/; do
		    printf -- '-I%s ' "$l"; done) -o "$T/corebench-before" \
		    "$HERE/corebench.c" "$BEFORE/build/libkdrelay.a" \
		    $(pkg-config --libs libevent libevent_pthreads) -lpthread \
		    2>>"$T/ipb.err" ||
		    cp "$BEFORE/build/bench/corebench" "$T/corebench-before" \
		    2>>"$T/ipb.err" &&
		    sh "$HERE/ipb.sh" "$T/corebench-before" before "$f" "$FIXTURE"
	fi
	sh "$HERE/ipb.sh" "$BUILD/bench/corebench" kdrelayd "$f" "$FIXTURE"
}

# ---- 1c. relay CPU per GiB, and instructions in user space ----

# cpu_of PID...: "ns user_ticks system_ticks" of the processes, all their
# threads: ns from schedstat (the scheduler's own count, to the
# nanosecond: the verdict), the ticks (utime, stime) only to split it.
cpu_of() {
	ns=0 ut=0 st=0
	for p; do
		for task in /proc/$p/task/*; do
			n=$(cut -d' ' -f1 "$task/schedstat" 2>/dev/null) || n=0
			ns=$((ns + ${n:-0}))
		done
		set -- $(sed 's/^.*) //' /proc/$p/stat | awk '{print $12, $13}')
		ut=$((ut + $1)) st=$((st + $2))
	done
	echo "$ns $ut $st"
}

# What the relay asks of the kernel, counted by perf's tracepoints where
# perf can (root, linux-perf): reads, writes, waits (epoll_wait, poll, select),
# work items queued (a pty's flip buffer, per write and per read that makes
# room) and context switches.  Counting costs a syscall-heavy contender
# more, so it has a pass of its own (rep 0), left out of the CPU medians.
PERF_EV=syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_poll,syscalls:sys_enter_ppoll,syscalls:sys_enter_pselect6,syscalls:sys_enter_select,syscalls:sys_enter_recvfrom,workqueue:workqueue_queue_work,context-switches
perf_ok() { perf stat -x, -e "$PERF_EV" -o /dev/null true 2>/dev/null; }
# perf_counts FILE: "reads,writes,waits,other_syscalls,queued_work,ctxsw"
perf_counts() {
	awk -F, '/^[0-9]/ { v[$3] = $1 }
	END { printf "%d,%d,%d,%d,%d,%d", v["syscalls:sys_enter_read"],
	    v["syscalls:sys_enter_write"] + v["syscalls:sys_enter_writev"],
	    v["syscalls:sys_enter_epoll_wait"] + v["syscalls:sys_enter_poll"] + v["syscalls:sys_enter_ppoll"] + v["syscalls:sys_enter_pselect6"] + v["syscalls:sys_enter_select"],
	    v["syscalls:sys_enter_recvfrom"], v["workqueue:workqueue_queue_work"],
	    v["context-switches"] }' "$1"
}

# cpu_order REP: the cpu section's contenders, rotated by REP.  floor
# (bench/ptyfloor.c) is the least a relay can do on a clean line: read what
# is there, write it on, nothing looked at; its CPU is the kernel's
# pty work, which every relay pays.
cpu_order() {
	r=$1
	set -- kdrelayd $([ -n "$BEFORE" ] && echo before) socat floor
	k=$((r % $#))
	while [ $k -gt 0 ]; do
		x=$1; shift; set -- "$@" "$x"
		k=$((k - 1))
	done
	echo "$@"
}

run_cpu() {
	f=$OUT/cpu.csv
	echo "rep,contender,line,bytes,sec,mbps,ok,cpu_ns,user_ticks,sys_ticks,reads,writes,waits,recvfrom,queued_work,ctxsw" >"$f"
	rep=1
	perf_ok && rep=0
	while [ $rep -le "$CPU_REPS" ]; do
		counting=""; [ $rep = 0 ] && counting=1
		for c in $(cpu_order $rep); do
			up $c
			pc=",,,,,"
			if [ -n "$counting" ]; then
				bg perf stat -x, -e "$PERF_EV" -p "$(echo $RELAY_PIDS | tr ' ' ,)" \
				    -o "$T/perf.$c" 2>/dev/null
				PERF_PID=$LAST
				sleep 0.2
			fi
			set -- $(cpu_of $RELAY_PIDS)
			n0=$1 u0=$2 s0=$3
			# A repairing relay gets a corrupting line, socat a clean one.
			out=$("$BUILD/bench/tput" $([ -n "$REPAIR" ] && echo -c) $REPAIR \
			    -d ab -s "$CPU_SIZE" -t 600 "$GA" "$GB" 2>>"$T/cpu.err")
			set -- $(cpu_of $RELAY_PIDS)
			ns=$(($1 - n0)) u=$(($2 - u0)) sy=$(($3 - s0))
			if [ -n "$counting" ]; then
				kill -INT "$PERF_PID" 2>/dev/null
				wait "$PERF_PID" 2>/dev/null
				PIDS=$(echo "$PIDS" | sed "s/ $PERF_PID\b//")
				pc=$(perf_counts "$T/perf.$c")
			fi
			down
			[ -n "$out" ] || out="tput bytes=0 sec=0 mbps=0 ok=0"
			line=clean; [ -n "$REPAIR" ] && line=corrupting
			echo "$rep,$c,$line,$(kv bytes "$out"),$(kv sec "$out"),$(kv mbps "$out"),$(kv ok "$out"),$ns,$u,$sy,$pc" >>"$f"
			say "cpu rep $rep $c: $out cpu $((ns / 1000000)) ms (ticks user $u sys $sy; reads,writes,waits,recvfrom,work,ctxsw: $pc)"
		done
		rep=$((rep + 1))
	done
	run_cpu_ir
}

# Instructions in user space per byte, each relay under callgrind
# (deterministic, whatever the load): once its lines are open and a first
# MiB has gone through (start-up and the first reads left out), the
# counts are zeroed, BENCH_IR_SIZE bytes go through, and the counts are
# dumped.  The relay thread is the thread that counted most; all: every
# thread of the process (kdrelayd's daemon thread too).
run_cpu_ir() {
	command -v callgrind_control >/dev/null || { say "bench: no valgrind: no instruction counts"; return; }
	f=$OUT/cpu_ir.csv
	echo "contender,bytes,ok,relay_thread_ir,all_ir" >"$f"
	for c in $(cpu_order 0); do
		rm -f "$T"/cg.*
		RELAY_WRAP="valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=$T/cg.%p"
		up $c
		RELAY_WRAP=""
		i=0
		while [ "$(ls -l /proc/$RELAY_PIDS/fd 2>/dev/null | grep -c /dev/pts/)" -lt 2 ] &&
		    [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
		cflags=$([ -n "$REPAIR" ] && echo -c)
		"$BUILD/bench/tput" $cflags $REPAIR -d ab -s 1M -t 600 "$GA" "$GB" \
		    >/dev/null 2>>"$T/cpu.err"
		callgrind_control -z "$RELAY_PIDS" >/dev/null 2>&1
		out=$("$BUILD/bench/tput" $cflags $REPAIR -d ab -s "$IR_SIZE" -t 900 \
		    "$GA" "$GB" 2>>"$T/cpu.err")
		callgrind_control -d "$RELAY_PIDS" >/dev/null 2>&1
		# The dump's files: cg.PID.1-NN, one a thread.
		set -- $(cat "$T"/cg.*.1-* 2>/dev/null | awk '/^totals:/ {
		    t += $2; if ($2 > m) m = $2 } END { print m + 0, t + 0 }')
		down
		[ -n "$out" ] || out="tput bytes=0 ok=0"
		echo "$c,$(kv bytes "$out"),$(kv ok "$out"),$1,$2" >>"$f"
		say "cpu ir $c: $out relay thread $1, all $2 instructions"
	done
}

# ---- 2. latency ----

run_latency() {
	f=$OUT/latency.csv
	echo "rep,contender,bytes,rounds,p50_us,p99_us,max_us,mean_us,relay_cpu_us_per_rt" >"$f"
	rep=1
	while [ $rep -le "$REPS" ]; do
		for c in $(order_of $rep); do
			up $c
			for s in 0 1024; do
				n=$ROUNDS; [ $c = ptycrlf ] && n=$PROUNDS
				n0=$(relay_ns)
				out=$("$BUILD/bench/pingpong" -c $REPAIR -n "$n" -s $s \
				    "$GA" "$GB" 2>>"$T/pingpong.err")
				cpu=$(awk -v a="$n0" -v b="$(relay_ns)" -v n="$n" \
				    'BEGIN { printf "%.1f", (b - a) / n / 1000 }')
				[ -n "$RELAY_PIDS" ] || cpu=""
				[ -n "$out" ] || out="pingpong bytes=0 rounds=0 p50_us=0 p99_us=0 max_us=0 mean_us=0"
				echo "$rep,$c,$(kv bytes "$out"),$(kv rounds "$out"),$(kv p50_us "$out"),$(kv p99_us "$out"),$(kv max_us "$out"),$(kv mean_us "$out"),$cpu" >>"$f"
				say "latency rep $rep $c: $out"
			done
			down
		done
		rep=$((rep + 1))
	done
}

# ---- 3. a real session ----

run_session() {
	f=$OUT/session.csv
	echo "rep,contender,session,sec,retransmits,ok" >"$f"
	[ -r "$FIXTURE" ] || { say "bench: $FIXTURE missing: no session"; return; }
	rep=1
	while [ $rep -le "$REPS" ]; do
		for c in $(order_of $rep); do
			up $c
			# A repairing contender gets corrupting lines, as on Xen.
			onlcr=""; [ -n "$REPAIR" ] && onlcr=--onlcr
			i=1
			while [ $i -le "$SESSIONS" ]; do
				"$BUILD/kdreplay" --as target $onlcr --timeout 300 \
				    "$FIXTURE" "pty:$GB" >"$T/t.out" 2>&1 &
				tp=$!
				"$BUILD/kdreplay" --as debugger $onlcr "$FIXTURE" \
				    "pty:$GA" >"$T/d.out" 2>&1
				rd=$?
				wait $tp; rt=$?
				d=$(cat "$T/d.out")
				ok=0; [ $rd = 0 ] && [ $rt = 0 ] && ok=1
				r1=$(kv retransmits "$d" | head -1)
				r2=$(kv retransmits "$(cat "$T/t.out")" | head -1)
				rtx=$(( ${r1:-0} + ${r2:-0} ))
				echo "$rep,$c,$i,$(kv time "$d"),$rtx,$ok" >>"$f"
				i=$((i + 1))
			done
			say "session rep $rep $c: $(grep ",$c," "$f" | tail -n "$SESSIONS" | cut -d, -f4 | sort -n | sed -n "$(( (SESSIONS + 1) / 2 ))p") s (median)"
			down
		done
		rep=$((rep + 1))
	done
}

# ---- 4. idle cost ----

# watch_idle CONTENDER STATE PID...: one row of idle.csv.
watch_idle() {
	c=$1 st=$2; shift 2
	set -- $(cost "$@") "$@"
	t1=$1 n1=$2 c1=$3; shift 4
	sleep "$IDLE"
	set -- $(cost "$@")
	hz=$(getconf CLK_TCK)
	echo "$c,$st,$IDLE,$(( ($1 - t1) * 1000 / hz )),$(( ($2 - n1) / 1000 )),$(( $3 - c1 )),$4" >>"$OUT/idle.csv"
	say "idle $c $st: $(tail -1 "$OUT/idle.csv")"
}

run_idle() {
	echo "contender,state,sec,cpu_ms,cpu_us,ctx_switches,threads" >"$OUT/idle.csv"
	for c in kdrelayd socat ptycrlf; do
		up $c
		sleep 1
		watch_idle $c connected $RELAY_PIDS
		# The target VM goes away (its line and link vanish).
		stop $LINE_b
		LINES=$LINE_a
		sleep 1
		alive=""
		for p in $RELAY_PIDS; do [ -d /proc/$p ] && alive="$alive $p"; done
		if [ -n "$alive" ]; then
			watch_idle $c one-absent $alive
		else
			echo "$c,one-absent,0,,,,exited" >>"$OUT/idle.csv"
			say "idle $c one-absent: exited when its peer went"
		fi
		down
	done
	# What it does while idle, by strace: connected, then one side gone.
	command -v strace >/dev/null || return
	up kdrelayd
	sleep 1
	: >"$OUT/idle-strace.txt"
	for st in connected one-absent; do
		[ $st = one-absent ] && { stop $LINE_b; LINES=$LINE_a; sleep 1; }
		echo "# strace -f -tt -p PID, 5 s, $st" >>"$OUT/idle-strace.txt"
		timeout 5 strace -f -tt -p "$RELAY_PIDS" -o "$T/strace.idle" \
		    2>/dev/null
		cat "$T/strace.idle" >>"$OUT/idle-strace.txt"
		n=$(grep -c ' = ' "$T/strace.idle")
		say "idle kdrelayd $st: $n system calls completed in 5 s (strace)"
		echo "$n" >>"$T/strace.count"
	done
	down
}

# ---- 5. scale ----

run_scale() {
	f=$OUT/scale.csv
	echo "rep,contender,pairs,sec,agg_mbps,pair_min_mbps,pair_median_mbps,pair_max_mbps,median_over_min,rss_kib,hwm_kib,pss_kib,threads,fds,cpu_pct,errors,rss_idle_kib,rss_stall_kib,rss_drain_kib,stack_kib_max,load" >"$f"
	rep=1
	while [ $rep -le "$SCALE_REPS" ]; do
		cs="kdrelayd kdrelayd-16k socat"
		[ -n "$BEFORE" ] && cs="kdrelayd before kdrelayd-16k socat"
		for c in $cs; do
			if [ $c = kdrelayd ] || [ $c = before ]; then
				d=$BUILD; [ $c = before ] && d=$BEFORE/build
				out=$("$BUILD/bench/scale" -c -r -p "$PAIRS" -R 120 \
				    -t "$SCALE_SEC" -x "$STALL" -i "$SCALE_IDLE" \
				    -m kdrelayd -o "$T/scale.conf" \
				    "$d/kdrelayd" 2>>"$T/scale.err")
			elif [ $c = kdrelayd-16k ]; then
				out=$("$BUILD/bench/scale" -c -r -p "$PAIRS" -R 120 \
				    -t "$SCALE_SEC" -i "$SCALE_IDLE" \
				    -g "buffer-size = 16k" -m kdrelayd \
				    -o "$T/scale.conf" "$BUILD/kdrelayd" 2>>"$T/scale.err")
			else
				out=$("$BUILD/bench/scale" -c -p "$PAIRS" -R 120 \
				    -t "$SCALE_SEC" \
				    -m socat socat 2>>"$T/scale.err")
			fi
			[ -n "$out" ] || { say "scale $c failed: $(tail -3 "$T/scale.err")"; continue; }
			row="$rep,$c"
			for k in pairs sec agg_mbps pair_min_mbps pair_median_mbps \
			    pair_max_mbps median_over_min rss_kib hwm_kib pss_kib \
			    threads fds cpu_pct errors rss_idle_kib \
			    rss_stall_kib rss_drain_kib stack_kib_max; do
				row="$row,$(kv $k "$out")"
			done
			echo "$row,$(load1)" >>"$f"
			say "scale rep $rep: $out"
		done
		rep=$((rep + 1))
	done
}

# ---- 5b. a thousand pairs ----

run_scale1k() {
	f=$OUT/scale1k.csv
	echo "contender,pairs,sec,agg_mbps,pair_min_mbps,pair_median_mbps,pair_max_mbps,median_over_min,rss_kib,hwm_kib,pss_kib,threads,fds,cpu_pct,errors,setup_s,idle_switches,rss_quiet_kib,rss_stall_kib,rss_drain_kib,stack_kib_max,load" >"$f"
	cs=kdrelayd; [ -n "$BEFORE" ] && cs="kdrelayd before"
	rep=0
	while [ $rep -lt "$SCALE1K_REPS" ]; do
	rep=$((rep + 1))
	for c in $cs; do
		d=$BUILD; [ $c = before ] && d=$BEFORE/build
		out=$("$BUILD/bench/scale" -c -r -p "$PAIRS_BIG" -R 900 -w 5 -t "$SCALE_SEC" \
		    -q "$IDLE" -x "$STALL" -m kdrelayd -o "$T/scale1k.conf" \
		    "$d/kdrelayd" 2>>"$T/scale.err")
		[ -n "$out" ] || { say "scale1k $c failed: $(tail -3 "$T/scale.err")"; continue; }
		row=$c
		for k in pairs sec agg_mbps pair_min_mbps pair_median_mbps \
		    pair_max_mbps median_over_min rss_kib hwm_kib pss_kib \
		    threads fds cpu_pct errors setup_s quiet_switches \
		    rss_quiet_kib rss_stall_kib rss_drain_kib stack_kib_max; do
			row="$row,$(kv $k "$out")"
		done
		echo "$row,$(load1)" >>"$f"
		say "scale1k $c: $out"
	done
	done
}

# ---- 6. reconnect ----

run_reconn() {
	f=$OUT/reconn.csv
	echo "endpoint,reps,p50_ms,min_ms,max_ms,mean_ms" >"$f"
	for m in u p; do
		out=$("$BUILD/bench/reconn" -n "$RECONN_REPS" -$m "$T" \
		    "$BUILD/kdrelayd" 2>>"$T/reconn.err")
		[ -n "$out" ] || { say "reconn -$m failed: $(tail -3 "$T/reconn.err")"; continue; }
		echo "$(kv mode "$out"),$(kv reps "$out"),$(kv p50_ms "$out"),$(kv min_ms "$out"),$(kv max_ms "$out"),$(kv mean_ms "$out")" >>"$f"
		say "reconn: $out"
	done
}

# ---- 7. crlf=auto after detection ----

# kdrelayd with crlf=auto (the default: detected, the first packet each
# way held until it validates) against crlf=on, on the same corrupting
# lines, alternating: once detected, auto must cost nothing.  The 1 KiB
# round trips run first, so detection is done (in pingpong's warm-up) by
# the time anything is timed; the throughput run starts on a fresh relay
# and pays detection inside its first packet.
run_auto() {
	f=$OUT/auto.csv
	echo "rep,contender,tput_mbps,ack_p50_us,ack_p99_us,data_p50_us,data_p99_us,relay_cpu_us_per_rt" >"$f"
	rep=1
	while [ $rep -le "$REPS" ]; do
		set -- kdrelayd kdrelayd-auto
		[ $((rep % 2)) = 0 ] && set -- kdrelayd-auto kdrelayd
		for c; do
			up $c
			n0=$(relay_ns)
			d=$("$BUILD/bench/pingpong" -c -r -n "$ROUNDS" -s 1024 \
			    "$GA" "$GB" 2>>"$T/pingpong.err")
			cpu=$(awk -v a="$n0" -v b="$(relay_ns)" -v n="$ROUNDS" \
			    'BEGIN { printf "%.1f", (b - a) / n / 1000 }')
			a=$("$BUILD/bench/pingpong" -c -r -n "$ROUNDS" -s 0 \
			    "$GA" "$GB" 2>>"$T/pingpong.err")
			down
			up $c
			t=$("$BUILD/bench/tput" -c -r -d ab -s "$SIZE" -t 600 \
			    "$GA" "$GB" 2>>"$T/tput.err")
			down
			[ "$(kv ok "$t")" = 1 ] || t="tput mbps=0"
			echo "$rep,$c,$(kv mbps "$t"),$(kv p50_us "$a"),$(kv p99_us "$a"),$(kv p50_us "$d"),$(kv p99_us "$d"),$cpu" >>"$f"
			say "auto rep $rep $c: $(tail -n 1 "$f")"
		done
		rep=$((rep + 1))
	done
	# The core alone under callgrind, deterministic: instructions at two
	# sizes give the cost per byte (the slope) and the one-time cost.
	command -v valgrind >/dev/null || { say "bench: no valgrind: no autocost"; return; }
	f=$OUT/autocost.csv
	echo "mode,guess,bytes,instructions" >"$f"
	for m in "on 0" "auto 1" "auto 0"; do
		set -- $m
		for sz in 16M 32M; do
			ir=$(valgrind --tool=callgrind --callgrind-out-file="$T/cg" \
			    "$BUILD/bench/autocost" "$1" -g "$2" -s $sz 2>&1 |
			    sed -n 's/.*Collected : *//p')
			echo "$1,$2,$(( ${sz%M} << 20 )),$ir" >>"$f"
		done
		say "autocost $1 guess $2: $(tail -n 2 "$f" | tr '\n' ' ')"
	done
}

# ---- 8. a kdrelayctl watcher, reading or stopped ----

# Throughput of kdrelayd (the target's dump towards the debugger) with no
# watcher, with one reading, and with one stopped (SIGSTOP) all along: a
# slow watcher loses lines, it must not cost the relay.
run_watch() {
	f=$OUT/watch.csv
	echo "rep,watcher,bytes,sec,mbps,ok,rss_before_kb,rss_max_kb,dropped" >"$f"
	rep=1
	while [ $rep -le "$REPS" ]; do
		for w in none reading stopped; do
			RELAY_PIDS="" LINES=""
			line a; line b
			LINES="$LINE_a $LINE_b"
			bg "$BUILD/kdrelayd" -v --control "$T/control" \
			    "pty:$T/a.vm,crlf=on" "pty:$T/b.vm,crlf=on" 2>>"$T/watch.log"
			RELAY_PIDS=$LAST
			wait_path "$T/control"
			sleep 0.2
			wpid=""
			if [ $w != none ]; then
				bg "$BUILD/kdrelayctl" -s "$T/control" watch kd \
				    >/dev/null 2>"$T/w.err"
				wpid=$LAST
				i=0; while ! grep -q watching "$T/w.err" 2>/dev/null &&
				    [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
				[ $w = stopped ] && kill -STOP $wpid
			fi
			before=$(awk '$1 == "VmRSS:" { print $2 }' /proc/$RELAY_PIDS/status)
			out=$("$BUILD/bench/tput" -c -r -d ba -s "$WSIZE" -t 600 \
			    "$T/a.guest" "$T/b.guest" 2>>"$T/tput.err")
			hwm=$(awk '$1 == "VmHWM:" { print $2 }' /proc/$RELAY_PIDS/status)
			[ -n "$wpid" ] && kill -CONT $wpid
			if [ -n "$wpid" ]; then
				stop $wpid
				i=0; while ! grep -q 'a watcher left' "$T/watch.log" &&
				    [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
			fi
			down
			rm -f "$T/control"
			dropped=$(sed -n 's/.*a watcher left; \([0-9]*\) lines dropped.*/\1/p' \
			    "$T/watch.log" | tail -1)
			[ $w = none ] && dropped=0
			: >"$T/watch.log"
			[ -n "$out" ] || out="tput bytes=0 sec=0 mbps=0 ok=0"
			echo "$rep,$w,$(kv bytes "$out"),$(kv sec "$out"),$(kv mbps "$out"),$(kv ok "$out"),$before,$hwm,${dropped:-0}" >>"$f"
			say "watch rep $rep $w: $out, RSS $before kB, peak $hwm kB, dropped ${dropped:-0}"
		done
		rep=$((rep + 1))
	done
}

# The real line through QEMU's UART: its own script (bench/kvm.sh).
run_kvm() {
	BENCH_OUT=$OUT sh "$HERE/kvm.sh" "$BUILD" >/dev/null ||
	    die "the kvm part failed"
}

for s in ipb tput cpu latency session idle scale scale1k reconn auto watch kvm; do
	in_list $s "$ONLY" && run_$s
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- results.md and the chart ----
{
	echo "MACHINE=\"$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), Linux $(uname -r)\""
	echo "DATE=\"$DATE\""
	echo "LOAD_START=\"$LOAD_START\""
	echo "LOAD_END=\"$LOAD_END\""
	echo "PARAMS=\"sections $ONLY; size $SIZE each way (ptycrlf $PSIZE), cpu $CPU_SIZE x $CPU_REPS (callgrind $IR_SIZE), $REPS repetitions, $ROUNDS round trips (ptycrlf $PROUNDS), $SESSIONS sessions per repetition, idle ${IDLE} s, $PAIRS pairs for ${SCALE_SEC} s x $SCALE_REPS, $RECONN_REPS reconnects\""
	[ -r "$T/strace.count" ] && echo "STRACE=\"$(tr '\n' ' ' <"$T/strace.count")\""
} >"$OUT/machine.env"
sh "$HERE/report.sh" "$OUT" || die "report failed"
sh "$HERE/perf.sh" "$OUT" >>"$OUT/results.md" || die "perf report failed"
say "bench: results in $OUT/results.md"
