/*
 * pathwatch.h - wake up when a missing path (or a missing parent) appears.
 *
 * inotify on the deepest existing directory on the way to the path, for
 * the next component to appear; the owner then tries again and, if a
 * parent was all that came, arms the watch one level deeper.  Nothing
 * wakes up periodically.  For one event loop; the callback runs from it,
 * never from inside a pathwatch_*() call.
 */
#ifndef KDRELAY_PATHWATCH_H
#define KDRELAY_PATHWATCH_H

#include <limits.h>

struct event_base;
struct inowatch;

/* Something appeared, or the watched directory went: try again. */
typedef void (*pathwatch_cb)(void *arg);

struct pathwatch {
	struct event_base	*base;
	pathwatch_cb		 cb;
	void			*arg;
	struct inowatch		*iw;		/* NULL until first armed */
	int			 ino_wd;	/* -1 when disarmed */
	char			*wdir;		/* malloc'd while armed */
	char			 wname[NAME_MAX + 1];
	int			 warned;
};

void	pathwatch_init(struct pathwatch *, struct event_base *, pathwatch_cb,
	    void *arg);
/*
 * Watch for path to appear; 0 when the watch is in place.  -1 when it
 * cannot be (the first time logged as "NAME: cannot watch ...; polling"):
 * the owner polls instead.
 */
int	pathwatch_arm(struct pathwatch *, const char *path, const char *name);
void	pathwatch_disarm(struct pathwatch *);
/* Closes the inotify fd; no callbacks. */
void	pathwatch_free(struct pathwatch *);

#endif
