/*
 * ptygrab - take a pty the way an unrelated program would, and record
 * what reaches it.
 *
 *	ptygrab [-c] [-n MAX] [WANT] OUT
 *
 * Opens ptys until one is /dev/pts/WANT (at most MAX at once, default
 * 512, for up to 10 s; no WANT: the first), closes the others, prints its path on stdout and
 * then copies everything written to its slave side (read on the master)
 * to OUT until killed.  With -c a child makes it the controlling terminal
 * of a new session, as a login shell's terminal is.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t	done;

static void
on_term(int sig)
{
	(void)sig;
	done = 1;
}

static int
open_master(char *name, size_t len)
{
	int	m;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return -1;
	if (grantpt(m) == -1 || unlockpt(m) == -1 ||
	    ptsname_r(m, name, len) != 0) {
		close(m);
		return -1;
	}
	return m;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	char		 name[64], want[64] = "", buf[4096];
	int		 fds[512], n = 0, max = 512, ctty = 0, ch, m = -1, out;
	int		 i, s, round;
	ssize_t		 r;
	pid_t		 child = -1;

	while ((ch = getopt(argc, argv, "cn:")) != -1) {
		switch (ch) {
		case 'c':
			ctty = 1;
			break;
		case 'n':
			max = atoi(optarg);
			if (max < 1 || max > 512)
				max = 512;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 2)
		snprintf(want, sizeof want, "/dev/pts/%s", argv[0]);
	else if (argc != 1)
		goto usage;
	/* A pty's number is free again only once the kernel has released
	 * it, a little after its last close: try for up to 10 s. */
	for (round = 0; m == -1 && round < 100; round++) {
		if (round > 0)
			usleep(100000);
		for (n = 0; n < max; n++) {
			if ((fds[n] = open_master(name, sizeof name)) == -1) {
				perror("ptygrab: /dev/ptmx");
				return 1;
			}
			if (*want == '\0' || strcmp(name, want) == 0) {
				m = fds[n];
				break;
			}
		}
		for (i = 0; i < n && i < max; i++)
			close(fds[i]);
	}
	if (m == -1) {
		fprintf(stderr, "ptygrab: %s did not come in %d ptys\n", want,
		    max);
		return 2;
	}
	if ((out = open(argv[argc - 1], O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) == -1) {
		perror(argv[argc - 1]);
		return 1;
	}
	if (ctty) {
		if ((child = fork()) == -1)
			return 1;
		if (child == 0) {
			setsid();
			if ((s = open(name, O_RDWR)) == -1 ||
			    ioctl(s, TIOCSCTTY, 0) == -1)
				_exit(1);
			for (;;)
				pause();
		}
		/* Until the session has it as its terminal. */
		for (i = 0; i < 500 && tcgetsid(m) != child; i++)
			usleep(10000);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("%s\n", name);
	fflush(stdout);
	while (!done) {
		if ((r = read(m, buf, sizeof buf)) > 0) {
			if (write(out, buf, r) != r)
				break;
		} else if (r == 0 || (errno != EINTR && errno != EIO))
			break;
		else if (errno == EIO)
			usleep(10000);	/* no slave open yet: look again */
	}
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	return 0;
usage:
	fprintf(stderr, "usage: ptygrab [-c] [-n MAX] [WANT] OUT\n");
	return 64;
}
