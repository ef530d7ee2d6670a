/*
 * check_dynlib.c - the run-time loader against real system libraries:
 * libm loads and its functions are called through the table; a missing
 * library or symbol is refused with the package named and the table left
 * untouched; a failure is tried again; threads loading at once agree.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dynlib.h"
#include "kdtest.h"

struct mathapi {
	__typeof__(cos)		*cos;
	__typeof__(sqrt)	*sqrt;
};

START_TEST(test_load)
{
	struct mathapi			m = { NULL, NULL };
	const struct dynlib_sym		syms[] = {
		DYNLIB_SYM("cos", m.cos), DYNLIB_SYM("sqrt", m.sqrt),
	};
	struct dynlib			dl = DYNLIB_INIT("libm.so.6",
	    "libc6", syms);
	char				err[256] = "";

	ck_assert(!dynlib_loaded(&dl));
	ck_assert_int_eq(dynlib_load(&dl, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
	ck_assert(dynlib_loaded(&dl));
	ck_assert(m.cos != NULL && m.sqrt != NULL);
	ck_assert(m.sqrt(144.0) == 12.0);
	ck_assert(m.cos(0.0) == 1.0);
	/* A second load is a no-op. */
	m.cos = NULL;
	ck_assert_int_eq(dynlib_load(&dl, err, sizeof err), 0);
	ck_assert(m.cos == NULL);
}
END_TEST

START_TEST(test_missing_library)
{
	struct mathapi			m = { NULL, NULL };
	const struct dynlib_sym		syms[] = {
		DYNLIB_SYM("cos", m.cos),
	};
	struct dynlib			dl = DYNLIB_INIT(
	    "libkdrelay-none.so.9", "libkdrelay-none9", syms);
	char				err[256];
	int				i;

	for (i = 0; i < 2; i++) {	/* tried again, refused again */
		ck_assert_int_eq(dynlib_load(&dl, err, sizeof err), -1);
		ck_assert_msg(strstr(err, "needs libkdrelay-none9 (apt install "
		    "libkdrelay-none9): ") == err, "%s", err);
		ck_assert_msg(strstr(err, "libkdrelay-none.so.9") != NULL,
		    "%s", err);
		ck_assert(!dynlib_loaded(&dl));
		ck_assert(m.cos == NULL);
	}
}
END_TEST

START_TEST(test_missing_symbol)
{
	struct mathapi			m = { NULL, NULL };
	const struct dynlib_sym		syms[] = {
		DYNLIB_SYM("cos", m.cos),
		DYNLIB_SYM("kdrelay_no_such_function", m.sqrt),
	};
	struct dynlib			dl = DYNLIB_INIT("libm.so.6",
	    "libc6", syms);
	char				err[256];

	ck_assert_int_eq(dynlib_load(&dl, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "needs libc6 (apt install libc6): "
	    "libm.so.6 has no kdrelay_no_such_function") == err, "%s", err);
	ck_assert(!dynlib_loaded(&dl));
	/* Not half filled: cos was found but is not stored. */
	ck_assert(m.cos == NULL && m.sqrt == NULL);
}
END_TEST

START_TEST(test_truncated_message)
{
	const struct dynlib_sym		syms[] = { { "x", NULL } };
	struct dynlib			dl = DYNLIB_INIT("libnone.so.1",
	    "libnone1", syms);
	char				err[8];

	ck_assert_int_eq(dynlib_load(&dl, err, sizeof err), -1);
	ck_assert_str_eq(err, "needs l");
}
END_TEST

static struct mathapi	shared_m;
static const struct dynlib_sym shared_syms[] = {
	DYNLIB_SYM("cos", shared_m.cos), DYNLIB_SYM("sqrt", shared_m.sqrt),
};
static struct dynlib	shared_dl = DYNLIB_INIT("libm.so.6", "libc6",
    shared_syms);

static void *
loader(void *arg)
{
	char	err[256];

	(void)arg;
	if (dynlib_load(&shared_dl, err, sizeof err) != 0)
		return NULL;
	return (void *)shared_m.sqrt;
}

START_TEST(test_threads)
{
	pthread_t	t[8];
	void		*got[8];
	int		 i;

	for (i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, loader, NULL), 0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_join(t[i], &got[i]), 0);
	for (i = 0; i < 8; i++)
		ck_assert(got[i] != NULL && got[i] == (void *)shared_m.sqrt);
	ck_assert(shared_m.sqrt(81.0) == 9.0);
}
END_TEST

static Suite *
dynlib_suite(void)
{
	Suite	*s = suite_create("dynlib");
	TCase	*tc = tcase_create("dynlib");

	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_missing_library);
	tcase_add_test(tc, test_missing_symbol);
	tcase_add_test(tc, test_truncated_message);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (kt_run(dynlib_suite()));
}
