/*
 * eplisten.c - unix-listen and tcp-listen endpoints: one client at a time.
 *
 * The listening socket stays open for the endpoint's whole life; the relay
 * gets each client's fd through the up callback.  A second client while one
 * is connected is accepted and closed at once: KDCOM is point to point and a
 * second debugger on the line would corrupt both sessions.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "endpoint.h"
#include "endpoint_backend.h"
#include "log.h"

#define LISTEN_BACKLOG	8
#define PAUSE_S		1	/* after EMFILE: let fds free up */

struct eplisten {
	int		 lfd;
	struct event	*ev_accept;
	struct event	*ev_pause;
	char		 where[PATH_MAX];	/* "127.0.0.1:9000", a path */
	int		 made;			/* our socket file: unlink */
	dev_t		 dev;
	ino_t		 ino;
	uint64_t	 refused;		/* during the current client */
	int		 warned;
};

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void
sockaddr_text(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t size)
{
	char	host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, size, "?");
		return;
	}
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, serv);
}

static void
peer_text(int fd, const struct sockaddr_storage *ss, socklen_t len,
    char *buf, size_t size)
{
	struct ucred	cred;
	socklen_t	clen = sizeof cred;

	if (ss->ss_family != AF_UNIX) {
		sockaddr_text((const struct sockaddr *)ss, len, buf, size);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		snprintf(buf, size, "pid %ld uid %ld", (long)cred.pid,
		    (long)cred.uid);
	else
		snprintf(buf, size, "a local process");
}

static int
is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;

	switch (sa->sa_family) {
	case AF_INET:
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    sin6->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

static void
pause_cb(evutil_socket_t fd, short what, void *arg)
{
	struct eplisten	*l = arg;

	(void)fd;
	(void)what;
	event_add(l->ev_accept, NULL);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct endpoint		*ep = arg;
	struct eplisten		*l = endpoint_data(ep);
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct timeval		 tv = { PAUSE_S, 0 };
	char			 peer[NI_MAXHOST + NI_MAXSERV + 8];
	int			 s, one = 1;

	(void)what;
	for (;;) {
		len = sizeof ss;
		s = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* EMFILE and friends: level-triggered, would spin. */
			if (!l->warned)
				log_warn("%s: accept: %s; pausing", endpoint_name(ep),
				    strerror(errno));
			l->warned = 1;
			event_del(l->ev_accept);
			evtimer_add(l->ev_pause, &tv);
			return;
		}
		l->warned = 0;
		peer_text(s, &ss, len, peer, sizeof peer);
		if (endpoint_fd(ep) != -1) {
			close(s);
			if (l->refused++ == 0)
				log_notice("%s: refused a second client (%s): "
				    "one client at a time", endpoint_name(ep),
				    peer);
			continue;
		}
		if (ss.ss_family != AF_UNIX)
			setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof one);
		l->refused = 0;
		log_notice("%s: client connected (%s)", endpoint_name(ep), peer);
		endpoint_set_status(ep, "client connected on %s", l->where);
		endpoint_attach(ep, s);
		return;			/* a backlog comes on the next call */
	}
}

/* A stale socket (no one accepts on it) may go; anything else stays. */
static int
unix_clear_path(struct endpoint *ep, const char *path, char *err,
    size_t errlen)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, r, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return fail(err, errlen, "%s: %s: %s", endpoint_name(ep), path,
		    strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return fail(err, errlen, "%s: %s exists and is not a socket; "
		    "not replacing it", endpoint_name(ep), path);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return fail(err, errlen, "%s: socket path too long",
		    endpoint_name(ep));
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return fail(err, errlen, "%s: socket: %s", endpoint_name(ep),
		    strerror(errno));
	r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	saved = errno;
	close(fd);
	if (r == 0)
		return fail(err, errlen, "%s: %s is in use by another "
		    "listener", endpoint_name(ep), path);
	if (saved != ECONNREFUSED)
		return fail(err, errlen, "%s: cannot check the existing socket "
		    "%s: %s", endpoint_name(ep), path, strerror(saved));
	if (unlink(path) == -1 && errno != ENOENT)
		return fail(err, errlen, "%s: cannot remove the stale socket "
		    "%s: %s", endpoint_name(ep), path, strerror(errno));
	log_info("%s: removed the stale socket %s", endpoint_name(ep), path);
	return 0;
}

