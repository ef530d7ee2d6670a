/*
 * virtwatch.c - one libvirt connection and event loop for the process
 * (see virtwatch.h for why a thread of its own).
 *
 * libvirt's event loop runs on the watcher's base (virevloop.c); here are
 * the connection, the domain table and the subscribers.
 *
 * Locks: w.lock guards the domain table and the subscribers.  It is not
 * held while calling into libvirt, which calls back into the event loop
 * implementation from inside its own functions.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "dynlib.h"
#include "log.h"
#include "retry.h"
#include "virtwatch.h"

#ifdef HAVE_LIBVIRT
#include "virapi.h"
#include "virevloop.h"

#define DEFAULT_URI	"qemu:///system"
#define LIBVIRT_SOCK	"/run/libvirt/libvirt-sock"
#define RETRY_MIN_MS	100
#define RETRY_MAX_MS	5000
#define NOTE_MAX	512

struct virtdom {
	struct virtdom	*next;
	char		*name;
	char		*xml;		/* live, else its config; may be NULL */
	int		 running;
	unsigned	 gen;
	int		 dirty;		/* an event said: read it again */
};

struct virtsub {
	struct virtsub	*next;
	struct event	*ev;
	char		*name;		/* NULL: any */
	virtwatch_cb	 cb;
	void		*arg;
};

