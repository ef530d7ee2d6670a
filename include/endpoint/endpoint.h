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
#include <time.h>

#include "epspec.h"

struct event_base;
struct endpoint;

/*
 * Contract with the relay:
 * - Callbacks run only from the pair's event loop, never from inside an
 *   endpoint_*() call.  They must not call endpoint_free(); up may call
 *   endpoint_lost() (e.g. when the relay cannot take the fd).
 * - The endpoint owns every fd.  The relay never closes one: it deletes
 *   its own events on the fd, then calls endpoint_lost() (or
 *   endpoint_free()), which closes it.
 * - All functions are for the loop's thread, except endpoint_status() and
 *   endpoint_reconnects(), which any thread may call.
 */

/*
 * fd is open, nonblocking, close-on-exec, raw if a tty (TCP_NODELAY if
 * tcp).  For a listening kind it is the one accepted client.
 */
typedef void (*endpoint_up_cb)(void *arg, int fd);
/*
 * The endpoint is taking its fd back on its own (e.g. the domain died):
 * delete your events on it; it is closed when this returns.  Only backends
 * that watch something besides the fd do this (xen); never endpoint_free.
 */
typedef void (*endpoint_down_cb)(void *arg);

/*
 * pair and side name the endpoint in log messages ("win10/target: ...").
 * The spec is the caller's, kept (not copied): it outlives the endpoint.
 */
struct endpoint *endpoint_new(struct event_base *, const struct ep_spec *,
	    const char *pair, const char *side, endpoint_up_cb,
	    endpoint_down_cb, void *arg);
/*
 * Start trying; -1 with err for a setup error that retrying cannot fix
 * (kind not built in, tcp-listen off loopback without allow-remote,
 * unix-listen over a file that is not a stale socket, bind failure).
 * A connect kind makes its first attempt from the loop.
 */
int	endpoint_start(struct endpoint *, char *err, size_t errlen);
/*
 * The relay saw EOF or an error on the fd (why: "EOF", strerror...) and
 * has deleted its events on it.  The endpoint closes it, logs the loss
 * once, and reopens (a listener keeps listening for the next client).
 * Ignored when the endpoint is not up.
 */
void	endpoint_lost(struct endpoint *, const char *why);
/* Deletes all events and closes all fds (no callbacks); unix-listen
 * unlinks its socket.  The relay deletes its events on the fd first. */
void	endpoint_free(struct endpoint *);

int	endpoint_fd(const struct endpoint *);	/* -1 when down */
int	endpoint_is_tty(const struct endpoint *);
/* What an endpoint is doing, for the status line and a control socket. */
enum ep_state {
	EP_IDLE,	/* not started, or could not start */
	EP_WAITING,	/* for something to appear (a path, a domain, a VM) */
	EP_CONNECTING,	/* opening, resolving, connecting */
	EP_RETRYING,	/* an attempt failed: again after a backoff */
	EP_LISTENING,	/* for a client */
	EP_REFUSED,	/* what was found is not acceptable: waiting for news */
	EP_UP,		/* the relay has the fd */
};

#define EP_STATUS_MAX	256

struct endpoint_state {
	enum ep_state	state;
	time_t		since;		/* wall clock: state or what changed */
	char		what[EP_STATUS_MAX];	/* waited for, connected to */
	char		text[EP_STATUS_MAX];	/* the status line */
	unsigned	backoff_ms;	/* a retry is armed after this, or 0 */
	uint64_t	reconnects;	/* as endpoint_reconnects() */
};

/* "idle", "waiting", "connecting", "retrying", "listening", "refused",
 * "up". */
const char *ep_state_name(enum ep_state);
/* A snapshot (any thread). */
void	endpoint_get_state(const struct endpoint *, struct endpoint_state *);
/* Served by a peer: the relay has an fd (any thread). */
int	endpoint_is_up(const struct endpoint *);
/*
 * The status line (any thread): "connected to /dev/pts/3", "waiting for
 * /run/x.sock", "retrying tcp:h:9 (Connection refused)", "listening on
 * 127.0.0.1:9000", "client connected on 127.0.0.1:9000".
 */
const char *endpoint_status(const struct endpoint *, char *buf, size_t len);
/* Lost for good (a bare pty): only a new endpoint opens it again (any
 * thread). */
int	endpoint_spent(const struct endpoint *);
/* Successful opens (accepted clients for a listener) after the first
 * (any thread). */
uint64_t endpoint_reconnects(const struct endpoint *);
struct event;
/* ev (any loop's) is activated whenever the status line changes. */
void	endpoint_set_watcher(struct endpoint *, struct event *ev);
/* Initial CRLF guess for crlf=auto: 1 for a Xen stubdomain console. */
int	endpoint_crlf_guess(const struct endpoint *);

#endif
