/*
 * endpoint.c - one side of a pair: its lifecycle and the reopen machinery.
 *
 * A connect-style endpoint (tty, unix, tcp) that is down waits for the
 * cheapest thing that can bring it back.  A missing path is watched with
 * inotify on its directory (or the nearest existing ancestor) and nothing
 * else: an idle relay must not wake up periodically.  A path that exists
 * but cannot be opened (ECONNREFUSED, EIO, EACCES), a tcp address, or a
 * directory that cannot be watched gets a capped exponential backoff.
 * The watch is pathwatch.c's, the tcp connect (with asynchronous DNS)
 * eptcp.c's.
 *
 * Callbacks to the relay run only from the event loop, never from inside
 * an endpoint_*() call, so the relay never sees them re-entrantly.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "endpoint_impl.h"
#include "log.h"

#define BACKOFF_MIN_MS		100
/* A socket that has just appeared is retried this soon, doubling. */
#define QUICK_MIN_MS		1
#define BACKOFF_MAX_MS		5000
/* An fd that lived less than this before it was lost does not reset the
 * backoff: a peer that accepts and hangs up at once must not spin us. */
#define STABLE_MS		1000

static const struct ep_backend ep_backend_connect = { NULL, NULL, NULL, NULL };

static void	conn_attempt(struct endpoint *);
static void	conn_retry_cb(evutil_socket_t, short, void *);
static void	watch_hit(void *);

static const struct ep_backend *
backend_for(enum ep_kind kind)
{
	switch (kind) {
	case EP_TTY:
	case EP_UNIX:
	case EP_TCP:
		return &ep_backend_connect;
	case EP_UNIX_LISTEN:
	case EP_TCP_LISTEN:
		return &ep_backend_listen;
	case EP_XEN:
#ifdef HAVE_EP_XEN
		return &ep_backend_xen;
#else
		return NULL;
#endif
	case EP_PVE:
#ifdef HAVE_EP_PVE
		return &ep_backend_pve;
#else
		return NULL;
#endif
	}
	return NULL;
}

static unsigned
elapsed_ms(const struct timespec *since)
{
	struct timespec	now;
	long long	ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(now.tv_sec - since->tv_sec) * 1000 +
	    (now.tv_nsec - since->tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > UINT_MAX ? UINT_MAX : (unsigned)ms;
}

void
endpoint_arm_timer(struct endpoint *ep, unsigned ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ep->ev_retry, &tv);
}

/* The next backoff delay; doubles up to the cap. */
static unsigned
backoff_next(struct endpoint *ep)
{
	unsigned	ms = ep->backoff_ms;

	ep->backoff_ms = ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : ms * 2;
	return ms;
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
	ep->spec = *spec;
	ep->up = up;
	ep->down = down;
	ep->arg = arg;
	ep->fd = ep->cfd = -1;
	tty_claim_init(&ep->claim);
	pathwatch_init(&ep->watch, base, watch_hit, ep);
	ep->backoff_ms = BACKOFF_MIN_MS;
	ep->state = EPS_IDLE;
	n = strcspn(spec->text, ",");		/* options are noise here */
	memcpy(ep->label, spec->text, n);
	ep->label[n] = '\0';
	snprintf(ep->name, sizeof ep->name, "%s%s%s: %s",
	    pair != NULL ? pair : "", pair != NULL && side != NULL ? "/" : "",
	    side != NULL ? side : "", ep->label);
	pthread_mutex_init(&ep->lock, NULL);
	snprintf(ep->status, sizeof ep->status, "not started");
	if ((ep->ev_retry = evtimer_new(base, conn_retry_cb, ep)) == NULL) {
		pthread_mutex_destroy(&ep->lock);
		free(ep);
		return NULL;
	}
	return ep;
}

int
endpoint_start(struct endpoint *ep, char *err, size_t errlen)
{
	if (ep->state != EPS_IDLE)
		return 0;
	if ((ep->be = backend_for(ep->spec.kind)) == NULL) {
		snprintf(err, errlen, "%s: %s endpoints are not supported in "
		    "this build", ep->name, ep_kind_name(ep->spec.kind));
		endpoint_set_status(ep, "not supported");
		return -1;
	}
	if (ep->be->start != NULL) {
		ep->state = EPS_OTHER;
		if (ep->be->start(ep, err, errlen) == -1) {
			ep->state = EPS_IDLE;
			endpoint_set_status(ep, "failed");
			return -1;
		}
		return 0;
	}
	/* A connect kind: the spec is the target. */
	if (ep->spec.kind == EP_TCP) {
		ep->tkind = EP_TCP;
		ep->state = EPS_WAITING;
		endpoint_set_status(ep, "connecting to %s", ep->label);
		endpoint_arm_timer(ep, 0);
	} else
		endpoint_set_target(ep, ep->spec.kind, ep->spec.path, 0);
	return 0;
}

