/*
 * kdtest.h - shared helpers for the Check unit tests: a seeded PRNG, the
 * sessions (the real WinDbg one read from $KDRELAY_SHARED, never copied,
 * when it is there; a generated one always), and a parser event log that
 * keeps copies of what the parser reported.
 *
 * Skips: a suite registers the cases that need the real session only when
 * kt_have_fixture() says it is there; otherwise that prints one line
 * "SKIP: WHAT: WHY", which tests/run-units.sh shows and counts.  Cases that
 * only need a realistic session run on the generated one (kt_generated:
 * kdgen -s 2, made by `make units` beside the test binaries), so they
 * never skip (kt_session_tcases registers both).  kt_run runs a suite.
 */
#ifndef KDRELAY_KDTEST_H
#define KDRELAY_KDTEST_H

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdcom.h"
#include "kdtrace.h"

#define KT_FIXTURE	"fixtures/windbg-session.kdtrace"

/*
 * Check's ck_assert writes to a pipe on every call in fork mode; inner
 * loops that check millions of things use this, which costs nothing until
 * it fails.
 */
#define KT_CHECK(cond, ...) do {					\
	if (!(cond))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

/* splitmix64: small, seeded, the same everywhere. */
static inline uint64_t
kt_rand(uint64_t *state)
{
	uint64_t	z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

static inline size_t
kt_below(uint64_t *state, size_t n)
{
	return (n == 0 ? 0 : kt_rand(state) % n);
}

/*
 * A piece of the left bytes to feed at once, as reads cut a line: half the
 * time a few bytes, else up to 5,000, never none while some are left.
 */
static inline size_t
kt_piece(uint64_t *state, size_t left)
{
	size_t	n = 1 + kt_below(state, kt_below(state, 2) ? 40 : 5000);

	return (n < left ? n : left);
}

static inline void *
kt_xmalloc(size_t n)
{
	void	*p = malloc(n > 0 ? n : 1);

	ck_assert_ptr_nonnull(p);
	return (p);
}

static inline void
kt_fixture_path(char *buf, size_t len)
{
	const char	*shared = getenv("KDRELAY_SHARED");

	ck_assert_msg(shared != NULL && *shared != '\0',
	    "KDRELAY_SHARED is not set (run the tests through make)");
	snprintf(buf, len, "%s/%s", shared, KT_FIXTURE);
}

/* The real session is readable; if not, say what is skipped and why. */
static inline int
kt_have_fixture(const char *what)
{
	const char	*shared = getenv("KDRELAY_SHARED");
	char		 path[PATH_MAX];

	if (shared == NULL || *shared == '\0') {
		printf("SKIP: %s: KDRELAY_SHARED is not set (run the tests "
		    "through make)\n", what);
		fflush(stdout);
		return (0);
	}
	snprintf(path, sizeof(path), "%s/%s", shared, KT_FIXTURE);
	if (access(path, R_OK) == 0)
		return (1);
	printf("SKIP: %s: %s is absent (a clone without ../shared)\n", what,
	    path);
	fflush(stdout);
	return (0);
}

/*
 * The generated session: $KDRELAY_SESSION, else kdgen.kdtrace beside the
 * test binary (make units writes it there).
 */
static inline void
kt_generated(struct kdtrace *t)
{
	const char	*env = getenv("KDRELAY_SESSION");
	char		 path[PATH_MAX], err[512], *slash;
	ssize_t		 n;

	if (env != NULL && *env != '\0')
		snprintf(path, sizeof(path), "%s", env);
	else {
		n = readlink("/proc/self/exe", path, sizeof(path) - 32);
		ck_assert_msg(n > 0, "readlink /proc/self/exe");
		path[n] = '\0';
		slash = strrchr(path, '/');
		ck_assert_ptr_nonnull(slash);
		strcpy(slash + 1, "kdgen.kdtrace");
	}
	ck_assert_msg(kdtrace_load(path, t, err, sizeof(err)) == 0,
	    "generated session: %s (make units writes it)", err);
}

/* Records of one direction and packet type in a session. */
static inline size_t
kt_count_type(const struct kdtrace *t, char dir, uint16_t type)
{
	size_t	i, n = 0;

	for (i = 0; i < t->n; i++) {
		const struct kdtrace_rec *r = &t->recs[i];

		if (r->dir == dir && r->len >= KD_HEADER_SIZE &&
		    (r->pkt[4] | r->pkt[5] << 8) == type)
			n++;
	}
	return (n);
}

static inline void
kt_fixture(struct kdtrace *t)
{
	char	path[PATH_MAX], err[512];

	kt_fixture_path(path, sizeof(path));
	ck_assert_msg(kdtrace_load(path, t, err, sizeof(err)) == 0,
	    "fixture: %s", err);
}

/* A packet header as written on the wire (any values, valid or not). */
static inline size_t
kt_header(uint8_t *b, uint32_t leader, uint16_t type, uint16_t len,
    uint32_t id, uint32_t sum)
{
	uint32_t	v[4] = { leader, type | (uint32_t)len << 16, id, sum };
	size_t		i;

	for (i = 0; i < 16; i++)
		b[i] = v[i / 4] >> (8 * (i % 4));
	return (16);
}

/* The fixture's packets in one direction, back to back (malloc'd). */
static inline uint8_t *
kt_direction(const struct kdtrace *t, char dir, size_t *lenp, size_t *npkt)
{
	uint8_t	*b;
	size_t	 i, len = 0, n = 0;

	for (i = 0; i < t->n; i++) {
		if (t->recs[i].dir == dir)
			len += t->recs[i].len;
	}
	b = kt_xmalloc(len);
	len = 0;
	for (i = 0; i < t->n; i++) {
		if (t->recs[i].dir != dir)
			continue;
		memcpy(b + len, t->recs[i].pkt, t->recs[i].len);
		len += t->recs[i].len;
		n++;
	}
	*lenp = len;
	if (npkt != NULL)
		*npkt = n;
	return (b);
}

/* One reported event, with a copy of the packet's bytes. */
struct kt_ev {
	enum kd_event_kind	 kind;
	size_t			 len;		/* garbage */
	struct kd_packet	 pkt;		/* pointers fixed to raw below */
	uint8_t			*raw;
};

struct kt_log {
	size_t		 n, cap;
	struct kt_ev	*ev;
	struct kd_counters c;
};

static inline void
kt_log_cb(void *arg, const struct kd_event *ev)
{
	struct kt_log	*log = arg;
	struct kt_ev	*e;

	if (log->n == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 64;
		log->ev = realloc(log->ev, log->cap * sizeof(*log->ev));
		ck_assert_ptr_nonnull(log->ev);
	}
	e = &log->ev[log->n++];
	memset(e, 0, sizeof(*e));
	e->kind = ev->kind;
	e->len = ev->len;
	kd_counters_add(&log->c, ev);
	if (ev->kind != KD_EV_PACKET)
		return;
	ck_assert_ptr_nonnull(ev->pkt);
	e->pkt = *ev->pkt;
	e->raw = kt_xmalloc(ev->pkt->rawlen);
	memcpy(e->raw, ev->pkt->raw, ev->pkt->rawlen);
	e->pkt.raw = e->raw;
	e->pkt.payload = ev->pkt->payload == NULL ? NULL :
	    e->raw + (ev->pkt->payload - ev->pkt->raw);
}

static inline void
kt_log_free(struct kt_log *log)
{
	size_t	i;

	for (i = 0; i < log->n; i++)
		free(log->ev[i].raw);
	free(log->ev);
	memset(log, 0, sizeof(*log));
}

/* Packets told in brief (kd_parser_brief, stream_brief), bytes copied. */
struct kt_briefs {
	size_t		 n, cap;
	struct kd_brief	*b;		/* raw: the copies */
};

static inline void
kt_brief_cb(void *arg, const struct kd_brief *b)
{
	struct kt_briefs	*l = arg;
	uint8_t			*raw;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->b = realloc(l->b, l->cap * sizeof(*l->b));
		ck_assert_ptr_nonnull(l->b);
	}
	ck_assert_uint_ge(b->rawlen, KD_HEADER_SIZE);
	raw = kt_xmalloc(b->rawlen);
	memcpy(raw, b->raw, b->rawlen);
	l->b[l->n] = *b;
	l->b[l->n++].raw = raw;
}

