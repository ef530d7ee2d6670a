/*
 * endpoint.h - one side of a pair: open, raw termios, listen, reconnect.
 *
 * An endpoint owns its fd and the events that bring it back: a capped
 * exponential backoff timer, an inotify watch on the directory of a path
 * that is missing (so a reappearing socket or pty link is seen at once,
 * without polling), or a listening socket.  It tells the relay through two
 * callbacks when an fd is ready and when it has gone; the relay owns the
 * data events on that fd.  Each state change is logged once.
 */
#ifndef KDRELAY_ENDPOINT_H
#define KDRELAY_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "epspec.h"

struct event_base;
struct endpoint;

/* fd is open, nonblocking, close-on-exec, raw if a tty. */
typedef void (*endpoint_up_cb)(void *arg, int fd);
/* The endpoint closed its fd on its own (e.g. the domain died). */
typedef void (*endpoint_down_cb)(void *arg);

struct endpoint *endpoint_new(struct event_base *, const struct ep_spec *,
	    const char *pair, const char *side, endpoint_up_cb,
	    endpoint_down_cb, void *arg);
/* Start trying; -1 with err for a setup error that retrying cannot fix. */
int	endpoint_start(struct endpoint *, char *err, size_t errlen);
/*
 * The relay saw EOF or an error on the fd (why: "EOF", strerror...).  The
 * endpoint closes it, logs the loss once, and starts reopening.
 */
void	endpoint_lost(struct endpoint *, const char *why);
void	endpoint_free(struct endpoint *);

int	endpoint_fd(const struct endpoint *);	/* -1 when down */
int	endpoint_is_tty(const struct endpoint *);
/* "connected to /dev/pts/3", "waiting for /run/x.sock", "listening ..." */
const char *endpoint_status(const struct endpoint *, char *buf, size_t len);
uint64_t endpoint_reconnects(const struct endpoint *);
/* Initial CRLF guess for crlf=auto: 1 for a Xen stubdomain console. */
int	endpoint_crlf_guess(const struct endpoint *);

/* Open a tty path raw (cfmakeraw, TCSANOW).  Shared with tests and tools. */
int	tty_open_raw(const char *path, int extra_flags);

#endif
