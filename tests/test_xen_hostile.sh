#!/bin/sh
# test_xen_hostile.sh - a guest owns its xenstore subtree and can write
# anything as its serial tty.  Against a real oxenstored:
#   - each hostile value is refused and logged once, also while the store
#     keeps changing around it (rescans, rewrites of the same value);
#   - nothing but /dev/pts/<N>, the xenconsole lock and the pty's UUCP
#     lock is ever opened (strace on the daemon);
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
need socat strace flock mknod
xs_start
unset KDRELAY_XEN_LOCK_DIR
LOCKS=/var/lock		# the default; /run is this namespace's tmpfs
NODE=/local/domain/20/serial/0/tty

xvm good
GOOD=$XVM_TTY
xs_domain_create evil 20
bg strace -f -qq -y -e trace=open,openat -o "$T/strace.log" \
    "$BUILD/kdrelayd" -v "unix-listen:$T/h.sock" xen:evil >"$T/relay.log" 2>&1
STRACE_PID=$LAST
wait_until 5 pgrep -P "$STRACE_PID" kdrelayd || fail "kdrelayd did not start"
RELAY_PID=$(pgrep -P "$STRACE_PID" kdrelayd)
track "$RELAY_PID"		# strace detaches from it when it is killed
log_wait relay "waiting for $NODE" || fail "the relay did not find evil"
settty() {	# as the guest would: straight into its own node
	xenstore-write "$NODE" "$1" || fail "xenstore-write $NODE"
}

# 1. Hostile values, each refused.
ln -s "$GOOD" "$T/link"
mknod "$T/blk" b 7 0 || fail "mknod $T/blk"
long=/dev/pts/$(head -c 1500 /dev/zero | tr '\0' 1)
junk=$(printf '\377\376/dev/pts/1\001')
set -- \
    '/etc/shadow" (not /dev/pts/<number>)' \
    '/dev/pts/../.." (not /dev/pts/<number>)' \
    "$T/link\" (not /dev/pts/<number>)" \
    '/dev/stdin" (not /dev/pts/<number>)' \
    "$T/blk\" (not /dev/pts/<number>)" \
    '/dev/pts/ptmx" (not /dev/pts/<number>)' \
    '/dev/pts/007" (a pty number with a leading zero)' \
    '/dev/pts/11111111111111111111' \
    '\xff\xfe/dev/pts/1\x01" (not /dev/pts/<number>)'
i=0
for v in /etc/shadow /dev/pts/../.. "$T/link" /dev/stdin "$T/blk" \
    /dev/pts/ptmx /dev/pts/007 "$long" "$junk"; do
	i=$((i + 1))
	eval "shown=\${$i}"
	settty "$v"
	log_wait relay "refusing $NODE = \"$shown" ||
	    fail "value $shown was not refused"
done
grep -F "= \"/dev/pts/11111111111111111111" "$T/relay.log" |
    grep -q '(too long for /dev/pts/<number>)' || fail "long: no reason"
note "$i hostile values refused"

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
log_wait relay "refusing $NODE = \"/etc/passwd\"" || fail "/etc/passwd"
for shown in "$@"; do
	n=$(log_count relay "refusing $NODE = \"$shown")
	[ "$n" = 1 ] || fail "the refusal of \"$shown logged $n times"
done
note "each refusal logged once, through rescans and rewrites"

# 2. A /dev/pts that is not devpts: O_NOFOLLOW and the pty-slave check.
mount -t tmpfs -o mode=0755 kdrelay-fake-pts /dev/pts ||
    fail "mount a tmpfs over /dev/pts"
atexit "umount /dev/pts 2>/dev/null"
ln -s /dev/null /dev/pts/4242
: >/dev/pts/4243
mknod /dev/pts/4244 c 1 3
settty /dev/pts/4242
log_wait relay "cannot open /dev/pts/4242 (Too many levels of symbolic links); waiting for $NODE to be written again" ||
    fail "a symlink in /dev/pts was not refused by O_NOFOLLOW"
settty /dev/pts/4243
log_wait relay "refusing /dev/pts/4243: not a pty slave (mode 100" ||
    fail "a plain file in /dev/pts was taken for a pty"
settty /dev/pts/4244
log_wait relay "refusing /dev/pts/4244: not a pty slave (mode 20" ||
    fail "/dev/null's device in /dev/pts was taken for a pty"
umount /dev/pts || fail "umount /dev/pts"
[ "$(log_count relay "xen:evil: connected$")" = 0 ] ||
    fail "something hostile was accepted"
