/*
 * check_endpoint.c - endpoints against real ptys and sockets, driven by a
 * real event loop.  Every wait is a loop run bounded by a deadline, so a
 * broken endpoint fails a test instead of hanging it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "endpoint.h"
#include "tty.h"
#include "epspec.h"
#include "log.h"
#include "kdtest.h"

#define BACKOFF_CAP_MS	5000

struct tctx {
	struct event_base	*base;
	struct endpoint		*ep;
	struct ep_spec		 spec;		/* ep's, kept by it */
	int			 ups;
	int			 downs;
	int			 fd;		/* from the last up */
	struct timespec		 up_at;
	int			 timed_out;
	char			 dir[64];
	char			 err[512];
	int			 saved_stderr;
	char			 logpath[128];
	/* a test client's fd watched for EOF */
	struct event		*ev_peer;
	int			 peer_eof;
};

static struct tctx	T;

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
up_cb(void *arg, int fd)
{
	struct tctx	*t = arg;

	t->ups++;
	t->fd = fd;
	clock_gettime(CLOCK_MONOTONIC, &t->up_at);
	event_base_loopbreak(t->base);
}

static void
down_cb(void *arg)
{
	struct tctx	*t = arg;

	t->downs++;
	t->fd = -1;
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tctx	*t = arg;

	(void)fd;
	(void)what;
	t->timed_out = 1;
	event_base_loopbreak(t->base);
}

/* Run the loop until cond() holds or ms pass; cond()'s final value. */
static int
run_until(int (*cond)(struct tctx *), unsigned ms)
{
	struct event	*dl;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	dl = evtimer_new(T.base, deadline_cb, &T);
	evtimer_add(dl, &tv);
	T.timed_out = 0;
	while (!cond(&T) && !T.timed_out)
		event_base_loop(T.base, EVLOOP_ONCE);
	event_free(dl);
	return cond(&T);
}

static int	never(struct tctx *t) { (void)t; return 0; }
static int	one_up(struct tctx *t) { return t->ups >= 1; }
static int	two_up(struct tctx *t) { return t->ups >= 2; }
static int	peer_eof(struct tctx *t) { return t->peer_eof; }

static int
count_timer(const struct event_base *b, const struct event *ev, void *arg)
{
	(void)b;
	if (event_get_fd(ev) == -1 &&
	    event_pending((struct event *)ev, EV_TIMEOUT, NULL))
		(*(int *)arg)++;
	return 0;
}

/* Timers the endpoint has armed (the test's own are gone by now). */
static int
timers_armed(void)
{
	int	n = 0;

	event_base_foreach_event(T.base, count_timer, &n);
	return n;
}

static void
setup(void)
{
	memset(&T, 0, sizeof T);
	T.fd = -1;
	T.saved_stderr = -1;
	ck_assert_ptr_nonnull(T.base = event_base_new());
	strcpy(T.dir, "/tmp/check_endpoint.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(T.dir));
	log_init("check_endpoint", LOG_LVL_INFO, 0);
}

static void
rm_tree(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[PATH_MAX];
	struct stat	 st;

	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof p, "%s/%s", path, de->d_name);
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				rm_tree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

static void
teardown(void)
{
	if (T.ev_peer != NULL)
		event_free(T.ev_peer);
	endpoint_free(T.ep);
	event_base_free(T.base);
	rm_tree(T.dir);
}

static struct endpoint *
make_ep(const char *spec)
{
	char		err[256];

	ck_assert_msg(ep_spec_parse(spec, &T.spec, err, sizeof err) == 0,
	    "%s", err);
	T.ep = endpoint_new(T.base, &T.spec, "pair", "target", up_cb, down_cb,
	    &T);
	ck_assert_ptr_nonnull(T.ep);
	return T.ep;
}

static void
start_ep(const char *spec)
{
	make_ep(spec);
	ck_assert_msg(endpoint_start(T.ep, T.err, sizeof T.err) == 0, "%s",
	    T.err);
}

static const char *
status(void)
{
	static char	buf[256];

	return endpoint_status(T.ep, buf, sizeof buf);
}

/* Send the log to a file so a test can count lines. */
static void
capture_log(void)
{
	int	fd;

	snprintf(T.logpath, sizeof T.logpath, "%s.log", T.dir);
	fd = open(T.logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	T.saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

static int
log_count(const char *needle)
{
	char	buf[65536], *p;
	int	fd, n = 0;
	ssize_t	len;

	fd = open(T.logpath, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	len = read(fd, buf, sizeof buf - 1);
	close(fd);
	ck_assert_int_ge(len, 0);
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, needle)) != NULL; p++)
		n++;
	if (T.saved_stderr != -1)	/* show it in the test's output too */
		(void)!write(T.saved_stderr, buf, len);
	return n;
}

static void
peer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tctx	*t = arg;
	char		 c;

	(void)what;
	if (read(fd, &c, 1) <= 0)
		t->peer_eof = 1;
}

