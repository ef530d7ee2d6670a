/*
 * endpoint_backend.h - the inside of the endpoint layer, for the files that
 * implement a kind of endpoint (eppath in endpoint.c, eptcp.c, eplisten.c,
 * ep_xen.c, ep_pve.c).
 *
 * endpoint.c owns the lifecycle: the fd handed to the relay, the state and
 * status line, the log-once notes, the one retry timer with its capped
 * backoff, and "lost too soon" (an fd that lived less than a second does
 * not reset the backoff: a peer that accepts and hangs up at once must not
 * spin us).  It also keeps a path (a tty or a unix socket) open, watching
 * a missing one with inotify.  A backend adds only what is particular to
 * its kind: a listening socket, a tcp connect, or finding the path to open
 * (a xenstore watch, a Proxmox config).
 *
 * Everything here runs on the pair's event loop.  endpoint_attach(),
 * endpoint_opened() and endpoint_drop() call the relay's callbacks, so a
 * backend calls them only from its own event callbacks and touches nothing
 * of the endpoint after they return.
 */
#ifndef KDRELAY_ENDPOINT_BACKEND_H
#define KDRELAY_ENDPOINT_BACKEND_H

#include <stddef.h>

#include "endpoint.h"
#include "log.h"

struct ep_backend {
	/* Set up and begin; -1 with err for an error retrying cannot fix. */
	int	(*start)(struct endpoint *, char *err, size_t errlen);
	/*
	 * The relay lost the fd; endpoint.c has closed it and, if the fd
	 * lived long enough (stable), reset the backoff.  NULL: reopen the
	 * target (endpoint_reopen).
	 */
	void	(*lost)(struct endpoint *, const char *why, int stable);
	/* The retry timer fired while down.  NULL: nothing to do. */
	void	(*retry)(struct endpoint *);
	/* Release what the backend owns; no callbacks.  May be NULL. */
	void	(*stop)(struct endpoint *);
	/*
	 * Check a freshly opened fd before it goes up; -1 with errno to
	 * refuse it, which counts as a failed attempt.  May be NULL.
	 */
	int	(*check)(struct endpoint *, int fd);
};

/*
 * The tcp connect and the listener as parts, for a backend that learns
 * the address elsewhere (libvirt:).  eptcp_new starts connecting to
 * host:port (what: its name in messages, NULL "host:port"); the backend
 * calls eptcp_attempt from its retry hook.  eplisten_new listens (kind
 * EP_UNIX_LISTEN at path, or EP_TCP_LISTEN at host:port by sock.c's
 * rules) and hands each client to the relay; eplisten_lost from the
 * backend's lost hook.  NULL with errno, or with "NAME: reason" in err
 * for eplisten_new.
 */
struct eptcp;
struct eplisten;
struct eptcp	*eptcp_new(struct endpoint *, const char *host,
		    const char *port, const char *what);
void		 eptcp_attempt(struct eptcp *);
void		 eptcp_free(struct eptcp *);
struct eplisten	*eplisten_new(struct endpoint *, enum ep_kind,
		    const char *path_or_host, const char *port,
		    int allow_remote, char *err, size_t errlen);
void		 eplisten_lost(struct eplisten *, const char *why);
void		 eplisten_free(struct eplisten *);

extern const struct ep_backend ep_backend_path;		/* endpoint.c */
extern const struct ep_backend ep_backend_tcp;		/* eptcp.c */
extern const struct ep_backend ep_backend_listen;	/* eplisten.c */
#ifdef HAVE_XENSTORE
extern const struct ep_backend ep_backend_xen;		/* ep_xen.c */
#endif
extern const struct ep_backend ep_backend_pve;		/* ep_pve.c */
#ifdef HAVE_LIBVIRT
extern const struct ep_backend ep_backend_libvirt;	/* ep_libvirt.c */
#endif

struct event_base *endpoint_base(const struct endpoint *);
const struct ep_spec *endpoint_spec(const struct endpoint *);
/* "pair/side: spec" to start each log message with. */
const char *endpoint_name(const struct endpoint *);
/* The spec without its options: "tcp:host:9". */
const char *endpoint_label(const struct endpoint *);
void	*endpoint_data(const struct endpoint *);
void	 endpoint_set_data(struct endpoint *, void *);
/* State, what it is about (a path, an address; may be NULL), the line. */
void	 endpoint_set_status(struct endpoint *, enum ep_state,
	    const char *what, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	 endpoint_set_crlf_guess(struct endpoint *, int);
/*
 * Log "NAME: message" once: not again until something else is said or the
 * endpoint goes up.  A loss not yet logged comes first ("lost (EOF); ").
 */
void	 endpoint_note(struct endpoint *, enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* The one retry timer: its backoff, a delay, or none. */
void	 endpoint_retry_backoff(struct endpoint *);
void	 endpoint_retry_in(struct endpoint *, unsigned ms);
void	 endpoint_retry_cancel(struct endpoint *);
void	 endpoint_retry_reset(struct endpoint *);

/*
 * Keep (re)opening a path: kind EP_TTY (tty_open_raw with open_flags, e.g.
 * O_NOFOLLOW) or EP_UNIX; path NULL stops trying.  The first attempt runs
 * from the loop, not inside this call.  Does not touch an fd that is up.
 * The backoff starts anew only for another path.
 */
void	 endpoint_set_target(struct endpoint *, enum ep_kind,
	    const char *path, int open_flags);
/* Try the target now (a backend's retry hook, when it has a path). */
void	 endpoint_target_attempt(struct endpoint *);
/*
 * After a loss: open what was lost again ("reconnecting to what"), at once
 * if it was stable, else after the backoff.
 */
void	 endpoint_reopen(struct endpoint *, const char *what, int stable);

/*
 * An attempt gave fd: check it (the backend's check), log "connected"
 * (after a loss not yet logged: "lost (why); connected again"), status
 * "connected to what", hand it to the relay.
 */
void	 endpoint_opened(struct endpoint *, int fd, const char *what);
/*
 * An attempt at what failed with err (reason NULL: strerror).  Noted once
 * as "reason; retrying", and retried after the backoff.
 */
void	 endpoint_failed(struct endpoint *, const char *what, int err,
	    const char *reason);
/*
 * Claim a tty fd a backend opened, as a tty path is claimed (tty_claim:
 * one reader, the UUCP lock, TIOCEXCL), released when the endpoint closes
 * it.  -1 when it cannot be had (another reader, named): noted once as
 * "what: not opening tty: why; retrying" and retried after the backoff;
 * the fd is the caller's to close.
 */
int	 endpoint_claim_tty(struct endpoint *, int fd, const char *what,
	    const char *tty);
/* Hand fd (nonblocking, cloexec) to the relay: calls its up callback. */
void	 endpoint_attach(struct endpoint *, int fd);
/* Take the fd back on the backend's own account: down callback, close. */
void	 endpoint_drop(struct endpoint *, const char *why);

#endif
