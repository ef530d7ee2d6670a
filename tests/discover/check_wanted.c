/*
 * check_wanted.c - auto mode's policy (wanted.c): which pairs the running
 * VMs make, their endpoints, partners, ports and what is skipped.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wanted.h"
#include "kdtest.h"

static struct {
	struct config_auto	 a;
	char			*globs[4];
	struct pair_opts	 base;
	struct wanted_ports	 ports;
	struct pair_opts	*w;
	size_t			 n;
	char			 notes[2048];
	int			 once;
} T;

static void
setup(void)
{
	memset(&T, 0, sizeof T);
	T.a.enable = 1;
	T.a.match = T.globs;
	snprintf(T.a.endpoint, sizeof T.a.endpoint,
	    "unix-listen:/run/kdrelay/%%n.sock");
	T.a.crlf = CRLF_AUTO;
	pair_opts_init(&T.base);
	T.base.hold_ms = 7;
	T.base.bufsize = 8192;
}

static void
teardown(void)
{
	free(T.w);
	wanted_ports_free(&T.ports);
}

static void
note(void *arg, int once, const char *msg)
{
	(void)arg;
	T.once += once;
	strncat(T.notes, msg, sizeof T.notes - strlen(T.notes) - 2);
	strcat(T.notes, "\n");
}

static void
match(const char *glob)
{
	T.globs[T.a.nmatch++] = (char *)glob;
}

static void
run(const struct wanted_vm *vms, size_t n, int allow_remote)
{
	free(T.w);
	T.w = NULL;
	ck_assert_int_eq(wanted_pairs(&T.a, &T.base, allow_remote, vms, n,
	    &T.ports, note, NULL, &T.w, &T.n), 0);
}

static const struct pair_opts *
pair(const char *name)
{
	size_t	i;

	for (i = 0; i < T.n; i++) {
		if (strcmp(T.w[i].name, name) == 0)
			return &T.w[i];
	}
	return NULL;
}

static void
expect(const char *name, const char *host, const char *target)
{
	const struct pair_opts	*o = pair(name);

	ck_assert_msg(o != NULL, "no pair %s", name);
	ck_assert_str_eq(o->side[SIDE_HOST].text, host);
	ck_assert_str_eq(o->side[SIDE_TARGET].text, target);
}

START_TEST(test_match_and_template)
{
	const struct wanted_vm	vms[] = {
		{ "win10", 0, 3 }, { "lin1", 0, 4 }, { "win7", 1, 101 },
	};

	match("win*");
	run(vms, 3, 0);
	ck_assert_uint_eq(T.n, 2);
	expect("win10", "unix-listen:/run/kdrelay/win10.sock", "xen:win10");
	expect("win7", "unix-listen:/run/kdrelay/win7.sock", "pve:101");
	ck_assert_ptr_null(pair("lin1"));
	/* Every pair starts as base. */
	ck_assert_uint_eq(pair("win10")->hold_ms, 7);
	ck_assert_uint_eq(pair("win7")->bufsize, 8192);
	ck_assert_int_eq(pair("win7")->validate, 1);
	ck_assert_str_eq(T.notes, "");
}
END_TEST

START_TEST(test_crlf_option)
{
	const struct wanted_vm	vms[] = { { "win10", 0, 3 } };

	match("*");
	T.a.crlf = CRLF_ON;
	run(vms, 1, 0);
	expect("win10", "unix-listen:/run/kdrelay/win10.sock",
	    "xen:win10,crlf=on");
	ck_assert_int_eq(pair("win10")->side[SIDE_TARGET].crlf, CRLF_ON);
	T.a.crlf = CRLF_OFF;
	run(vms, 1, 0);
	expect("win10", "unix-listen:/run/kdrelay/win10.sock",
	    "xen:win10,crlf=off");
}
END_TEST

START_TEST(test_pair_with)
{
	const struct wanted_vm	vms[] = {
		{ "win10", 0, 3 }, { "win10-dbg", 0, 4 }, { "win11", 0, 5 },
		{ "win8", 1, 108 }, { "win8-dbg", 1, 109 },
		{ "win7", 0, 6 }, { "win7-dbg", 1, 110 },
	};

	match("win*");
	snprintf(T.a.pair_with, sizeof T.a.pair_with, "%%n-dbg");
	run(vms, 7, 0);
	/* The debugger VMs are nobody's targets, though they match. */
	ck_assert_ptr_null(pair("win10-dbg"));
	ck_assert_ptr_null(pair("win8-dbg"));
	expect("win10", "xen:win10-dbg", "xen:win10");
	expect("win8", "pve:109", "pve:108");
	/* No partner yet (win11), or only on another platform (win7). */
	ck_assert_ptr_null(pair("win11"));
	ck_assert_ptr_null(pair("win7"));
	ck_assert_uint_eq(T.n, 2);
}
END_TEST