static struct {
	pthread_mutex_t	 lock;
	int		 started;
	struct event_base *base;
	pthread_t	 thread;
	virConnectPtr	 conn;
	int		 cb_id;
	int		 synced;	/* table reflects libvirtd (w.lock) */
	int		 was_lost;	/* say "again" when back */
	struct virtdom	*doms;
	struct virtsub	*subs;
	unsigned	 gens;
	struct retry	 retry;		/* (re)connect */
	struct event	*ev_lost;	/* the connection closed */
	struct event	*ev_refresh;	/* dirty domains to read */
	char		 note[NOTE_MAX];
} w = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void	note(enum log_level, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Log a state once (the watcher thread's own log-once). */
static void
note(enum log_level lvl, const char *fmt, ...)
{
	char	buf[NOTE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (strcmp(buf, w.note) == 0)
		return;
	strcpy(w.note, buf);
	log_msg(lvl, "libvirt: %s", buf);
}

/* ---- the domain table ---- */

static struct virtdom *
dom_find(const char *name)
{
	struct virtdom	*d;

	for (d = w.doms; d != NULL; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static struct virtdom *
dom_get(const char *name)
{
	struct virtdom	*d;

	if ((d = dom_find(name)) != NULL)
		return d;
	if ((d = calloc(1, sizeof *d)) == NULL ||
	    (d->name = strdup(name)) == NULL) {
		free(d);
		return NULL;
	}
	d->next = w.doms;
	w.doms = d;
	return d;
}

static void
dom_remove(const char *name)
{
	struct virtdom	**dp, *d;

	for (dp = &w.doms; (d = *dp) != NULL; dp = &d->next)
		if (strcmp(d->name, name) == 0) {
			*dp = d->next;
			free(d->name);
			free(d->xml);
			free(d);
			return;
		}
}

/* Tell the subscribers for name (NULL: all of them).  w.lock held. */
static void
tell(const char *name)
{
	struct virtsub	*s;

	for (s = w.subs; s != NULL; s = s->next)
		if (name == NULL || s->name == NULL ||
		    strcmp(s->name, name) == 0)
			event_active(s->ev, 0, 0);
}

/*
 * Store what libvirt says of a domain: its XML (the live one while it
 * runs, else its config, where a socket QEMU will connect to is listened
 * on before it starts), and whether it runs (not without its XML).
 */
static void
dom_store(const char *name, char *xml, int running)
{
	struct virtdom	*d;

	pthread_mutex_lock(&w.lock);
	if ((d = dom_get(name)) == NULL) {
		pthread_mutex_unlock(&w.lock);
		free(xml);
		log_err("libvirt: out of memory");
		return;
	}
	running = running && xml != NULL;
	if (running != d->running || (xml == NULL) != (d->xml == NULL) ||
	    (xml != NULL && strcmp(xml, d->xml) != 0)) {
		/* A start changes the XML (its id='N' at least). */
		if (running)
			d->gen = ++w.gens;
		free(d->xml);
		d->xml = xml;
		d->running = running;
		tell(name);
	} else
		free(xml);
	pthread_mutex_unlock(&w.lock);
}

/* The live XML of an active domain, else its config. */
static char *
read_xml(virDomainPtr dom, int *running)
{
	*running = virapi.is_active(dom) == 1;
	return virapi.get_xml(dom, 0);
}

/* Read every domain again (after connecting). */
static int
rescan(void)
{
	virDomainPtr	*doms = NULL;
	struct virtdom	*d, **dp;
	int		 n, i;

	if ((n = virapi.list_all(w.conn, &doms, 0)) < 0)
		return -1;
	pthread_mutex_lock(&w.lock);
	for (d = w.doms; d != NULL; d = d->next)
		d->dirty = 1;		/* unless listed: gone */
	pthread_mutex_unlock(&w.lock);
	for (i = 0; i < n; i++) {
		const char	*name = virapi.get_name(doms[i]);

		if (name != NULL) {
			int	 running;
			char	*xml = read_xml(doms[i], &running);

			dom_store(name, xml, running);
			pthread_mutex_lock(&w.lock);
			if ((d = dom_find(name)) != NULL)
				d->dirty = 0;
			pthread_mutex_unlock(&w.lock);
		}
		virapi.free(doms[i]);
	}
	free(doms);
	pthread_mutex_lock(&w.lock);
	for (dp = &w.doms; (d = *dp) != NULL;) {
		if (d->dirty) {
			*dp = d->next;
			tell(d->name);
			free(d->name);
			free(d->xml);
			free(d);
		} else
			dp = &d->next;
	}
	w.synced = 1;
	tell(NULL);
	pthread_mutex_unlock(&w.lock);
	return 0;
}

/* Read the domains events named again. */
static void
refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct virtdom	*d;
	virDomainPtr	 dom;
	char		*name, *xml;
	int		 running;

	(void)fd;
	(void)what;
	(void)arg;
	for (;;) {
		name = NULL;
		pthread_mutex_lock(&w.lock);
		for (d = w.doms; d != NULL; d = d->next)
			if (d->dirty) {
				d->dirty = 0;
				name = strdup(d->name);
				break;
			}
		pthread_mutex_unlock(&w.lock);
		if (name == NULL || w.conn == NULL) {
			free(name);
			return;
		}
		if ((dom = virapi.lookup(w.conn, name)) == NULL) {
			pthread_mutex_lock(&w.lock);	/* undefined */
			tell(name);
			dom_remove(name);
			pthread_mutex_unlock(&w.lock);
		} else {
			xml = read_xml(dom, &running);
			dom_store(name, xml, running);
			virapi.free(dom);
		}
		free(name);
	}
}

/* ---- the connection ---- */

static int
lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
    void *opaque)
{
	const char	*name = virapi.get_name(dom);
	struct virtdom	*d;

	(void)conn;
	(void)opaque;
	if (name == NULL)
		return 0;
	log_debug("libvirt: domain %s: lifecycle event %d/%d", name, event,
	    detail);
	pthread_mutex_lock(&w.lock);
	if ((d = dom_get(name)) != NULL)
		d->dirty = 1;
	pthread_mutex_unlock(&w.lock);
	event_active(w.ev_refresh, 0, 0);
	return 0;
}

static void
close_cb(virConnectPtr conn, int reason, void *opaque)
{
	(void)conn;
	(void)opaque;
	log_debug("libvirt: connection closed (reason %d)", reason);
	event_active(w.ev_lost, 0, 0);
}

static void
disconnect(void)
{
	if (w.conn == NULL)
		return;
	if (w.cb_id >= 0)
		virapi.event_deregister(w.conn, w.cb_id);
	virapi.unregister_close(w.conn, close_cb);
	virapi.close(w.conn);
	w.conn = NULL;
	w.cb_id = -1;
}

static void
lost_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (w.conn == NULL)
		return;
	disconnect();
	pthread_mutex_lock(&w.lock);
	w.synced = 0;
	tell(NULL);
	pthread_mutex_unlock(&w.lock);
	w.was_lost = 1;
	note(LOG_LVL_WARN, "lost the connection to libvirtd (%s); "
	    "reconnecting, keeping what is open", virtwatch_uri());
	retry_reset(&w.retry);
	retry_backoff(&w.retry);
}

static void
connect_cb(evutil_socket_t fd, short what, void *arg)
{
	const char	*uri = virtwatch_uri();
	const char	*msg;

	(void)fd;
	(void)what;
	(void)arg;
	if (w.conn != NULL)
		return;
	if ((w.conn = virapi.open_ro(uri)) == NULL) {
		msg = virapi.last_error();
		note(LOG_LVL_WARN, "cannot connect to %s (%s); retrying", uri,
		    msg != NULL ? msg : "unknown error");
		retry_backoff(&w.retry);
		return;
	}
	/*
	 * We send no keepalive pings: libvirtd going away closes the
	 * socket, which the loop sees at once.  libvirtd pings its clients
	 * itself (keepalive_interval in libvirtd.conf, default 5 s), which
	 * wakes this thread, never a pair's.
	 */
	virapi.set_keepalive(w.conn, -1, 0);
	virapi.register_close(w.conn, close_cb, NULL, NULL);
	w.cb_id = virapi.event_register(w.conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), NULL, NULL);
	if (w.cb_id < 0 || rescan() == -1) {
		msg = virapi.last_error();
		note(LOG_LVL_WARN, "%s: cannot follow domains (%s); retrying",
		    uri, msg != NULL ? msg : "unknown error");
		disconnect();
		retry_backoff(&w.retry);
		return;
	}
	retry_reset(&w.retry);
	note(LOG_LVL_NOTICE, "connected to %s%s", uri,
	    w.was_lost ? " again" : "");
}

/* libvirt's own error printing goes to stderr; ours says it once. */
static void
quiet(void *arg, virErrorPtr err)
{
	(void)arg;
	(void)err;
}

static void *
watcher_main(void *arg)
{
	(void)arg;
	event_base_loop(w.base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* Load libvirt and start the watcher, once.  w.lock held. */
static int
start(char *err, size_t errlen)
{
	if (w.started)
		return 0;
	if (virapi_load(err, errlen) == -1)
		return -1;
	evthread_use_pthreads();
	w.cb_id = -1;
	if ((w.base = event_base_new()) == NULL ||
	    (w.ev_lost = event_new(w.base, -1, 0, lost_cb, NULL)) == NULL ||
	    (w.ev_refresh = event_new(w.base, -1, 0, refresh_cb,
	    NULL)) == NULL ||
	    retry_init(&w.retry, w.base, RETRY_MIN_MS, RETRY_MAX_MS,
	    connect_cb, NULL) == -1) {
		snprintf(err, errlen, "libvirt: %s", strerror(ENOMEM));
		return -1;		/* not retried: the process is short */
	}
	virapi.set_error_func(NULL, quiet);
	if (virevloop_register(w.base) == -1) {
		snprintf(err, errlen, "libvirt: %s", strerror(ENOMEM));
		return -1;
	}
	if (virapi.initialize() == -1) {
		snprintf(err, errlen, "libvirt: cannot initialize");
		return -1;
	}
	retry_in(&w.retry, 0);
	if (pthread_create(&w.thread, NULL, watcher_main, NULL) != 0) {
		snprintf(err, errlen, "libvirt: cannot start its thread");
		return -1;
	}
	pthread_detach(w.thread);	/* lives as long as the process */
	w.started = 1;
	return 0;
}

static void
sub_cb(evutil_socket_t fd, short what, void *arg)
{
	struct virtsub	*s = arg;

	(void)fd;
	(void)what;
	s->cb(s->arg);
}

struct virtsub *
virtwatch_subscribe(struct event_base *base, const char *name,
    virtwatch_cb cb, void *arg, char *err, size_t errlen)
{
	struct virtsub	*s;

	pthread_mutex_lock(&w.lock);
	if (start(err, errlen) == -1) {
		pthread_mutex_unlock(&w.lock);
		return NULL;
	}
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (name != NULL && (s->name = strdup(name)) == NULL) ||
	    (s->ev = event_new(base, -1, 0, sub_cb, s)) == NULL) {
		pthread_mutex_unlock(&w.lock);
		if (s != NULL)
			free(s->name);
		free(s);
		snprintf(err, errlen, "libvirt: %s", strerror(ENOMEM));
		return NULL;
	}
	s->cb = cb;
	s->arg = arg;
	s->next = w.subs;
	w.subs = s;
	event_active(s->ev, 0, 0);
	pthread_mutex_unlock(&w.lock);
	return s;
}

void
virtwatch_unsubscribe(struct virtsub *s)
{
	struct virtsub	**sp;

	if (s == NULL)
		return;
	pthread_mutex_lock(&w.lock);
	for (sp = &w.subs; *sp != NULL; sp = &(*sp)->next)
		if (*sp == s) {
			*sp = s->next;
			break;
		}
	pthread_mutex_unlock(&w.lock);
	event_free(s->ev);
	free(s->name);
	free(s);
}

int
virtwatch_domain(const char *name, struct virtdom_info *out)
{
	struct virtdom	*d;
	int		 rc = 0;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&w.lock);
	out->connected = w.synced;
	if ((d = dom_find(name)) != NULL && d->xml != NULL) {
		out->running = d->running;
		out->gen = d->gen;
		if ((out->xml = strdup(d->xml)) == NULL)
			rc = -1;
	}
	pthread_mutex_unlock(&w.lock);
	return rc;
}

int
virtwatch_names(int all, char ***names, size_t *n, int *connected)
{
	struct virtdom	*d;
	size_t		 k = 0, cap = 0;
	char		**v = NULL, **nv;

	pthread_mutex_lock(&w.lock);
	*connected = w.synced;
	for (d = w.doms; d != NULL; d = d->next) {
		if (!d->running && !all)
			continue;
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[k] = strdup(d->name)) == NULL)
			goto nomem;
		k++;
	}
	pthread_mutex_unlock(&w.lock);
	*names = v;
	*n = k;
	return 0;
