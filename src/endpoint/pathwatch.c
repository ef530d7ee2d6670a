/*
 * pathwatch.c - inotify: wake up when a path (or a missing parent)
 * appears.
 *
 * One inotify fd per watcher, made the first time it is armed, and at most
 * one watch on it: the directory the next missing component would appear
 * in.  A watched directory that goes away (IN_IGNORED, deleted, moved)
 * counts as a hit, so the owner looks again and re-arms from the top.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "pathwatch.h"

static void	watch_cb(evutil_socket_t, short, void *);

void
pathwatch_init(struct pathwatch *w, struct event_base *base, pathwatch_cb cb,
    void *arg)
{
	memset(w, 0, sizeof *w);
	w->base = base;
	w->cb = cb;
	w->arg = arg;
	w->ino_fd = w->ino_wd = -1;
}

void
pathwatch_disarm(struct pathwatch *w)
{
	if (w->ino_wd != -1) {
		inotify_rm_watch(w->ino_fd, w->ino_wd);
		w->ino_wd = -1;
	}
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
	if (w->ino_fd == -1) {
		w->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w->ino_fd == -1)
			goto fail;
		w->ev_ino = event_new(w->base, w->ino_fd,
		    EV_READ | EV_PERSIST, watch_cb, w);
		if (w->ev_ino == NULL || event_add(w->ev_ino, NULL) == -1) {
			/* No event, no watch: leave nothing half set up. */
			if (w->ev_ino != NULL)
				event_free(w->ev_ino);
			w->ev_ino = NULL;
			close(w->ino_fd);
			w->ino_fd = -1;
			errno = ENOMEM;
			goto fail;
		}
	}
	if (w->ino_wd != -1 && strcmp(dir, w->wdir) == 0) {
		strcpy(w->wname, next);
		return 0;
	}
	pathwatch_disarm(w);
	if ((wd = inotify_add_watch(w->ino_fd, dir, mask)) == -1)
		goto fail;
	w->ino_wd = wd;
	strcpy(w->wdir, dir);
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

static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pathwatch		*w = arg;
	char				 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ie;
	ssize_t				 n;
	char				*p;
	int				 hit = 0;

	(void)what;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (p = buf; p < buf + n; p += sizeof *ie + ie->len) {
			ie = (const struct inotify_event *)p;
			if (ie->wd != w->ino_wd || w->ino_wd == -1)
				continue;
			if (ie->mask & (IN_IGNORED | IN_DELETE_SELF |
			    IN_MOVE_SELF)) {
				/* The directory itself went: watch anew. */
				pathwatch_disarm(w);
				hit = 1;
			} else if (ie->len > 0 &&
			    strcmp(ie->name, w->wname) == 0)
				hit = 1;
		}
	}
	if (hit)
		w->cb(w->arg);
}

void
pathwatch_free(struct pathwatch *w)
{
	if (w->ev_ino != NULL)
		event_free(w->ev_ino);
	if (w->ino_fd != -1)
		close(w->ino_fd);
}
