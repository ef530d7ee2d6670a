/*
 * check_relay.c - a pair's making when the process is short of fds:
 * libevent ends the process when a new loop finds none for its signal
 * socketpair (or returns no loop, which read as "out of memory"), so
 * relay_new must see that first and fail the pair, in words.
 *
 * And a real pair's data path where the peer takes little at a time: its
 * socket's send buffer at the kernel's minimum and a reader taking odd
 * sizes, so nearly every writev of the ring's two runs is taken in part
 * and the ring wraps thousands of times.  Every byte must arrive, in
 * order, repaired or not.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crlf.h"
#include "epspec.h"
#include "log.h"
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

/* The payload sent through the pair, and its size. */
#define WRAP_BYTES	(2u << 20)

static int
listen_at(const char *path)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd;

	ck_assert_uint_lt(strlen(path), sizeof sun.sun_path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	return fd;
}

/*
 * Two unix listeners in a fresh directory, and o's sides pointed at them
 * (crlf=... appended when given): the relay connects, the test accepts.
 */
struct socks {
	char	dir[64], hpath[80], tpath[80];
	int	hl, tl;
};

static void
socks_open(struct socks *k, struct pair_opts *o, const char *hcrlf,
    const char *tcrlf)
{
	char	spec[128], err[512] = "";

	snprintf(k->dir, sizeof k->dir, "/tmp/kdrelay-relay.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(k->dir));
	snprintf(k->hpath, sizeof k->hpath, "%s/h.sock", k->dir);
	snprintf(k->tpath, sizeof k->tpath, "%s/t.sock", k->dir);
	k->hl = listen_at(k->hpath);
	k->tl = listen_at(k->tpath);
	snprintf(spec, sizeof spec, "unix:%s%s%s", k->hpath,
	    hcrlf != NULL ? ",crlf=" : "", hcrlf != NULL ? hcrlf : "");
	ck_assert_msg(ep_spec_parse(spec, &o->side[SIDE_HOST], err,
	    sizeof err) == 0, "%s", err);
	snprintf(spec, sizeof spec, "unix:%s%s%s", k->tpath,
	    tcrlf != NULL ? ",crlf=" : "", tcrlf != NULL ? tcrlf : "");
	ck_assert_msg(ep_spec_parse(spec, &o->side[SIDE_TARGET], err,
	    sizeof err) == 0, "%s", err);
}

static void
socks_close(struct socks *k)
{
	close(k->hl);
	close(k->tl);
	unlink(k->hpath);
	unlink(k->tpath);
	rmdir(k->dir);
}

/* The relay's end of the connection to path: the fd whose peer it is. */
static int
relay_fd_to(const char *path)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd;

	for (fd = 3; fd < 1024; fd++) {
		len = sizeof sun;
		memset(&sun, 0, sizeof sun);
		if (getpeername(fd, (struct sockaddr *)&sun, &len) == 0 &&
		    sun.sun_family == AF_UNIX && strcmp(sun.sun_path, path) == 0)
			return fd;
	}
	ck_abort_msg("no fd of the relay's is connected to %s", path);
	return -1;
}

static void
wait_up(struct relay *r)
{
	struct timespec	ts = { 0, 1000000 };
	int		i;

	for (i = 0; i < 20000 && !relay_is_up(r); i++)
		nanosleep(&ts, NULL);
	ck_assert_msg(relay_is_up(r), "the pair did not come up");
}

/*
 * _i: CRLF repair off (0) or on (1) for what the host sends.  The payload
 * is dense in 0x0a and 0x0d, so the repair deletes bytes and holds a 0x0d
 * at read ends; the host's bytes are the payload corrupted when repair is
 * on, and the target must get the payload exactly.
 */
