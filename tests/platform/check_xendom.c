/*
 * check_xendom.c - xendom.c, the pure part of following Xen domains: what
 * a guest-writable tty value must look like, the domain table and name
 * lookup, which watch events matter; and that libxenstore loads (xsapi).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xendom.h"
#ifdef HAVE_XENSTORE
#include "xsapi.h"
#include "kdtest.h"
#endif

/* ---- tty values ---- */

static const char *const good_ttys[] = {
	"/dev/pts/0", "/dev/pts/7", "/dev/pts/10", "/dev/pts/1234567",
};

struct bad_tty {
	const char	*v;
	size_t		 len;		/* 0: strlen */
	const char	*why;
};

static const struct bad_tty bad_ttys[] = {
	{ "", 0, "empty" },
	{ "/etc/shadow", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/ptmx", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/../../etc/shadow", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/..", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/3/", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/3 ", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/-3", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/+3", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/0x3", 0, "not /dev/pts/<number>" },
	{ "/dev/pts//3", 0, "not /dev/pts/<number>" },
	{ "/dev//pts/3", 0, "not /dev/pts/<number>" },
	{ "dev/pts/3", 0, "not /dev/pts/<number>" },
	{ "/DEV/PTS/3", 0, "not /dev/pts/<number>" },
	{ "/dev/tty3", 0, "not /dev/pts/<number>" },
	{ "/dev/ttyS0", 0, "not /dev/pts/<number>" },
	{ "/dev/sda", 0, "not /dev/pts/<number>" },
	{ "/tmp/link", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/3\n", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/\xd9\xa3", 0, "not /dev/pts/<number>" },	/* Arabic 3 */
	{ "\xff\xfe/dev/pts/1", 0, "not /dev/pts/<number>" },
	{ "/dev/pts/3\0/../x", 15, "has a NUL byte" },
	{ "/dev/pts/3\0", 11, "has a NUL byte" },
	{ "/dev/pts/12345678", 0, "too long for /dev/pts/<number>" },
	{ "/dev/pts/00", 0, "a pty number with a leading zero" },
	{ "/dev/pts/01", 0, "a pty number with a leading zero" },
};

START_TEST(test_tty_good)
{
	const char	*why = "unset";
	const char	*v = good_ttys[_i];

	ck_assert_int_eq(xendom_tty_valid(v, strlen(v), &why), 0);
	ck_assert_str_eq(why, "unset");
}
END_TEST

START_TEST(test_tty_bad)
{
	const struct bad_tty	*b = &bad_ttys[_i];
	const char		*why = NULL;
	size_t			 len = b->len != 0 ? b->len : strlen(b->v);

	ck_assert_msg(xendom_tty_valid(b->v, len, &why) == -1,
	    "accepted bad tty #%d", _i);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, b->why);
}
END_TEST

/* A value is judged on its bytes, not on a NUL that may not be there. */
START_TEST(test_tty_length_bound)
{
	char		buf[64];
	const char	*why;

	memset(buf, 'x', sizeof buf);
	memcpy(buf, "/dev/pts/5", 10);
	ck_assert_int_eq(xendom_tty_valid(buf, 10, &why), 0);
	ck_assert_int_eq(xendom_tty_valid(buf, 11, &why), -1);
	/* A very long value of digits. */
	{
		size_t	 n = 4000;
		char	*big = malloc(n);

		ck_assert_ptr_nonnull(big);
		memcpy(big, "/dev/pts/", 9);
		memset(big + 9, '1', n - 9);
		ck_assert_int_eq(xendom_tty_valid(big, n, &why), -1);
		ck_assert_str_eq(why, "too long for /dev/pts/<number>");
		free(big);
	}
}
END_TEST

START_TEST(test_quote)
{
	char	out[64];

	xendom_quote("/dev/pts/3", 10, out, sizeof out);
	ck_assert_str_eq(out, "/dev/pts/3");
	xendom_quote("a\"b\\c\n\xff", 7, out, sizeof out);
	ck_assert_str_eq(out, "a\\\"b\\\\c\\x0a\\xff");
	xendom_quote("x\0y", 3, out, sizeof out);
	ck_assert_str_eq(out, "x\\x00y");
	/* Truncated with a mark, always terminated, never overrun. */
	memset(out, 'Z', sizeof out);
	xendom_quote("0123456789012345678901234567890123456789", 40, out, 16);
	ck_assert_uint_le(strlen(out), 15);
	ck_assert(strstr(out, "...") != NULL);
	ck_assert_int_eq(out[16], 'Z');
	xendom_quote("\x01\x02\x03\x04\x05", 5, out, 10);
	ck_assert_uint_le(strlen(out), 9);
	xendom_quote("abc", 3, out, 1);
	ck_assert_str_eq(out, "");
}
END_TEST

/* ---- the domain table ---- */

