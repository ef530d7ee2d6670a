/*
 * xfer - a test VM's end of a serial line: send a file while receiving.
 *
 *	xfer [-o] [-t SEC] [-s SPLIT -g GAP_MS] [-w] ENDPOINT SEND RECV NRECV
 *
 * ENDPOINT is a tty path (opened raw), unix:PATH or tcp:HOST:PORT (retried
 * until it connects).  Sends SEND ("-" for nothing) and at the same time
 * reads exactly NRECV bytes into RECV, then exits 0; exit 1 on timeout,
 * with what was received so far left in RECV.  -o turns the tty's output
 * post-processing on (OPOST|ONLCR): every 0x0a this side writes arrives as
 * 0x0d 0x0a, the corruption a Xen stubdomain console adds.  -s/-g send
 * the first SPLIT bytes, pause GAP_MS, then the rest.  -w waits for the
 * first received byte before sending.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
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
open_tty(const char *path, int onlcr)
{
	struct termios	t;
	int		fd;

	if ((fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK)) == -1)
		return -1;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		if (onlcr)
			t.c_oflag |= OPOST | ONLCR;
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

static int
open_sock(const char *spec)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *ai;
	char			 host[256], *port;
	int			 fd;

	if (strncmp(spec, "unix:", 5) == 0) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", spec + 5);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
			close(fd);
			return -1;
		}
	} else {
		snprintf(host, sizeof host, "%s", spec + 4);
		if ((port = strrchr(host, ':')) == NULL)
			return -1;
		*port++ = '\0';
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, port, &hints, &ai) != 0)
			return -1;
		fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			close(fd);
			fd = -1;
		}
		freeaddrinfo(ai);
	}
	if (fd != -1)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void
usage(void)
{
	fprintf(stderr, "usage: xfer [-o] [-w] [-t sec] [-s split -g gap_ms] "
	    "endpoint send recv nrecv\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	struct pollfd	 pfd;
	unsigned char	*out = NULL, buf[65536];
	size_t		 nout = 0, sent = 0, split = 0, want, got = 0;
	double		 deadline, resume = 0;
	int		 ch, onlcr = 0, waitfirst = 0, fd = -1, gap = 0;
	FILE		*f, *rf;
	ssize_t		 n;
	long		 tmo = 30;

	while ((ch = getopt(argc, argv, "ot:s:g:w")) != -1) {
		switch (ch) {
		case 'o': onlcr = 1; break;
		case 't': tmo = atol(optarg); break;
		case 's': split = strtoul(optarg, NULL, 10); break;
		case 'g': gap = atoi(optarg); break;
		case 'w': waitfirst = 1; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 4)
		usage();
	want = strtoul(argv[3], NULL, 10);
	if (strcmp(argv[1], "-") != 0) {
		if ((f = fopen(argv[1], "rb")) == NULL) {
			perror(argv[1]);
			return 66;
		}
		fseek(f, 0, SEEK_END);
		nout = (size_t)ftell(f);
		rewind(f);
		if ((out = malloc(nout + 1)) == NULL ||
		    fread(out, 1, nout, f) != nout)
			return 71;
		fclose(f);
	}
	if ((rf = fopen(argv[2], "wb")) == NULL) {
		perror(argv[2]);
		return 73;
	}
	deadline = now() + tmo;
	while (fd == -1) {
		if (strncmp(argv[0], "unix:", 5) == 0 ||
		    strncmp(argv[0], "tcp:", 4) == 0)
			fd = open_sock(argv[0]);
		else
			fd = open_tty(argv[0], onlcr);
		if (fd == -1) {
			if (now() > deadline) {
				fprintf(stderr, "xfer: %s: %s\n", argv[0],
				    strerror(errno));
				free(out);
				return 69;
			}
			usleep(20000);
		}
	}
	if (split == 0 || split > nout)
		split = nout;
	while (got < want || sent < nout) {
		double	t = now();
		int	ms;

		if (t > deadline) {
			fprintf(stderr, "xfer: timeout: sent %zu/%zu, "
			    "received %zu/%zu\n", sent, nout, got, want);
			fclose(rf);
			free(out);
			return 1;
		}
		pfd.fd = fd;
		pfd.events = got < want ? POLLIN : 0;
		if (sent < nout && t >= resume && (!waitfirst || got > 0))
			pfd.events |= POLLOUT;
		ms = resume > t ? (int)((resume - t) * 1000) + 1 : 100;
		if (poll(&pfd, 1, ms) == -1)
			continue;
		if (pfd.revents & POLLIN) {
			n = read(fd, buf, want - got < sizeof buf ?
			    want - got : sizeof buf);
			if (n > 0) {
				fwrite(buf, 1, (size_t)n, rf);
				got += (size_t)n;
			} else if (n == 0 || errno != EAGAIN) {
				fprintf(stderr, "xfer: read: %s\n", n == 0 ?
				    "end of file" : strerror(errno));
				usleep(10000);
			}
		}
		if (pfd.revents & POLLOUT) {
			size_t	lim = sent < split ? split : nout;

			n = write(fd, out + sent, lim - sent);
			if (n > 0) {
				sent += (size_t)n;
				if (sent == split && gap > 0)
					resume = now() + gap / 1000.0;
			}
		}
		if ((pfd.revents & (POLLHUP | POLLERR)) && !(pfd.revents & POLLIN))
			usleep(10000);
	}
	/* Let a tty drain what we wrote before closing drops it. */
	if (isatty(fd))
		tcdrain(fd);
	fclose(rf);
	free(out);
	return 0;
}
