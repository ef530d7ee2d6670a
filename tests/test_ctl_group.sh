#!/bin/sh
# control-group, end to end, as an admin sets it up with the units
# (RuntimeDirectoryMode=0750, Group=): in a private mount namespace whose
# /etc/group has a group kdctl with a member (supplementary) and whose
# /etc/passwd has a user with kdctl as primary group, kdrelayd makes
# /run/kdrelay/control mode 0660, group kdctl; both users can use it
# (capture only by a plain name, into capture-dir); a user outside the
# group is refused by SO_PEERCRED, told why, and the refusal is logged.
# The groups are the connecting process's, not the group file's.  Where
# the socket's directory keeps the group out (kdrelayd made it 0700
# itself), kdrelayd says so.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/xenstore.sh"
xs_enter_namespace "$@"		# a private /run (and /etc, below)
need socat runuser getent

# Ids free on this machine for the group and its primary-group user.
id=4700
while getent group "$id" >/dev/null || getent passwd "$id" >/dev/null; do
	id=$((id + 1))
done
member=daemon			# a supplementary member, by the group file
getent passwd "$member" >/dev/null || fail "no user $member"
cp /etc/group "$T/group" && cp /etc/passwd "$T/passwd" || fail "copy"
echo "kdctl:x:$id:$member" >>"$T/group"
echo "kdop:x:$id:$id::/nonexistent:/usr/sbin/nologin" >>"$T/passwd"
mount --bind "$T/group" /etc/group && mount --bind "$T/passwd" /etc/passwd ||
    fail "cannot bind passwd and group"
id -nG "$member" | grep -qw kdctl || fail "$member is not in kdctl: $(id "$member")"

vm h
vm t
mkdir -p "$T/caps"
cat >"$T/kd.conf" <<EOF
[global]
control-group = kdctl
capture-dir = $T/caps
[pair p]
host = $T/h.vm
target = $T/t.vm
EOF
# As systemd makes it for the unit with RuntimeDirectoryMode=0750, Group=.
mkdir -m 0750 /run/kdrelay && chgrp kdctl /run/kdrelay || fail "/run/kdrelay"
bg "$BUILD/kdrelayd" -v -c "$T/kd.conf" 2>>"$T/relay.log"
RELAY=$LAST
S=/run/kdrelay/control
wait_log "$T/relay.log" "control: listening on $S" ||
    fail "no control socket: $(cat "$T/relay.log")"
for s in host target; do
	wait_log "$T/relay.log" "p/$s: .*connected" || fail "p/$s did not connect"
done
[ "$(stat -c '%a %G' "$S")" = "660 kdctl" ] ||
    fail "control socket: $(stat -c '%a %U:%G' "$S"), not 660 root:kdctl"
CTL=$(user_copy "$BUILD/kdrelayctl")

# as USER KDRELAYCTL-ARGS...: out in $T/out, err in $T/err, status in $rc.
as() {
	_u=$1
	shift
	runuser -u "$_u" -- "$CTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# In the group: its primary group, or a supplementary one.
for u in kdop "$member"; do
	as "$u" status p
	[ $rc = 0 ] && grep -q '^p' "$T/out" ||
	    fail "$u (in kdctl): exit $rc: $(cat "$T/out" "$T/err")"
	as "$u" pairs
	[ $rc = 0 ] && [ "$(cat "$T/out")" = p ] ||
	    fail "$u: pairs: exit $rc: $(cat "$T/out" "$T/err")"
done
note "ok: kdop (primary group kdctl) and $member (a member) use $S"

# A member captures by plain name only, into capture-dir.
as kdop capture p "$T/x.kdtrace"
[ $rc = 77 ] && grep -q 'only root may name a path' "$T/err" ||
    fail "a member named a path: exit $rc: $(cat "$T/out" "$T/err")"
[ ! -e "$T/x.kdtrace" ] || fail "a member's capture went to a path"
as kdop capture p mine.kdtrace
[ $rc = 0 ] || fail "a member's capture by name: exit $rc: $(cat "$T/err")"
wait_until 5 test -f "$T/caps/mine.kdtrace" || fail "no $T/caps/mine.kdtrace"
as kdop capture p --stop
[ $rc = 0 ] || fail "capture --stop: exit $rc: $(cat "$T/err")"
note "ok: a member's capture: a path refused, a name in capture-dir"

# Outside the group: the directory keeps nobody out; with it opened, the
# daemon does, by SO_PEERCRED, says why and logs it.
as nobody -s "$S" status
[ $rc = 77 ] && grep -q 'Permission denied' "$T/err" ||
    fail "nobody through /run/kdrelay 0750: exit $rc: $(cat "$T/err")"
chmod 0755 /run/kdrelay
chmod 0666 "$S"
as nobody -s "$S" status
[ $rc = 77 ] && grep -q "only root or the control socket's group" "$T/err" ||
    fail "nobody, socket 0666: exit $rc: $(cat "$T/out" "$T/err")"
wait_log "$T/relay.log" "control: refused uid $(id -u nobody) (pid [0-9]*): not root nor in the socket's group" ||
    fail "no log line for the refusal: $(grep control: "$T/relay.log")"
said=$(cat "$T/err")
[ "$(grep -c 'control: refused' "$T/relay.log")" = 1 ] ||
    fail "refusals logged: $(grep 'control: refused' "$T/relay.log")"
as kdop status p
[ $rc = 0 ] || fail "kdop after the refusal: exit $rc: $(cat "$T/err")"
note "ok: nobody refused: $said"

# The groups that count are the connecting process's, as the kernel has
# them, not what the group file says of its user (the socket still open
# to all): a member's process that dropped its supplementary groups is
# refused, one that was given kdctl by whoever started it is let in.
mid=$(id -u "$member")
setpriv --reuid "$mid" --regid "$(id -g "$member")" --clear-groups \
    "$CTL" status p >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 77 ] || fail "$member without its groups: exit $rc: $(cat "$T/out" "$T/err")"
setpriv --reuid nobody --regid nogroup --groups kdctl \
    "$CTL" status p >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 0 ] || fail "nobody with kdctl as a supplementary group: exit $rc: $(cat "$T/err")"
note "ok: the process's own groups count (SO_PEERGROUPS), not the group file's"
stop "$RELAY"
[ ! -e "$S" ] || fail "$S left after exit"

# Started without the unit, kdrelayd makes /run/kdrelay itself, 0700: it
# says that the group cannot reach the socket, rather than leaving the
# members to find out.
! grep -q "cannot reach" "$T/relay.log" ||
    fail "reachable, yet: $(grep 'cannot reach' "$T/relay.log")"
rm -rf /run/kdrelay
: >"$T/relay.log"
bg "$BUILD/kdrelayd" -v -c "$T/kd.conf" 2>>"$T/relay.log"
RELAY=$LAST
wait_log "$T/relay.log" "control: listening on $S" ||
    fail "no control socket: $(cat "$T/relay.log")"
wait_log "$T/relay.log" "control: group kdctl cannot reach $S: /run/kdrelay is mode 0700" ||
    fail "an unreachable socket not said: $(grep control: "$T/relay.log")"
as kdop status p
[ $rc = 77 ] || fail "kdop through /run/kdrelay 0700: exit $rc"
note "ok: $(grep -o 'control: group kdctl cannot.*' "$T/relay.log")"
stop "$RELAY"
exit 0
