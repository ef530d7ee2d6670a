/*
 * check_relay.c - a pair's making when the process is short of fds:
 * libevent ends the process when a new loop finds none for its signal
 * socketpair (or returns no loop, which read as "out of memory"), so
 * relay_new must see that first and fail the pair, in words.
 */
#include <sys/resource.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "epspec.h"
#include "pairopts.h"
#include "relay.h"
#include "kdtest.h"

static void
pair(struct pair_opts *o)
{
	char	err[256];

	pair_opts_init(o);
	ck_assert_msg(ep_spec_parse("unix:/nonexistent/h.sock", &o->side[0],
	    err, sizeof err) == 0, "%s", err);
	ck_assert_msg(ep_spec_parse("unix:/nonexistent/t.sock", &o->side[1],
	    err, sizeof err) == 0, "%s", err);
}

static struct rlimit	saved;	/* the fd limit before leave_free */

/*
 * Put the fd limit back after each case: a sanitizer's leak check at exit
 * needs fds of its own (LeakSanitizer reads /proc/PID/task).
 */
static void
setup(void)
{
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
}

static void
teardown(void)
{
	setrlimit(RLIMIT_NOFILE, &saved);
}

/* Lower the fd limit to leave only free fds above those open now. */
static void
leave_free(int free_fds)
{
	struct rlimit	rl;
	int		fd, top = 0;

	for (fd = 0; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) != -1)
			top = fd + 1;
	}
	/* Open fds are below top; fill any holes so free means above it. */
	for (fd = 0; fd < top; fd++) {
		if (fcntl(fd, F_GETFD) == -1)
			ck_assert_int_eq(open("/dev/null", O_RDONLY), fd);
	}
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = (rlim_t)(top + free_fds);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

START_TEST(test_no_fds_for_the_loop)
{
	struct pair_opts	 o;
	struct relay		*r;
	char			 err[512] = "";

	pair(&o);
	relay_global_init();
	leave_free(_i);		/* a loop takes four */
	r = relay_new(&o, err, sizeof err);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(err, "kd: no file descriptors for its event "
	    "loop") != NULL && strstr(err, "ulimit -n") != NULL, "%s", err);
}
END_TEST

START_TEST(test_enough_fds)
{
	struct pair_opts	 o;
	struct relay		*r;
	char			 err[512] = "";

	pair(&o);
	relay_global_init();
	leave_free(8);
	r = relay_new(&o, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	relay_free(r);
}
END_TEST

static Suite *
relay_suite(void)
{
	Suite	*s = suite_create("relay");
	TCase	*tc = tcase_create("fds");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* 0 to 2 free: libevent would exit; 3: its loop would be NULL. */
	tcase_add_loop_test(tc, test_no_fds_for_the_loop, 0, 4);
	tcase_add_test(tc, test_enough_fds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (kt_run(relay_suite()));
}
