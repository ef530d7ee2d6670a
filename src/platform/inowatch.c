/*
 * inowatch.c - one inotify fd on an event loop; its events to the owner.
 */
#include <sys/inotify.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "inowatch.h"

struct inowatch {
	int			 fd;
	struct event		*ev;
	inowatch_event_cb	 event;
	inowatch_look_cb	 look;
	void			*arg;
};

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inowatch			*iw = arg;
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
			if (ie->wd != -1 && iw->event(iw->arg, ie->wd,
			    ie->mask, ie->len > 0 ? ie->name : ""))
				hit = 1;
		}
	}
	if (hit)
		iw->look(iw->arg);
}

struct inowatch *
inowatch_new(struct event_base *base, inowatch_event_cb event,
    inowatch_look_cb look, void *arg)
{
	struct inowatch	*iw;
	int		 err;

	if ((iw = calloc(1, sizeof *iw)) == NULL)
		return NULL;
	iw->event = event;
	iw->look = look;
	iw->arg = arg;
	if ((iw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		err = errno;
		free(iw);
		errno = err;
		return NULL;
	}
	iw->ev = event_new(base, iw->fd, EV_READ | EV_PERSIST, read_cb, iw);
	if (iw->ev == NULL || event_add(iw->ev, NULL) == -1) {
		inowatch_free(iw);
		errno = ENOMEM;
		return NULL;
	}
	return iw;
}

int
inowatch_add(struct inowatch *iw, const char *path, uint32_t mask)
{
	return inotify_add_watch(iw->fd, path, mask);
}

void
inowatch_rm(struct inowatch *iw, int wd)
{
	inotify_rm_watch(iw->fd, wd);
}

void
inowatch_free(struct inowatch *iw)
{
	if (iw == NULL)
		return;
	if (iw->ev != NULL)
		event_free(iw->ev);
	close(iw->fd);
	free(iw);
}
