#!/bin/sh
# test_xen_hostile.sh - a guest owns its xenstore subtree and can write
# anything as its serial tty.  Against a real oxenstored:
#   - each hostile value is refused and logged once, also while the store
#     keeps changing around it (rescans, rewrites of the same value);
#   - nothing but /dev/pts/<N> and the xenconsole lock is ever opened
#     (strace on the daemon);
#   - a /dev/pts that is not devpts (a tmpfs over it in this namespace,
#     holding a symlink, a plain file and /dev/null's device) is stopped
#     by O_NOFOLLOW and by the pty-slave check;
#   - the endpoint recovers when the value becomes valid, and then holds
#     the domain's xenconsole lock (default /var/lock);
#   - a name two domains claim is refused until one of them goes;
#   - xl console's lock held by another process is respected, the refusal
#     logged once, and the pty opened once the lock is free.
. "$TESTS/lib/common.sh"
. "$TESTS/lib/peers.sh"
. "$TESTS/lib/xenstore.sh"
. "$TESTS/lib/xenvm.sh"
xs_enter_namespace "$@"
t_need socat strace flock mknod
xs_start
unset KDRELAY_XEN_LOCK_DIR
LOCKS=/var/lock		# the default; /run is this namespace's tmpfs
NODE=/local/domain/20/serial/0/tty

xvm good
GOOD=$XVM_TTY
xs_domain_create evil 20
t_bg relay strace -f -qq -e trace=open,openat -o "$T_TMP/strace.log" \
    "$BUILD/kdrelayd" -v "unix-listen:$T_TMP/h.sock" xen:evil
RELAY_PID=$T_PID
log_wait relay "waiting for $NODE" || t_fail "the relay did not find evil"
settty() {	# as the guest would: straight into its own node
	xenstore-write "$NODE" "$1" || t_fail "xenstore-write $NODE"
}

# 1. Hostile values, each refused.
ln -s "$GOOD" "$T_TMP/link"
mknod "$T_TMP/blk" b 7 0 || t_fail "mknod $T_TMP/blk"
long=/dev/pts/$(head -c 1500 /dev/zero | tr '\0' 1)
junk=$(printf '\377\376/dev/pts/1\001')
set -- \
    '/etc/shadow" (not /dev/pts/<number>)' \
    '/dev/pts/../.." (not /dev/pts/<number>)' \
    "$T_TMP/link\" (not /dev/pts/<number>)" \
    '/dev/stdin" (not /dev/pts/<number>)' \
    "$T_TMP/blk\" (not /dev/pts/<number>)" \
    '/dev/pts/ptmx" (not /dev/pts/<number>)' \
    '/dev/pts/007" (a pty number with a leading zero)' \
    '/dev/pts/11111111111111111111' \
    '\xff\xfe/dev/pts/1\x01" (not /dev/pts/<number>)'
i=0
for v in /etc/shadow /dev/pts/../.. "$T_TMP/link" /dev/stdin "$T_TMP/blk" \
    /dev/pts/ptmx /dev/pts/007 "$long" "$junk"; do
	i=$((i + 1))
	eval "shown=\${$i}"
	settty "$v"
	log_wait relay "refusing $NODE = \"$shown" ||
	    t_fail "value $shown was not refused"
done
grep -F "= \"/dev/pts/11111111111111111111" "$T_TMP/relay.log" |
    grep -q '(too long for /dev/pts/<number>)' || t_fail "long: no reason"
t_log "$i hostile values refused"

# The store keeps changing: domains come and go (rescans on
# @introduceDomain/@releaseDomain), the guest rewrites the same junk and
# writes other nodes of its own.  Then one more value: once the relay has
# logged that one, it has seen everything before it (watch events arrive
# in order).
for d in 41 42 43; do
	xs_domain_create "other$d" "$d" "/dev/pts/99$d"
	xenstore-write /local/domain/20/data/meminfo "$d"
	settty "$junk"
done
for d in 41 42 43; do xs_domain_destroy "$d"; done
settty /etc/passwd
log_wait relay "refusing $NODE = \"/etc/passwd\"" || t_fail "/etc/passwd"
for shown in "$@"; do
	n=$(log_count relay "refusing $NODE = \"$shown")
	[ "$n" = 1 ] || t_fail "the refusal of \"$shown logged $n times"
done
t_log "each refusal logged once, through rescans and rewrites"

# 2. A /dev/pts that is not devpts: O_NOFOLLOW and the pty-slave check.
mount -t tmpfs -o mode=0755 kdrelay-fake-pts /dev/pts ||
    t_fail "mount a tmpfs over /dev/pts"
