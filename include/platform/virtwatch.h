/*
 * virtwatch.h - libvirt's domains, followed by one connection shared by
 * the whole process.
 *
 * libvirt's event loop is process-global (virEventRegisterImpl is set once
 * and every connection dispatches through it), while kdrelayd runs one
 * event_base per pair thread.  So one watcher thread owns the libvirt
 * connection and a libevent base of its own, on which libvirt's event
 * loop is implemented (handles and timeouts as libevent events: nothing
 * wakes it while nothing happens).  It registers for domain lifecycle
 * events, re-reads a domain's live XML when one concerns it, and keeps a
 * table of domains.  Subscribers (libvirt: endpoints on pair threads,
 * discovery on the main loop) are told of changes through an event on
 * their own base, and read the table from their own thread.  libvirtd
 * going away or absent is retried with a capped backoff, logged once.
 *
 * Every libvirt call is made on the watcher thread, through virapi.h.
 */
#ifndef KDRELAY_VIRTWATCH_H
#define KDRELAY_VIRTWATCH_H

#include <stddef.h>

struct event_base;
struct virtsub;

/* Something changed (the domain, or the connection): look again. */
typedef void (*virtwatch_cb)(void *arg);

/*
 * Be told through base when domain name (NULL: any domain) or the
 * connection changes; also told once at once.  The first subscriber loads
 * libvirt and starts the watcher.  NULL with err if libvirt cannot be
 * loaded (its package named) or on ENOMEM.
 */
struct virtsub *virtwatch_subscribe(struct event_base *, const char *name,
	    virtwatch_cb, void *arg, char *err, size_t errlen);
/* No callback after this returns.  From the subscriber's thread. */
void	virtwatch_unsubscribe(struct virtsub *);

struct virtdom_info {
	int		 connected;	/* to libvirtd, with the table synced */
	int		 running;	/* the domain is active */
	unsigned	 gen;		/* changes each time it starts */
	char		*xml;		/* its live XML while running, else
					   its config; NULL if unknown (free) */
};

/* The domain called name as the watcher knows it now.  -1 on ENOMEM. */
int	virtwatch_domain(const char *name, struct virtdom_info *);
/*
 * The names of the running domains (all: of every defined domain), one
 * malloc'd array of malloc'd strings (virtwatch_free_names), and whether
 * the table is synced.  -1 on ENOMEM.
 */
int	virtwatch_names(int all, char ***names, size_t *n, int *connected);
/* Nonzero if a libvirtd socket is on this host (auto mode's guess). */
int	virtwatch_available(void);
void	virtwatch_free_names(char **, size_t);

/* The URI connected to: $LIBVIRT_DEFAULT_URI, else qemu:///system. */
const char *virtwatch_uri(void);

#endif