START_TEST(test_partial_writes_across_the_wrap)
{
	struct pair_opts	 o;
	struct relay		*r;
	struct pollfd		 pfd[2];
	struct socks		 k;
	char			 err[512] = "";
	uint8_t			*want, *sent, buf[1024];
	size_t			 nsent, off = 0, got = 0;
	uint64_t		 seed = 0x5eed0000u + (uint64_t)_i;
	int			 hfd, tfd, rfd, one = 1, i;
	ssize_t			 n;

	want = kt_xmalloc(WRAP_BYTES);
	sent = kt_xmalloc(2 * WRAP_BYTES);
	for (i = 0; i < (int)WRAP_BYTES; i++) {
		switch (kt_below(&seed, 8)) {
		case 0:
			want[i] = 0x0a;
			break;
		case 1:
			want[i] = 0x0d;
			break;
		default:
			want[i] = (uint8_t)kt_rand(&seed);
		}
	}
	want[WRAP_BYTES - 1] = 'x';	/* nothing held at the very end */
	if (_i) {
		nsent = crlf_corrupt(want, WRAP_BYTES, sent);
		ck_assert_uint_gt(nsent, WRAP_BYTES);
	} else {
		memcpy(sent, want, WRAP_BYTES);
		nsent = WRAP_BYTES;
	}

	pair_opts_init(&o);
	o.target_shutdown = 0;	/* nothing but the host's bytes to the target */
	socks_open(&k, &o, _i ? "on" : "off", "off");

	log_init("check_relay", LOG_LVL_WARN, 0);
	relay_global_init();
	r = relay_new(&o, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_msg(relay_start(r, err, sizeof err) == 0, "%s", err);
	hfd = accept4(k.hl, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	ck_assert_int_ge(hfd, 0);
	tfd = accept4(k.tl, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	ck_assert_int_ge(tfd, 0);
	/* Connected: a failing case leaves nothing behind. */
	socks_close(&k);
	wait_up(r);
	/* The kernel's least (a few KiB): a writev rarely goes in whole. */
	rfd = relay_fd_to(k.tpath);
	ck_assert_int_eq(setsockopt(rfd, SOL_SOCKET, SO_SNDBUF, &one,
	    sizeof one), 0);

	while (got < WRAP_BYTES) {
		pfd[0].fd = off < nsent ? hfd : -1;
		pfd[0].events = POLLOUT;
		pfd[1].fd = tfd;
		pfd[1].events = POLLIN;
		ck_assert_msg(poll(pfd, 2, 10000) > 0, "stalled: %zu of %zu "
		    "bytes sent, %zu of %u received", off, nsent, got,
		    WRAP_BYTES);
		if (pfd[0].revents & POLLOUT) {
			n = write(hfd, sent + off, 1 +
			    kt_below(&seed, nsent - off < 9000 ?
			    nsent - off : 9000));
			ck_assert_msg(n > 0 || errno == EAGAIN, "write: %s",
			    strerror(errno));
			off += n > 0 ? (size_t)n : 0;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			/* Odd sizes, one at a time: the writer waits often. */
			n = read(tfd, buf, 1 + kt_below(&seed, sizeof buf));
			ck_assert_msg(n > 0 || (n == -1 && errno == EAGAIN),
			    "read: %s", n == 0 ? "end of file" :
			    strerror(errno));
			if (n <= 0)
				continue;
			KT_CHECK(got + (size_t)n <= WRAP_BYTES,
			    "%zd bytes past the payload's end", n);
			KT_CHECK(memcmp(buf, want + got, (size_t)n) == 0,
			    "byte %zu onwards differs (crlf %s)", got,
			    _i ? "on" : "off");
			got += (size_t)n;
		}
	}
	/* Nothing more follows. */
	ck_assert_int_eq(read(tfd, buf, sizeof buf), -1);
	ck_assert_int_eq(errno, EAGAIN);

	relay_stop(r);
	relay_free(r);
	close(hfd);
	close(tfd);
	free(want);
	free(sent);
}
END_TEST

/*
 * A pair's fds are numbered beside its loop's, whenever they open: each
 * loop's fd table is sized by the highest fd it watches, and a thousand
 * pairs whose ttys opened after every loop was made paid a table for the
 * whole process's fds in each.  The number stays the endpoint's while it
 * is down (reconnected, it is the same) and is given back with the pair;
 * closing it really closes (the peer sees the end).
 */
START_TEST(test_fds_beside_the_loop)
{
	struct pair_opts	 o;
	struct relay		*r;
	struct socks		 k;
	char			 err[512] = "";
	int			 hfd, tfd, later[2 * 16], low, i;
	int			 hnum, tnum;
	char			 c;

	pair_opts_init(&o);
	socks_open(&k, &o, NULL, NULL);

	log_init("check_relay", LOG_LVL_WARN, 0);
	relay_global_init();
	r = relay_new(&o, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	/* Other pairs' loops, made before this pair's sockets connect. */
	low = INT32_MAX;
	for (i = 0; i < 16; i++) {
		ck_assert_int_eq(pipe2(later + 2 * i, O_CLOEXEC), 0);
		low = later[2 * i] < low ? later[2 * i] : low;
	}
	ck_assert_msg(relay_start(r, err, sizeof err) == 0, "%s", err);
	hfd = accept4(k.hl, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(hfd, 0);
	tfd = accept4(k.tl, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(tfd, 0);
	wait_up(r);
	hnum = relay_fd_to(k.hpath);
	tnum = relay_fd_to(k.tpath);
	ck_assert_msg(hnum < low && tnum < low, "the pair's fds %d and %d "
	    "opened above fds made after it (from %d)", hnum, tnum, low);

	/* The host side lost and back: the same number, nobody else's. */
	close(hfd);
	hfd = accept4(k.hl, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(hfd, 0);
	wait_up(r);
	ck_assert_int_eq(relay_fd_to(k.hpath), hnum);

	relay_free(r);
	/* Closed: the peers see the end, and the numbers are free again. */
	ck_assert_int_eq(read(hfd, &c, 1), 0);
	ck_assert_int_eq(read(tfd, &c, 1), 0);
	ck_assert_int_eq(fcntl(hnum, F_GETFD), -1);
	ck_assert_int_eq(fcntl(tnum, F_GETFD), -1);
	for (i = 0; i < 2 * 16; i++)
		close(later[i]);
	close(hfd);
	close(tfd);
	socks_close(&k);
}
END_TEST

static int
open_fds(void)
{
	int	fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return n;
}

/*
 * A pair up takes five fds: its two endpoints', and its loop's signal
 * pipe and eventfd (poll(2), no epoll instance: one fd a pair less is a
 * smaller fd table in every loop).
 */
START_TEST(test_five_fds_a_pair)
{
	struct pair_opts	 o;
	struct relay		*a, *r;
	struct socks		 k;
	char			 err[512] = "";
	int			 hfd, tfd, n0;

	pair_opts_init(&o);
	socks_open(&k, &o, NULL, NULL);
	log_init("check_relay", LOG_LVL_WARN, 0);
	relay_global_init();
	/* The process's own (libevent's, kdrelayd's) made by a first pair. */
	a = relay_new(&o, err, sizeof err);
	ck_assert_msg(a != NULL, "%s", err);

	n0 = open_fds();
	r = relay_new(&o, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_msg(relay_start(r, err, sizeof err) == 0, "%s", err);
	hfd = accept4(k.hl, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(hfd, 0);
	tfd = accept4(k.tl, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(tfd, 0);
	wait_up(r);
	ck_assert_int_eq(open_fds() - n0 - 2, 5);

	relay_free(r);
	relay_free(a);
	close(hfd);
	close(tfd);
	socks_close(&k);
}
END_TEST

/*
 * A pair whose two peers write and stop reading, as a loaded machine
 * stalls them: both directions fill, and the stuck rule grows the
 * buffers past their first 16 KiB, from the process's pool.
 */
struct stall {
	struct socks	 k;
	struct relay	*r;
	int		 fd[2];		/* the host's and the target's peer */
	uint64_t	 sent[2], got[2];
};

/* The bytes side i sends: position-dependent, so any slip shows. */
static uint8_t
stall_byte(int i, uint64_t at)
{
	return (uint8_t)(at * 7 + at / 251 + (uint64_t)i * 101);
}

static void
stall_open(struct stall *st, size_t bufsize)
{
	struct pair_opts	o;
	char			err[512] = "";
	int			i;

	memset(st, 0, sizeof *st);
	pair_opts_init(&o);
	o.target_shutdown = 0;
	o.bufsize = bufsize;
	socks_open(&st->k, &o, "off", "off");
	log_init("check_relay", LOG_LVL_WARN, 0);
	relay_global_init();
	st->r = relay_new(&o, err, sizeof err);
	ck_assert_msg(st->r != NULL, "%s", err);
	ck_assert_msg(relay_start(st->r, err, sizeof err) == 0, "%s", err);
	st->fd[0] = accept4(st->k.hl, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	st->fd[1] = accept4(st->k.tl, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	for (i = 0; i < 2; i++)
		ck_assert_int_ge(st->fd[i], 0);
	socks_close(&st->k);
	wait_up(st->r);
}

/* Both peers write what they can, reading nothing. */
static void
stall_write(struct stall *st)
{
	uint8_t	buf[4096];
	ssize_t	n;
	size_t	j;
	int	i;

	for (i = 0; i < 2; i++) {
		do {
			for (j = 0; j < sizeof buf; j++)
				buf[j] = stall_byte(i, st->sent[i] + j);
			n = write(st->fd[i], buf, sizeof buf);
			if (n > 0)
				st->sent[i] += (uint64_t)n;
		} while (n > 0);
		ck_assert_msg(errno == EAGAIN, "write: %s", strerror(errno));
	}
}

/* Both peers read what there is, checking every byte. */
static void
stall_read(struct stall *st)
{
	uint8_t	buf[4096];
	ssize_t	n, j;
	int	i;

	for (i = 0; i < 2; i++) {
		while ((n = read(st->fd[i], buf, sizeof buf)) > 0) {
			for (j = 0; j < n; j++)
				KT_CHECK(buf[j] == stall_byte(!i, st->got[i] + j),
				    "side %d: byte %llu wrong", i,
				    (unsigned long long)(st->got[i] + j));
			st->got[i] += (uint64_t)n;
		}
		ck_assert_msg(n == -1 && errno == EAGAIN, "read: %s",
		    n == 0 ? "end of file" : strerror(errno));
	}
}

static int
stall_delivered(const struct stall *st)
{
	return st->got[0] == st->sent[1] && st->got[1] == st->sent[0];
}

static void
stall_close(struct stall *st)
{
	relay_free(st->r);
	close(st->fd[0]);
	close(st->fd[1]);
}

static void
nap_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * A stall grows a pair's buffers (16 KiB to buffer-size, both ways, from
 * the pool); once the peers have read everything, the grown part goes
 * back to the pool (and its pages to the system), every byte delivered.
 */
START_TEST(test_stall_gives_back)
{
	struct stall	st;
	size_t		full = 2 * (65536 - 16384);	/* 64k, both ways */
	int		i;

	stall_open(&st, 65536);
	ck_assert_uint_eq(relay_pool_used(), 0);
	for (i = 0; i < 2000 && relay_pool_used() < full; i++) {
		stall_write(&st);
		nap_ms(10);
	}
	ck_assert_msg(relay_pool_used() == full, "stalled 20 s: %zu bytes "
	    "grown, not %zu", relay_pool_used(), full);
	for (i = 0; i < 2000 && !stall_delivered(&st); i++) {
		stall_read(&st);
		nap_ms(10);
	}
	ck_assert_msg(stall_delivered(&st), "not all delivered: %llu of "
	    "%llu, %llu of %llu", (unsigned long long)st.got[0],
	    (unsigned long long)st.sent[1], (unsigned long long)st.got[1],
	    (unsigned long long)st.sent[0]);
	/* Drained: the next look of each direction's idle timer. */
	for (i = 0; i < 2000 && relay_pool_used() > 0; i++)
		nap_ms(10);
	ck_assert_msg(relay_pool_used() == 0, "drained for 20 s, still %zu "
	    "bytes grown", relay_pool_used());
	stall_close(&st);
}
END_TEST

/*
 * Two pairs stalled at once that would each grow to buffer-size both
 * ways: together they get the pool (one pair's full growth), no more;
 * reading stops instead, and every byte still arrives.
 */
START_TEST(test_stall_bounded_by_the_pool)
{
	struct stall	st[2];
	size_t		pool = 2 * (1048576 - 16384), most = 0;
	int		i, j, done;

	for (j = 0; j < 2; j++)
		stall_open(&st[j], 1048576);
	for (i = 0; i < 500; i++) {
		for (j = 0; j < 2; j++)
			stall_write(&st[j]);
		most = relay_pool_used() > most ? relay_pool_used() : most;
		nap_ms(10);
	}
	ck_assert_msg(most <= pool, "%zu bytes grown, the pool is %zu", most,
	    pool);
	/* Each pair wanted 2 MiB less 32 KiB: the pool had half of that. */
	ck_assert_msg(most > pool / 2, "only %zu bytes grown", most);
	for (i = 0, done = 0; i < 3000 && !done; i++) {
		for (j = 0, done = 1; j < 2; j++) {
			stall_read(&st[j]);
			done &= stall_delivered(&st[j]);
		}
		nap_ms(10);
	}
	for (j = 0; j < 2; j++)
		ck_assert_msg(stall_delivered(&st[j]), "pair %d: not all "
		    "delivered", j);
	for (i = 0; i < 2000 && relay_pool_used() > 0; i++)
		nap_ms(10);
	ck_assert_uint_eq(relay_pool_used(), 0);
	for (j = 0; j < 2; j++)
		stall_close(&st[j]);
}
END_TEST

static Suite *
relay_suite(void)
{
	Suite	*s = suite_create("relay");
	TCase	*tc = tcase_create("fds");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* 0 to 2 free: libevent would exit; 3: none for the endpoints. */
	tcase_add_loop_test(tc, test_no_fds_for_the_loop, 0, 4);
	tcase_add_test(tc, test_enough_fds);
	tcase_add_test(tc, test_fds_beside_the_loop);
	tcase_add_test(tc, test_five_fds_a_pair);
	suite_add_tcase(s, tc);

	tc = tcase_create("wrap");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_partial_writes_across_the_wrap, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("stall");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_stall_gives_back);
	tcase_add_test(tc, test_stall_bounded_by_the_pool);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (kt_run(relay_suite()));
}