START_TEST(test_table)
{
	struct xendoms	t, u;
	unsigned	ids[2];
	size_t		i;

	xendoms_init(&t);
	ck_assert_int_eq(xendoms_set(&t, 7, "win10", 5), 0);
	ck_assert_int_eq(xendoms_set(&t, 3, "win10-dm", 8), 0);
	ck_assert_int_eq(xendoms_set(&t, 12, "linux\0junk", 10), 0);
	ck_assert_uint_eq(t.n, 3);
	for (i = 1; i < t.n; i++)	/* sorted by domid */
		ck_assert_uint_lt(t.v[i - 1].domid, t.v[i].domid);
	ck_assert_str_eq(xendoms_get(&t, 12)->name, "linux");

	ck_assert_uint_eq(xendoms_find(&t, "win10", ids, 2), 1);
	ck_assert_uint_eq(ids[0], 7);
	ck_assert_uint_eq(xendoms_find(&t, "win1", ids, 2), 0);
	ck_assert_uint_eq(xendoms_find(&t, "win10-dm", ids, 2), 1);
	ck_assert_uint_eq(ids[0], 3);

	/* A second domain with the name: ambiguous, both ids reported. */
	ck_assert_int_eq(xendoms_set(&t, 30, "win10", 5), 0);
	ck_assert_uint_eq(xendoms_find(&t, "win10", ids, 2), 2);
	ck_assert_uint_eq(ids[0], 7);
	ck_assert_uint_eq(ids[1], 30);

	/* Renamed, then gone. */
	ck_assert_int_eq(xendoms_set(&t, 7, "old", 3), 0);
	ck_assert_uint_eq(t.n, 4);
	ck_assert_uint_eq(xendoms_find(&t, "win10", ids, 2), 1);
	ck_assert_uint_eq(ids[0], 30);
	xendoms_remove(&t, 30);
	xendoms_remove(&t, 999);
	ck_assert_uint_eq(xendoms_find(&t, "win10", ids, 2), 0);
	ck_assert_ptr_null(xendoms_get(&t, 30));

	xendoms_init(&u);
	ck_assert(!xendoms_equal(&t, &u));
	for (i = 0; i < t.n; i++)
		ck_assert_int_eq(xendoms_set(&u, t.v[i].domid, t.v[i].name,
		    strlen(t.v[i].name)), 0);
	ck_assert(xendoms_equal(&t, &u));
	xendoms_set(&u, 12, "linux2", 6);
	ck_assert(!xendoms_equal(&t, &u));
	xendoms_clear(&t);
	xendoms_clear(&u);
	ck_assert_uint_eq(t.n, 0);
}
END_TEST

/* A name too long to be ours never matches its truncation. */
START_TEST(test_table_long_name)
{
	struct xendoms	t;
	char		name[200], cut[XENDOM_NAME_MAX + 1];
	unsigned	ids[2];

	memset(name, 'a', sizeof name);
	memcpy(cut, name, XENDOM_NAME_MAX);
	cut[XENDOM_NAME_MAX] = '\0';
	xendoms_init(&t);
	ck_assert_int_eq(xendoms_set(&t, 4, name, sizeof name), 0);
	ck_assert(xendoms_get(&t, 4)->truncated);
	ck_assert_uint_eq(xendoms_find(&t, cut, ids, 2), 0);
	xendoms_clear(&t);
}
END_TEST

START_TEST(test_table_many)
{
	struct xendoms	t;
	unsigned	ids[2], id;
	char		name[16];

	xendoms_init(&t);
	for (id = 1000; id > 0; id--) {
		snprintf(name, sizeof name, "vm%u", id % 500);
		ck_assert_int_eq(xendoms_set(&t, id, name, strlen(name)), 0);
	}
	ck_assert_uint_eq(t.n, 1000);
	ck_assert_uint_eq(xendoms_find(&t, "vm7", ids, 2), 2);
	ck_assert_uint_eq(ids[0], 7);
	ck_assert_uint_eq(ids[1], 507);
	for (id = 1; id <= 1000; id += 2)
		xendoms_remove(&t, id);
	ck_assert_uint_eq(t.n, 500);
	ck_assert_uint_eq(xendoms_find(&t, "vm7", ids, 2), 0);
	ck_assert_uint_eq(xendoms_find(&t, "vm8", ids, 2), 2);
	xendoms_clear(&t);
}
END_TEST

START_TEST(test_domid)
{
	unsigned	d;

	ck_assert_int_eq(xendom_parse_domid("0", &d), 0);
	ck_assert_uint_eq(d, 0);
	ck_assert_int_eq(xendom_parse_domid("32751", &d), 0);
	ck_assert_uint_eq(d, 32751);
	ck_assert_int_eq(xendom_parse_domid("32752", &d), -1);	/* DOMID_SELF.. */
	ck_assert_int_eq(xendom_parse_domid("", &d), -1);
	ck_assert_int_eq(xendom_parse_domid("07", &d), -1);
	ck_assert_int_eq(xendom_parse_domid("-1", &d), -1);
	ck_assert_int_eq(xendom_parse_domid("5a", &d), -1);
	ck_assert_int_eq(xendom_parse_domid("99999999999999999999", &d), -1);
}
END_TEST

