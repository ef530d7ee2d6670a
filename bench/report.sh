#!/bin/sh
# bench/report.sh DIR - results.md and bench.png from the CSV files that
# bench/run.sh left in DIR (with machine.env).  Medians over repetitions,
# spread as min..max, ratios against socat and against the direct line.
set -u
D=$(cd "${1:?usage: report.sh DIR}" && pwd) || exit 1
MACHINE="?" DATE="?" LOAD_START="?" LOAD_END="?" PARAMS="?" STRACE=""
[ -r "$D/machine.env" ] && . "$D/machine.env"
FACTS=$D/facts.tmp
: >"$FACTS"

# Shared awk: med(a, n) sorts a[1..n] and returns the median.
LIB='
function med(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	if (n == 0) return ""
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function ratio(x, y) { return (y > 0 && x != "") ? sprintf("%.2fx", x / y) : "-" }
BEGIN { split("kdrelayd socat ptycrlf direct", C, " ") }
'

tput_md() {
	[ -s "$D/tput.csv" ] || return
	awk -F, -v facts="$FACTS" "$LIB"'
	NR > 1 {
		k = $2 SUBSEP $3
		if ($7 != 1) { bad[k]++; next }
		n[k]++; v[k, n[k]] = $6
		if ($8 != "") { nc[$2]++; cpu[$2, nc[$2]] = $8 / ($4 / 1e9) }
		if (!(k in lo) || $6 < lo[k]) lo[k] = $6
		if (!(k in hi) || $6 > hi[k]) hi[k] = $6
		size[$2] = $4
	}
	END {
		print "| contender | host->target MB/s | target->host MB/s | vs socat | vs direct | relay CPU ms per GB |"
		print "|---|---|---|---|---|---|"
		for (i = 1; i <= 4; i++) for (d = 1; d <= 2; d++) {
			dir = d == 1 ? "ab" : "ba"; k = C[i] SUBSEP dir
			m = n[k]; delete a
			for (j = 1; j <= m; j++) a[j] = v[k, j]
			M[C[i], dir] = med(a, m)
			print "tput_" C[i] "_" dir, M[C[i], dir] >>facts
			print "tputlo_" C[i] "_" dir, lo[k] >>facts
			print "tputhi_" C[i] "_" dir, hi[k] >>facts
		}
		for (i = 1; i <= 4; i++) {
			c = C[i]; row = "| " c " |"
			for (d = 1; d <= 2; d++) {
				dir = d == 1 ? "ab" : "ba"; k = c SUBSEP dir
				if (M[c, dir] == "") cell = "failed"
				else cell = sprintf("**%.1f** (%.1f..%.1f)", M[c, dir], lo[k], hi[k])
				if (bad[k]) cell = cell sprintf(", %d failed", bad[k])
				row = row " " cell " |"
			}
			row = row " " ratio(M[c, "ab"], M["socat", "ab"]) " / " ratio(M[c, "ba"], M["socat", "ba"]) " |"
			row = row " " ratio(M[c, "ab"], M["direct", "ab"]) " / " ratio(M[c, "ba"], M["direct", "ba"]) " |"
			delete a; for (j = 1; j <= nc[c]; j++) a[j] = cpu[c, j]
			row = row (nc[c] ? sprintf(" %.0f |", med(a, nc[c])) : " - |")
			print row
		}
		printf "\nEach figure: median MB/s (10^6 bytes/s of KDCOM data) over the repetitions, (min..max). "
		printf "Bytes per run: %.0f MiB (ptycrlf %.1f MiB).\n", size["kdrelayd"] / 1048576, size["ptycrlf"] / 1048576
	}' "$D/tput.csv"
	echo
	echo "One direction at a time, as a dump flows. Both ways at once is left to the scale test (every pair, both ways,"
	echo "on lines that never block): with socat as the VM lines, whose writes block, two directions at full speed"
	echo "deadlock against any relay that bounds its buffers (each socat waits on the relay, the relay on the other socat),"
	echo "and against a socat rival too. KDCOM, being ping-pong, never saturates both directions."
}

latency_md() {
	[ -s "$D/latency.csv" ] || return
	awk -F, -v facts="$FACTS" "$LIB"'
	NR > 1 && $4 > 0 {
		s = $3 + 0 > 100 ? "data" : "ack"; k = $2 SUBSEP s
		n[k]++; p50[k, n[k]] = $5; p99[k, n[k]] = $6
		if ($9 != "") { nc[k]++; cpu[k, nc[k]] = $9 }
		if ($7 > mx[k]) mx[k] = $7
		if (!(k in lo) || $5 < lo[k]) lo[k] = $5
		if (!(k in hi) || $5 > hi[k]) hi[k] = $5
		bytes[s] = $3
	}
	END {
		print "| contender | ACK (" bytes["ack"] " B) p50 us | p99 us | max us | data (" bytes["data"] " B) p50 us | p99 us | max us | p50 vs socat | p50 - direct | relay CPU us per round trip |"
		print "|---|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= 4; i++) for (s = 1; s <= 2; s++) {
			t = s == 1 ? "ack" : "data"; k = C[i] SUBSEP t; m = n[k]
			delete a; for (j = 1; j <= m; j++) a[j] = p50[k, j]; P50[C[i], t] = med(a, m)
			delete a; for (j = 1; j <= m; j++) a[j] = p99[k, j]; P99[C[i], t] = med(a, m)
			print "lat_" C[i] "_" t "_p50", P50[C[i], t] >>facts
			print "latlo_" C[i] "_" t "_p50", lo[k] >>facts
			print "lathi_" C[i] "_" t "_p50", hi[k] >>facts
			print "lat_" C[i] "_" t "_p99", P99[C[i], t] >>facts
		}
		for (i = 1; i <= 4; i++) {
			c = C[i]; row = "| " c " |"
			for (s = 1; s <= 2; s++) {
				t = s == 1 ? "ack" : "data"; k = c SUBSEP t
				if (P50[c, t] == "") { row = row " - | - | - |"; continue }
				row = row sprintf(" **%.1f** (%.1f..%.1f) | %.1f | %.0f |", P50[c, t], lo[k], hi[k], P99[c, t], mx[k])
			}
			row = row " " ratio(P50[c, "ack"], P50["socat", "ack"]) " / " ratio(P50[c, "data"], P50["socat", "data"]) " |"
			if (P50[c, "ack"] != "" && P50["direct", "ack"] != "")
				row = row sprintf(" %+.1f / %+.1f us |", P50[c, "ack"] - P50["direct", "ack"], P50[c, "data"] - P50["direct", "data"])
			else row = row " - |"
			k = c SUBSEP "ack"; delete a; for (j = 1; j <= nc[k]; j++) a[j] = cpu[k, j]; x = med(a, nc[k])
			k = c SUBSEP "data"; delete a; for (j = 1; j <= nc[k]; j++) a[j] = cpu[k, j]; y = med(a, nc[k])
			row = row (x != "" ? sprintf(" %.1f / %.1f |", x, y) : " - |")
			print row
		}
		printf "\nRound trips through both lines and the relay: p50 is the median of the per-repetition medians (min..max), "
		printf "p99 the median of the per-repetition 99th percentiles, max the largest seen.\n"
	}' "$D/latency.csv"
}

