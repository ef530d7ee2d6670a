/*
 * tput - throughput through a relay: two guests stream KDCOM data packets
 * at each other at once, as fast as the line takes them.
 *
 *	tput [-c] [-r] [-d ab|ba|both] [-s SIZE] [-t SEC] A B
 *
 * A and B are the two guests' ttys (the guest ends of the VMs' lines).
 * The parent plays A, a child plays B; after both have opened their tty
 * they start together: the sender (A with -d ab, the default; B with -d
 * ba; each with -d both) sends SIZE bytes of 4000-byte data packets (a
 * memory dump) while the receiver reads and checks them.  -c:
 * the lines corrupt (every 0x0a sent arrives as 0x0d 0x0a); -r: the relay
 * repairs it, so the original packets are expected, else what was sent.
 * Prints one line: bytes per direction, seconds until both directions
 * completed, and MB/s (10^6 bytes/s) per direction.  Exit 1 when the data
 * arrived wrong or late (-t, default 300 s).
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>

#include "bench.h"
#include "endpoint.h"
#include "tty.h"

#define NPKT	256		/* packets in a cycle (even: ids alternate) */
#define CHUNK	65536

struct result {
	int64_t		end;
	uint64_t	sent, got;
	int		rc;
};

static int	corrupt, repair;
static int	dir_ab = 1, dir_ba;

static void
usage(void)
{
	fprintf(stderr, "usage: tput [-c] [-r] [-d ab|ba|both] [-s size] "
	    "[-t sec] A B\n");
	exit(64);
}

/* One guest: send ours, receive and check theirs; fills res. */
static void
guest(const char *path, int fd, const struct cycle *mine,
    const struct cycle *theirs, uint64_t cycles, int sends, int receives,
    int64_t deadline, struct result *res)
{
	struct cpos	 out, in;
	struct pollfd	 pfd;
	uint64_t	 stot, gtot;
	uint8_t		*buf = xmalloc(CHUNK);
	const uint8_t	*p;
	size_t		 n;
	ssize_t		 k;
	const int	 want_wire = corrupt && !repair;

	cpos_init(&out, corrupt ? mine->wire : mine->orig,
	    corrupt ? mine->wlen : mine->olen, 0);
	cpos_init(&in, want_wire ? theirs->wire : theirs->orig,
	    want_wire ? theirs->wlen : theirs->olen, 0);
	stot = sends ? cycles * out.len : 0;
	gtot = receives ? cycles * in.len : 0;
	res->rc = 0;
	while (out.done < stot || in.done < gtot) {
		if (now_ns() > deadline) {
			fprintf(stderr, "tput: %s: timed out: sent %llu of "
			    "%llu, received %llu of %llu\n", path,
			    (unsigned long long)out.done,
			    (unsigned long long)stot,
			    (unsigned long long)in.done,
			    (unsigned long long)gtot);
			res->rc = 1;
			break;
		}
		pfd.fd = fd;
		pfd.events = (in.done < gtot ? POLLIN : 0) |
		    (out.done < stot ? POLLOUT : 0);
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if (pfd.revents & POLLIN) {
			n = gtot - in.done < CHUNK ? gtot - in.done : CHUNK;
			k = read(fd, buf, n);
			if (k > 0 && cpos_check(&in, buf, (size_t)k) != 0) {
				fprintf(stderr, "tput: %s: wrong data near byte "
				    "%llu of the stream\n", path,
				    (unsigned long long)in.done);
				res->rc = 1;
				break;
			}
			if (k == 0 || (k == -1 && errno != EAGAIN &&
			    errno != EINTR)) {
				fprintf(stderr, "tput: %s: read: %s\n", path,
				    k == 0 ? "end of file" : strerror(errno));
				res->rc = 1;
				break;
			}
		} else if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			fprintf(stderr, "tput: %s: line hung up\n", path);
			res->rc = 1;
			break;
		}
		if (pfd.revents & POLLOUT) {
			p = cpos_run(&out, stot - out.done < CHUNK ?
			    stot - out.done : CHUNK, &n);
			if ((k = write(fd, p, n)) > 0)
				cpos_advance(&out, (size_t)k);
		}
	}
	res->end = now_ns();
	res->sent = out.done;
	res->got = in.done;
	free(buf);
}

int
main(int argc, char **argv)
{
	struct cycle	 a, b;
	struct result	 ra, rb;
	uint64_t	 size = 256ULL << 20, cycles;
	int64_t		 t0, end;
	int		 ch, fd, ready[2], go[2], back[2], tmo = 300;
	char		 c;
	pid_t		 pid;
	double		 sec;

	while ((ch = getopt(argc, argv, "cd:rs:t:")) != -1) {
		switch (ch) {
		case 'd':
			dir_ab = strcmp(optarg, "ba") != 0;
			dir_ba = strcmp(optarg, "ab") != 0;
			if (strcmp(optarg, "ab") != 0 &&
			    strcmp(optarg, "ba") != 0 &&
			    strcmp(optarg, "both") != 0)
				usage();
			break;
		case 'c': corrupt = 1; break;
		case 'r': repair = 1; break;
		case 's': size = parse_size(optarg); break;
		case 't': tmo = atoi(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	cycle_make(&a, NPKT, KD_MAX_PAYLOAD, 1);
	cycle_make(&b, NPKT, KD_MAX_PAYLOAD, 2);
	cycles = (size + a.olen / 2) / a.olen;	/* the nearest whole cycles */
	if (cycles == 0)
		cycles = 1;
	if (pipe(ready) == -1 || pipe(go) == -1 || pipe(back) == -1) {
		perror("tput: pipe");
		return 71;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((pid = fork()) == -1) {
		perror("tput: fork");
		return 71;
	}
	if (pid == 0) {
		if ((fd = tty_open_raw(argv[1], 0)) == -1) {
			fprintf(stderr, "tput: %s: %s\n", argv[1],
			    strerror(errno));
			_exit(69);
		}
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(71);
		guest(argv[1], fd, &b, &a, cycles, dir_ba, dir_ab, now_ns() +
		    (int64_t)tmo * 1000000000, &rb);
		if (write(back[1], &rb, sizeof rb) != sizeof rb)
			_exit(71);
		_exit(0);
	}
	if ((fd = tty_open_raw(argv[0], 0)) == -1) {
		fprintf(stderr, "tput: %s: %s\n", argv[0], strerror(errno));
		kill(pid, SIGTERM);
		return 69;
	}
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "tput: %s: the other guest did not start\n",
		    argv[1]);
		return 69;
	}
	t0 = now_ns();
	if (write(go[1], "g", 1) != 1)
		return 71;
	guest(argv[0], fd, &a, &b, cycles, dir_ab, dir_ba,
	    t0 + (int64_t)tmo * 1000000000, &ra);
	if (read(back[0], &rb, sizeof rb) != sizeof rb)
		rb.rc = 1, rb.end = now_ns();
	waitpid(pid, NULL, 0);
	end = ra.end > rb.end ? ra.end : rb.end;
	sec = (double)(end - t0) / 1e9;
	printf("tput bytes=%llu sec=%.4f mbps=%.2f ok=%d\n",
	    (unsigned long long)(cycles * a.olen), sec,
	    (double)(cycles * a.olen) / sec / 1e6,
	    ra.rc == 0 && rb.rc == 0);
	return ra.rc || rb.rc;
}
