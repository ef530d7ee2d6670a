/*
 * endpoint.c - one side of a pair: its lifecycle.
 *
 * The lifecycle is the same for every kind: the backend finds something
 * to open and reports attempts (endpoint_opened, endpoint_failed); this
 * file hands the fd to the relay, takes it back when it is lost, retries
 * with one capped backoff, keeps the state and status line, and logs each
 * change once.
 *
 * Keeping a path open (a tty, a unix socket) is eppath.c's.
 *
 * Callbacks to the relay run only from the event loop, never from inside
 * an endpoint_*() call, so the relay never sees them re-entrantly.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "endpoint_impl.h"
#include "fdslot.h"
#include "tty.h"

#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		5000
/* An fd that lived less than this before it was lost does not reset the
 * backoff: a peer that accepts and hangs up at once must not spin us. */
#define STABLE_MS		1000

static void	retry_cb(evutil_socket_t, short, void *);

static const struct ep_backend *
backend_for(enum ep_kind kind)
{
	switch (kind) {
	case EP_TTY:
	case EP_UNIX:
		return &ep_backend_path;
	case EP_TCP:
		return &ep_backend_tcp;
	case EP_UNIX_LISTEN:
	case EP_TCP_LISTEN:
		return &ep_backend_listen;
	case EP_XEN:
#ifdef HAVE_XENSTORE
		return &ep_backend_xen;
#else
		return NULL;
#endif
	case EP_PVE:
		return &ep_backend_pve;
	case EP_LIBVIRT:
#ifdef HAVE_LIBVIRT
		return &ep_backend_libvirt;
#else
		return NULL;
#endif
	}
	return NULL;
}

struct endpoint *
endpoint_new(struct event_base *base, const struct ep_spec *spec,
    const char *pair, const char *side, endpoint_up_cb up,
    endpoint_down_cb down, void *arg)
{
	struct endpoint	*ep;
	size_t		 n;

	if ((ep = calloc(1, sizeof *ep)) == NULL)
		return NULL;
	ep->base = base;
	ep->spec = spec;
	ep->up = up;
	ep->down = down;
	ep->arg = arg;
	ep->fd = -1;
	/* Made with the pair's loop: its fd numbered beside the loop's. */
	ep->slot = fdslot_new();
	eppath_init(ep);
	n = strcspn(spec->text, ",");		/* options are noise here */
	memcpy(ep->label, spec->text, n);
	ep->label[n] = '\0';
	snprintf(ep->name, sizeof ep->name, "%s%s%s: %s",
	    pair != NULL ? pair : "", pair != NULL && side != NULL ? "/" : "",
	    side != NULL ? side : "", ep->label);
	pthread_mutex_init(&ep->lock, NULL);
	ep->st.state = EP_IDLE;
	ep->st.since = time(NULL);
	snprintf(ep->st.text, sizeof ep->st.text, "not started");
	if (retry_init(&ep->retry, base, BACKOFF_MIN_MS, BACKOFF_MAX_MS,
	    retry_cb, ep) == -1) {
		pthread_mutex_destroy(&ep->lock);
		if (ep->slot != -1)
			close(ep->slot);
		free(ep);
		return NULL;
	}
	return ep;
}

int
endpoint_start(struct endpoint *ep, char *err, size_t errlen)
{
	if (ep->started)
		return 0;
	if ((ep->be = backend_for(ep->spec->kind)) == NULL) {
		snprintf(err, errlen, "%s: %s endpoints are not supported in "
		    "this build", ep->name, ep_kind_name(ep->spec->kind));
		endpoint_set_status(ep, EP_IDLE, NULL, "not supported");
		return -1;
	}
	if (ep->be->start(ep, err, errlen) == -1) {
		endpoint_set_status(ep, EP_IDLE, NULL, "failed");
		return -1;
	}
	ep->started = 1;
	return 0;
}

/* ---- reporting ---- */

