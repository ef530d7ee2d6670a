/*
 * check_kdtrace.c - loading, parsing and writing kdtrace captures (a
 * generated session, and the real WinDbg session when it is there).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdcom.h"
#include "kdtrace.h"
#include "kdtest.h"

static char	tmpl[64];

static void
setup(void)
{
	int	fd;

	snprintf(tmpl, sizeof(tmpl), "/tmp/check_kdtrace.XXXXXX");
	fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void
teardown(void)
{
	unlink(tmpl);
}

static void
write_file(const char *path, const void *b, size_t n)
{
	FILE	*f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* _i: 0 the generated session, 1 the real one (when it is there). */
static void
load_session(struct kdtrace *t, int i)
{
	if (i == 0)
		kt_generated(t);
	else
		kt_fixture(t);
}

START_TEST(load_session_records)
{
	struct kdtrace	t;
	size_t		i, d = 0, total = 8;

	load_session(&t, _i);
	if (_i == 1)
		ck_assert_uint_eq(t.n, 526);
	ck_assert_uint_gt(t.n, 100);
	for (i = 0; i < t.n; i++) {
		ck_assert(t.recs[i].dir == 'D' || t.recs[i].dir == 'T');
		ck_assert_uint_ge(t.recs[i].len, KD_HEADER_SIZE);
		ck_assert_ptr_eq(t.recs[i].pkt, t.data + total + 4);
		total += 4 + t.recs[i].len;
		d += t.recs[i].dir == 'D';
	}
	ck_assert_uint_eq(total, t.size);
	ck_assert_uint_gt(d, 0);
	ck_assert_uint_lt(d, t.n);
	kdtrace_free(&t);
	ck_assert_ptr_null(t.recs);
	ck_assert_uint_eq(t.n, 0);
}
END_TEST

START_TEST(write_then_load_round_trip)
{
	struct kdtrace	t, u;
	FILE		*f;
	char		err[256];
	size_t		i;

	load_session(&t, _i);
	f = fopen(tmpl, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(kdtrace_write_header(f), 0);
	for (i = 0; i < t.n; i++)
		ck_assert_int_eq(kdtrace_write(f, t.recs[i].dir,
		    t.recs[i].pkt, t.recs[i].len), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(kdtrace_load(tmpl, &u, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_uint_eq(u.n, t.n);
	ck_assert_uint_eq(u.size, t.size);
	ck_assert_mem_eq(u.data, t.data, t.size);
	for (i = 0; i < t.n; i++) {
		ck_assert_int_eq(u.recs[i].dir, t.recs[i].dir);
		ck_assert_uint_eq(u.recs[i].len, t.recs[i].len);
	}
	kdtrace_free(&u);
	kdtrace_free(&t);
}
END_TEST

/* Each damaged file is refused, and the reason names where. */
static void
refused(const void *b, size_t n, const char *want)
{
	struct kdtrace	t;
	char		err[256] = "";

	write_file(tmpl, b, n);
	ck_assert_int_eq(kdtrace_load(tmpl, &t, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, tmpl) != NULL, "no path in \"%s\"", err);
	ck_assert_msg(strstr(err, want) != NULL, "\"%s\" lacks \"%s\"", err,
	    want);
	ck_assert_ptr_null(t.recs);
	ck_assert_ptr_null(t.data);
}

START_TEST(damaged_files_refused)
{
	uint8_t	b[64];

	refused("", 0, "offset 0: no KDTRACE1 magic");
	refused("KDTRACE", 7, "offset 0: no KDTRACE1 magic");
	refused("KDTRACE2", 8, "offset 0: no KDTRACE1 magic");
	memcpy(b, "KDTRACE1D\0\3\0abcT", 16);
	refused(b, 16, "offset 15: truncated record header");
	refused(b, 14, "offset 8: record of 3 bytes runs past the end");
	memcpy(b, "KDTRACE1X\0\0\0", 12);
	refused(b, 12, "offset 8: direction 0x58");
	memcpy(b, "KDTRACE1D\0\1\0xT\1\0\0", 17);
	refused(b, 17, "offset 13: flags 0x01");
}
END_TEST

START_TEST(missing_file_named)
{
	struct kdtrace	t;
	char		err[256];

	ck_assert_int_eq(kdtrace_load("/nonexistent/x.kdtrace", &t, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/x.kdtrace: No such file") !=
	    NULL, "%s", err);
}
END_TEST

START_TEST(parse_caller_buffer)
{
	static const uint8_t b[] = "KDTRACE1T\0\2\0hiD\0\0\0";
	struct kdtrace	t;
	char		err[256];

	ck_assert_int_eq(kdtrace_parse(b, 8, &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 0);
	kdtrace_free(&t);
	ck_assert_int_eq(kdtrace_parse(b, sizeof(b) - 1, &t, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_int_eq(t.recs[0].dir, 'T');
	ck_assert_uint_eq(t.recs[0].len, 2);
	ck_assert_ptr_eq(t.recs[0].pkt, b + 12);
	ck_assert_int_eq(t.recs[1].dir, 'D');
	ck_assert_uint_eq(t.recs[1].len, 0);
	ck_assert_ptr_null(t.data);
	kdtrace_free(&t);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("kdtrace");
	TCase	*tc = tcase_create("core");
	int	 nsessions = 1 + kt_have_fixture("loading and "
	    "writing the real WinDbg session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, load_session_records, 0, nsessions);
	tcase_add_loop_test(tc, write_then_load_round_trip, 0, nsessions);
	tcase_add_test(tc, damaged_files_refused);
	tcase_add_test(tc, missing_file_named);
	tcase_add_test(tc, parse_caller_buffer);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (kt_run(suite()));
}
