# framing.sh - pieces shared by the KDCOM framing tests (sourced after
# common.sh): the sessions, two-sided replays through kdrelayd, and the
# relay's and kdreplay's counters as key=value files.
#
#   each_session WHAT FN       FN NAME FILE for each session: gen, a
#                              generated one (kdgen), always; real, the
#                              WinDbg session $FIXTURE when it is there
#                              (else a SKIP line: WHAT on the real
#                              session).  $T is $T_ROOT/NAME meanwhile.
#   KDSTAT                     tests/helpers/kdstat
#   replay NAME TRACE HOSTEP TARGETEP [t:OPT|d:OPT]...
#                              two kdreplays, target in the background;
#                              options prefixed t: or d: go to one side.
#                              Sets RC_T RC_D; summaries in $T/NAME.t.kv
#                              and $T/NAME.d.kv (sent received bsent
#                              brecv resends_sent resends_received
#                              retransmits duplicates)
#   play NAME TRACE HOSTEP TARGETEP [t:OPT|d:OPT]...
#                              replay, and fail (with that side's
#                              output) unless both sides finished
#   relay_kv FILE NAME DIR     the last counters line of direction DIR
#                              (host->target or target->host) in the
#                              relay log FILE as key=value lines in
#                              $T/NAME.kv: bytes_in out CRs_removed
#                              dropped repair data control break-ins
#                              resends resets bad_checksum bad_trailer
#                              bad_type oversize garbage_bytes <TYPE>...
#   relay_report NAME          SIGUSR1 to $RELAY, wait for the new
#                              report, relay_kv both ways into
#                              $T/NAME.D.kv and $T/NAME.T.kv
#   get FILE KEY               a key's value, 0 when absent
#   expect_counts WHAT KV X STAT
#                              the relay's packet counters KV equal the
#                              direction X (D or T) of kdstat output STAT

KDSTAT=$BUILD/helpers/kdstat
[ -x "$KDSTAT" ] || fail "$KDSTAT missing (make helpers)"

each_session() {
	gen_session "$T_ROOT/gen.kdtrace"
	_sessions="gen=$T_ROOT/gen.kdtrace"
	! have_fixture "$1 on the real WinDbg session" ||
	    _sessions="$_sessions real=$FIXTURE"
	for _sn in $_sessions; do
		T=$T_ROOT/${_sn%%=*}
		mkdir -p "$T"
		"$2" "${_sn%%=*}" "${_sn#*=}"
	done
	T=$T_ROOT
}

get() {
	_v=$(sed -n "s/^$2=//p" "$1" | tail -n 1)
	echo "${_v:-0}"
}

_replay_kv() {
	sed -n 's/^kdreplay: as=[a-z]* //p' "$1" | tail -n 1 |
	    sed -e 's/packets sent=/sent=/' -e 's/ received=/ received=/' \
		-e 's/bytes sent=\([0-9]*\) received=\([0-9]*\)/bsent=\1 brecv=\2/' \
		-e 's/resends sent=\([0-9]*\) received=\([0-9]*\)/resends_sent=\1 resends_received=\2/' |
	    tr ' ' '\n' | grep '=' >"$2"
}

replay() {
	_n=$1 _tr=$2 _hep=$3 _tep=$4
	shift 4
	_to="" _do=""
	for _o; do
		case $_o in
		t:*) _to="$_to ${_o#t:}" ;;
		d:*) _do="$_do ${_o#d:}" ;;
		*) _to="$_to $_o"; _do="$_do $_o" ;;
		esac
	done
	# shellcheck disable=SC2086
	timeout 20 "$BUILD/kdreplay" --as target $_to "$_tr" "$_tep" \
	    >"$T/$_n.t.out" 2>&1 &
	_tp=$!
	# shellcheck disable=SC2086
	timeout 20 "$BUILD/kdreplay" --as debugger $_do "$_tr" "$_hep" \
	    >"$T/$_n.d.out" 2>&1
	RC_D=$?
	wait $_tp
	RC_T=$?
	_replay_kv "$T/$_n.t.out" "$T/$_n.t.kv"
	_replay_kv "$T/$_n.d.out" "$T/$_n.d.kv"
}

play() {
	replay "$@"
	[ "$RC_D" = 0 ] || { cat "$T/$1.d.out" >&2; fail "$1: the debugger side failed"; }
	[ "$RC_T" = 0 ] || { cat "$T/$1.t.out" >&2; fail "$1: the target side failed"; }
}

relay_kv() {
	grep -- " $3: .* bytes in, " "$1" | tail -n 1 |
	    sed -e "s/^.* $3: //" -e 's/; packets /, /' |
	    tr ',' '\n' | sed -e 's/^ *//' -e 's/ (peer absent)//' |
	    awk '$1 ~ /^[0-9]+$/ { k = $2; for (i = 3; i <= NF; i++)
		    k = k "_" $i; print k "=" $1; next }
		{ print $1 "=" $2 }' >"$T/$2.kv"
	[ -s "$T/$2.kv" ] || fail "no $3 counters in $1"
}

relay_report() {
	_before=$(grep -c 'target->host: .* bytes in, ' "$T/relay.log")
	kill -USR1 "$RELAY"
	wait_log "$T/relay.log" 'target->host: .* bytes in, ' $((_before + 1)) ||
	    fail "kdrelayd did not report its counters on SIGUSR1"
	relay_kv "$T/relay.log" "$1.D" "host->target"
	relay_kv "$T/relay.log" "$1.T" "target->host"
}

expect_counts() {
	_what=$1 _kv=$2 _x=$3 _st=$4
	for _k in data control breakins resends resets STATE_CHANGE32 \
	    STATE_MANIPULATE DEBUG_IO ACKNOWLEDGE RESEND RESET STATE_CHANGE64 \
	    TRACE_IO CONTROL_REQUEST FILE_IO; do
		_rk=$_k
		[ "$_k" = breakins ] && _rk=break-ins
		_want=$(get "$_st" "$_x.$_k")
		_got=$(get "$_kv" "$_rk")
		[ "$_got" = "$_want" ] ||
		    fail "$_what: $_x $_k: relay counted $_got, the trace has $_want"
	done
	for _k in bad_checksum bad_trailer bad_type oversize garbage_bytes; do
		[ "$(get "$_kv" "$_k")" = 0 ] ||
		    fail "$_what: $_x $_k is $(get "$_kv" "$_k"), not 0"
	done
}