static void
watch_peer(int fd)
{
	if (T.ev_peer != NULL)
		event_free(T.ev_peer);
	T.peer_eof = 0;
	T.ev_peer = event_new(T.base, fd, EV_READ | EV_PERSIST, peer_cb, &T);
	event_add(T.ev_peer, NULL);
}

static void
unwatch_peer(void)
{
	event_free(T.ev_peer);
	T.ev_peer = NULL;
}

/* A listening unix socket at path, made the way a server does. */
static int
unix_server(const char *path, int do_listen)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0,
	    "bind %s: %s", path, strerror(errno));
	if (do_listen)
		ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

static int
unix_client(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0,
	    "connect %s: %s", path, strerror(errno));
	return fd;
}

static int
tcp_client(const char *addr, int port)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, addr, &sin.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0,
	    "connect %s:%d: %s", addr, port, strerror(errno));
	return fd;
}

/* A port nothing listens on right now. */
static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
tcp_server(int port)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

/* Read exactly n bytes from a nonblocking fd within ms. */
static void
read_exact(int fd, char *buf, size_t n, int ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	size_t		got = 0;
	ssize_t		r;
	long long	end = now_ms() + ms;

	while (got < n) {
		ck_assert_msg(now_ms() < end, "read: %zu of %zu bytes", got, n);
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		r = read(fd, buf + got, n - got);
		if (r > 0)
			got += r;
		else
			ck_assert_msg(r == -1 && errno == EAGAIN,
			    "read: %s", r == 0 ? "EOF" : strerror(errno));
	}
}

static int
nodelay(int fd)
{
	int		v = 0;
	socklen_t	len = sizeof v;

	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	return v;
}

/* ---- tty ---- */

START_TEST(test_tty_raw_keeps_queued_input)
{
	struct termios	t;
	int		m, s;
	char		name[64], spec[96], buf[16];

	ck_assert_int_eq(openpty(&m, &s, name, NULL, NULL), 0);
	ck_assert_int_eq(tcgetattr(s, &t), 0);
	ck_assert(t.c_lflag & ICANON);		/* cooked to begin with */
	/* The guest wrote before anyone opened the pty. */
	ck_assert_int_eq(write(m, "KDqueued", 8), 8);
	snprintf(spec, sizeof spec, "%s", name);
	start_ep(spec);
	ck_assert(run_until(one_up, 2000));
	ck_assert(endpoint_is_tty(T.ep));
	ck_assert_int_eq(endpoint_fd(T.ep), T.fd);
	ck_assert(fcntl(T.fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(T.fd, F_GETFD) & FD_CLOEXEC);

	ck_assert_int_eq(tcgetattr(T.fd, &t), 0);
	ck_assert(!(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN)));
	ck_assert(!(t.c_oflag & OPOST));
	ck_assert(!(t.c_iflag & (ICRNL | INLCR | IGNCR | IXON | ISTRIP)));
	ck_assert_int_eq(t.c_cflag & CSIZE, CS8);

	read_exact(T.fd, buf, 8, 1000);
	ck_assert_mem_eq(buf, "KDqueued", 8);
	/* Raw both ways: no CR/LF translation on the line. */
	ck_assert_int_eq(write(m, "\r\n\n", 3), 3);
	read_exact(T.fd, buf, 3, 1000);
	ck_assert_mem_eq(buf, "\r\n\n", 3);
	/* Drop what the cooked pty echoed back before it went raw. */
	fcntl(m, F_SETFL, O_NONBLOCK);
	while (read(m, buf, sizeof buf) > 0)
		;
	ck_assert_int_eq(write(T.fd, "a\nb", 3), 3);
	read_exact(m, buf, 3, 1000);
	ck_assert_mem_eq(buf, "a\nb", 3);
	ck_assert_ptr_nonnull(strstr(status(), "connected"));
	ck_assert_uint_eq(endpoint_reconnects(T.ep), 0);
	ck_assert_int_eq(endpoint_crlf_guess(T.ep), 0);
	close(m);
	close(s);
}
END_TEST

