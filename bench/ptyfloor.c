/*
 * ptyfloor - the least a relay can do: copy both ways between two ttys,
 * reading what is there and writing it on, nothing looked at.
 *
 *	ptyfloor A B
 *
 * Opens A and B raw and nonblocking, then loops on poll(2): a readable
 * side is read into its direction's buffer (64 KiB, as socat -b 65536)
 * and written to the other at once; what the other will not take waits
 * for POLLOUT, reading that way stopped meanwhile.  Runs until a side
 * closes or a signal ends it.  The bench's cpu section runs it beside
 * kdrelayd and socat: its CPU per GiB is the kernel's pty work that any
 * relay pays, so what a relay spends above it is its own.
 */
#include <poll.h>

#include "bench.h"
#include "tty.h"

#define BUF	65536

struct way {
	int	 from, to;
	uint8_t	 buf[BUF];
	size_t	 off, len;
};

/* Write what is pending; 0 when all is out or the peer is full. */
static int
flush(struct way *w)
{
	ssize_t	n;

	while (w->len > 0) {
		n = write(w->to, w->buf + w->off, w->len);
		if (n > 0) {
			w->off += (size_t)n;
			w->len -= (size_t)n;
		} else if (n == -1 && errno == EINTR)
			continue;
		else if (n == -1 && errno == EAGAIN)
			return 0;
		else
			return -1;
	}
	w->off = 0;
	return 0;
}

/* Read what is there and pass it on; -1 at end of file or error. */
static int
pass(struct way *w)
{
	ssize_t	n;

	n = read(w->from, w->buf, BUF);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (n > 0) {
		w->off = 0;
		w->len = (size_t)n;
	}
	return flush(w);
}

int
main(int argc, char **argv)
{
	static struct way	 way[2];
	struct pollfd		 pfd[2];
	int			 fd[2], i;

	if (argc != 3) {
		fprintf(stderr, "usage: ptyfloor A B\n");
		return 64;
	}
	for (i = 0; i < 2; i++)
		if ((fd[i] = tty_open_raw(argv[1 + i], 0)) == -1) {
			fprintf(stderr, "ptyfloor: %s: %s\n", argv[1 + i],
			    strerror(errno));
			return 66;
		}
	for (i = 0; i < 2; i++) {
		way[i].from = fd[i];
		way[i].to = fd[!i];
	}
	for (;;) {
		/* Side i reads while way i is empty, wants out while way !i waits. */
		for (i = 0; i < 2; i++) {
			pfd[i].fd = fd[i];
			pfd[i].events = (way[i].len == 0 ? POLLIN : 0) |
			    (way[!i].len > 0 ? POLLOUT : 0);
		}
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return 70;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLNVAL))
				return 0;
			if ((pfd[i].revents & POLLOUT) && flush(&way[!i]) == -1)
				return 0;
			if ((pfd[i].revents & (POLLIN | POLLHUP)) &&
			    way[i].len == 0 && pass(&way[i]) == -1)
				return 0;
		}
	}
}
