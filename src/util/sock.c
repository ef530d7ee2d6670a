/*
 * sock.c - sockets the one way: unix addresses, connecting, listening.
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
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "log.h"
#include "sock.h"

#define LISTEN_BACKLOG	8
#define SOCK_FLAGS	(SOCK_NONBLOCK | SOCK_CLOEXEC)

int
sock_unix_addr(struct sockaddr_un *sun, socklen_t *len, const char *path)
{
	size_t	n = strlen(path);

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof sun->sun_path + (*path == '@')) {
		errno = n == 0 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, n);
	*len = sizeof *sun;
	if (*path == '@') {
		/* An abstract name is exactly its n bytes, the first a NUL. */
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return 0;
}

static int
close_fail(int fd)
{
	int	e = errno;

	close(fd);
	errno = e;
	return -1;
}

int
sock_unix_connect(const char *path)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd;

	if (sock_unix_addr(&sun, &len, path) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_FLAGS, 0)) == -1)
		return -1;
	/* A unix connect completes at once or fails (EAGAIN: backlog). */
	if (connect(fd, (struct sockaddr *)&sun, len) == -1)
		return close_fail(fd);
	return fd;
}

void
sock_nodelay(int fd)
{
	int	one = 1;

	/* Ping-pong traffic: latency matters, not segment count. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int
sock_tcp_connect(const char *host, const char *port, char *why,
    size_t whylen)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, e = ECONNREFUSED, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(why, whylen, "%s", gai_strerror(rc));
		errno = EADDRNOTAVAIL;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		errno = e;
		return -1;
	}
	sock_nodelay(fd);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		return close_fail(fd);
	return fd;
}

int
sock_is_loopback(const struct sockaddr *sa)
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

void
sock_addr_text(const struct sockaddr *sa, socklen_t len, char *buf,
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

void
sock_peer_text(int fd, const struct sockaddr_storage *ss, socklen_t len,
    char *buf, size_t size)
{
	struct ucred	cred;
	socklen_t	clen = sizeof cred;

	if (ss->ss_family != AF_UNIX) {
		sock_addr_text((const struct sockaddr *)ss, len, buf, size);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		snprintf(buf, size, "pid %ld uid %ld", (long)cred.pid,
		    (long)cred.uid);
	else
		snprintf(buf, size, "a local process");
}

/* ---- listening ---- */

int
sock_make_dir(const char *path)
{
	char		 dir[PATH_MAX], *p, c;
	struct stat	 st;

	snprintf(dir, sizeof dir, "%s", path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	if (stat(dir, &st) == 0)
		return 0;
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return -1;
		if ((*p = c) == '\0')
			break;
	}
	return 0;
}

#define WHO(who)	(who) != NULL ? (who) : "", (who) != NULL ? ": " : ""

/* A stale socket (no one accepts on it) may go; anything else stays. */
static int
unix_clear_path(const char *path, const char *who, char *err, size_t errlen)
{
	struct stat	st;
	int		fd, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return errf(err, errlen, "%s%s%s: %s", WHO(who), path,
		    strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return errf(err, errlen, "%s%s%s exists and is not a socket; "
		    "not replacing it", WHO(who), path);
	if ((fd = sock_unix_connect(path)) != -1) {
		close(fd);
		return errf(err, errlen, "%s%s%s is in use by another "
		    "listener", WHO(who), path);
	}
	/* EAGAIN: a live listener with a full backlog. */
	if ((saved = errno) != ECONNREFUSED)
		return errf(err, errlen, "%s%scannot check the existing "
		    "socket %s: %s", WHO(who), path, strerror(saved));
	if (unlink(path) == -1 && errno != ENOENT)
		return errf(err, errlen, "%s%scannot remove the stale socket "
		    "%s: %s", WHO(who), path, strerror(errno));
	log_info("%s%sremoved the stale socket %s", WHO(who), path);
	return 0;
}

int
sock_listen_unix(struct sock_listener *l, const char *path, mode_t mode,
    const char *who, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	struct stat		 st;
	int			 fd;

	memset(l, 0, sizeof *l);
	l->fd = -1;
	if (*path == '@' || sock_unix_addr(&sun, &len, path) == -1)
		return errf(err, errlen, "%s%ssocket path too long", WHO(who));
	if (unix_clear_path(path, who, err, errlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_FLAGS, 0)) == -1)
		return errf(err, errlen, "%s%ssocket: %s", WHO(who),
		    strerror(errno));
	/* bind() creates the file with the socket inode's mode & ~umask. */
	if (fchmod(fd, mode) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, len) == -1) {
		errf(err, errlen, "%s%scannot bind %s: %s", WHO(who), path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(path, mode) == -1 || lstat(path, &st) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		errf(err, errlen, "%s%scannot listen on %s: %s", WHO(who),
		    path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->made = 1;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	snprintf(l->where, sizeof l->where, "%s", path);
	return 0;
}

int
sock_listen_tcp(struct sock_listener *l, const char *host, const char *port,
    int allow_remote, const char *who, char *err, size_t errlen)
{
	struct addrinfo		 hints, *res, *a;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	char			 addr[NI_MAXHOST + NI_MAXSERV + 8];
	int			 r, fd = -1, one = 1, saved = 0;

	memset(l, 0, sizeof *l);
	l->fd = -1;
	if (*host == '\0')
		host = "127.0.0.1";
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		return errf(err, errlen, "%s%scannot resolve %s: %s",
		    WHO(who), host, gai_strerror(r));
	for (a = res; a != NULL && !allow_remote; a = a->ai_next) {
		if (sock_is_loopback(a->ai_addr))
			continue;
		sock_addr_text(a->ai_addr, a->ai_addrlen, addr, sizeof addr);
		freeaddrinfo(res);
		return errf(err, errlen, "%s%s%s is not a loopback address; "
		    "add ,allow-remote to listen on it (a KD link has no "
		    "authentication)", WHO(who), addr);
	}
	for (a = res; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_FLAGS,
		    a->ai_protocol);
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
		return errf(err, errlen, "%s%scannot listen on %s port %s: %s",
		    WHO(who), host, port, strerror(saved));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		sock_addr_text((struct sockaddr *)&ss, len, l->where,
		    sizeof l->where);
	else
		snprintf(l->where, sizeof l->where, "%s:%s", host, port);
	l->fd = fd;
	return 0;
}

void
sock_listener_close(struct sock_listener *l)
{
	struct stat	st;

	if (l->fd != -1)
		close(l->fd);
	l->fd = -1;
	/* Unlink only our own socket, not one a successor put there. */
	if (l->made && lstat(l->where, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino)
		unlink(l->where);
	l->made = 0;
}
