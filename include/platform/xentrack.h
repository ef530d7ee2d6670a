/*
 * xentrack.h - every Xen domain's name, kept current from xenstore, for
 * the xen: endpoint and auto mode alike.
 *
 * One watch on /local/domain (plus @introduceDomain and @releaseDomain)
 * sees every write below it; a domain's node or name is re-read at once,
 * the list read again when domains come and go, and everything else is
 * the owner's to filter.  Work is coalesced: a burst of events wakes the
 * owner once, from the loop, with the table current.
 */
#ifndef KDRELAY_XENTRACK_H
#define KDRELAY_XENTRACK_H

#include "xendom.h"

struct event_base;
struct xentrack;
struct xenwatch;

struct xentrack_cbs {
	/* A write not about domains' names: nonzero to be woken.  May be
	 * NULL: such writes are ignored. */
	int	(*other)(void *arg, const char *path);
	/* domid's name was re-read (or it went).  May be NULL. */
	void	(*domain)(void *arg, unsigned domid);
	/* Wake: the table is current; released: a domain died since. */
	void	(*work)(void *arg, int released);
	/* The connection to xenstored was lost (a rescan follows its
	 * return).  May be NULL. */
	void	(*lost)(void *arg);
};

/* who prefixes log messages.  NULL with errno. */
struct xentrack *xentrack_new(struct event_base *, const char *who,
	    const struct xentrack_cbs *, void *arg);
void	xentrack_free(struct xentrack *);
/* The domains as last read (kept while xenstored is away). */
const struct xendoms *xentrack_domains(const struct xentrack *);
/* Nonzero once the table has been read on this connection. */
int	xentrack_synced(const struct xentrack *);
/* Nonzero once the table has been read at all. */
int	xentrack_ever_synced(const struct xentrack *);
/* The connection, for the owner's own reads. */
struct xenwatch *xentrack_xenwatch(struct xentrack *);
/* Wake the owner's work callback from the loop. */
void	xentrack_wake(struct xentrack *);

#endif
