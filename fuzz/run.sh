#!/bin/sh
# run.sh BUILD SECONDS TARGET...: run each libFuzzer target for SECONDS,
# seeded by seeds.sh, keeping what it finds in BUILD/corpus/TARGET (reused
# by the next run) and any failing input in BUILD/artifacts/.  Prints one
# line of figures per target; exits 1 if any target found a failure.
set -u
build=${1:?usage: run.sh BUILD SECONDS TARGET...}
secs=${2:?}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
"$here/seeds.sh" "$build/seeds" || exit 1
mkdir -p "$build/artifacts"
fail=0
for t in "$@"; do
	name=${t#fuzz_}
	case $name in
	epspec)	max=1024 ;;
	crlf|ctlproto)	max=8192 ;;
	*)	max=16384 ;;
	esac
	dict=
	[ -e "$here/$name.dict" ] && dict=-dict=$here/$name.dict
	mkdir -p "$build/corpus/$name"
	log=$build/$t.log
	"$build/$t" -max_total_time="$secs" -max_len=$max -timeout=10 \
	    -print_final_stats=1 $dict \
	    -artifact_prefix="$build/artifacts/$name-" \
	    "$build/corpus/$name" "$build/seeds/$name" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	files=$(find "$build/corpus/$name" -type f | wc -l)
	if [ $rc = 0 ]; then
		echo "fuzz $name: ok, ${runs:-?} runs in ${secs}s" \
		    "(${speed:-?}/s), $cov, corpus $files inputs"
	else
		fail=1
		echo "fuzz $name: FAILED (exit $rc) after ${runs:-?} runs; log:"
		grep -m 3 -e 'property failed' -e 'ERROR: ' -e 'runtime error' \
		    "$log" | sed 's/^/    /'
		grep -v -e '^#[0-9]' -e '^ *#[0-9]* 0x' "$log" | tail -n 12 |
		    sed 's/^/    /'
		ls "$build/artifacts/$name-"* 2>/dev/null | sed 's/^/    input: /'
	fi
done
exit $fail
