/*
 * pathwatch.c - inotify: wake up when a path (or a missing parent)
 * appears.
 *
 * One inotify fd per watcher (inowatch.c's read loop), made the first time
 * it is armed, and at most one watch on it: the directory the next missing component would appear
 * in.  A watched directory that goes away (IN_IGNORED, deleted, moved)
 * counts as a hit, so the owner looks again and re-arms from the top.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inowatch.h"
#include "log.h"
#include "pathwatch.h"

static int	watch_event(void *, int, uint32_t, const char *);
static void	watch_look(void *);

void
pathwatch_init(struct pathwatch *w, struct event_base *base, pathwatch_cb cb,
    void *arg)
{
	memset(w, 0, sizeof *w);
	w->base = base;
	w->cb = cb;
	w->arg = arg;
	w->ino_wd = -1;
}

void
pathwatch_disarm(struct pathwatch *w)
{
	if (w->ino_wd != -1) {
		inowatch_rm(w->iw, w->ino_wd);
		w->ino_wd = -1;
	}
	free(w->wdir);
	w->wdir = NULL;
}

/*
 * Watch the deepest existing directory on the way to path for the next
 * component to appear.  0 when the watch is in place.
 */
int
pathwatch_arm(struct pathwatch *w, const char *path, const char *name)
{
	char		 dir[PATH_MAX], next[NAME_MAX + 1], *slash;
	struct stat	 st;
	const uint32_t	 mask = IN_CREATE | IN_MOVED_TO | IN_ATTRIB |
			    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
	int		 wd;

	snprintf(dir, sizeof dir, "%s", path);
	for (;;) {
		if ((slash = strrchr(dir, '/')) == NULL || slash[1] == '\0' ||
		    strlen(slash + 1) > NAME_MAX) {
			errno = EINVAL;
			goto fail;
		}
		strcpy(next, slash + 1);
		if (slash == dir)
			slash[1] = '\0';	/* "/" */
		else
			*slash = '\0';
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			break;
		if (slash == dir) {
			errno = ENOTDIR;
			goto fail;
		}
	}
	if (w->iw == NULL && (w->iw = inowatch_new(w->base, watch_event,
	    watch_look, w)) == NULL)
		goto fail;
	if (w->ino_wd != -1 && strcmp(dir, w->wdir) == 0) {
		strcpy(w->wname, next);
		return 0;
	}
	pathwatch_disarm(w);
	if ((w->wdir = strdup(dir)) == NULL ||
	    (wd = inowatch_add(w->iw, dir, mask)) == -1)
		goto fail;
	w->ino_wd = wd;
	strcpy(w->wname, next);
	return 0;
fail:
	if (!w->warned) {
		log_warn("%s: cannot watch the directory of %s (%s); polling",
		    name, path, strerror(errno));
		w->warned = 1;
	}
	pathwatch_disarm(w);
	return -1;
}

static int
watch_event(void *arg, int wd, uint32_t mask, const char *name)
{
	struct pathwatch	*w = arg;

	if (wd != w->ino_wd || w->ino_wd == -1)
		return 0;
	if (mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
		/* The directory itself went: watch anew. */
		pathwatch_disarm(w);
		return 1;
	}
	return strcmp(name, w->wname) == 0;
}

static void
watch_look(void *arg)
{
	struct pathwatch	*w = arg;

	w->cb(w->arg);
}

void
pathwatch_free(struct pathwatch *w)
{
	inowatch_free(w->iw);
	w->iw = NULL;
	free(w->wdir);
	w->wdir = NULL;
}
