#!/bin/sh
# bench/perf.sh DIR - the issue-16 sections of results.md, from ipb.csv,
# cpu.csv, cpu_ir.csv and scale1k.csv in DIR (whichever are there):
# instructions per byte of the core, relay CPU per GiB and instructions in
# user space, a thousand pairs.
set -u
D=$(cd "${1:?usage: perf.sh DIR}" && pwd) || exit 1

# med(a, n): sorts a[1..n], returns the median.
MED='
function med(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
'

if [ -s "$D/ipb.csv" ]; then
	echo
	echo "## Instructions per byte of the core (callgrind)"
	echo
	echo "bench/corebench.c under \`valgrind --tool=callgrind\` (bench/ipb.sh): the pure core (crlf, kdcom, stream) over fixed inputs, read 4 KiB at a time and processed in place as the relay does; deterministic, whatever the load. repair: crlf=on without validation; validate: crlf=on with validation (the relay on a corrupting line); listened: validate with the listener kdrelayd passes by default, the target-shutdown watch, on the target's side / the debugger's; auto: crlf=auto. Targets: under 1 for repair and under 2 for repair and validation on KD-shaped data (dump, session)."
	echo
	awk -F, 'NR > 1 {
		k = $2 " " ($3 ? "corrupting" : "clean")
		if (!(k in seen)) { seen[k] = 1; order[++n] = k }
		v[$1, k, $4] = $7; b[$1] = 1
	}
	END {
		nb = 0
		if ("before" in b) B[++nb] = "before"
		B[++nb] = "kdrelayd"
		printf "| input |"
		for (i = 1; i <= nb; i++) {
			w = B[i] == "before" ? "before" : "now"
			printf " repair (%s) | validate (%s) | listened (%s) | auto (%s) |", w, w, w, w
		}
		printf "\n|---|"
		for (i = 1; i <= nb * 4; i++) printf "---|"
		printf "\n"
		for (j = 1; j <= n; j++) {
			printf "| %s |", order[j]
			for (i = 1; i <= nb; i++) {
				l = v[B[i], order[j], "listened"]
				d = v[B[i], order[j], "listened-debugger"]
				printf " %s | %s | %s | %s |", v[B[i], order[j], "repair"], v[B[i], order[j], "validate"], (l == "" ? "-" : l) (d == "" ? "" : " / " d), v[B[i], order[j], "auto"]
			}
			printf "\n"
		}
	}' "$D/ipb.csv"
fi

if [ -s "$D/cpu.csv" ]; then
	echo
	echo "## Relay CPU per GiB"
	echo
	echo "One direction, data packets, pty -> relay -> pty; kdrelayd (and before) repair and validate a corrupting line, socat relays a clean one with no repair, and floor (bench/ptyfloor.c) copies the clean line, reading what is there and writing it on with nothing looked at: the kernel's pty work that any relay pays; the contenders alternate, their order rotating each repetition. CPU: the relay's threads' run time in /proc/PID/task/*/schedstat (nanoseconds) over the transfer; user and system split it in the proportion of their ticks (utime, stime). Medians (min..max) over repetitions; the ratios are taken within each repetition, then their median (min..max)."
	echo
	awk -F, "$MED"'
	function mm(a, n,    i, lo, hi) {
		lo = hi = a[1]
		for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
		return sprintf("%.2f (%.2f..%.2f)", med(a, n), lo, hi)
	}
	NR > 1 && $7 == 1 && $1 != 0 {
		c = $2; n[c]++; if (!(c in line)) { order[++nc] = c; line[c] = $3 }
		gib = $4 / 1073741824; cpu = $8 / 1e9 / gib; tk = $9 + $10
		T[c, n[c]] = $6; A[c, n[c]] = cpu
		U[c, n[c]] = tk > 0 ? cpu * $9 / tk : 0; S[c, n[c]] = tk > 0 ? cpu * $10 / tk : 0
		RT[$1, c] = $6; RA[$1, c] = cpu; reps[$1] = 1
	}
	END {
		print "| contender | line | MB/s | CPU s/GiB | user s/GiB | system s/GiB | vs socat: throughput | vs socat: CPU |"
		print "|---|---|---|---|---|---|---|---|"
		for (k = 1; k <= nc; k++) {
			c = order[k]
			for (i = 1; i <= n[c]; i++) { t[i] = T[c, i]; u[i] = U[c, i]; s[i] = S[c, i]; a[i] = A[c, i] }
			mt = med(t, n[c]); mu = med(u, n[c]); ms = med(s, n[c]); ma = mm(a, n[c])
			m = 0
			for (r in reps) if ((r, c) in RA && (r, "socat") in RA && RA[r, "socat"] > 0) {
				m++; x[m] = RT[r, c] / RT[r, "socat"]; y[m] = RA[r, c] / RA[r, "socat"]
			}
			rt = m ? mm(x, m) : "-"; ra = m ? mm(y, m) : "-"
			printf "| %s | %s | %.1f | %s | %.2f | %.2f | %s | %s |\n", c, line[c], mt, ma, mu, ms, rt, ra
		}
	}' "$D/cpu.csv"
	if [ -s "$D/cpu_ir.csv" ]; then
		echo
		echo "Instructions in user space, counted by callgrind (deterministic): each relay under \`valgrind --tool=callgrind --separate-threads=yes\`, counts zeroed after its first MiB (start-up left out), then the bytes below. The relay thread: the thread that counted most (kdrelayd's pair thread); all: every thread of the process."
		echo
		echo "| contender | bytes | relay thread: instructions / byte | per GiB (10^9) | all threads: instructions / byte |"
		echo "|---|---|---|---|---|"
		awk -F, 'NR > 1 && $2 > 0 { printf "| %s | %.1f MiB | %.3f | %.2f | %.3f |\n", $1, $2 / 1048576, $4 / $2, $4 / $2 * 1073741824 / 1e9, $5 / $2 }' "$D/cpu_ir.csv"
	fi
	# Kernel requests per MiB (perf tracepoints; bench/run.sh PERF_EV).
	if awk -F, 'NR > 1 && $11 != "" { f = 1 } END { exit !f }' "$D/cpu.csv"; then
		echo
		echo "What each asks of the kernel per MiB moved, counted by perf's tracepoints in a pass of its own (rep 0, not in the CPU figures above): the pty's cost per byte is the same for all; the calls, the wake-ups and the work items a pty queues (its flip buffer, per write and per read) are what a relay decides."
		echo
		awk -F, "$MED"'
		NR > 1 && $7 == 1 && $11 != "" {
			c = $2; n[c]++; if (!(c in seen)) { seen[c] = 1; order[++nc] = c }
			mib = $4 / 1048576
			for (k = 11; k <= 16; k++) V[c, k, n[c]] = $k / mib
		}
		END {
			print "| contender | reads | writes | waits | recvfrom | syscalls | work items queued | context switches |"
			print "|---|---|---|---|---|---|---|---|"
			for (i = 1; i <= nc; i++) {
				c = order[i]
				for (k = 11; k <= 16; k++) {
					for (j = 1; j <= n[c]; j++) a[j] = V[c, k, j]
					m[k] = med(a, n[c])
				}
				printf "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", c, m[11], m[12], m[13], m[14], m[11] + m[12] + m[13] + m[14], m[15], m[16]
			}
		}' "$D/cpu.csv"
	fi
