/*
 * xentrack.c - every Xen domain's name, kept current from xenstore.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "xentrack.h"
#include "xenwatch.h"

static const char *const watch_paths[] = {
	"@introduceDomain", "@releaseDomain", "/local/domain",
};

struct xentrack {
	struct xenwatch		*xw;
	struct xendoms		 doms;
	int			 synced;	/* read on this connection */
	int			 ever;
	int			 need_rescan;
	int			 released;	/* since the last work */
	struct event		*ev_work;
	struct xentrack_cbs	 cbs;
	void			*arg;
	char			 who[128];
};

static void
work_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xentrack	*t = arg;
	int		 released;

	(void)fd;
	(void)what;
	if (t->need_rescan) {
		if (xenwatch_scan_domains(t->xw, &t->doms) == -1)
			return;		/* the reconnect brings a rescan */
		t->need_rescan = 0;
		t->synced = t->ever = 1;
		log_debug("%s: read the names of all %zu domains", t->who,
		    t->doms.n);
	}
	released = t->released;
	t->released = 0;
	t->cbs.work(t->arg, released);
}

static void
fire_cb(void *arg, const char *path)
{
	struct xentrack	*t = arg;
	unsigned	 domid;

	switch (xendom_classify(path, &domid)) {
	case XENDOM_EV_RESCAN:
		t->need_rescan = 1;
		if (strcmp(path, "@releaseDomain") == 0)
			t->released = 1;
		break;
	case XENDOM_EV_DOMAIN:
		if (!t->synced)
			break;		/* a rescan is coming */
		if (xenwatch_read_domain(t->xw, &t->doms, domid) == -1)
			return;
		if (t->cbs.domain != NULL)
			t->cbs.domain(t->arg, domid);
		break;
	case XENDOM_EV_OTHER:
		if (t->cbs.other == NULL || !t->cbs.other(t->arg, path))
			return;		/* most writes end here */
		break;
	}
	log_debug("%s: xenstore: %s changed", t->who, path);
	event_active(t->ev_work, 0, 0);
}

static void
state_cb(void *arg, int up)
{
	struct xentrack	*t = arg;

	if (!up) {
		/* Keep the table; read it anew when xenstored is back. */
		t->synced = 0;
		if (t->cbs.lost != NULL)
			t->cbs.lost(t->arg);
		return;
	}
	t->need_rescan = 1;
	event_active(t->ev_work, 0, 0);
}

struct xentrack *
xentrack_new(struct event_base *base, const char *who,
    const struct xentrack_cbs *cbs, void *arg)
{
	struct xentrack	*t;
	int		 err;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	t->cbs = *cbs;
	t->arg = arg;
	xendoms_init(&t->doms);
	strncpy(t->who, who, sizeof t->who - 1);
	if ((t->ev_work = event_new(base, -1, 0, work_cb, t)) == NULL ||
	    (t->xw = xenwatch_new(base, who, watch_paths,
	    sizeof watch_paths / sizeof watch_paths[0], fire_cb, state_cb,
	    t)) == NULL) {
		err = t->ev_work == NULL ? ENOMEM : errno;
		xentrack_free(t);
		errno = err;
		return NULL;
	}
	return t;
}

void
xentrack_free(struct xentrack *t)
{
	if (t == NULL)
		return;
	xenwatch_free(t->xw);
	if (t->ev_work != NULL)
		event_free(t->ev_work);
	xendoms_clear(&t->doms);
	free(t);
}

const struct xendoms *
xentrack_domains(const struct xentrack *t)
{
	return &t->doms;
}

int
xentrack_synced(const struct xentrack *t)
{
	return t->synced;
}

int
xentrack_ever_synced(const struct xentrack *t)
{
	return t->ever;
}

struct xenwatch *
xentrack_xenwatch(struct xentrack *t)
{
	return t->xw;
}

void
xentrack_wake(struct xentrack *t)
{
	event_active(t->ev_work, 0, 0);
}