session_md() {
	[ -s "$D/session.csv" ] || return
	awk -F, -v facts="$FACTS" "$LIB"'
	NR > 1 {
		if ($6 != 1) { bad[$2]++; next }
		k = $2 SUBSEP $1; n[k]++; v[k, n[k]] = $4 * 1000; reps[$2, $1] = 1
		all[$2]++; A[$2, all[$2]] = $4 * 1000
		rtx[$2] += $5
		if ($1 > R) R = $1
	}
	END {
		print "| contender | session ms (median) | per-repetition medians | vs socat | sessions failed | retransmissions |"
		print "|---|---|---|---|---|---|"
		for (i = 1; i <= 4; i++) {
			c = C[i]; delete a
			for (j = 1; j <= all[c]; j++) a[j] = A[c, j]
			M[c] = med(a, all[c])
			lo = ""; hi = ""
			for (r = 1; r <= R; r++) {
				k = c SUBSEP r; delete b
				for (j = 1; j <= n[k]; j++) b[j] = v[k, j]
				x = med(b, n[k]); if (x == "") continue
				if (lo == "" || x < lo) lo = x
				if (hi == "" || x > hi) hi = x
			}
			print "session_" c, M[c] >>facts
		}
		for (i = 1; i <= 4; i++) {
			c = C[i]
			if (M[c] == "") { print "| " c " | - | - | - | " bad[c] + 0 " | - |"; continue }
			lo = ""; hi = ""
			for (r = 1; r <= R; r++) {
				k = c SUBSEP r; delete b
				for (j = 1; j <= n[k]; j++) b[j] = v[k, j]
				x = med(b, n[k]); if (x == "") continue
				if (lo == "" || x < lo) lo = x
				if (hi == "" || x > hi) hi = x
			}
			printf "| %s | **%.1f** | %.1f..%.1f | %s | %d | %d |\n", c, M[c], lo, hi, ratio(M[c], M["socat"]), bad[c], rtx[c]
		}
	}' "$D/session.csv"
}

