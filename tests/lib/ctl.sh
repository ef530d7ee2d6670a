# ctl.sh - kdrelayctl for the control-socket tests (sourced after
# common.sh):
#
#   CTL                        the built kdrelayctl
#   ctl ARGS...                kdrelayctl on the test's socket, $T/control

CTL=$BUILD/kdrelayctl
[ -x "$CTL" ] || fail "$CTL missing"
ctl() { "$CTL" -s "$T/control" "$@"; }