/* ---- reporting: each state change once ---- */

static void
report_fail(struct endpoint *ep, int err, const char *reason,
    const char *action)
{
	enum log_level	lvl = LOG_LVL_NOTICE;
	char		what[PATH_MAX + 2] = "";

	if (err == ep->last_err && ep->lost_why[0] == '\0')
		return;
	ep->last_err = err;
	/* Not what it must be (a file where a tty was): someone's mistake. */
	if (err == ENOTTY || err == EISDIR || err == ENOTSOCK)
		lvl = LOG_LVL_ERR;
	else if (err == EBUSY || err == ESTALE)
		lvl = LOG_LVL_WARN;
	/* pve:999 waits for /var/run/qemu-server/999.serial0: say which. */
	if (ep->tkind != EP_TCP && ep->tpath[0] != '\0' &&
	    strcmp(ep->tpath, ep->spec.path) != 0)
		snprintf(what, sizeof what, "%s: ", ep->tpath);
	if (ep->lost_why[0] != '\0') {
		log_msg(lvl, "%s: lost (%s); %s%s; %s", ep->name, ep->lost_why,
		    what, reason, action);
		ep->lost_why[0] = '\0';
	} else
		log_msg(lvl, "%s: %s%s; %s", ep->name, what, reason, action);
}

/* ---- the connect machinery ---- */

static const char *
target_text(const struct endpoint *ep)
{
	if (ep->tkind == EP_TCP || ep->tpath[0] == '\0')
		return ep->label;
	return ep->tpath;
}

/*
 * Pty numbers are reused: remember how a pty slave was named, so that
 * after a loss it is reopened only through a link made again since.
 */