idle_md() {
	[ -s "$D/idle.csv" ] || return
	awk -F, -v facts="$FACTS" '
	NR == 1 { print "| contender | state | seconds | CPU ms (utime+stime) | CPU us (schedstat) | context switches | threads |"; print "|---|---|---|---|---|---|---|"; next }
	$7 == "exited" { printf "| %s | %s | - | - | - | - | exited when its peer went |\n", $1, $2; next }
	{ printf "| %s | %s | %s | %s | %s | **%s** | %s |\n", $1, $2, $3, $4, $5, $6, $7
	  if ($1 == "kdrelayd") { print "idle_" $2, $6 >>facts } }' "$D/idle.csv"
	if [ -n "$STRACE" ]; then
		echo
		set -- $STRACE
		echo "strace -f -tt on the idle kdrelayd, 5 s each: ${1:-?} system calls completed with both sides connected, ${2:-?} with one side gone"
		echo "(idle-strace.txt: each thread sits in one epoll_wait with no timeout)."
	fi
}

scale_md() {
	[ -s "$D/scale.csv" ] || return
	awk -F, -v facts="$FACTS" "$LIB"'
	NR > 1 {
		c = $2; n[c]++; P[c] = $3
		agg[c, n[c]] = $5; mn[c, n[c]] = $6; md[c, n[c]] = $7; r[c, n[c]] = $9
		if ($10 > rss[c]) rss[c] = $10
		if ($11 > hwm[c]) hwm[c] = $11
		if ($12 > pss[c]) pss[c] = $12
		thr[c] = $13; fds[c] = $14; cpu[c, n[c]] = $15; err[c] += $16
	}
	END {
		print "| contender | pairs | aggregate MB/s | slowest pair MB/s | median pair MB/s | median / slowest | RSS MiB (peak) | PSS MiB | threads | fds | CPU % | bad bytes |"
		print "|---|---|---|---|---|---|---|---|---|---|---|---|"
		split("kdrelayd kdrelayd-16k socat", S, " ")
		for (i = 1; i <= 3; i++) {
			c = S[i]; m = n[c]; if (m == 0) continue
			delete a; for (j = 1; j <= m; j++) a[j] = agg[c, j]; A = med(a, m)
			delete a; for (j = 1; j <= m; j++) a[j] = mn[c, j]; MN = med(a, m)
			delete a; for (j = 1; j <= m; j++) a[j] = md[c, j]; MD = med(a, m)
			worst = 0; for (j = 1; j <= m; j++) if (r[c, j] > worst) worst = r[c, j]
			delete a; for (j = 1; j <= m; j++) a[j] = cpu[c, j]; CP = med(a, m)
			printf "| %s | %d | %.1f | %.3f | %.3f | %.2f (worst run) | %.1f (%.1f) | %.1f | %d | %d | %.0f | %d |\n", c == "socat" ? "socat (one per pair)" : c == "kdrelayd-16k" ? "kdrelayd, buffer-size = 16k" : c, P[c], A, MN, MD, worst, rss[c] / 1024, hwm[c] / 1024, pss[c] / 1024, thr[c], fds[c], CP, err[c]
			print "scale_" c "_rss_kib", hwm[c] >>facts
			print "scale_" c "_ratio", worst >>facts
			print "scale_" c "_errors", err[c] + 0 >>facts
		}
		printf "\nMedians over %d repetitions; RSS is the largest seen (VmRSS, and VmHWM in brackets), summed over processes for socat, where PSS (shared pages split) is the fairer sum.\n", n["kdrelayd"]
	}' "$D/scale.csv"
}