static inline void
kt_briefs_free(struct kt_briefs *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free((void *)l->b[i].raw);
	free(l->b);
	memset(l, 0, sizeof(*l));
}

/*
 * The briefs say what the log's packet events say, one for one: verdict,
 * type, control flag, bytes, and what a listener reads from them (id,
 * ByteCount, API number).
 */
static inline void
kt_briefs_match(const struct kt_briefs *l, const struct kt_log *log,
    const char *what)
{
	const struct kd_packet	*p;
	const struct kd_brief	*b;
	size_t			 i, k = 0;
	uint32_t		 api;
	int			 has;

	for (i = 0; i < log->n; i++) {
		if (log->ev[i].kind != KD_EV_PACKET)
			continue;
		ck_assert_msg(k < l->n, "%s: %zu briefs, more packets", what,
		    l->n);
		p = &log->ev[i].pkt;
		b = &l->b[k];
		has = kd_brief_api(b, &api);
		ck_assert_msg(b->verdict == p->verdict && b->type == p->type &&
		    b->control == p->control && b->rawlen == p->rawlen &&
		    memcmp(b->raw, log->ev[i].raw, b->rawlen) == 0 &&
		    kd_raw_id(b->raw) == p->id && kd_raw_len(b->raw) == p->len &&
		    has == p->has_api && api == p->api,
		    "%s: brief %zu differs from its packet event", what, k);
		k++;
	}
	ck_assert_msg(k == l->n, "%s: %zu briefs for %zu packets", what, l->n,
	    k);
}

