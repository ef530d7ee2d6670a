# kdrelayd - a lossless, CRLF-repairing KDCOM serial relay.
#
# Sources are found by wildcard so that a new module is one new file:
#   src/<tool>.c for each program in PROGS, every other src/*.c is library;
#   tests/check_<module>.c is a Check unit test; tests/test_*.sh an
#   integration test run by tests/run-integration.sh.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
DESTDIR	?=

VERSION	:= 0.1.0
PKG_CONFIG ?= pkg-config
PKGS	:= libevent libevent_pthreads
OPT_PKGS := xenstore libsystemd
HAVE_PKGS := $(foreach p,$(OPT_PKGS),$(if $(shell $(PKG_CONFIG) --exists $(p) && echo y),$(p)))

CC	?= cc
WERROR	?=
CFLAGS	?= -O2 -g
# Project flags stay apart from CFLAGS so that `make CFLAGS=...` (sanitizer
# builds, say) adds to them rather than replacing them.
KD_CFLAGS := -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wformat=2 $(WERROR) \
	   -D_GNU_SOURCE -DKDRELAY_VERSION='"$(VERSION)"' -Iinclude \
	   $(shell $(PKG_CONFIG) --cflags $(PKGS) $(HAVE_PKGS)) \
	   $(if $(filter xenstore,$(HAVE_PKGS)),-DHAVE_XENSTORE -DHAVE_EP_XEN) \
	   -DHAVE_EP_PVE \
	   $(if $(filter libsystemd,$(HAVE_PKGS)),-DHAVE_SYSTEMD)
KD_LIBS	:= $(shell $(PKG_CONFIG) --libs $(PKGS) $(HAVE_PKGS)) -lpthread
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

BUILD	?= build
# The shared fixtures and docs live beside the checkout (CI has them too).
SHARED	?= $(abspath $(CURDIR)/../shared)
export KDRELAY_SHARED := $(SHARED)
PROGS	:= kdrelayd kdreplay kdgen
LIBSRC	:= $(filter-out $(PROGS:%=src/%.c),$(wildcard src/*.c))
LIBOBJ	:= $(LIBSRC:src/%.c=$(BUILD)/%.o)
UNITS	:= $(patsubst tests/%.c,%,$(wildcard tests/check_*.c))
HELPERS	:= $(patsubst tests/helpers/%.c,%,$(wildcard tests/helpers/*.c))
BENCHES	:= $(patsubst bench/%.c,%,$(wildcard bench/*.c))

all: $(PROGS:%=$(BUILD)/%)

$(BUILD)/%.o: src/%.c $(wildcard include/*.h) | $(BUILD)
	$(CC) $(CFLAGS) $(KD_CFLAGS) -c -o $@ $<

$(BUILD)/libkdrelay.a: $(LIBOBJ)
	$(AR) rcs $@ $^

$(BUILD)/%: $(BUILD)/%.o $(BUILD)/libkdrelay.a
	$(CC) $(CFLAGS) $(KD_CFLAGS) $(LDFLAGS) -o $@ $^ $(KD_LIBS) $(LDLIBS)

$(BUILD)/check_%: tests/check_%.c $(BUILD)/libkdrelay.a $(wildcard tests/*.h)
	$(CC) $(CFLAGS) $(KD_CFLAGS) $(CHECK_CFLAGS) -Itests -o $@ $< $(BUILD)/libkdrelay.a $(KD_LIBS) $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/helpers/%: tests/helpers/%.c $(BUILD)/libkdrelay.a \
	    $(wildcard tests/peers/*.h) | $(BUILD)
	@mkdir -p $(BUILD)/helpers
	$(CC) $(CFLAGS) $(KD_CFLAGS) -o $@ $< $(BUILD)/libkdrelay.a $(KD_LIBS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c bench/bench.h $(BUILD)/libkdrelay.a | $(BUILD)
	@mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS) $(KD_CFLAGS) -o $@ $< $(BUILD)/libkdrelay.a $(KD_LIBS) $(LDLIBS)

$(BUILD):
	mkdir -p $@

.PRECIOUS: $(BUILD)/%.o

# Installs the Debian packages the build and the tests need, once.
deps:
	@sh tests/deps.sh

check: deps
	$(MAKE) all units helpers
	@tests/run-units.sh $(UNITS:%=$(BUILD)/%)
	@tests/run-integration.sh $(BUILD)

units: $(UNITS:%=$(BUILD)/%)
helpers: $(HELPERS:%=$(BUILD)/helpers/%)

demo: deps
	$(MAKE) all
	@tests/demo.sh $(BUILD)

# Benchmarks against socat and friends (slow: minutes); see README.
bench: deps
	$(MAKE) all $(BENCHES:%=$(BUILD)/bench/%)
	@bench/run.sh $(BUILD)

# Units run $(SBINDIR)/kdrelayd -c $(SYSCONFDIR)/kdrelay.conf.  An existing
# kdrelay.conf is never replaced; uninstall keeps it if it was changed.
SERVICES := $(wildcard systemd/*.service)
MAN1	:= $(wildcard man/*.1)
MAN5	:= $(wildcard man/*.5)
MAN8	:= $(wildcard man/*.8)
CONF	:= $(DESTDIR)$(SYSCONFDIR)/kdrelay.conf

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(if $(MAN1),$(DESTDIR)$(MANDIR)/man1)
	install -m 0755 $(BUILD)/kdrelayd $(DESTDIR)$(SBINDIR)/kdrelayd
	install -m 0755 $(BUILD)/kdreplay $(DESTDIR)$(BINDIR)/kdreplay
	install -m 0755 $(BUILD)/kdgen $(DESTDIR)$(BINDIR)/kdgen
	for u in $(SERVICES); do \
		sed -e 's|^ExecStart=/usr/sbin/kdrelayd |ExecStart=$(SBINDIR)/kdrelayd |' \
		    -e 's| -c /etc/kdrelay.conf| -c $(SYSCONFDIR)/kdrelay.conf|' \
		    $$u >$(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
		grep -q '^ExecStart=$(SBINDIR)/kdrelayd -c $(SYSCONFDIR)/kdrelay.conf' \
		    $(DESTDIR)$(UNITDIR)/$${u##*/} || \
		    { echo "$$u: ExecStart not rewritten" >&2; exit 1; }; \
	done
	$(if $(MAN1),install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1)
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8
	@if [ -e $(CONF) ]; then \
		echo "$(CONF) exists: kept (the new sample is kdrelay.conf in the source)"; \
	else \
		echo "install -m 0644 kdrelay.conf $(CONF)"; \
		install -m 0644 kdrelay.conf $(CONF); \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/kdrelayd $(DESTDIR)$(BINDIR)/kdreplay \
	    $(DESTDIR)$(BINDIR)/kdgen \
	    $(SERVICES:systemd/%=$(DESTDIR)$(UNITDIR)/%) \
	    $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) \
	    $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%) \
	    $(MAN8:man/%=$(DESTDIR)$(MANDIR)/man8/%)
	@if cmp -s kdrelay.conf $(CONF); then \
		echo "rm -f $(CONF)"; rm -f $(CONF); \
	elif [ -e $(CONF) ]; then \
		echo "$(CONF) differs from the sample: left in place"; \
	fi

