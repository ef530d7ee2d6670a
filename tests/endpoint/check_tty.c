/*
 * check_tty.c - who else has a tty (ttywho.c), asked by many threads at
 * once as a thousand pairs starting do: each answer is its own tty's,
 * whichever walk of /proc gave it.  Real ptys, real processes holding
 * them.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tty.h"
#include "kdtest.h"

#define NPTY		48
#define CTTY_PTY	1	/* a session's controlling terminal */
#define OWN_PTY		2	/* held with its master: the VM's side */

static int		 master[NPTY];
static char		 slave[NPTY][64];
static dev_t		 rdev[NPTY];
static struct tty_who	 got[NPTY];
static pthread_barrier_t go;

/* A reader: pty i%4 == 0 held open (slave only), and OWN_PTY with its
 * master, as a VM's backend holds both. */
static int
held(int i)
{
	return i % 4 == 0;
}

static void
close_masters(int keep)
{
	int	i;

	for (i = 0; i < NPTY; i++) {
		if (i != keep)
			close(master[i]);
	}
}

/* Fork a child that runs fn, then tells ready and waits to be killed. */
static pid_t
child(void (*fn)(void))
{
	pid_t	pid;
	int	p[2];
	char	c;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(p[0]);
		fn();
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void
hold_slaves(void)
{
	int	i;

	close_masters(OWN_PTY);
	for (i = 0; i < NPTY; i++) {
		if ((held(i) || i == OWN_PTY) &&
		    open(slave[i], O_RDWR | O_NOCTTY) == -1)
			_exit(1);
	}
}

static void
take_ctty(void)
{
	int	fd;

	close_masters(-1);
	/* A session leader opening a tty without O_NOCTTY acquires it. */
	if (setsid() == -1 || (fd = open(slave[CTTY_PTY], O_RDWR)) == -1)
		_exit(1);
	close(fd);		/* still its controlling terminal */
}

static void *
ask(void *arg)
{
	int	i = (int)(long)arg;

	pthread_barrier_wait(&go);
	tty_who(rdev[i], TTY_WHO_CTTY | TTY_WHO_OPEN, &got[i]);
	return NULL;
}

START_TEST(test_who_many_at_once)
{
	pthread_t	 th[NPTY];
	struct stat	 st;
	unsigned long	 asks0, walks0, asks, walks;
	pid_t		 holder, leader;
	const char	*name;
	int		 i, fd;

	for (i = 0; i < NPTY; i++) {
		master[i] = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		ck_assert_int_ge(master[i], 0);
		ck_assert(grantpt(master[i]) == 0 && unlockpt(master[i]) == 0);
		ck_assert_ptr_nonnull(name = ptsname(master[i]));
		snprintf(slave[i], sizeof slave[i], "%s", name);
		/* Opened once here so that stat sees the device. */
		ck_assert_int_ge(fd = open(slave[i], O_RDWR | O_NOCTTY), 0);
		ck_assert_int_eq(fstat(fd, &st), 0);
		rdev[i] = st.st_rdev;
		close(fd);
	}
	holder = child(hold_slaves);
	leader = child(take_ctty);
	tty_who_counts(&asks0, &walks0);

	pthread_barrier_init(&go, NULL, NPTY);
	for (i = 0; i < NPTY; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, ask,
		    (void *)(long)i), 0);
	for (i = 0; i < NPTY; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	tty_who_counts(&asks, &walks);

	for (i = 0; i < NPTY; i++) {
		ck_assert_msg(got[i].reader == (held(i) ? holder : 0),
		    "%s: reader %d, not %d", slave[i], (int)got[i].reader,
		    held(i) ? (int)holder : 0);
		ck_assert_msg(got[i].ctty == (i == CTTY_PTY ? leader : 0),
		    "%s: controlling terminal of %d", slave[i],
		    (int)got[i].ctty);
	}
	ck_assert_int_eq(got[CTTY_PTY].sid, leader);
	ck_assert_uint_eq(asks - asks0, NPTY);
	ck_assert(walks - walks0 >= 1 && walks - walks0 <= NPTY);

	/* Asked alone after the holder is gone: no stale answer. */
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	tty_who(rdev[0], TTY_WHO_OPEN, &got[0]);
	ck_assert_int_eq(got[0].reader, 0);
	kill(leader, SIGKILL);
	waitpid(leader, NULL, 0);
	tty_who(rdev[CTTY_PTY], TTY_WHO_CTTY, &got[CTTY_PTY]);
	ck_assert_int_eq(got[CTTY_PTY].ctty, 0);
	for (i = 0; i < NPTY; i++)
		close(master[i]);
}
END_TEST

/* A tty we hold ourselves is our pairs' business (the UUCP lock's). */
START_TEST(test_who_not_ourselves)
{
	struct tty_who	 who;
	struct stat	 st;
	const char	*name;
	int		 m, s;

	ck_assert_int_ge(m = posix_openpt(O_RDWR | O_NOCTTY), 0);
	ck_assert(grantpt(m) == 0 && unlockpt(m) == 0);
	ck_assert_ptr_nonnull(name = ptsname(m));
	ck_assert_int_ge(s = open(name, O_RDWR | O_NOCTTY), 0);
	ck_assert_int_eq(fstat(s, &st), 0);
	close(m);		/* not the master's holder either */
	tty_who(st.st_rdev, TTY_WHO_CTTY | TTY_WHO_OPEN, &who);
	ck_assert_int_eq(who.reader, 0);
	ck_assert_int_eq(who.ctty, 0);
	close(s);
}
END_TEST

static Suite *
tty_suite(void)
{
	Suite	*s = suite_create("tty");
	TCase	*tc = tcase_create("who");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_who_many_at_once);
	tcase_add_test(tc, test_who_not_ourselves);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (kt_run(tty_suite()));
}