static void
note_pty(struct endpoint *ep, int fd)
{
	struct stat	st, lst;

	ep->pty_rdev = 0;
	ep->bare_pty = 0;
	ep->link_ino = 0;
	if (fstat(fd, &st) == -1 || !tty_is_pty(st.st_rdev))
		return;
	ep->pty_rdev = st.st_rdev;
	if (lstat(ep->tpath, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		ep->link_ino = lst.st_ino;
		ep->link_ctime = lst.st_ctim;
	} else
		ep->bare_pty = 1;
}

/* The link still names the pty that was lost (its number may be reused). */
static int
stale_link(const struct endpoint *ep)
{
	struct stat	lst;

	return ep->link_ino != 0 && lstat(ep->tpath, &lst) == 0 &&
	    lst.st_ino == ep->link_ino &&
	    lst.st_ctim.tv_sec == ep->link_ctime.tv_sec &&
	    lst.st_ctim.tv_nsec == ep->link_ctime.tv_nsec;
}

void
endpoint_conn_up(struct endpoint *ep, int fd)
{
	int	one = 1;

	if (ep->tkind == EP_TCP)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (ep->be->check != NULL && ep->be->check(ep, fd) == -1) {
		int	err = errno;

		close(fd);
		endpoint_conn_failed(ep, err, NULL, 0);
		return;
	}
	if (ep->tkind == EP_TTY)
		note_pty(ep, fd);
	pathwatch_disarm(&ep->watch);
	eptcp_cleanup(ep);
	ep->quick_ms = 0;
	/* No resolver timers (nameserver probes) while connected. */
	eptcp_free_resolver(ep);
	ep->last_err = 0;
	if (ep->lost_why[0] != '\0') {
		log_notice("%s: lost (%s); connected again", ep->name,
		    ep->lost_why);
		ep->lost_why[0] = '\0';
	} else
		log_notice("%s: connected", ep->name);
	endpoint_set_status(ep, "connected to %s", target_text(ep));
	endpoint_attach(ep, fd);
}

/*
 * An attempt failed with err.  A path known missing while its directory is
 * watched needs no timer; everything else retries with backoff.
 */
void
endpoint_conn_failed(struct endpoint *ep, int err, const char *reason,
    int watching)
{
	struct stat	st;
	int		missing = 0;

	eptcp_cleanup(ep);
	ep->state = EPS_WAITING;
	if (ep->tkind != EP_TCP && watching)
		missing = lstat(ep->tpath, &st) == -1 && errno == ENOENT;
	if (ep->tkind == EP_UNIX && err == ECONNREFUSED &&
	    stat(ep->tpath, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(ep->why, sizeof ep->why, "%s, not a socket",
		    tty_mode_name(st.st_mode));
		err = ENOTSOCK;
	}
	if (reason == NULL && ep->why[0] != '\0')
		reason = ep->why;
	if (reason == NULL) {
		if (ep->tkind == EP_TTY && err == ENXIO)
			reason = "no such device (a socket? use unix:PATH)";
		else
			reason = strerror(err);
	}
	if (missing) {
		evtimer_del(ep->ev_retry);
		endpoint_set_status(ep, "waiting for %s", target_text(ep));
		report_fail(ep, err, reason, "waiting for it to appear");
		return;
	}
	endpoint_set_status(ep, "retrying %s (%s)", target_text(ep), reason);
	report_fail(ep, err, reason, "retrying");
	if (ep->quick_ms != 0 && err == ECONNREFUSED) {
		/*
		 * The socket has just appeared and refuses: its server (QEMU)
		 * binds, then listens, and the watch woke us in between.
		 * Nothing tells when it listens: look again soon.
		 */
		endpoint_arm_timer(ep, ep->quick_ms);
		ep->quick_ms = ep->quick_ms * 2 < BACKOFF_MIN_MS ?
		    ep->quick_ms * 2 : 0;
		return;
	}
	ep->quick_ms = 0;
	endpoint_arm_timer(ep, backoff_next(ep));
}

static int
unix_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* A unix connect completes at once or fails (EAGAIN: backlog). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int
conn_open(struct endpoint *ep)
{
	int	fd, err;

	ep->why[0] = '\0';
	if (ep->tkind != EP_TTY)
		return unix_connect(ep->tpath);
	if (stale_link(ep)) {
		snprintf(ep->why, sizeof ep->why, "still the link to the pty "
		    "that was lost, whose number may be reused; waiting for it "
		    "to be made again");
		errno = ESTALE;
		return -1;
	}
	fd = tty_open(ep->tpath, ep->tflags, ep->why, sizeof ep->why);
	if (fd != -1 && tty_claim(&ep->claim, fd, 1, ep->why,
	    sizeof ep->why) == -1) {
		err = errno;
		close(fd);
		errno = err;
		fd = -1;
	}
	return fd;
}

static void
conn_attempt(struct endpoint *ep)
{
	int	fd, watching = 0;

	evtimer_del(ep->ev_retry);
	if (ep->tkind == EP_TCP) {
		eptcp_attempt(ep);
		return;
	}
	if (ep->tpath[0] == '\0')
		return;
	/*
	 * Look first: a path that is there needs no watch, and a user has
	 * few inotify instances (128 by default) for hundreds of endpoints.
	 * Else watch, then look again: a path created in between is not
	 * missed.
	 */
	if ((fd = conn_open(ep)) == -1) {
		watching = pathwatch_arm(&ep->watch, ep->tpath,
		    ep->name) == 0;
		fd = conn_open(ep);
	}
	if (fd == -1) {
		endpoint_conn_failed(ep, errno, NULL, watching);
		return;
	}
	endpoint_conn_up(ep, fd);
}

static void
watch_hit(void *arg)
{
	struct endpoint	*ep = arg;

	if (ep->state == EPS_WAITING && ep->tpath[0] != '\0') {
		ep->quick_ms = QUICK_MIN_MS;
		conn_attempt(ep);
	}
}

static void
conn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct endpoint	*ep = arg;

	(void)fd;
	(void)what;
	if (ep->state == EPS_WAITING)
		conn_attempt(ep);
}

void
endpoint_set_target(struct endpoint *ep, enum ep_kind kind, const char *path,
    int open_flags)
{
	evtimer_del(ep->ev_retry);
	pathwatch_disarm(&ep->watch);
	eptcp_cleanup(ep);
	ep->last_err = 0;
	ep->backoff_ms = BACKOFF_MIN_MS;
	if (path == NULL) {
		ep->tpath[0] = '\0';
		return;
	}
	ep->tkind = kind;
	ep->tflags = open_flags;
	snprintf(ep->tpath, sizeof ep->tpath, "%s", path);
	if (ep->state == EPS_UP)
		return;			/* takes effect when it is lost */
	ep->state = EPS_WAITING;
	endpoint_set_status(ep, "opening %s", ep->tpath);
	endpoint_arm_timer(ep, 0);
}

/* ---- the relay's side ---- */

void
endpoint_attach(struct endpoint *ep, int fd)
{
	ep->state = EPS_UP;
	ep->fd = fd;
	ep->is_tty = isatty(fd);
	clock_gettime(CLOCK_MONOTONIC, &ep->up_since);
	pthread_mutex_lock(&ep->lock);
	ep->opens++;
	pthread_mutex_unlock(&ep->lock);
	ep->up(ep->arg, fd);		/* last: it may call endpoint_lost */
}

static void
close_fd(struct endpoint *ep)
{
	tty_release(&ep->claim);
	close(ep->fd);
	ep->fd = -1;
	ep->is_tty = 0;
}

void
endpoint_drop(struct endpoint *ep, const char *why)
{
	if (ep->state != EPS_UP)
		return;
	log_notice("%s: closed (%s)", ep->name, why);
	if (ep->down != NULL)
		ep->down(ep->arg);
	close_fd(ep);
	ep->state = EPS_OTHER;		/* the backend says what next */
}

void
endpoint_lost(struct endpoint *ep, const char *why)
{
	unsigned	delay = 0;

	if (ep->state != EPS_UP)
		return;
	close_fd(ep);
	if (ep->be->lost != NULL) {
		ep->state = EPS_OTHER;
		ep->be->lost(ep, why);
		return;
	}
	ep->state = EPS_WAITING;
	if (ep->bare_pty) {
		/* Its number goes to the next pty opened: an admin's shell. */
		log_warn("%s: lost (%s); not reopened: a pty named by its "
		    "number alone may next be another program's terminal; "
		    "reload or restart the pair, or name it by a link (socat "
		    "link=) or by its VM (xen:, pve:)", ep->name,
		    why != NULL && *why != '\0' ? why : "gone");
		ep->tpath[0] = '\0';
		endpoint_set_status(ep, "lost %s; not reopened (a bare pty)",
		    ep->label);
		pthread_mutex_lock(&ep->lock);
		ep->spent = 1;
		pthread_mutex_unlock(&ep->lock);
		return;
	}
	snprintf(ep->lost_why, sizeof ep->lost_why, "%s",
	    why != NULL && *why != '\0' ? why : "gone");
	ep->last_err = 0;
	if (elapsed_ms(&ep->up_since) >= STABLE_MS)
		ep->backoff_ms = BACKOFF_MIN_MS;
	else
		delay = backoff_next(ep);
	endpoint_set_status(ep, "reconnecting to %s", target_text(ep));
	endpoint_arm_timer(ep, delay);
}

void
endpoint_free(struct endpoint *ep)
{
	if (ep == NULL)
		return;
	if (ep->be != NULL && ep->be->stop != NULL)
		ep->be->stop(ep);
	eptcp_cleanup(ep);
	eptcp_free_resolver(ep);
	pathwatch_free(&ep->watch);
	event_free(ep->ev_retry);
	if (ep->fd != -1)
		close_fd(ep);
	pthread_mutex_destroy(&ep->lock);
	free(ep);
}

int
endpoint_fd(const struct endpoint *ep)
{
	return ep->fd;
}

int
endpoint_is_tty(const struct endpoint *ep)
{
	return ep->fd != -1 && ep->is_tty;
}

const char *
endpoint_status(const struct endpoint *ep, char *buf, size_t len)
{
	struct endpoint	*w = (struct endpoint *)ep;	/* the lock only */

	pthread_mutex_lock(&w->lock);
	snprintf(buf, len, "%s", ep->status);
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
endpoint_spent(const struct endpoint *ep)
{
	struct endpoint	*w = (struct endpoint *)ep;
	int		 spent;

	pthread_mutex_lock(&w->lock);
	spent = ep->spent;
	pthread_mutex_unlock(&w->lock);
	return spent;
}

int
endpoint_crlf_guess(const struct endpoint *ep)
{
	return ep->crlf_guess;
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
	return &ep->spec;
}

const char *
endpoint_name(const struct endpoint *ep)
{
	return ep->name;
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
endpoint_set_status(struct endpoint *ep, const char *fmt, ...)
{
	va_list	ap;

	pthread_mutex_lock(&ep->lock);
	va_start(ap, fmt);
	vsnprintf(ep->status, sizeof ep->status, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&ep->lock);
	if (ep->watcher != NULL)
		event_active(ep->watcher, 0, 0);
}

void
endpoint_set_watcher(struct endpoint *ep, struct event *ev)
{
	ep->watcher = ev;
}

void
endpoint_set_crlf_guess(struct endpoint *ep, int guess)
{
	ep->crlf_guess = guess;
}
