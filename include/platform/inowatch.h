/*
 * inowatch.h - one inotify fd on an event loop; its events to the owner.
 *
 * The one read loop for every inotify user (pathwatch, the Proxmox
 * watcher): the owner says, event by event, whether it is worth a look,
 * and is told once per batch.  Callbacks run from the loop, never from
 * inside an inowatch_*() call.
 */
#ifndef KDRELAY_INOWATCH_H
#define KDRELAY_INOWATCH_H

#include <stdint.h>

struct event_base;
struct inowatch;

/* One event (name "" when it has none): nonzero if worth a look. */
typedef int (*inowatch_event_cb)(void *arg, int wd, uint32_t mask,
	    const char *name);
/* After a batch of events of which one was worth a look. */
typedef void (*inowatch_look_cb)(void *arg);

/* NULL with errno (EMFILE: the user's inotify instances are used up). */
struct inowatch *inowatch_new(struct event_base *, inowatch_event_cb,
	    inowatch_look_cb, void *arg);
/* inotify_add_watch: the watch descriptor, or -1 with errno. */
int	inowatch_add(struct inowatch *, const char *path, uint32_t mask);
void	inowatch_rm(struct inowatch *, int wd);
void	inowatch_free(struct inowatch *);

#endif