void
endpoint_note(struct endpoint *ep, enum log_level lvl, const char *fmt, ...)
{
	char	buf[NOTE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (ep->lost_why[0] != '\0') {
		log_msg(lvl, "%s: lost (%s); %s", ep->name, ep->lost_why, buf);
		ep->lost_why[0] = '\0';
	} else if (strcmp(buf, ep->note) != 0)
		log_msg(lvl, "%s: %s", ep->name, buf);
	strcpy(ep->note, buf);
}

void
endpoint_set_status(struct endpoint *ep, enum ep_state state,
    const char *what, const char *fmt, ...)
{
	va_list	ap;

	if (what == NULL)
		what = "";
	pthread_mutex_lock(&ep->lock);
	if (state != ep->st.state || strcmp(what, ep->st.what) != 0)
		ep->st.since = time(NULL);
	ep->st.state = state;
	snprintf(ep->st.what, sizeof ep->st.what, "%s", what);
	va_start(ap, fmt);
	vsnprintf(ep->st.text, sizeof ep->st.text, fmt, ap);
	va_end(ap);
	ep->st.backoff_ms = retry_pending(&ep->retry) ?
	    ep->retry.armed_ms : 0;
	pthread_mutex_unlock(&ep->lock);
	if (ep->watcher != NULL)
		event_active(ep->watcher, 0, 0);
}

/* ---- the retry timer ---- */

static void
show_backoff(struct endpoint *ep)
{
	pthread_mutex_lock(&ep->lock);
	ep->st.backoff_ms = retry_pending(&ep->retry) ?
	    ep->retry.armed_ms : 0;
	pthread_mutex_unlock(&ep->lock);
}

void
endpoint_retry_backoff(struct endpoint *ep)
{
	retry_backoff(&ep->retry);
	show_backoff(ep);
}

void
endpoint_retry_in(struct endpoint *ep, unsigned ms)
{
	retry_in(&ep->retry, ms);
	show_backoff(ep);
}

void
endpoint_retry_cancel(struct endpoint *ep)
{
	retry_cancel(&ep->retry);
	show_backoff(ep);
}

void
endpoint_retry_reset(struct endpoint *ep)
{
	retry_reset(&ep->retry);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct endpoint	*ep = arg;

	(void)fd;
	(void)what;
	show_backoff(ep);
	if (ep->be->retry != NULL)
		ep->be->retry(ep);
}

/* ---- attempts ---- */

void
endpoint_opened(struct endpoint *ep, int fd, const char *what)
{
	int	err;

	if (ep->be->check != NULL && ep->be->check(ep, fd) == -1) {
		err = errno;
		close(fd);
		endpoint_failed(ep, what, err, NULL);
		return;
	}
	if (ep->lost_why[0] != '\0')
		log_notice("%s: lost (%s); connected again", ep->name,
		    ep->lost_why);
	else
		log_notice("%s: connected", ep->name);
	ep->lost_why[0] = ep->note[0] = '\0';
	endpoint_set_status(ep, EP_UP, what, "connected to %s", what);
	endpoint_attach(ep, fd);
}

void
endpoint_failed(struct endpoint *ep, const char *what, int err,
    const char *reason)
{
	if (reason == NULL)
		reason = strerror(err);
	endpoint_retry_backoff(ep);
	endpoint_set_status(ep, EP_RETRYING, what, "retrying %s (%s)", what,
	    reason);
	endpoint_note(ep, LOG_LVL_NOTICE, "%s; retrying", reason);
}

void
endpoint_reopen(struct endpoint *ep, const char *why, int stable)
{
	const char	*what = ep->tpath != NULL ? ep->tpath : ep->label;

	snprintf(ep->lost_why, sizeof ep->lost_why, "%s",
	    why != NULL && *why != '\0' ? why : "gone");
	ep->note[0] = '\0';
	if (stable)
		endpoint_retry_in(ep, 0);
	else
		endpoint_retry_backoff(ep);
	endpoint_set_status(ep, stable ? EP_CONNECTING : EP_RETRYING, what,
	    "reconnecting to %s", what);
}

/* ---- the relay's side ---- */

void
endpoint_attach(struct endpoint *ep, int fd)
{
	int	orig = fd;

	if ((fd = fdslot_fill(ep->slot, fd)) != orig && ep->claim.fd == orig)
		ep->claim.fd = fd;	/* the tty claimed, by its new number */
	ep->fd = fd;
	ep->is_tty = isatty(fd);
	ep->note[0] = '\0';		/* up: a state may be said again */
	clock_gettime(CLOCK_MONOTONIC, &ep->up_since);
	endpoint_retry_cancel(ep);
	pthread_mutex_lock(&ep->lock);
	ep->opens++;
	pthread_mutex_unlock(&ep->lock);
	ep->up(ep->arg, fd);		/* last: it may call endpoint_lost */
}

static void
close_fd(struct endpoint *ep)
{
	tty_release(&ep->claim);
	ep->slot = fdslot_close(ep->slot, ep->fd);
	ep->fd = -1;
	ep->is_tty = 0;
}

void
endpoint_drop(struct endpoint *ep, const char *why)
{
	if (ep->fd == -1)
		return;
	log_notice("%s: closed (%s)", ep->name, why);
	if (ep->down != NULL)
		ep->down(ep->arg);
	close_fd(ep);
}

void
endpoint_lost(struct endpoint *ep, const char *why)
{
	int	stable;

	if (ep->fd == -1)
		return;
	close_fd(ep);
	if ((stable = ms_since(&ep->up_since) >= STABLE_MS))
		endpoint_retry_reset(ep);
	if (ep->be->lost != NULL)
		ep->be->lost(ep, why, stable);
	else
		endpoint_reopen(ep, why, stable);
}

void
endpoint_free(struct endpoint *ep)
{
	if (ep == NULL)
		return;
	if (ep->started && ep->be->stop != NULL)
		ep->be->stop(ep);
	eppath_free(ep);
	retry_free(&ep->retry);
	if (ep->fd != -1)
		close_fd(ep);
	if (ep->slot != -1)
		close(ep->slot);
	pthread_mutex_destroy(&ep->lock);
	free(ep);
}

/* ---- what the others see ---- */

int
endpoint_fd(const struct endpoint *ep)
{
	return ep->fd;
}

int
endpoint_spent(const struct endpoint *ep)
{
	struct endpoint	*w = (struct endpoint *)ep;	/* the lock only */
	int		 spent;

	pthread_mutex_lock(&w->lock);
	spent = ep->spent;
	pthread_mutex_unlock(&w->lock);
	return spent;
}

int
endpoint_is_tty(const struct endpoint *ep)
{
	return ep->fd != -1 && ep->is_tty;
}

const char *
ep_state_name(enum ep_state s)
{
	static const char *const names[] = {
		[EP_IDLE] = "idle", [EP_WAITING] = "waiting",
		[EP_CONNECTING] = "connecting", [EP_RETRYING] = "retrying",
		[EP_LISTENING] = "listening", [EP_REFUSED] = "refused",
		[EP_UP] = "up",
	};

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void
endpoint_get_state(const struct endpoint *ep, struct endpoint_state *out)
{
	struct endpoint	*w = (struct endpoint *)ep;	/* the lock only */

	pthread_mutex_lock(&w->lock);
	*out = ep->st;
	out->reconnects = ep->opens > 0 ? ep->opens - 1 : 0;
	pthread_mutex_unlock(&w->lock);
}

int
endpoint_is_up(const struct endpoint *ep)
{
	struct endpoint	*w = (struct endpoint *)ep;
	int		 up;

	pthread_mutex_lock(&w->lock);
	up = ep->st.state == EP_UP;
	pthread_mutex_unlock(&w->lock);
	return up;
}

const char *
endpoint_status(const struct endpoint *ep, char *buf, size_t len)
{
	struct endpoint	*w = (struct endpoint *)ep;

	pthread_mutex_lock(&w->lock);
	snprintf(buf, len, "%s", ep->st.text);
	pthread_mutex_unlock(&w->lock);
	return buf;
}

uint64_t
endpoint_reconnects(const struct endpoint *ep)
{
	struct endpoint	*w = (struct endpoint *)ep;
	uint64_t	 n;

	pthread_mutex_lock(&w->lock);
	n = ep->opens > 0 ? ep->opens - 1 : 0;
	pthread_mutex_unlock(&w->lock);
	return n;
}

int
endpoint_crlf_guess(const struct endpoint *ep)
{
	return ep->crlf_guess;
}

void
endpoint_set_watcher(struct endpoint *ep, struct event *ev)
{
	ep->watcher = ev;
}

/* ---- for backends ---- */

struct event_base *
endpoint_base(const struct endpoint *ep)
{
	return ep->base;
}

const struct ep_spec *
endpoint_spec(const struct endpoint *ep)
{
	return ep->spec;
}

const char *
endpoint_name(const struct endpoint *ep)
{
	return ep->name;
}

const char *
endpoint_label(const struct endpoint *ep)
{
	return ep->label;
}

void *
endpoint_data(const struct endpoint *ep)
{
	return ep->be_data;
}

void
endpoint_set_data(struct endpoint *ep, void *data)
{
	ep->be_data = data;
}

void
endpoint_set_crlf_guess(struct endpoint *ep, int guess)
{
	ep->crlf_guess = guess;
}
