/*
 * virevloop.c - libvirt's event loop implemented on a libevent base
 * (virEventRegisterImpl): each handle and timeout libvirt asks for is an
 * event on the watcher's base, so nothing wakes it while nothing happens.
 *
 * Locks: ev.lock guards the handle and timeout lists.  libvirt calls in
 * from its own functions, with its locks held, so what it removes is only
 * marked, and freed from the loop (reap_cb), never inside its call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>

#include "retry.h"
#include "virevloop.h"

#ifdef HAVE_LIBVIRT
#include "virapi.h"

static struct event_base	*base;

struct vhandle {
	struct vhandle		*next;
	int			 id, fd, deleted;
	struct event		*ev;
	virEventHandleCallback	 cb;
	void			*opaque;
	virFreeCallback		 ff;
};

struct vtimeout {
	struct vtimeout		*next;
	int			 id, freq, deleted;
	struct event		*ev;
	virEventTimeoutCallback	 cb;
	void			*opaque;
	virFreeCallback		 ff;
};

static struct {
	pthread_mutex_t	 lock;
	struct vhandle	*handles;
	struct vtimeout	*timeouts;
	int		 next_id;
	struct event	*ev_reap;	/* frees what was removed */
} ev = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, NULL };

static void
handle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vhandle	*h = arg;
	int		 events = 0;

	if (h->deleted)
		return;
	if (what & EV_READ)
		events |= VIR_EVENT_HANDLE_READABLE;
	if (what & EV_WRITE)
		events |= VIR_EVENT_HANDLE_WRITABLE;
	h->cb(h->id, fd, events, h->opaque);
}

static void
handle_arm(struct vhandle *h, int events)
{
	short	what = EV_PERSIST;

	if (events & VIR_EVENT_HANDLE_READABLE)
		what |= EV_READ;
	if (events & VIR_EVENT_HANDLE_WRITABLE)
		what |= EV_WRITE;
	event_del(h->ev);
	event_assign(h->ev, base, h->fd, what, handle_cb, h);
	if (what != EV_PERSIST)
		event_add(h->ev, NULL);
}

static int
vh_add(int fd, int events, virEventHandleCallback cb, void *opaque,
    virFreeCallback ff)
{
	struct vhandle	*h;
	int		 id;

	if ((h = calloc(1, sizeof *h)) == NULL)
		return -1;
	if ((h->ev = event_new(base, fd, 0, handle_cb, h)) == NULL) {
		free(h);
		return -1;
	}
	h->fd = fd;
	h->cb = cb;
	h->opaque = opaque;
	h->ff = ff;
	pthread_mutex_lock(&ev.lock);
	id = h->id = ++ev.next_id;
	handle_arm(h, events);
	h->next = ev.handles;
	ev.handles = h;
	pthread_mutex_unlock(&ev.lock);
	return id;
}

static struct vhandle *
vh_find(int id)
{
	struct vhandle	*h;

	for (h = ev.handles; h != NULL; h = h->next)
		if (h->id == id && !h->deleted)
			return h;
	return NULL;
}

static void
vh_update(int id, int events)
{
	struct vhandle	*h;

	pthread_mutex_lock(&ev.lock);
	if ((h = vh_find(id)) != NULL)
		handle_arm(h, events);
	pthread_mutex_unlock(&ev.lock);
}

/* libvirt's free callbacks must not run inside its remove call. */
static int
vh_remove(int id)
{
	struct vhandle	*h;

	pthread_mutex_lock(&ev.lock);
	if ((h = vh_find(id)) != NULL) {
		event_del(h->ev);
		h->deleted = 1;
		event_active(ev.ev_reap, 0, 0);
	}
	pthread_mutex_unlock(&ev.lock);
	return h != NULL ? 0 : -1;
}

static void
timeout_arm(struct vtimeout *t)
{
	event_del(t->ev);
	if (t->freq >= 0)
		timer_add_ms(t->ev, (unsigned)t->freq);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vtimeout	*t = arg;

	(void)fd;
	(void)what;
	if (t->deleted)
		return;
	t->cb(t->id, t->opaque);
	/* Periodic until changed; the callback may have changed it. */
	pthread_mutex_lock(&ev.lock);
	if (!t->deleted && t->freq >= 0 && !evtimer_pending(t->ev, NULL))
		timeout_arm(t);
	pthread_mutex_unlock(&ev.lock);
}

static int
vt_add(int freq, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	struct vtimeout	*t;
	int		 id;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return -1;
	if ((t->ev = evtimer_new(base, timeout_cb, t)) == NULL) {
		free(t);
		return -1;
	}
	t->freq = freq;
	t->cb = cb;
	t->opaque = opaque;
	t->ff = ff;
	pthread_mutex_lock(&ev.lock);
	id = t->id = ++ev.next_id;
	timeout_arm(t);
	t->next = ev.timeouts;
	ev.timeouts = t;
	pthread_mutex_unlock(&ev.lock);
	return id;
}

static struct vtimeout *
vt_find(int id)
{
	struct vtimeout	*t;

	for (t = ev.timeouts; t != NULL; t = t->next)
		if (t->id == id && !t->deleted)
			return t;
	return NULL;
}

static void
vt_update(int id, int freq)
{
	struct vtimeout	*t;

	pthread_mutex_lock(&ev.lock);
	if ((t = vt_find(id)) != NULL) {
		t->freq = freq;
		timeout_arm(t);
	}
	pthread_mutex_unlock(&ev.lock);
}

static int
vt_remove(int id)
{
	struct vtimeout	*t;

	pthread_mutex_lock(&ev.lock);
	if ((t = vt_find(id)) != NULL) {
		event_del(t->ev);
		t->deleted = 1;
		event_active(ev.ev_reap, 0, 0);
	}
	pthread_mutex_unlock(&ev.lock);
	return t != NULL ? 0 : -1;
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vhandle	**hp, *h, *hdead = NULL;
	struct vtimeout	**tp, *t, *tdead = NULL;

	(void)fd;
	(void)what;
	(void)arg;
	pthread_mutex_lock(&ev.lock);
	for (hp = &ev.handles; (h = *hp) != NULL;) {
		if (h->deleted) {
			*hp = h->next;
			h->next = hdead;
			hdead = h;
		} else
			hp = &h->next;
	}
	for (tp = &ev.timeouts; (t = *tp) != NULL;) {
		if (t->deleted) {
			*tp = t->next;
			t->next = tdead;
			tdead = t;
		} else
			tp = &t->next;
	}
	pthread_mutex_unlock(&ev.lock);
	while ((h = hdead) != NULL) {
		hdead = h->next;
		event_free(h->ev);
		if (h->ff != NULL)
			h->ff(h->opaque);
		free(h);
	}
	while ((t = tdead) != NULL) {
		tdead = t->next;
		event_free(t->ev);
		if (t->ff != NULL)
			t->ff(t->opaque);
		free(t);
	}
}

int
virevloop_register(struct event_base *b)
{
	base = b;
	if ((ev.ev_reap = event_new(base, -1, 0, reap_cb, NULL)) == NULL)
		return -1;
	virapi.event_register_impl(vh_add, vh_update, vh_remove, vt_add,
	    vt_update, vt_remove);
	return 0;
}

#endif /* HAVE_LIBVIRT */
