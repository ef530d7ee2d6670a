/*
 * epsync.h - open an endpoint spec synchronously, for tools (kdreplay).
 *
 * Blocking, no event loop.  A connect kind (tty, unix, tcp) is tried again
 * while the peer is not there yet (ENOENT, ECONNREFUSED, ...), with a
 * doubling pause, until the deadline.  A listening kind (unix-listen,
 * tcp-listen) listens by the daemon's rules (sock.h: loopback unless
 * allow-remote, a live socket never replaced), waits until the deadline
 * for one client, then closes the listener.  xen: and pve: are the daemon's, not opened here.
 */
#ifndef KDRELAY_EPSYNC_H
#define KDRELAY_EPSYNC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "epspec.h"
#include "sock.h"

struct epsync {
	const struct ep_spec	*spec;
	int			 onlcr;		/* a tty: ONLCR on, corrupting */
	int64_t			 deadline;	/* epsync_now_ms() */
	volatile sig_atomic_t	*stop;		/* nonzero: give up; may be NULL */
	/*
	 * Told why a host name did not resolve (the open then fails with
	 * EADDRNOTAVAIL).  May be NULL.
	 */
	void			(*note)(void *arg, const char *msg);
	void			*arg;

	struct sock_listener	 sl;		/* a listening kind's */
	int			 tty;		/* the tty opened, or -1 */
	struct termios		 orig;		/* its settings before */
};

/* CLOCK_MONOTONIC in milliseconds, the clock of the deadline. */
int64_t	epsync_now_ms(void);
void	epsync_init(struct epsync *, const struct ep_spec *);
/*
 * EXIT_OK (exitcodes.h) with the fd in *fd: nonblocking, close-on-exec, a
 * tty raw, tcp with TCP_NODELAY.  Else an exit code with the reason in err:
 * EXIT_USAGE a kind not opened here, EXIT_UNAVAIL cannot open or listen,
 * EXIT_TEMPFAIL no client before the deadline.
 */
int	epsync_open(struct epsync *, int *fd, char *err, size_t errlen);
/*
 * Put back every termios setting of a tty opened here (before the fd is
 * closed), close the listening socket, unlink a unix socket we made.
 */
void	epsync_close(struct epsync *);

#endif
