/*
 * check_linering - the watcher's line queue: whole lines in order, drops
 * counted (never a partial line) when full, wrap-around, close, and the
 * reader's event activated on empty -> not empty and on close.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "linering.h"
#include "kdtest.h"

static int	fired;

static void
count_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fired++;
}

static struct event_base	*base;
static struct event		*ev;

static void
setup(void)
{
	evthread_use_pthreads();
	base = event_base_new();
	ev = event_new(base, -1, 0, count_cb, NULL);
	fired = 0;
}

static void
teardown(void)
{
	event_free(ev);
	event_base_free(base);
}

static size_t
take(struct linering *r, char *buf, size_t len, uint64_t *dropped,
    int *closed)
{
	size_t	n = linering_take(r, buf, len, dropped, closed);

	buf[n] = '\0';
	return n;
}

START_TEST(lines_in_order)
{
	struct linering	*r = linering_new(64, ev);
	char		 buf[128];
	uint64_t	 d;
	int		 c;

	linering_push(r, "one", 3);
	linering_push(r, "two", 3);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(fired, 1);	/* once: it was empty before "one" */
	ck_assert_uint_eq(take(r, buf, sizeof buf - 1, &d, &c), 8);
	ck_assert_str_eq(buf, "one\ntwo\n");
	ck_assert_uint_eq(d, 0);
	ck_assert_int_eq(c, 0);
	/* Only whole lines fit in a short buffer. */
	linering_push(r, "three", 5);
	linering_push(r, "four", 4);
	ck_assert_uint_eq(take(r, buf, 8, &d, &c), 6);
	ck_assert_str_eq(buf, "three\n");
	ck_assert_uint_eq(take(r, buf, 3, &d, &c), 0);
	ck_assert_uint_eq(take(r, buf, 5, &d, &c), 5);
	ck_assert_str_eq(buf, "four\n");
	linering_free(r);
}
END_TEST

START_TEST(full_drops_count)
{
	struct linering	*r = linering_new(32, ev);
	char		 buf[64], line[16];
	uint64_t	 d;
	int		 c, i;
	size_t		 n;

	for (i = 0; i < 10; i++) {	/* 10 lines of 8: 4 fit */
		snprintf(line, sizeof line, "line %02d", i);
		linering_push(r, line, 7);
	}
	n = take(r, buf, sizeof buf - 1, &d, &c);
	ck_assert_uint_eq(n, 32);
	ck_assert_str_eq(buf, "line 00\nline 01\nline 02\nline 03\n");
	ck_assert_uint_eq(d, 6);
	take(r, buf, sizeof buf - 1, &d, &c);
	ck_assert_uint_eq(d, 0);	/* told once */
	linering_free(r);
}
END_TEST

START_TEST(wraps)
{
	struct linering	*r = linering_new(20, ev);
	char		 buf[64], line[16], want[16];
	uint64_t	 d;
	int		 c, i;

	for (i = 0; i < 200; i++) {
		snprintf(line, sizeof line, "%d-x", i);
		linering_push(r, line, strlen(line));
		snprintf(want, sizeof want, "%d-x\n", i);
		take(r, buf, sizeof buf - 1, &d, &c);
		ck_assert_str_eq(buf, want);
		ck_assert_uint_eq(d, 0);
	}
	linering_free(r);
}
END_TEST

START_TEST(closed)
{
	struct linering	*r = linering_new(64, ev);
	char		 buf[64];
	uint64_t	 d;
	int		 c;

	linering_push(r, "last", 4);
	linering_close(r);
	linering_push(r, "after", 5);	/* ignored */
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_ge(fired, 1);
	ck_assert_uint_eq(take(r, buf, 2, &d, &c), 0);
	ck_assert_int_eq(c, 0);		/* closed, but not yet empty */
	ck_assert_uint_eq(take(r, buf, sizeof buf - 1, &d, &c), 5);
	ck_assert_str_eq(buf, "last\n");
	ck_assert_int_eq(c, 1);
	linering_free(r);
}
END_TEST

/* A writer thread against a reader: every line whole, in order, or
 * counted as dropped; none invented. */
struct writer {
	struct linering	*r;
	int		 n;
};

static void *
write_lines(void *arg)
{
	struct writer	*w = arg;
	char		 line[32];
	int		 i;

	for (i = 0; i < w->n; i++) {
		snprintf(line, sizeof line, "%d", i);
		linering_push(w->r, line, strlen(line));
	}
	linering_close(w->r);
	return NULL;
}

START_TEST(two_threads)
{
	struct writer	 w = { linering_new(256, ev), 200000 };
	pthread_t	 t;
	char		 buf[512], *p, *nl;
	uint64_t	 d, dropped = 0;
	long		 next = 0, got = 0, v;
	int		 c = 0;
	size_t		 n;

	pthread_create(&t, NULL, write_lines, &w);
	while (!c) {
		n = take(w.r, buf, sizeof buf - 1, &d, &c);
		dropped += d;
		for (p = buf; p < buf + n; p = nl + 1) {
			nl = strchr(p, '\n');
			ck_assert_ptr_nonnull(nl);
			v = strtol(p, NULL, 10);
			ck_assert_int_ge(v, next);	/* in order */
			next = v + 1;
			got++;
		}
	}
	pthread_join(t, NULL);
	ck_assert_int_eq((long)dropped + got, w.n);
	linering_free(w.r);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("linering");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lines_in_order);
	tcase_add_test(tc, full_drops_count);
	tcase_add_test(tc, wraps);
	tcase_add_test(tc, closed);
	tcase_add_test(tc, two_threads);
	suite_add_tcase(s, tc);
	return (kt_run(s));
}
