/*
 * xenwatch.h - a xenstore connection that lives on an event loop.
 *
 * Watches are delivered through xs_fileno(), so they fit a libevent loop
 * with no thread of ours and no polling.  libxenstore does not tell the
 * watch fd when xenstored goes away, so a second, idle connection to the
 * daemon's socket stands sentinel: its EOF means the daemon is gone.  The
 * connection is then closed and reopened with a capped backoff, the
 * watches set again, and the owner told to resync (a watch also fires once
 * as soon as it is set).  The loss and the return are logged once each.
 *
 * The read helpers block on a round trip to xenstored (a local daemon).
 * A failure other than a missing node or a refused permission counts as a
 * lost connection.  Callbacks run from the loop, never inside a call.
 */
#ifndef KDRELAY_XENWATCH_H
#define KDRELAY_XENWATCH_H

#include <stddef.h>

struct event_base;
struct xendoms;
struct xenwatch;

/* A watch fired on path (token: the index of its watch, as a string). */
typedef void (*xenwatch_fire_cb)(void *arg, const char *path);
/* up 1: (re)connected, watches set: rescan.  up 0: connection lost. */
typedef void (*xenwatch_state_cb)(void *arg, int up);

/*
 * Load libxenstore (once; see xsapi.h).  0, or -1 with err naming the
 * Debian package to install.
 */
int	xenwatch_load(char *err, size_t errlen);

/*
 * who prefixes log messages.  paths (copied) are watched on every
 * connection.  Connecting starts from the loop.  NULL on ENOMEM, or
 * ELIBACC when libxenstore cannot be loaded (xenwatch_load says why).
 */
struct xenwatch *xenwatch_new(struct event_base *, const char *who,
	    const char *const *paths, size_t npaths, xenwatch_fire_cb,
	    xenwatch_state_cb, void *arg);
void	xenwatch_free(struct xenwatch *);
int	xenwatch_connected(const struct xenwatch *);

/* Malloc'd, NUL-terminated, *len without the NUL; NULL with errno. */
char	*xenwatch_read(struct xenwatch *, const char *path, unsigned *len);
/* Malloc'd array of names (one free()); NULL with errno. */
char	**xenwatch_directory(struct xenwatch *, const char *path,
	    unsigned *n);
/* The owning domain of a node (xs_get_permissions); -1 with errno. */
int	xenwatch_owner(struct xenwatch *, const char *path, unsigned *domid);

/*
 * Fill t with every domain's name (its old content is replaced only on
 * success), or re-read one domain's name into t (removed if it has none).
 * -1 with errno on an error.
 */
int	xenwatch_scan_domains(struct xenwatch *, struct xendoms *t);
int	xenwatch_read_domain(struct xenwatch *, struct xendoms *t,
	    unsigned domid);

/* Nonzero if this host looks like it runs xenstore at all. */
int	xenwatch_available(void);

#endif