static int
unix_listen_open(struct endpoint *ep, struct eplisten *l, char *err,
    size_t errlen)
{
	const char		*path = endpoint_spec(ep)->path;
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	if (unix_clear_path(ep, path, err, errlen) == -1)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return fail(err, errlen, "%s: socket path too long",
		    endpoint_name(ep));
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return fail(err, errlen, "%s: socket: %s", endpoint_name(ep),
		    strerror(errno));
	/* bind() creates the file with the socket inode's mode & ~umask. */
	if (fchmod(fd, 0600) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		fail(err, errlen, "%s: cannot bind %s: %s", endpoint_name(ep),
		    path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(path, 0600) == -1 || lstat(path, &st) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		fail(err, errlen, "%s: cannot listen on %s: %s",
		    endpoint_name(ep), path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	l->made = 1;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->lfd = fd;
	snprintf(l->where, sizeof l->where, "%s", path);
	return 0;
}

static int
tcp_listen_open(struct endpoint *ep, struct eplisten *l, char *err,
    size_t errlen)
{
	const struct ep_spec	*sp = endpoint_spec(ep);
	struct addrinfo		 hints, *res, *a;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	char			 addr[NI_MAXHOST + NI_MAXSERV + 8];
	int			 r, fd = -1, one = 1, saved = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(sp->host, sp->port, &hints, &res)) != 0)
		return fail(err, errlen, "%s: cannot resolve %s: %s",
		    endpoint_name(ep), sp->host, gai_strerror(r));
	for (a = res; a != NULL && !sp->allow_remote; a = a->ai_next) {
		if (is_loopback(a->ai_addr))
			continue;
		sockaddr_text(a->ai_addr, a->ai_addrlen, addr, sizeof addr);
		freeaddrinfo(res);
		return fail(err, errlen, "%s: %s is not a loopback address; "
		    "add ,allow-remote to listen on it (a KD link has no "
		    "authentication)", endpoint_name(ep), addr);
	}
	for (a = res; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, a->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return fail(err, errlen, "%s: cannot listen on %s port %s: %s",
		    endpoint_name(ep), sp->host, sp->port, strerror(saved));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		sockaddr_text((struct sockaddr *)&ss, len, l->where,
		    sizeof l->where);
	else
		snprintf(l->where, sizeof l->where, "%s:%s", sp->host,
		    sp->port);
	l->lfd = fd;
	return 0;
}

static void
listen_stop(struct endpoint *ep)
{
	struct eplisten	*l = endpoint_data(ep);
	struct stat	 st;

	if (l == NULL)
		return;
	if (l->ev_accept != NULL)
		event_free(l->ev_accept);
	if (l->ev_pause != NULL)
		event_free(l->ev_pause);
	if (l->lfd != -1)
		close(l->lfd);
	/* Unlink only our own socket, not one a successor put there. */
	if (l->made && lstat(l->where, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino)
		unlink(l->where);
	free(l);
	endpoint_set_data(ep, NULL);
}

static int
listen_start(struct endpoint *ep, char *err, size_t errlen)
{
	struct eplisten	*l;
	int		 r;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return fail(err, errlen, "%s: out of memory", endpoint_name(ep));
	l->lfd = -1;
	endpoint_set_data(ep, l);
	if (endpoint_spec(ep)->kind == EP_UNIX_LISTEN)
		r = unix_listen_open(ep, l, err, errlen);
	else
		r = tcp_listen_open(ep, l, err, errlen);
	if (r == 0) {
		l->ev_accept = event_new(endpoint_base(ep), l->lfd,
		    EV_READ | EV_PERSIST, accept_cb, ep);
		l->ev_pause = evtimer_new(endpoint_base(ep), pause_cb, l);
		if (l->ev_accept == NULL || l->ev_pause == NULL ||
		    event_add(l->ev_accept, NULL) == -1)
			r = fail(err, errlen, "%s: cannot add events",
			    endpoint_name(ep));
	}
	if (r == -1) {
		listen_stop(ep);
		return -1;
	}
	log_notice("%s: listening on %s", endpoint_name(ep), l->where);
	endpoint_set_status(ep, "listening on %s", l->where);
	return 0;
}

static void
listen_lost(struct endpoint *ep, const char *why)
{
	struct eplisten	*l = endpoint_data(ep);

	if (l->refused > 1)
		log_notice("%s: client left (%s); %llu more clients were "
		    "refused meanwhile; listening", endpoint_name(ep), why,
		    (unsigned long long)(l->refused - 1));
	else
		log_notice("%s: client left (%s); listening",
		    endpoint_name(ep), why);
	l->refused = 0;
	endpoint_set_status(ep, "listening on %s", l->where);
}

const struct ep_backend ep_backend_listen = {
	listen_start, listen_lost, listen_stop, NULL,
};
