# procs.sh - what the test runners use to find and end the processes a
# test left behind (sourced by tests/run-integration.sh and run-units.sh).
#
#   procs_mark                 print a new mark: the caller's KDTEST_ID
#                              (nested runs keep the outer one) plus
#                              a part unique to this test
#   procs_left MARK SID        pids still carrying KDTEST_ID=MARK in their
#                              environment, or in session SID (zombies
#                              not counted), one per line
#   procs_end MARK SID WHAT    list those (pid and command line) on stdout
#                              as "WHAT: left pid N: CMD", TERM them, KILL
#                              what is left after 2 s; false if there were
#                              any
#
# The mark follows a process through setsid, double forks and daemons
# that keep their environment; the session catches those that clear it but
# stay in it.  One that does both is not found.

_procs_n=0
procs_mark() {
	_procs_n=$((_procs_n + 1))
	echo "${KDTEST_ID:+$KDTEST_ID:}kdt-$$-$_procs_n-$(date +%s)"
}

# _procs_live PID: the process exists and is not a zombie (builtins only).
_procs_live() {
	{ read -r _st <"/proc/$1/stat"; } 2>/dev/null || return 1
	_st=${_st##*) }
	[ "${_st%% *}" != Z ]
}

procs_left() {
	{
		# The mark is a word of KDTEST_ID, which nested runs extend.
		grep -lzE "^KDTEST_ID=(.*:)?$1(:.*)?\$" /proc/[0-9]*/environ \
		    2>/dev/null | sed -e 's|^/proc/||' -e 's|/environ$||'
		[ -z "$2" ] || ps -e -o pid= -o sid= -o stat= |
		    awk -v s="$2" '$2 == s && $3 !~ /^Z/ { print $1 }'
	} | sort -un | while read -r _p; do
		! _procs_live "$_p" || echo "$_p"
	done
}

procs_end() {
	_left=$(procs_left "$1" "$2")
	[ -n "$_left" ] || return 0
	for _p in $_left; do
		_cmd=$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)
		echo "$3: left pid $_p: ${_cmd:-?}"
	done
	# shellcheck disable=SC2086
	kill -TERM $_left 2>/dev/null
	_i=0
	while [ $_i -lt 100 ]; do
		_alive=""
		for _p in $_left; do
			! _procs_live "$_p" || _alive="$_alive $_p"
		done
		[ -n "$_alive" ] || break
		sleep 0.02; _i=$((_i + 1))
	done
	# What is still there, and what they started meanwhile.
	_left=$(procs_left "$1" "$2")
	# shellcheck disable=SC2086
	[ -z "$_left" ] || kill -KILL $_left 2>/dev/null
	return 1
}
