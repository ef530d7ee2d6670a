#!/bin/sh
# bench/perf.sh DIR - the issue-16 sections of results.md, from ipb.csv,
# cpu.csv and scale1k.csv in DIR (whichever are there): instructions per
# byte of the core, relay CPU per GiB (user and system), a thousand pairs.
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
	echo "bench/corebench.c under \`valgrind --tool=callgrind\` (bench/ipb.sh): the pure core (crlf, kdcom, stream) over fixed inputs, read 4 KiB at a time and processed in place as the relay does; deterministic, whatever the load. repair: crlf=on without validation; validate: crlf=on with validation (the relay on a corrupting line); auto: crlf=auto. Targets: under 1 for repair and under 2 for repair and validation on KD-shaped data (dump, session)."
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
		for (i = 1; i <= nb; i++) printf " repair (%s) | validate (%s) | auto (%s) |", B[i] == "before" ? "before" : "now", B[i] == "before" ? "before" : "now", B[i] == "before" ? "before" : "now"
		printf "\n|---|"
		for (i = 1; i <= nb * 3; i++) printf "---|"
		printf "\n"
		for (j = 1; j <= n; j++) {
			printf "| %s |", order[j]
			for (i = 1; i <= nb; i++)
				printf " %s | %s | %s |", v[B[i], order[j], "repair"], v[B[i], order[j], "validate"], v[B[i], order[j], "auto"]
			printf "\n"
		}
	}' "$D/ipb.csv"
fi

if [ -s "$D/cpu.csv" ]; then
	echo
	echo "## Relay CPU per GiB, user and system"
	echo
	echo "One direction, data packets, pty -> relay -> pty; kdrelayd (and before) repair and validate a corrupting line, socat relays a clean one with no repair. CPU from /proc/PID/stat (utime, stime) over the transfer; medians over repetitions, alternating."
	echo
	awk -F, "$MED"'
	NR > 1 && $7 == 1 && $1 != 0 {
		c = $2; n[c]++; if (!(c in line)) { order[++nc] = c; line[c] = $3 }
		gib = $4 / 1073741824
		T[c, n[c]] = $6; U[c, n[c]] = $8 / 1000 / gib; S[c, n[c]] = $9 / 1000 / gib
		A[c, n[c]] = ($8 + $9) / 1000 / gib
	}
	END {
		print "| contender | line | MB/s | user s/GiB | system s/GiB | total s/GiB | vs socat: throughput, CPU |"
		print "|---|---|---|---|---|---|---|"
		for (k = 1; k <= nc; k++) {
			c = order[k]
			for (i = 1; i <= n[c]; i++) { t[i] = T[c, i]; u[i] = U[c, i]; s[i] = S[c, i]; a[i] = A[c, i] }
			mt[c] = med(t, n[c]); mu[c] = med(u, n[c]); ms[c] = med(s, n[c]); ma[c] = med(a, n[c])
		}
		for (k = 1; k <= nc; k++) {
			c = order[k]
			r = ("socat" in mt && mt["socat"] > 0 && ma["socat"] > 0) ? sprintf("%.2fx, %.2fx", mt[c] / mt["socat"], ma[c] / ma["socat"]) : "-"
			printf "| %s | %s | %.1f | %.2f | %.2f | %.2f | %s |\n", c, line[c], mt[c], mu[c], ms[c], ma[c], r
		}
	}' "$D/cpu.csv"
	# Kernel requests per MiB (perf tracepoints; bench/run.sh PERF_EV).
	if awk -F, 'NR > 1 && $10 != "" { f = 1 } END { exit !f }' "$D/cpu.csv"; then
		echo
		echo "What each asks of the kernel per MiB moved, counted by perf's tracepoints in a pass of its own (rep 0, not in the CPU figures above): the pty's cost per byte is the same for all; the calls, the wake-ups and the work items a pty queues (its flip buffer, per write and per read) are what a relay decides."
		echo
		awk -F, "$MED"'
		NR > 1 && $7 == 1 && $10 != "" {
			c = $2; n[c]++; if (!(c in seen)) { seen[c] = 1; order[++nc] = c }
			mib = $4 / 1048576
			for (k = 10; k <= 15; k++) V[c, k, n[c]] = $k / mib
		}
		END {
			print "| contender | reads | writes | waits | recvfrom | syscalls | work items queued | context switches |"
			print "|---|---|---|---|---|---|---|---|"
			for (i = 1; i <= nc; i++) {
				c = order[i]
				for (k = 10; k <= 15; k++) {
					for (j = 1; j <= n[c]; j++) a[j] = V[c, k, j]
					m[k] = med(a, n[c])
				}
				printf "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", c, m[10], m[11], m[12], m[13], m[10] + m[11] + m[12] + m[13], m[14], m[15]
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
	echo "| build | pairs | start-up s | idle: context switches | aggregate MB/s | pair median / slowest | RSS MiB (HWM) | threads | fds | bad bytes |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	awk -F, 'NR > 1 { printf "| %s | %d | %s | %s | %.1f | %.2f | %.1f (%.1f) | %d | %d | %d |\n", $1 == "kdrelayd" ? "now" : $1, $2, $16 == "" ? "-" : $16, $17 == "" || $17 < 0 ? "-" : $17, $4, $8, $9 / 1024, $10 / 1024, $12, $13, $15 }' "$D/scale1k.csv"
	echo
	echo "Start-up: from kdrelayd's start to its last endpoint connected. Idle: its threads' context switches over the idle time (BENCH_IDLE_SEC), every pair connected and silent, before the streaming."
fi