nomem:
	pthread_mutex_unlock(&w.lock);
	virtwatch_free_names(v, k);
	errno = ENOMEM;
	return -1;
}

void
virtwatch_free_names(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
virtwatch_available(void)
{
	return access(LIBVIRT_SOCK, F_OK) == 0 ||
	    access(LIBVIRT_SOCK "-ro", F_OK) == 0;
}

const char *
virtwatch_uri(void)
{
	const char	*u = getenv("LIBVIRT_DEFAULT_URI");

	return u != NULL && *u != '\0' ? u : DEFAULT_URI;
}

#else /* !HAVE_LIBVIRT */

struct virtsub *
virtwatch_subscribe(struct event_base *base, const char *name,
    virtwatch_cb cb, void *arg, char *err, size_t errlen)
{
	(void)base;
	(void)name;
	(void)cb;
	(void)arg;
	snprintf(err, errlen, "libvirt: not supported in this build (built "
	    "without libvirt-dev)");
	return NULL;
}

void
virtwatch_unsubscribe(struct virtsub *s)
{
	(void)s;
}

int
virtwatch_domain(const char *name, struct virtdom_info *out)
{
	(void)name;
	memset(out, 0, sizeof *out);
	return 0;
}

int
virtwatch_available(void)
{
	return 0;
}

int
virtwatch_names(int all, char ***names, size_t *n, int *connected)
{
	(void)all;
	*names = NULL;
	*n = 0;
	*connected = 0;
	return 0;
}

void
virtwatch_free_names(char **v, size_t n)
{
	(void)v;
	(void)n;
}

const char *
virtwatch_uri(void)
{
	return "";
}

#endif /* HAVE_LIBVIRT */
