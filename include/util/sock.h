/*
 * sock.h - sockets the one way, for the daemon, the tools and the rest.
 *
 * Unix addresses (a path, or '@' for an abstract name), connecting, and
 * listening by the daemon's rules: a unix socket is made with its mode set
 * before bind (no moment when others may connect), and replaces only a
 * stale socket (one nobody accepts on), never a live one or another kind
 * of file; a tcp listener stays on loopback unless allow_remote says
 * otherwise (a KD link has no authentication).  Every fd is close-on-exec
 * and nonblocking.
 */
#ifndef KDRELAY_SOCK_H
#define KDRELAY_SOCK_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <limits.h>
#include <stddef.h>

#define SOCK_TEXT_MAX	(PATH_MAX > 1100 ? PATH_MAX : 1100)

/* -1 with ENAMETOOLONG if path does not fit; *len is the address size. */
int	sock_unix_addr(struct sockaddr_un *, socklen_t *len, const char *path);
/* A unix stream connection (completes at once or fails); -1 with errno. */
int	sock_unix_connect(const char *path);
/* A tcp connection, blocking until it is made; -1 with errno, and a name
 * that does not resolve sets why and EADDRNOTAVAIL. */
int	sock_tcp_connect(const char *host, const char *port, char *why,
	    size_t whylen);
void	sock_nodelay(int fd);

struct sock_listener {
	int	fd;			/* -1 none */
	char	where[SOCK_TEXT_MAX];	/* "127.0.0.1:9000", a path */
	int	made;			/* our socket file: unlink on close */
	dev_t	dev;
	ino_t	ino;
};

/*
 * Listen; -1 with the reason in err, prefixed with "who: " unless who is
 * NULL.  mode: the unix socket's.  host "" listens on 127.0.0.1.
 */
int	sock_listen_unix(struct sock_listener *, const char *path,
	    mode_t mode, const char *who, char *err, size_t errlen);
int	sock_listen_tcp(struct sock_listener *, const char *host,
	    const char *port, int allow_remote, const char *who, char *err,
	    size_t errlen);
/* mkdir -p, mode 0700, for the directory of a socket path; -1 errno. */
int	sock_make_dir(const char *path);
/* Close it; unlink the socket file if it is still the one we made. */
void	sock_listener_close(struct sock_listener *);

int	sock_is_loopback(const struct sockaddr *);
/* "1.2.3.4:5", "[::1]:5". */
void	sock_addr_text(const struct sockaddr *, socklen_t, char *, size_t);
/* Who is on the other end of an accepted fd: an address, a pid and uid. */
void	sock_peer_text(int fd, const struct sockaddr_storage *, socklen_t,
	    char *, size_t);

#endif