START_TEST(test_classify)
{
	unsigned	d = 12345;

	ck_assert_int_eq(xendom_classify("@introduceDomain", &d),
	    XENDOM_EV_RESCAN);
	ck_assert_int_eq(xendom_classify("@releaseDomain", &d),
	    XENDOM_EV_RESCAN);
	ck_assert_int_eq(xendom_classify("/local/domain", &d),
	    XENDOM_EV_RESCAN);
	ck_assert_int_eq(xendom_classify("/local/domain/5", &d),
	    XENDOM_EV_DOMAIN);
	ck_assert_uint_eq(d, 5);
	ck_assert_int_eq(xendom_classify("/local/domain/17/name", &d),
	    XENDOM_EV_DOMAIN);
	ck_assert_uint_eq(d, 17);
	/* Everything else is cheap: no table work. */
	ck_assert_int_eq(xendom_classify("/local/domain/17/name/x", &d),
	    XENDOM_EV_OTHER);
	ck_assert_int_eq(xendom_classify("/local/domain/17/names", &d),
	    XENDOM_EV_OTHER);
	ck_assert_int_eq(xendom_classify("/local/domain/17/memory/target",
	    &d), XENDOM_EV_OTHER);
	ck_assert_int_eq(xendom_classify("/local/domain/17/serial/0/tty", &d),
	    XENDOM_EV_OTHER);
	ck_assert_int_eq(xendom_classify("/local/domainx/1/name", &d),
	    XENDOM_EV_OTHER);
	ck_assert_int_eq(xendom_classify("/local/domain/x/name", &d),
	    XENDOM_EV_OTHER);
	ck_assert_int_eq(xendom_classify("/local/domain//name", &d),
	    XENDOM_EV_OTHER);
	ck_assert_int_eq(xendom_classify("/vm/abc/name", &d), XENDOM_EV_OTHER);
	ck_assert_int_eq(xendom_classify("", &d), XENDOM_EV_OTHER);
}
END_TEST

START_TEST(test_covers)
{
	const char	*n = "/local/domain/5/serial/0/tty";

	ck_assert(xendom_path_covers(n, n));
	ck_assert(xendom_path_covers("/local/domain/5/serial", n));
	ck_assert(xendom_path_covers("/local/domain/5", n));
	ck_assert(!xendom_path_covers("/local/domain/5/serial/0/ttyx", n));
	ck_assert(!xendom_path_covers("/local/domain/55", n));
	ck_assert(!xendom_path_covers("/local/domain/5/seria", n));
	ck_assert(!xendom_path_covers("/local/domain/5/serial/1/tty", n));
	ck_assert(!xendom_path_covers("/local/domain/5", ""));
}
END_TEST

START_TEST(test_infra)
{
	ck_assert(xendom_is_infra("Domain-0"));
	ck_assert(xendom_is_infra("win10-dm"));
	ck_assert(xendom_is_infra("a-dm"));
	ck_assert(!xendom_is_infra("-dm"));
	ck_assert(!xendom_is_infra("win10"));
	ck_assert(!xendom_is_infra("win10-dmx"));
	ck_assert(!xendom_is_infra("domain-0"));
	ck_assert(!xendom_is_infra("Domain-01"));
}
END_TEST

#ifdef HAVE_XENSTORE
/* The table names every function right: the real libxenstore fills it. */
START_TEST(test_xsapi_load)
{
	char	 err[512] = "";
	size_t	 i;

	ck_assert_msg(xsapi_load(err, sizeof err) == 0, "%s", err);
	{
		void	*const ptrs[] = {
			(void *)xsapi.open, (void *)xsapi.close,
			(void *)xsapi.daemon_socket, (void *)xsapi.watch,
			(void *)xsapi.fileno, (void *)xsapi.check_watch,
			(void *)xsapi.read, (void *)xsapi.directory,
			(void *)xsapi.get_permissions,
		};

		ck_assert_uint_eq(sizeof ptrs, sizeof xsapi);
		for (i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
			ck_assert_msg(ptrs[i] != NULL, "pointer %zu", i);
	}
	ck_assert(xsapi.daemon_socket() != NULL);
}
END_TEST
#endif

static Suite *
xendom_suite(void)
{
	Suite	*s = suite_create("xendom");
	TCase	*tc = tcase_create("xendom");

	tcase_add_loop_test(tc, test_tty_good, 0,
	    sizeof good_ttys / sizeof good_ttys[0]);
	tcase_add_loop_test(tc, test_tty_bad, 0,
	    sizeof bad_ttys / sizeof bad_ttys[0]);
	tcase_add_test(tc, test_tty_length_bound);
	tcase_add_test(tc, test_quote);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_table_long_name);
	tcase_add_test(tc, test_table_many);
	tcase_add_test(tc, test_domid);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_covers);
	tcase_add_test(tc, test_infra);
#ifdef HAVE_XENSTORE
	tcase_add_test(tc, test_xsapi_load);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (kt_run(xendom_suite()));
}
