#!/bin/sh
# A tool leaves a tty as it found it (issue 10, defect 9): kdreplay sets
# the VM's pty raw, and with --onlcr turns output processing (opost, onlcr)
# back on; whether its session fails, ends, or is stopped by SIGTERM,
# every setting is put back when it exits.
. "$TESTS/lib/common.sh"
"$BUILD/kdgen" -n 3 -o "$T/s.kdtrace" || fail "kdgen"
vm x
stty -F "$T/x.vm" sane -opost cs8
before=$(stty -g -F "$T/x.vm")
stty -a -F "$T/x.vm" | grep -q -- '-opost' || fail "opost not off to start with"

# No peer: the session times out.
"$BUILD/kdreplay" --as target --onlcr --timeout 50 --retries 1 --quiet \
    "$T/s.kdtrace" "$T/x.vm" && fail "a session with no peer went through"
[ "$(stty -g -F "$T/x.vm")" = "$before" ] ||
    fail "settings changed after a failed session: $(stty -a -F "$T/x.vm" | tr '\n' ' ')"

# Stopped while waiting for a debugger that reads and never answers.
bg cat "$T/x.guest" >/dev/null
CAT=$LAST
wait_until 10 sh -c "ls -l /proc/$CAT/fd | grep -q pts" || fail "cat did not open the guest side"
bg "$BUILD/kdreplay" --as target --onlcr --timeout 10000 --quiet \
    "$T/s.kdtrace" "$T/x.vm"
wait_until 10 sh -c "stty -a -F '$T/x.vm' | grep -Eq '(^| )opost'" ||
    fail "kdreplay --onlcr did not set opost"
stop $LAST
stop $CAT
[ "$(stty -g -F "$T/x.vm")" = "$before" ] ||
    fail "settings changed after SIGTERM: $(stty -a -F "$T/x.vm" | tr '\n' ' ')"

# A session that went through, --onlcr on the target over a clean line.
vm y
before_y=$(stty -g -F "$T/y.vm")
"$BUILD/kdreplay" --as debugger --timeout 2000 --quiet "$T/s.kdtrace" "$T/y.guest" &
D=$!
"$BUILD/kdreplay" --as target --timeout 2000 --quiet "$T/s.kdtrace" "$T/y.vm" ||
    fail "a clean session failed"
wait $D || fail "the debugger side failed"
[ "$(stty -g -F "$T/y.vm")" = "$before_y" ] || fail "settings changed after a session"
note "ok: opost and every other setting put back after a timeout, SIGTERM and a finished session"