reconn_md() {
	[ -s "$D/reconn.csv" ] || return
	awk -F, 'NR == 1 { print "| endpoint that comes back | reconnects | p50 ms | min ms | max ms | mean ms |"; print "|---|---|---|---|---|---|"; next }
	{ printf "| %s | %s | **%.2f** | %.2f | %.2f | %.2f |\n", $1 == "unix" ? "unix socket (bind + listen)" : "pty (link appears)", $2, $3, $4, $5, $6 }' "$D/reconn.csv"
}

# crlf=auto after detection against crlf=on (bench/run.sh, section 7).
auto_md() {
	[ -s "$D/auto.csv" ] || return
	awk -F, "$LIB"'
	NR > 1 {
		c = $2; n[c]++
		for (i = 3; i <= 8; i++) v[c, i, n[c]] = $i
	}
	END {
		split("kdrelayd kdrelayd-auto", K, " ")
		for (x = 1; x <= 2; x++) for (i = 3; i <= 8; i++) {
			c = K[x]; delete a
			for (j = 1; j <= n[c]; j++) a[j] = v[c, i, j]
			M[c, i] = med(a, n[c])
		}
		print "| kdrelayd | throughput MB/s | ACK p50 / p99 us | 1 KiB data p50 / p99 us | relay CPU us per data round trip |"
		print "|---|---|---|---|---|"
		for (x = 1; x <= 2; x++) {
			c = K[x]
			printf "| %s | %.1f | %.0f / %.0f | %.0f / %.0f | %.1f |\n", c == "kdrelayd" ? "crlf=on" : "crlf=auto (detected)", M[c, 3], M[c, 4], M[c, 5], M[c, 6], M[c, 7], M[c, 8]
		}
		printf "| auto / on | %s | %s / %s | %s / %s | %s |\n", ratio(M["kdrelayd-auto", 3], M["kdrelayd", 3]), ratio(M["kdrelayd-auto", 4], M["kdrelayd", 4]), ratio(M["kdrelayd-auto", 5], M["kdrelayd", 5]), ratio(M["kdrelayd-auto", 6], M["kdrelayd", 6]), ratio(M["kdrelayd-auto", 7], M["kdrelayd", 7]), ratio(M["kdrelayd-auto", 8], M["kdrelayd", 8])
		printf "\nMedians over %d repetitions, the two alternating on the same corrupting lines.\n", n["kdrelayd"]
	}' "$D/auto.csv"
	[ -s "$D/autocost.csv" ] || return
	echo
	echo "The pure core alone (bench/autocost.c under callgrind: deterministic), fed a corrupting line's"
	echo "memory dump in 64 KiB reads; per byte from the slope between two sizes, the rest is one-time:"
	echo
	awk -F, 'NR > 1 { k = $1 " " $2; if (!(k in b1)) { b1[k] = $3; i1[k] = $4; o[++n] = k } else { b2[k] = $3; i2[k] = $4 } }
	END {
		print "| stream | instructions per byte | one-time instructions |"
		print "|---|---|---|"
		for (j = 1; j <= n; j++) {
			k = o[j]; pb = (i2[k] - i1[k]) / (b2[k] - b1[k])
			split(k, w, " ")
			name = w[1] == "on" ? "crlf=on" : w[2] == 1 ? "crlf=auto, right guess" : "crlf=auto, wrong guess (first packet held)"
			printf "| %s | %.4f | %.0f |\n", name, pb, i1[k] - pb * b1[k]
		}
	}' "$D/autocost.csv"
}