/* A template without %n names one debugger VM, never paired with itself. */
START_TEST(test_pair_with_itself)
{
	const struct wanted_vm	dbg[] = { { "dbg", 0, 3 } };
	const struct wanted_vm	two[] = { { "dbg", 0, 3 }, { "t1", 0, 4 } };

	match("*");
	snprintf(T.a.pair_with, sizeof T.a.pair_with, "dbg");
	run(dbg, 1, 0);
	ck_assert_uint_eq(T.n, 0);
	run(two, 2, 0);
	ck_assert_uint_eq(T.n, 1);
	expect("t1", "xen:dbg", "xen:t1");
}
END_TEST

START_TEST(test_ports_sticky)
{
	const struct wanted_vm	abc[] = {
		{ "a", 0, 1 }, { "b", 0, 2 }, { "c", 0, 3 },
	};
	const struct wanted_vm	bc[] = { { "b", 0, 2 }, { "c", 0, 3 } };

	match("*");
	T.a.port_lo = 9000;
	T.a.port_hi = 9001;
	run(abc, 3, 0);
	ck_assert_uint_eq(T.n, 2);
	expect("a", "tcp-listen:127.0.0.1:9000", "xen:a");
	expect("b", "tcp-listen:127.0.0.1:9001", "xen:b");
	ck_assert_ptr_null(pair("c"));
	ck_assert_msg(strstr(T.notes, "c: no free port in 9000-9001; "
	    "skipped") != NULL, "%s", T.notes);
	/* a goes: b keeps its port, c gets the free one. */
	run(bc, 2, 0);
	expect("b", "tcp-listen:127.0.0.1:9001", "xen:b");
	expect("c", "tcp-listen:127.0.0.1:9000", "xen:c");
	ck_assert_msg(strstr(T.notes, "c: port 9000") != NULL, "%s", T.notes);
	/* allow-remote listens on every address, and says so. */
	run(bc, 2, 1);
	expect("b", "tcp-listen:0.0.0.0:9001,allow-remote", "xen:b");
	ck_assert_int_eq(pair("b")->side[SIDE_HOST].allow_remote, 1);
}
END_TEST

START_TEST(test_skipped)
{
	const struct wanted_vm	vms[] = {
		{ "bad name", 0, 12 }, { "dup", 0, 3 }, { "dup", 1, 100 },
		{ "okokokokok", 0, 5 },
	};

	match("*");
	run(vms, 4, 0);
	ck_assert_msg(strstr(T.notes, "domain 12: its name cannot name a "
	    "pair") != NULL, "%s", T.notes);
	ck_assert_int_eq(T.once, 1);
	/* A name on two platforms: the first VM wins. */
	expect("dup", "unix-listen:/run/kdrelay/dup.sock", "xen:dup");
	ck_assert_uint_eq(T.n, 2);
	/* A template too long for the name: skipped, said once. */
	memset(T.a.endpoint, 0, sizeof T.a.endpoint);
	memcpy(T.a.endpoint, "unix-listen:/", 13);
	memset(T.a.endpoint + 13, 'x', sizeof T.a.endpoint - 16);
	memcpy(T.a.endpoint + sizeof T.a.endpoint - 3, "%n", 2);
	run(vms + 3, 1, 0);
	ck_assert_uint_eq(T.n, 0);
	ck_assert_msg(strstr(T.notes, "okokokokok: the endpoint template is "
	    "too long for this name; skipped") != NULL, "%s", T.notes);
	/* A template that does not parse: skipped with the reason. */
	snprintf(T.a.endpoint, sizeof T.a.endpoint, "bogus:%%n");
	run(vms + 3, 1, 0);
	ck_assert_uint_eq(T.n, 0);
	ck_assert_msg(strstr(T.notes, "okokokokok: bogus") != NULL &&
	    strstr(T.notes, "; skipped") != NULL, "%s", T.notes);
}
END_TEST

START_TEST(test_expand_match_copy)
{
	struct config_auto	c;
	char			out[16];

	ck_assert_int_eq(wanted_expand("%n-dbg", "win", out, sizeof out), 0);
	ck_assert_str_eq(out, "win-dbg");
	ck_assert_int_eq(wanted_expand("%q", "win", out, sizeof out), -1);
	match("win*");
	match("lab?");
	ck_assert(wanted_match(&T.a, "win10"));
	ck_assert(wanted_match(&T.a, "lab7"));
	ck_assert(!wanted_match(&T.a, "lab77"));
	ck_assert_int_eq(config_auto_copy(&c, &T.a), 0);
	ck_assert_ptr_ne(c.match, T.a.match);
	ck_assert_uint_eq(c.nmatch, 2);
	ck_assert(wanted_match(&c, "lab7"));
	config_auto_free(&c);
	ck_assert_uint_eq(c.nmatch, 0);
}
END_TEST

static Suite *
wanted_suite(void)
{
	Suite	*s = suite_create("wanted");
	TCase	*tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_match_and_template);
	tcase_add_test(tc, test_crlf_option);
	tcase_add_test(tc, test_pair_with);
	tcase_add_test(tc, test_pair_with_itself);
	tcase_add_test(tc, test_ports_sticky);
	tcase_add_test(tc, test_skipped);
	tcase_add_test(tc, test_expand_match_copy);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (kt_run(wanted_suite()));
}