note "symlink, plain file and char device in a fake /dev/pts refused"

# 3. Recovery: a valid value, the lock held, traffic both ways.
settty "$GOOD"
log_wait relay "xen:evil: connected$" || fail "no recovery on a valid value"
if flock -n "$LOCKS/xenconsole.20" true; then
	fail "the relay does not hold $LOCKS/xenconsole.20"
fi
exchange "unix:$T/h.sock" "$T/good.guest" 65536 ||
    fail "traffic after recovery"
stop "$RELAY_PID"
stop "$STRACE_PID"
[ ! -e "$LOCKS/xenconsole.20" ] || fail "the lock file was left behind"

# Nothing but ptys and the locks (xl console's, the pty's UUCP lock) was
# opened, ever (after the libraries, and the time zone, read once at start
# for the wall-clock log times).  An openat relative to a directory fd
# (the /proc scans) is named by that directory (strace -y).
sed -n -E 's|.*open(at)?\((AT_FDCWD(<[^>]*>)?, )?"([^"]*)".*|\4|p
    s|.*openat\([0-9]+<([^>]*)>, "([^"]*)".*|\1/\2|p' "$T/strace.log" |
    sort -u >"$T/opened"
bad=$(grep -v -E '^(/proc(/.*)?|/sys/.*|/etc/ld\.so\.cache|/etc/localtime|/usr/share/zoneinfo/.*|/(usr/)?lib(64)?/.*|/dev/pts/[0-9]+|/var/lock/xenconsole\.[0-9]+|/run/lock/LCK\.\.pts_[0-9]+)$' \
    "$T/opened")
[ -z "$bad" ] || fail "the relay opened: $bad"
grep -q '"/dev/pts/4242", [^)]*O_NOFOLLOW[^)]*) = -1 ELOOP' "$T/strace.log" ||
    fail "/dev/pts/4242 was not opened with O_NOFOLLOW"
# Refused once, never tried again by path (pty numbers are reused).
for n in 4242 4243 4244; do
	c=$(grep -c "\"/dev/pts/$n\"" "$T/strace.log")
	[ "$c" = 1 ] || fail "/dev/pts/$n was opened $c times"
done
grep -qxF "$GOOD" "$T/opened" || fail "strace saw no open of $GOOD"
note "opened only: $(grep -v '^/proc/' "$T/opened" | tr '\n' ' ' |
    sed 's|/[^ ]*lib[^ ]* ||g')(/proc: the tty claim's scans)"

# 4. A name two domains claim.
xvm d1
T1=$XVM_TTY
xvm d2
xs_domain_create dup 30 "$T1"
xs_domain_create dup 31 "$XVM_TTY"
relay_start amb "unix-listen:$T/amb.sock" xen:dup
log_wait amb "refusing: the name dup is claimed by domains 30 and 31 (ambiguous)" ||
    fail "an ambiguous name was not refused"
xs_domain_destroy 31
log_wait amb "xen:dup: connected$" || fail "dup not opened once unique"
log_wait amb "domain dup (domid 30) serial 0: opening $T1" ||
    fail "dup: not domain 30's pty"
[ "$(log_count amb "(ambiguous)")" = 1 ] || fail "ambiguity logged again"
stop "$RELAY_PID"
note "a name claimed twice refused, taken once unique"

# 5. xl console attached: its lock is respected.
xvm l
xs_domain_create locked 50
bg sh -c "exec 9>>$LOCKS/xenconsole.50; flock -x 9; exec sleep 30"
locker=$LAST
wait_until 5 sh -c "! flock -n $LOCKS/xenconsole.50 true" ||
    fail "the test could not take the lock"
relay_start lk "unix-listen:$T/lk.sock" xen:locked
xs_domain_set_tty 50 "$XVM_TTY"
log_wait lk "$LOCKS/xenconsole.50 is locked by another reader (xl console attached?); not opening $XVM_TTY, retrying" ||
    fail "a held xenconsole lock was not respected"
sleep 1			# several retries meanwhile
[ "$(log_count lk "xen:locked: connected$")" = 0 ] ||
    fail "opened the pty while xl console held the lock"
stop "$locker"
log_wait lk "xen:locked: connected$" 1 8 || fail "not opened once unlocked"
[ "$(log_count lk "is locked by another reader")" = 1 ] ||
    fail "the lock refusal was logged more than once"
exchange "unix:$T/lk.sock" "$T/l.guest" 65536 ||
    fail "traffic after the lock was freed"
note "xenconsole lock respected, taken once free"
exit 0