START_TEST(test_tty_open_raw_helper)
{
	struct termios	t;
	int		m, s, fd;
	char		name[64];

	ck_assert_int_eq(openpty(&m, &s, name, NULL, NULL), 0);
	fd = tty_open_raw(name, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(tcgetattr(s, &t), 0);	/* shared by all opens */
	ck_assert(!(t.c_lflag & ICANON));
	close(fd);
	errno = 0;
	ck_assert_int_eq(tty_open_raw("/nonexistent/tty", 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	close(m);
	close(s);
}
END_TEST

/* A socat link= symlink that appears later, goes, and comes back. */
START_TEST(test_tty_link_appears)
{
	char		link[128], spec[160], name[64];
	int		m, s;
	long long	t0;

	snprintf(link, sizeof link, "%s/vm-a", T.dir);
	snprintf(spec, sizeof spec, "pty:%s", link);
	start_ep(spec);
	ck_assert(!run_until(never, 200));
	ck_assert_int_eq(T.ups, 0);
	ck_assert_msg(strstr(status(), "waiting for") != NULL, "%s", status());
	ck_assert_int_eq(timers_armed(), 0);	/* inotify only: no polling */

	ck_assert_int_eq(openpty(&m, &s, name, NULL, NULL), 0);
	ck_assert_int_eq(symlink(name, link), 0);
	t0 = now_ms();
	ck_assert(run_until(one_up, 2000));
	ck_assert_int_lt(now_ms() - t0, 500);
	ck_assert(endpoint_is_tty(T.ep));

	/* The VM stops: its pty and link go; the relay sees EIO. */
	close(m);
	close(s);
	unlink(link);
	endpoint_lost(T.ep, "EIO");
	ck_assert_int_eq(endpoint_fd(T.ep), -1);
	ck_assert(!run_until(two_up, 300));
	ck_assert_int_eq(timers_armed(), 0);
	ck_assert_msg(strstr(status(), "waiting for") != NULL, "%s", status());

	ck_assert_int_eq(openpty(&m, &s, name, NULL, NULL), 0);
	ck_assert_int_eq(symlink(name, link), 0);
	t0 = now_ms();
	ck_assert(run_until(two_up, 2000));
	ck_assert_int_lt(now_ms() - t0, 500);
	ck_assert_uint_eq(endpoint_reconnects(T.ep), 1);
	close(m);
	close(s);
}
END_TEST

/* ---- unix connect ---- */

START_TEST(test_unix_appears_via_inotify)
{
	char		path[128], spec[160];
	int		srv, conn;
	long long	t0;

	snprintf(path, sizeof path, "%s/serial0", T.dir);
	snprintf(spec, sizeof spec, "unix:%s", path);
	start_ep(spec);
	ck_assert(!run_until(never, 300));
	ck_assert_int_eq(T.ups, 0);
	ck_assert_int_eq(timers_armed(), 0);
	ck_assert_msg(strstr(status(), "waiting for") != NULL, "%s", status());

	srv = unix_server(path, 1);
	t0 = now_ms();
	ck_assert(run_until(one_up, BACKOFF_CAP_MS + 1000));
	/* Well under the backoff cap: it was the watch, not a timer. */
	ck_assert_int_lt(now_ms() - t0, 500);
	ck_assert(!endpoint_is_tty(T.ep));
	conn = accept(srv, NULL, NULL);
	ck_assert_int_ge(conn, 0);
	ck_assert_int_eq(write(conn, "x", 1), 1);

	/* The VM stops: QEMU closes and removes its socket. */
	close(conn);
	close(srv);
	unlink(path);
	endpoint_lost(T.ep, "EOF");
	ck_assert(!run_until(two_up, 300));
	ck_assert_int_eq(timers_armed(), 0);

	srv = unix_server(path, 1);
	t0 = now_ms();
	ck_assert(run_until(two_up, BACKOFF_CAP_MS + 1000));
	ck_assert_int_lt(now_ms() - t0, 500);
	ck_assert_uint_eq(endpoint_reconnects(T.ep), 1);
	ck_assert_msg(strstr(status(), "connected") != NULL, "%s", status());
	close(srv);
}
END_TEST

/* The socket's directory does not exist yet either. */
START_TEST(test_unix_parent_dir_appears)
{
	char		dir[128], path[160], spec[192];
	int		srv;
	long long	t0;

	snprintf(dir, sizeof dir, "%s/run/qemu", T.dir);
	snprintf(path, sizeof path, "%s/100.serial0", dir);
	snprintf(spec, sizeof spec, "unix:%s", path);
	start_ep(spec);
	ck_assert(!run_until(never, 200));
	ck_assert_int_eq(timers_armed(), 0);

	snprintf(dir, sizeof dir, "%s/run", T.dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert(!run_until(never, 100));
	snprintf(dir, sizeof dir, "%s/run/qemu", T.dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert(!run_until(never, 100));
	ck_assert_int_eq(timers_armed(), 0);

	srv = unix_server(path, 1);
	t0 = now_ms();
	ck_assert(run_until(one_up, BACKOFF_CAP_MS + 1000));
	ck_assert_int_lt(now_ms() - t0, 500);
	close(srv);
}
END_TEST

/* A stale socket refuses: backoff, one log line, then up. */
START_TEST(test_unix_refused_backoff)
{
	char		path[128], spec[160];
	int		srv;

	snprintf(path, sizeof path, "%s/stale.sock", T.dir);
	close(unix_server(path, 0));		/* left behind, refuses */
	snprintf(spec, sizeof spec, "unix:%s", path);
	capture_log();
	start_ep(spec);
	ck_assert(!run_until(never, 800));	/* >= 3 retries */
	ck_assert_int_eq(T.ups, 0);
	ck_assert_int_eq(timers_armed(), 1);
	ck_assert_msg(strstr(status(), "retrying") != NULL, "%s", status());

	unlink(path);
	srv = unix_server(path, 1);
	ck_assert(run_until(one_up, 3000));
	ck_assert_int_eq(log_count("Connection refused; retrying"), 1);
	ck_assert_int_eq(log_count("pair/target: unix:"), 2);
	ck_assert_int_eq(log_count("connected"), 1);
	close(srv);
}
END_TEST

/* A peer that hangs up at once does not make the endpoint spin. */
START_TEST(test_unix_flapping_backs_off)
{
	char		path[128], spec[160];
	int		srv;
	long long	t0;

	snprintf(path, sizeof path, "%s/flap.sock", T.dir);
	srv = unix_server(path, 1);
	snprintf(spec, sizeof spec, "unix:%s", path);
	start_ep(spec);
	ck_assert(run_until(one_up, 2000));
	endpoint_lost(T.ep, "EOF");
	t0 = now_ms();
	ck_assert(run_until(two_up, 2000));
	ck_assert_int_ge(now_ms() - t0, 90);
	close(srv);
}
END_TEST

/* ---- unix-listen ---- */

START_TEST(test_unix_listen)
{
	char		path[128], spec[160], buf[4];
	struct stat	st;
	int		c1, c2, c3, c4;

	snprintf(path, sizeof path, "%s/kd.sock", T.dir);
	snprintf(spec, sizeof spec, "unix-listen:%s", path);
	umask(0);		/* 0600 must not depend on the umask */
	capture_log();
	start_ep(spec);
	umask(022);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_msg(strstr(status(), "listening on") != NULL, "%s", status());
	ck_assert_int_eq(endpoint_fd(T.ep), -1);

	c1 = unix_client(path);
	ck_assert(run_until(one_up, 2000));
	ck_assert_int_eq(endpoint_fd(T.ep), T.fd);

	/* Second and third clients: accepted and closed at once. */
	c2 = unix_client(path);
	watch_peer(c2);
	ck_assert(run_until(peer_eof, 2000));
	c3 = unix_client(path);
	watch_peer(c3);
	ck_assert(run_until(peer_eof, 2000));
	unwatch_peer();
	ck_assert_int_eq(T.ups, 1);
	ck_assert_int_eq(write(c1, "ok", 2), 2);	/* first still served */
	read_exact(T.fd, buf, 2, 1000);
	ck_assert_mem_eq(buf, "ok", 2);

	/* The first client leaves; the relay reports it; a new one comes. */
	close(c1);
	endpoint_lost(T.ep, "EOF");
	ck_assert_int_eq(endpoint_fd(T.ep), -1);
	ck_assert_msg(strstr(status(), "listening on") != NULL, "%s", status());
	c4 = unix_client(path);
	ck_assert(run_until(two_up, 2000));
	ck_assert_int_eq(write(c4, "hi", 2), 2);
	read_exact(T.fd, buf, 2, 1000);
	ck_assert_mem_eq(buf, "hi", 2);
	ck_assert_uint_eq(endpoint_reconnects(T.ep), 1);
	ck_assert_int_eq(log_count("refused a second client"), 1);
	ck_assert_int_eq(log_count("1 more clients were refused"), 1);

	endpoint_free(T.ep);
	T.ep = NULL;
	ck_assert_int_eq(lstat(path, &st), -1);		/* unlinked */
	close(c2);
	close(c3);
	close(c4);
}
END_TEST

START_TEST(test_unix_listen_refuses_file)
{
	char		path[128], spec[160], buf[16];
	int		fd;

	snprintf(path, sizeof path, "%s/precious", T.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_eq(write(fd, "keep me", 7), 7);
	close(fd);
	snprintf(spec, sizeof spec, "unix-listen:%s", path);
	make_ep(spec);
	ck_assert_int_eq(endpoint_start(T.ep, T.err, sizeof T.err), -1);
	ck_assert_msg(strstr(T.err, "not a socket") != NULL, "%s", T.err);
	ck_assert_ptr_nonnull(strstr(T.err, path));
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof buf), 7);
	ck_assert_mem_eq(buf, "keep me", 7);
	close(fd);
	/* Freeing a failed endpoint leaves the file alone too. */
	endpoint_free(T.ep);
	T.ep = NULL;
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(test_unix_listen_stale_and_live)
{
	char		path[128], spec[160];
	struct stat	st;
	int		live;

	/* A stale socket (nobody listening) is replaced. */
	snprintf(path, sizeof path, "%s/stale.sock", T.dir);
	close(unix_server(path, 0));
	snprintf(spec, sizeof spec, "unix-listen:%s", path);
	start_ep(spec);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	close(unix_client(path));		/* ours now: it accepts */
	endpoint_free(T.ep);
	T.ep = NULL;

	/* A live one belongs to someone else: refuse, keep it. */
	snprintf(path, sizeof path, "%s/live.sock", T.dir);
	live = unix_server(path, 1);
	snprintf(spec, sizeof spec, "unix-listen:%s", path);
	make_ep(spec);
	ck_assert_int_eq(endpoint_start(T.ep, T.err, sizeof T.err), -1);
	ck_assert_msg(strstr(T.err, "in use") != NULL, "%s", T.err);
	endpoint_free(T.ep);
	T.ep = NULL;
	ck_assert_int_eq(lstat(path, &st), 0);
	close(live);
}
END_TEST

/* ---- tcp ---- */

START_TEST(test_tcp_listen_loopback)
{
	char			spec[64], want[64];
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			port = free_port(), c;

	snprintf(spec, sizeof spec, "tcp-listen:%d", port);
	start_ep(spec);
	snprintf(want, sizeof want, "listening on 127.0.0.1:%d", port);
	ck_assert_str_eq(status(), want);
	c = tcp_client("127.0.0.1", port);
	ck_assert(run_until(one_up, 2000));
	ck_assert_int_eq(getsockname(T.fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(ntohl(sin.sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_int_eq(ntohs(sin.sin_port), port);
	ck_assert(nodelay(T.fd));
	ck_assert(fcntl(T.fd, F_GETFL) & O_NONBLOCK);
	close(c);
}
END_TEST

START_TEST(test_tcp_listen_remote_needs_option)
{
	char	spec[96];
	int	port = free_port(), c;

	snprintf(spec, sizeof spec, "tcp-listen:0.0.0.0:%d", port);
	make_ep(spec);
	ck_assert_int_eq(endpoint_start(T.ep, T.err, sizeof T.err), -1);
	ck_assert_msg(strstr(T.err, "allow-remote") != NULL, "%s", T.err);
	endpoint_free(T.ep);
	T.ep = NULL;
	/* Nothing was left listening. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in sin = { .sin_family = AF_INET,
		    .sin_port = htons(port),
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		ck_assert_int_eq(connect(c, (struct sockaddr *)&sin,
		    sizeof sin), -1);
		ck_assert_int_eq(errno, ECONNREFUSED);
	}
	close(c);

	snprintf(spec, sizeof spec, "tcp-listen:0.0.0.0:%d,allow-remote",
	    port);
	start_ep(spec);
	c = tcp_client("127.0.0.1", port);
	ck_assert(run_until(one_up, 2000));
	close(c);
}
END_TEST

START_TEST(test_tcp_connect_backoff_then_up)
{
	char		spec[64], buf[2];
	int		port = free_port(), srv, conn;
	long long	t0;

	snprintf(spec, sizeof spec, "tcp:127.0.0.1:%d", port);
	capture_log();
	start_ep(spec);
	ck_assert(!run_until(never, 700));
	ck_assert_int_eq(T.ups, 0);
	ck_assert_int_eq(timers_armed(), 1);
	ck_assert_msg(strstr(status(), "retrying") != NULL, "%s", status());

	srv = tcp_server(port);
	ck_assert(run_until(one_up, 3000));
	ck_assert(nodelay(T.fd));
	conn = accept(srv, NULL, NULL);
	ck_assert_int_ge(conn, 0);
	ck_assert_int_eq(write(T.fd, "k", 1), 1);
	ck_assert_int_eq(read(conn, buf, 1), 1);
	ck_assert_int_eq(buf[0], 'k');
	ck_assert_int_eq(log_count("Connection refused; retrying"), 1);

	/* Lost after a stable connection: reconnects at once. */
	ck_assert(!run_until(never, 1100));
	close(conn);
	endpoint_lost(T.ep, "EOF");
	ck_assert_int_eq(endpoint_fd(T.ep), -1);
	t0 = now_ms();
	ck_assert(run_until(two_up, 3000));
	ck_assert_int_lt(now_ms() - t0, 90);
	ck_assert_uint_eq(endpoint_reconnects(T.ep), 1);
	close(srv);
}
END_TEST

/* A host name goes through the resolver without blocking the loop. */
START_TEST(test_tcp_connect_by_name)
{
	char	spec[64];
	int	port = free_port(), srv;

	srv = tcp_server(port);
	snprintf(spec, sizeof spec, "tcp:localhost:%d,crlf=off", port);
	start_ep(spec);
	ck_assert_msg(run_until(one_up, 3000), "%s", status());
	ck_assert(nodelay(T.fd));
	ck_assert_msg(strstr(status(), "connected to tcp:localhost:") != NULL,
	    "%s", status());
	close(srv);
}
END_TEST

START_TEST(test_free_while_connecting)
{
	char	spec[64];

	/* A non-routable address: the connect stays in progress. */
	snprintf(spec, sizeof spec, "tcp:192.0.2.1:9");
	start_ep(spec);
	ck_assert(!run_until(never, 100));
	ck_assert_int_eq(T.ups, 0);
	endpoint_free(T.ep);
	T.ep = NULL;
	/* And while resolving a name (.invalid never resolves). */
	start_ep("tcp:kdrelay-test.invalid:9");
	ck_assert(!run_until(never, 100));
	ck_assert_int_eq(T.ups, 0);
	endpoint_free(T.ep);
	T.ep = NULL;
}
END_TEST

/* xen: and pve: start when built in (tests/test_xen_*.sh, test_pve.sh). */
START_TEST(test_unsupported_kinds)
{
	make_ep("xen:win10");
#ifdef HAVE_XENSTORE
	ck_assert_int_eq(endpoint_start(T.ep, T.err, sizeof T.err), 0);
#else
	ck_assert_int_eq(endpoint_start(T.ep, T.err, sizeof T.err), -1);
	ck_assert_msg(strstr(T.err, "not supported") != NULL, "%s", T.err);
#endif
	endpoint_free(T.ep);
	make_ep("pve:100");	/* always built in */
	ck_assert_int_eq(endpoint_start(T.ep, T.err, sizeof T.err), 0);
}
END_TEST

static Suite *
endpoint_suite(void)
{
	Suite	*s = suite_create("endpoint");
	TCase	*tc;

	tc = tcase_create("tty");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_tty_raw_keeps_queued_input);
	tcase_add_test(tc, test_tty_open_raw_helper);
	tcase_add_test(tc, test_tty_link_appears);
	suite_add_tcase(s, tc);

	tc = tcase_create("unix");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_unix_appears_via_inotify);
	tcase_add_test(tc, test_unix_parent_dir_appears);
	tcase_add_test(tc, test_unix_refused_backoff);
	tcase_add_test(tc, test_unix_flapping_backs_off);
	tcase_add_test(tc, test_unix_listen);
	tcase_add_test(tc, test_unix_listen_refuses_file);
	tcase_add_test(tc, test_unix_listen_stale_and_live);
	suite_add_tcase(s, tc);

	tc = tcase_create("tcp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_tcp_listen_loopback);
	tcase_add_test(tc, test_tcp_listen_remote_needs_option);
	tcase_add_test(tc, test_tcp_connect_backoff_then_up);
	tcase_add_test(tc, test_tcp_connect_by_name);
	tcase_add_test(tc, test_free_while_connecting);
	tcase_add_test(tc, test_unsupported_kinds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (kt_run(endpoint_suite()));
}
