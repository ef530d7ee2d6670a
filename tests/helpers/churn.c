/*
 * churn - a client that comes and goes: N cycles of connect, (wait for the
 * relay to send something,) write, close.
 *
 *	churn [-n CYCLES] [-s BYTES] [-r] [-t SEC] unix:PATH|tcp:HOST:PORT
 *
 * With -r a cycle counts only once a byte has been read: the relay has
 * taken this client as the endpoint's one client and forwards to it.  A
 * connection closed before any byte came (the relay refusing a second
 * client while it still serves the last one) is retried; without -r every
 * connection counts, refused or not.  Exits 0 after
 * CYCLES cycles, 1 on timeout (-t, default 60 s for the whole run).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
dial(const char *spec)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *ai;
	char			 host[256], *port;
	int			 fd = -1;

	if (strncmp(spec, "unix:", 5) == 0) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", spec + 5);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
			return fd;
		close(fd);
		return -1;
	}
	if (strncmp(spec, "tcp:", 4) != 0)
		return -1;
	snprintf(host, sizeof host, "%s", spec + 4);
	if ((port = strrchr(host, ':')) == NULL)
		return -1;
	*port++ = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) != -1 &&
	    connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* 1: a byte came; 0: closed first; -1: nothing before the deadline. */
static int
await_byte(int fd, double deadline)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		b[4096];
	ssize_t		n;
	double		left;

	while ((left = deadline - now()) > 0) {
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(fd, b, sizeof b);
		if (n > 0)
			return 1;
		return 0;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	unsigned long	 cycles = 100, done = 0, refused = 0;
	size_t		 size = 64;
	double		 deadline, tmo = 60;
	char		*buf;
	int		 ch, rd = 0, fd, r;

	while ((ch = getopt(argc, argv, "n:s:rt:")) != -1) {
		switch (ch) {
		case 'n': cycles = strtoul(optarg, NULL, 10); break;
		case 's': size = strtoul(optarg, NULL, 10); break;
		case 'r': rd = 1; break;
		case 't': tmo = atof(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind != 1)
		goto usage;
	if ((buf = malloc(size + 1)) == NULL)
		return 71;
	memset(buf, 'C', size);
	signal(SIGPIPE, SIG_IGN);
	deadline = now() + tmo;
	while (done < cycles) {
		if (now() > deadline)
			break;
		if ((fd = dial(argv[optind])) == -1) {
			usleep(1000);
			continue;
		}
		if (rd && (r = await_byte(fd, deadline)) != 1) {
			close(fd);
			if (r == 0)
				refused++;
			continue;
		}
		/* Refused clients see EPIPE here: still a cycle. */
		if (size > 0 && write(fd, buf, size) != (ssize_t)size && rd) {
			close(fd);
			continue;
		}
		close(fd);
		done++;
	}
	free(buf);
	printf("churn: %lu cycles, %lu refused\n", done, refused);
	if (done < cycles) {
		fprintf(stderr, "churn: timeout after %lu of %lu cycles\n",
		    done, cycles);
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: churn [-n cycles] [-s bytes] [-r] [-t sec] "
	    "unix:PATH|tcp:HOST:PORT\n");
	return 64;
}
