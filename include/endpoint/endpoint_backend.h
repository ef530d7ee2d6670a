/*
 * endpoint_backend.h - the inside of the endpoint layer, for the files that
 * implement a kind of endpoint (eplisten.c; later ep_xen.c, ep_pve.c).
 *
 * endpoint.c owns the lifecycle, the fd handed to the relay, the status
 * line and the reopen machinery for a tty or unix path (inotify watch plus
 * capped backoff) or a tcp address.  A backend adds what is particular to
 * its kind: a listening socket, or finding the path to open (a xenstore
 * watch, a Proxmox config) and pointing the machinery at it.
 *
 * Everything here runs on the pair's event loop.  endpoint_attach() and
 * endpoint_drop() call the relay's callbacks, so a backend calls them only
 * from its own event callbacks and touches nothing of the endpoint after
 * they return.
 */
#ifndef KDRELAY_ENDPOINT_BACKEND_H
#define KDRELAY_ENDPOINT_BACKEND_H

#include <stddef.h>

#include "endpoint.h"

struct ep_backend {
	/* Set up and begin; -1 with err for an error retrying cannot fix. */
	int	(*start)(struct endpoint *, char *err, size_t errlen);
	/*
	 * The relay lost the fd; endpoint.c has closed it already.  NULL:
	 * reopen the current target (see endpoint_set_target).
	 */
	void	(*lost)(struct endpoint *, const char *why);
	/* Release what the backend owns; no callbacks.  May be NULL. */
	void	(*stop)(struct endpoint *);
	/*
	 * Check a freshly opened target fd before it goes up (e.g. that a
	 * xenstore path gave a pty slave); -1 with errno to refuse it, which
	 * counts as a failed open.  May be NULL.
	 */
	int	(*check)(struct endpoint *, int fd);
};

extern const struct ep_backend ep_backend_listen;	/* eplisten.c */
#ifdef HAVE_EP_XEN
extern const struct ep_backend ep_backend_xen;
#endif
#ifdef HAVE_EP_PVE
extern const struct ep_backend ep_backend_pve;
#endif

struct event_base *endpoint_base(const struct endpoint *);
const struct ep_spec *endpoint_spec(const struct endpoint *);
/* "pair/side: spec" to start each log message with. */
const char *endpoint_name(const struct endpoint *);
void	*endpoint_data(const struct endpoint *);
void	 endpoint_set_data(struct endpoint *, void *);
void	 endpoint_set_status(struct endpoint *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 endpoint_set_crlf_guess(struct endpoint *, int);

/*
 * Keep (re)opening a path: kind EP_TTY (tty_open_raw with open_flags, e.g.
 * O_NOFOLLOW) or EP_UNIX; path NULL stops trying.  The first attempt runs
 * from the loop, not inside this call.  Does not touch an fd that is up.
 */
void	 endpoint_set_target(struct endpoint *, enum ep_kind,
	    const char *path, int open_flags);
/* Hand fd (nonblocking, cloexec) to the relay: calls its up callback. */
void	 endpoint_attach(struct endpoint *, int fd);
/* Take the fd back on the backend's own account: down callback, close. */
void	 endpoint_drop(struct endpoint *, const char *why);

#endif
