#!/bin/sh
# tests/deps.sh installs only what each command needs:
#  - make demo needs the build and socat, not clang, llvm or valgrind, and
#    neither does make check; check-asan, check-valgrind and fuzz add
#    theirs; ci (what .ci/run installs) is all of them;
#  - each make target asks for its own profile;
#  - run by a user who cannot install, with a package missing: it names
#    the package and the apt-get command (--no-install-recommends for the
#    KVM and package tools), and stops with 69;
#  - an unknown profile is a usage error (64).
. "$TESTS/lib/common.sh"
top=$(cd "$TESTS/.." && pwd)
deps=$TESTS/deps.sh
list() { sh "$deps" --list "$@" | tr '\n' ' '; }
has() { case " $(list "$1") " in *" $2 "*) return 0 ;; esac; return 1; }

for p in demo check; do
	for x in clang llvm valgrind; do
		! has $p $x || fail "$p needs $x: $(list $p)"
	done
done
has demo socat && has demo libevent-dev && has demo build-essential ||
    fail "demo: $(list demo)"
has check check && has check socat && has check xenstore-utils ||
    fail "check: $(list check)"
has asan clang && has valgrind valgrind && has fuzz clang && has fuzz llvm ||
    fail "asan, valgrind, fuzz: $(list asan) / $(list valgrind) / $(list fuzz)"
for p in demo check asan valgrind fuzz bench; do
	for x in $(list $p); do
		has ci "$x" || fail "ci lacks $x (of $p)"
	done
done
[ "$(sh "$deps" --list check | sort | uniq -d)" = "" ] || fail "check lists a package twice"
grep -q 'deps.sh ci' "$top/.ci/run" || fail ".ci/run does not install the ci profile"
note "ok: profiles: demo $(list demo | wc -w) packages, check $(list check | wc -w), ci $(list ci | wc -w)"

# Each target runs deps.sh with its profile (make -n: nothing is run).
for tp in demo:demo check:check check-asan:asan check-valgrind:valgrind \
    fuzz-build:fuzz bench:bench deps:ci; do
	make -s -n -C "$top" --no-print-directory "${tp%:*}" 2>/dev/null |
	    head -n 1 >"$T/make.out"
	grep -qx "sh tests/deps.sh ${tp#*:}" "$T/make.out" ||
	    fail "make ${tp%:*} starts with '$(cat "$T/make.out")', not deps.sh ${tp#*:}"
done
note "ok: each make target installs its own profile"

# Something missing, for a user who cannot install it.
sed -e 's/^demo      @build socat$/demo      @build socat kdrelay-no-such-package/' \
    -e 's/^deb       /deb       kdrelay-no-such-tool /' "$deps" >"$T/deps.sh"
grep -q kdrelay-no-such-package "$T/deps.sh" || fail "editing the demo profile"
if [ "$(id -u)" = 0 ]; then
	as="runuser -u nobody --"
	d=$(user_copy "$T/deps.sh") real=$(user_copy "$deps")
else
	as="" d=$T/deps.sh real=$deps
fi
$as sh "$d" demo >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 69 ] || fail "missing package, no root: exit $rc, not 69: $(cat "$T/err")"
grep -qx '    apt-get install -y kdrelay-no-such-package' "$T/err" &&
    grep -q 'demo needs Debian packages that are not installed: kdrelay-no-such-package$' "$T/err" ||
    fail "missing package: $(cat "$T/err")"
# check: not demo's package, the tool, installed without recommends.
$as sh "$d" check >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 69 ] && ! grep -q 'kdrelay-no-such-package' "$T/err" &&
    grep -qx '    apt-get install -y --no-install-recommends kdrelay-no-such-tool' "$T/err" ||
    fail "check, two missing: exit $rc: $(cat "$T/err")"
$as sh "$real" check >"$T/out" 2>&1 || fail "check's packages are installed, yet: $(cat "$T/out")"
sh "$deps" nosuch 2>"$T/err"
[ $? = 64 ] && grep -q "no profile 'nosuch'" "$T/err" || fail "unknown profile: $(cat "$T/err")"
note "ok: a missing package for a user: named, with the apt-get command, exit 69"