fi

if [ -s "$D/scale.csv" ] && grep -q ',before,' "$D/scale.csv"; then
	echo
	echo "## Pairs in one daemon, before and after"
	echo
	echo "All streaming both ways at once (bench/scale.c); target: under 32 MiB RSS for 256 pairs. Largest RSS over repetitions, worst fairness; then the RSS after the guests fell silent (BENCH_SCALE_IDLE seconds), largest too."
	echo
	echo "| build | pairs | aggregate MB/s | pair median / slowest | RSS MiB | RSS idle MiB | threads | fds | bad bytes |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk -F, 'NR > 1 && ($2 == "kdrelayd" || $2 == "before") {
		c = $2; if (!(c in n)) order[++k] = c; n[c]++
		p[c] = $3; a[c] += $5
		if ($9 > w[c]) w[c] = $9
		if ($10 > r[c]) r[c] = $10
		if ($17 > ri[c]) ri[c] = $17
		t[c] = $13; f[c] = $14; e[c] += $16
	}
	END { for (i = 1; i <= k; i++) { c = order[i]
		idle = "-"; if (ri[c] > 0) idle = sprintf("%.1f", ri[c] / 1024)
		printf "| %s | %d | %.1f | %.2f | %.1f | %s | %d | %d | %d |\n", c == "kdrelayd" ? "now" : c, p[c], a[c] / n[c], w[c], r[c] / 1024, idle, t[c], f[c], e[c] } }' "$D/scale.csv"
fi

if [ -s "$D/scale1k.csv" ]; then
	echo
	echo "## A thousand pairs in one daemon"
	echo
	echo "Target: under 128 MiB RSS, slowest pair within 2x the median, no byte wrong."
	echo
	echo "| build | pairs | start-up s | idle: context switches | aggregate MB/s | pair median / slowest | RSS MiB (HWM) | RSS MiB connected, nothing sent | threads | fds | bad bytes | load |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F, 'NR > 1 { printf "| %s | %d | %s | %s | %.1f | %.2f | %.1f (%.1f) | %s | %d | %d | %d | %s |\n", $1 == "kdrelayd" ? "now" : $1, $2, $16 == "" ? "-" : $16, $17 == "" || $17 < 0 ? "-" : $17, $4, $8, $9 / 1024, $10 / 1024, $18 == "" || $18 < 0 ? "-" : sprintf("%.1f", $18 / 1024), $12, $13, $15, $19 == "" ? "-" : $19 }' "$D/scale1k.csv"
	echo
	echo "Start-up: from kdrelayd's start to its last endpoint connected. Idle: its threads' context switches over the idle time (BENCH_IDLE_SEC), every pair connected and silent, before the streaming; RSS connected, nothing sent: at that idle time's end (no ring holds a byte yet: what a loaded machine's stalls do not change). Load: the 1-minute load average after the row."
fi