t_atexit "umount /dev/pts 2>/dev/null"
ln -s /dev/null /dev/pts/4242
: >/dev/pts/4243
mknod /dev/pts/4244 c 1 3
settty /dev/pts/4242
log_wait relay "xen:evil: Too many levels of symbolic links; retrying" ||
    t_fail "a symlink in /dev/pts was not refused by O_NOFOLLOW"
settty /dev/pts/4243
log_wait relay "refusing /dev/pts/4243: not a pty slave (mode 100" ||
    t_fail "a plain file in /dev/pts was taken for a pty"
settty /dev/pts/4244
log_wait relay "refusing /dev/pts/4244: not a pty slave (mode 20" ||
    t_fail "/dev/null's device in /dev/pts was taken for a pty"
umount /dev/pts || t_fail "umount /dev/pts"
[ "$(log_count relay "xen:evil: connected")" = 0 ] ||
    t_fail "something hostile was accepted"
t_log "symlink, plain file and char device in a fake /dev/pts refused"

# 3. Recovery: a valid value, the lock held, traffic both ways.
settty "$GOOD"
log_wait relay "xen:evil: connected" || t_fail "no recovery on a valid value"
if flock -n "$LOCKS/xenconsole.20" true; then
	t_fail "the relay does not hold $LOCKS/xenconsole.20"
fi
exchange "unix:$T_TMP/h.sock" "$T_TMP/good.guest" 65536 ||
    t_fail "traffic after recovery"
t_stop "$(pgrep -P "$RELAY_PID" kdrelayd)"	# strace's child
t_stop "$RELAY_PID"
[ ! -e "$LOCKS/xenconsole.20" ] || t_fail "the lock file was left behind"

# Nothing but ptys and the lock was opened, ever (after the libraries).
grep -o 'open[at]*([^"]*"[^"]*"' "$T_TMP/strace.log" |
    sed 's/^[^"]*"//; s/"$//' | sort -u >"$T_TMP/opened"
bad=$(grep -v -E '^(/etc/ld\.so\.cache|/(usr/)?lib(64)?/.*|/dev/pts/[0-9]+|/var/lock/xenconsole\.[0-9]+)$' \
    "$T_TMP/opened")
[ -z "$bad" ] || t_fail "the relay opened: $bad"
grep -q '"/dev/pts/4242", [^)]*O_NOFOLLOW[^)]*) = -1 ELOOP' "$T_TMP/strace.log" ||
    t_fail "/dev/pts/4242 was not opened with O_NOFOLLOW"
grep -qxF "$GOOD" "$T_TMP/opened" || t_fail "strace saw no open of $GOOD"
t_log "opened only: $(tr '\n' ' ' <"$T_TMP/opened" | sed 's|/[^ ]*lib[^ ]* ||g')"

# 4. A name two domains claim.
xvm d1
T1=$XVM_TTY
xvm d2
xs_domain_create dup 30 "$T1"
xs_domain_create dup 31 "$XVM_TTY"
relay_start amb "unix-listen:$T_TMP/amb.sock" xen:dup
log_wait amb "refusing: the name dup is claimed by domains 30 and 31 (ambiguous)" ||
    t_fail "an ambiguous name was not refused"
xs_domain_destroy 31
log_wait amb "xen:dup: connected" || t_fail "dup not opened once unique"
log_wait amb "domain dup (domid 30) serial 0: opening $T1" ||
    t_fail "dup: not domain 30's pty"
[ "$(log_count amb "(ambiguous)")" = 1 ] || t_fail "ambiguity logged again"
t_stop "$RELAY_PID"
t_log "a name claimed twice refused, taken once unique"

# 5. xl console attached: its lock is respected.
xvm l
xs_domain_create locked 50
t_bg locker sh -c "exec 9>>$LOCKS/xenconsole.50; flock -x 9; exec sleep 30"
locker=$T_PID
t_wait_for 5 sh -c "! flock -n $LOCKS/xenconsole.50 true" ||
    t_fail "the test could not take the lock"
relay_start lk "unix-listen:$T_TMP/lk.sock" xen:locked
xs_domain_set_tty 50 "$XVM_TTY"
log_wait lk "$LOCKS/xenconsole.50 is locked by another reader (xl console attached?); not opening $XVM_TTY, retrying" ||
    t_fail "a held xenconsole lock was not respected"
sleep 1			# several retries meanwhile
[ "$(log_count lk "xen:locked: connected")" = 0 ] ||
    t_fail "opened the pty while xl console held the lock"
t_stop "$locker"
log_wait lk "xen:locked: connected" 1 8 || t_fail "not opened once unlocked"
[ "$(log_count lk "is locked by another reader")" = 1 ] ||
    t_fail "the lock refusal was logged more than once"
exchange "unix:$T_TMP/lk.sock" "$T_TMP/l.guest" 65536 ||
    t_fail "traffic after the lock was freed"
t_log "xenconsole lock respected, taken once free"
exit 0