watch_md() {
	[ -s "$D/watch.csv" ] || return
	awk -F, "$LIB"'
	NR > 1 { n[$2]++; v[$2, n[$2]] = $5; if ($6 != 1) bad[$2]++
		g = $8 - $7; if (g > grow[$2]) grow[$2] = g; dr[$2] += $9 }
	END {
		print "| watcher | MB/s median (min..max) | vs none | RSS peak growth, kB | lines dropped (all runs) |"
		print "|---|---|---|---|---|"
		split("none reading stopped", W, " ")
		for (i = 1; i <= 3; i++) {
			w = W[i]; lo = hi = ""
			for (j = 1; j <= n[w]; j++) {
				a[j] = v[w, j]
				if (lo == "" || a[j] < lo) lo = a[j]
				if (hi == "" || a[j] > hi) hi = a[j]
			}
			M[w] = med(a, n[w]); delete a
			printf "| %s | **%.1f** (%.1f..%.1f)%s | %s | %d | %d |\n", w, M[w], lo, hi,
			    bad[w] ? sprintf(", %d failed", bad[w]) : "", ratio(M[w], M["none"]), grow[w], dr[w]
		}
	}' "$D/watch.csv"
}

targets_md() {
	awk '
	{ f[$1] = $2 }
	function ok(c) { return c ? "met" : "**missed**" }
	# met; else "within noise" when the spreads (min..max over repetitions)
	# overlap; else missed.  better: 1 when higher is better.
	function verdict(x, xlo, xhi, y, ylo, yhi, better) {
		if (better ? x >= y : x <= y) return "met"
		if (xlo <= yhi && ylo <= xhi) return "within noise (spreads overlap)"
		return "**missed**"
	}
	function have(k) { return (k in f) && f[k] != "" }
	END {
		print "| target | figure | verdict |"
		print "|---|---|---|"
		if (have("tput_kdrelayd_ab") && have("tput_socat_ab")) {
			split("ab ba", DIR, " ")
			for (i = 1; i <= 2; i++) {
				d = DIR[i]; k = "_kdrelayd_" d; r = "_socat_" d
				printf "| throughput >= socat, %s | %.1f vs %.1f MB/s (%.1f..%.1f vs %.1f..%.1f) | %s |\n", d == "ab" ? "host->target" : "target->host", f["tput" k], f["tput" r], f["tputlo" k], f["tputhi" k], f["tputlo" r], f["tputhi" r], verdict(f["tput" k], f["tputlo" k], f["tputhi" k], f["tput" r], f["tputlo" r], f["tputhi" r], 1)
			}
		}
		if (have("tput_kdrelayd_ab") && have("tput_direct_ab")) {
			x = f["tput_kdrelayd_ab"] + f["tput_kdrelayd_ba"]; d = f["tput_direct_ab"] + f["tput_direct_ba"]
			printf "| throughput >= 0.9x direct | %.2fx | %s |\n", x / d, ok(x >= 0.9 * d)
		}
		if (have("lat_kdrelayd_ack_p50") && have("lat_socat_ack_p50")) {
			split("ack data", T, " ")
			for (i = 1; i <= 2; i++) {
				k = "_kdrelayd_" T[i] "_p50"; r = "_socat_" T[i] "_p50"
				printf "| latency p50 <= socat, %s | %.0f vs %.0f us (%.0f..%.0f vs %.0f..%.0f) | %s |\n", T[i] == "ack" ? "ACK" : "1 KiB data", f["lat" k], f["lat" r], f["latlo" k], f["lathi" k], f["latlo" r], f["lathi" r], verdict(f["lat" k], f["latlo" k], f["lathi" k], f["lat" r], f["latlo" r], f["lathi" r], 0)
				k = "_kdrelayd_" T[i] "_p99"; r = "_socat_" T[i] "_p99"
				printf "| latency p99 <= socat, %s | %.0f vs %.0f us | %s |\n", T[i] == "ack" ? "ACK" : "1 KiB data", f["lat" k], f["lat" r], ok(f["lat" k] <= f["lat" r])
			}
		}
		if (have("lat_kdrelayd_ack_p50") && have("lat_direct_ack_p50")) {
			a = f["lat_kdrelayd_ack_p50"] - f["lat_direct_ack_p50"]; b = f["lat_kdrelayd_data_p50"] - f["lat_direct_data_p50"]
			printf "| latency p50 within a few us of direct | %+.0f us (ACK), %+.0f us (data) | %s |\n", a, b, ok(a <= 5 && b <= 5)
		}
		if (have("session_kdrelayd") && have("session_socat"))
			printf "| session replay no slower than socat | %.1f vs %.1f ms | %s |\n", f["session_kdrelayd"], f["session_socat"], ok(f["session_kdrelayd"] <= f["session_socat"])
		if (have("idle_connected"))
			printf "| idle: no periodic wake-ups | %d context switches connected, %d with one side absent | %s |\n", f["idle_connected"], f["idle_one-absent"], ok(f["idle_connected"] == 0 && f["idle_one-absent"] == 0)
		if (have("scale_kdrelayd_rss_kib"))
			printf "| scale: < 32 MiB RSS | %.1f MiB | %s |\n", f["scale_kdrelayd_rss_kib"] / 1024, ok(f["scale_kdrelayd_rss_kib"] < 32768)
		if (have("scale_kdrelayd_ratio"))
			printf "| scale: slowest pair within 2x median | median / slowest %.2f (worst run), %d bad bytes | %s |\n", f["scale_kdrelayd_ratio"], f["scale_kdrelayd_errors"], ok(f["scale_kdrelayd_ratio"] <= 2 && f["scale_kdrelayd_errors"] == 0)
	}' "$FACTS"
}