clean:
	rm -rf $(BUILD)

# --- Hardening: sanitizers, valgrind, fuzzing (see README, Reliability) ---

ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
# Any sanitizer report fails: ASan and UBSan abort, leaks count; the
# integration tests also look for reports in the daemon's log.  Check's
# per-test timeouts get room for the sanitizers' slowdown.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 CK_TIMEOUT_MULTIPLIER=5

check-asan: deps
	$(MAKE) BUILD=build-asan CC=clang CFLAGS='$(ASAN_CFLAGS)' all units helpers
	@$(SAN_ENV) tests/run-units.sh $(UNITS:%=build-asan/%)
	@$(SAN_ENV) tests/run-integration.sh build-asan

# The unit tests in one process each (CK_FORK=no), so valgrind sees them.
check-valgrind: deps
	$(MAKE) units
	@fail=0; for t in $(UNITS:%=$(BUILD)/%); do \
		echo "== valgrind $$t"; \
		CK_FORK=no valgrind -q --leak-check=full --error-exitcode=1 \
		    $$t || { echo "FAIL: valgrind $$t"; fail=1; }; \
	done; exit $$fail

FUZZ_SECONDS ?= 60
FUZZERS	:= $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -fsanitize=fuzzer-no-link

$(BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(BUILD)/libkdrelay.a
	$(CC) $(CFLAGS) $(KD_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libkdrelay.a $(KD_LIBS) $(LDLIBS)

fuzz-build: deps
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS='$(FUZZ_CFLAGS)' $(FUZZERS:%=build-fuzz/%)

# Each target for FUZZ_SECONDS, seeded from the fixture and the test inputs.
fuzz: fuzz-build
	@fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZERS)

.PHONY: all deps check units helpers demo bench install uninstall clean
.PHONY: check-asan check-valgrind fuzz fuzz-build