/* Two logs report the same events with the same bytes. */
static inline void
kt_log_equal(const struct kt_log *a, const struct kt_log *b, const char *what)
{
	size_t	i;

	ck_assert_msg(a->n == b->n, "%s: %zu events vs %zu", what, a->n, b->n);
	for (i = 0; i < a->n; i++) {
		const struct kt_ev *x = &a->ev[i], *y = &b->ev[i];

		ck_assert_msg(x->kind == y->kind, "%s: event %zu kind", what,
		    i);
		ck_assert_msg(x->len == y->len, "%s: event %zu len %zu vs %zu",
		    what, i, x->len, y->len);
		if (x->kind != KD_EV_PACKET)
			continue;
		ck_assert_msg(x->pkt.verdict == y->pkt.verdict &&
		    x->pkt.rawlen == y->pkt.rawlen &&
		    memcmp(x->raw, y->raw, x->pkt.rawlen) == 0,
		    "%s: packet %zu differs", what, i);
	}
}

/*
 * Cases that run over a whole session: kt_session_tcases makes a tcase
 * of add's cases for the generated session and, when it is there, one for
 * the real WinDbg session; each one's fixture loads its session into
 * kt_trace (kt_real: it is the real one) and frees it after.
 */
static struct kdtrace	kt_trace __attribute__((unused));
static int		kt_real __attribute__((unused));

static inline void
kt_setup_generated(void)
{
	kt_generated(&kt_trace);
	kt_real = 0;
}

static inline void
kt_setup_real(void)
{
	kt_fixture(&kt_trace);
	kt_real = 1;
}

static inline void
kt_teardown_session(void)
{
	kdtrace_free(&kt_trace);
}

static inline void
kt_session_tcase(Suite *s, const char *name, void (*setup)(void),
    void (*add)(TCase *))
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, kt_teardown_session);
	add(tc);
	suite_add_tcase(s, tc);
}

static inline void
kt_session_tcases(Suite *s, void (*add)(TCase *))
{
	kt_session_tcase(s, "generated", kt_setup_generated, add);
	if (kt_have_fixture("the session cases on the real WinDbg session"))
		kt_session_tcase(s, "real", kt_setup_real, add);
}

/* Run a suite: the exit status of a test binary. */
static inline int
kt_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

#endif