# section TITLE FILE [LINE...]: a section with its lines of introduction,
# only when FILE holds its figures (BENCH_ONLY runs a subset).
section() {
	[ -s "$2" ] || return 0
	_title=$1 _file=$2
	shift 2
	echo "## $_title"
	echo
	for _line in "$@"; do echo "$_line"; done
	[ $# -eq 0 ] || echo
	cat "$_file"
	echo
}

{
	echo "# kdrelayd benchmarks"
	echo
	echo "Machine: $MACHINE. Date: $DATE. Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $LOAD_END"
	echo "(the benchmark's own processes add 3 to 5 while it runs; the machine is shared with other builds and tests)."
	echo "Run: $PARAMS."
	echo "Produced by \`make bench\` (bench/run.sh); the raw figures are in the CSV files beside this one."
	echo
	echo "Contenders, all between the same kind of VM lines (socat pty pairs):"
	echo "**kdrelayd** with CR LF repair on both sides (crlf=on) and KDCOM validation on;"
	echo "**socat** -b 65536 between the two dom0 ptys (no repair);"
	echo "**ptycrlf**, the Qubes one-byte-at-a-time repairing copy (bench/ptycrlf.c, two processes);"
	echo "**direct**, no relay at all: the same two VM lines joined end to end (B's line copies straight into A's dom0 pty),"
	echo "so the path lacks exactly the relay's hop: one process and one pty (the ceiling)."
	echo "Throughput and latency feed every contender the same bytes: KDCOM packets as a corrupting Xen line delivers them"
	echo "(each 0x0a as 0x0d 0x0a); the repairing contenders must deliver the original packets, and every byte is checked."
	echo
	tput_md >"$D/tput.md.tmp"; latency_md >"$D/latency.md.tmp"; session_md >"$D/session.md.tmp"
	idle_md >"$D/idle.md.tmp"; scale_md >"$D/scale.md.tmp"; reconn_md >"$D/reconn.md.tmp"
	auto_md >"$D/auto.md.tmp"
	watch_md >"$D/watch.md.tmp"
	targets_md >"$D/targets.md.tmp"
	[ "$(wc -l <"$D/targets.md.tmp")" -gt 2 ] || : >"$D/targets.md.tmp"
	section "Targets" "$D/targets.md.tmp"
	section "1. Throughput (a memory dump)" "$D/tput.md.tmp"
	section "2. Latency (KDCOM is ping-pong: this sets a session's pace)" "$D/latency.md.tmp"
	section "3. A real session: the WinDbg fixture replayed two-sided" "$D/session.md.tmp" \
	    "kdreplay --as debugger and --as target on the two guests; the debugger's time= (the whole session, 526 packets)." \
	    "kdrelayd and ptycrlf get corrupting lines (--onlcr) and repair them; socat and direct get clean lines."
	section "4. Idle cost" "$D/idle.md.tmp" \
	    "Both sides connected and silent, then the target's line gone (kdrelayd waits to reopen it). Summed over all threads."
	section "5. Scale: many pairs, all busy" "$D/scale.md.tmp" \
	    "One kdrelayd with a [pair] per pair (kdrelayd -c), or one socat per pair; the VM lines are ptys of bench/scale.c," \
	    "which streams KDCOM data packets both ways on every pair at once and checks every byte."
	section "6. Reconnect" "$D/reconn.md.tmp" \
	    "Time from a VM's endpoint reappearing to the first byte relayed to it (the other side sends a byte every 0.1 ms," \
	    "so up to 0.1 ms of each figure is that wait). socat and ptycrlf do not reconnect at all: they exit."
	section "7. crlf=auto after detection" "$D/auto.md.tmp" \
	    "The default, crlf=auto, holds the first data packet each way until it validates under one reading;" \
	    "after that a direction streams with nothing held, parsing both readings (so that a later change is" \
	    "noticed), as auto always did. Against crlf=on on the same corrupting lines, same programs as 1 and 2."
	section "8. A kdrelayctl watcher" "$D/watch.md.tmp" \
	    "kdrelayd (crlf=on, corrupting lines) moving the target's dump to the debugger with no watcher," \
	    "with \`kdrelayctl watch\` reading, and with one stopped (SIGSTOP) for the whole run: a slow watcher" \
	    "loses lines (counted), it must not slow the relay nor grow its memory."
	[ -s "$D/tput.md.tmp" ] || [ -s "$D/latency.md.tmp" ] &&
	    echo "![throughput and latency per contender](bench.png)"
} >"$D/results.md"
rm -f "$D"/*.md.tmp

# ---- the chart ----
command -v gnuplot >/dev/null || { rm -f "$FACTS"; exit 0; }
awk '{ f[$1] = $2 } END {
	split("kdrelayd socat ptycrlf direct", C, " ")
	for (i = 1; i <= 4; i++) {
		c = C[i]
		printf "%s %s %s %s %s %s %s\n", c, f["tput_" c "_ab"] + 0, f["tput_" c "_ba"] + 0, f["lat_" c "_ack_p50"] + 0, f["lat_" c "_ack_p99"] + 0, f["lat_" c "_data_p50"] + 0, f["lat_" c "_data_p99"] + 0
	}
}' "$FACTS" >"$D/chart.tmp"
# One panel per scenario that has figures (log scales need them).
panels=0
TPLOT="" LPLOT=""
if grep -q '^tput_kdrelayd_ab [0-9]' "$FACTS"; then
	panels=$((panels + 1))
	TPLOT="set title \"Throughput, MB/s (higher is better, log scale)\"
set yrange [0.1:*]
plot \"$D/chart.tmp\" using 2:xtic(1) title \"host->target\", '' using 3 title \"target->host\""
fi
if grep -q '^lat_kdrelayd_ack_p50 [0-9]' "$FACTS"; then
	panels=$((panels + 1))
	LPLOT="set title \"Round trip, microseconds (lower is better, log scale)\"
set yrange [10:*]
plot \"$D/chart.tmp\" using 4:xtic(1) title \"ACK p50\", '' using 5 title \"ACK p99\", '' using 6 title \"1 KiB data p50\", '' using 7 title \"1 KiB data p99\""
fi
if [ $panels -gt 0 ]; then
	gnuplot <<EOF 2>"$D/gnuplot.tmp" || echo "report: gnuplot failed" >&2
set terminal pngcairo size $((550 * panels)),480 font ",10" noenhanced
set output "$D/bench.png"
set multiplot layout 1,$panels title "kdrelayd and its rivals, $DATE"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key below
set logscale y
$TPLOT
$LPLOT
unset multiplot
EOF
	[ -s "$D/gnuplot.tmp" ] && cat "$D/gnuplot.tmp" >&2
fi
rm -f "$D/chart.tmp" "$D/gnuplot.tmp" "$FACTS"
