/*
 * endpoint.c - one side of a pair: its lifecycle and the reopen machinery.
 *
 * A connect-style endpoint (tty, unix, tcp) that is down waits for the
 * cheapest thing that can bring it back.  A missing path is watched with
 * inotify on its directory (or the nearest existing ancestor) and nothing
 * else: an idle relay must not wake up periodically.  A path that exists
 * but cannot be opened (ECONNREFUSED, EIO, EACCES), a tcp address, or a
 * directory that cannot be watched gets a capped exponential backoff.
 *
 * Callbacks to the relay run only from the event loop, never from inside
 * an endpoint_*() call, so the relay never sees them re-entrantly.
 */
#include <sys/types.h>
#include <sys/inotify.h>
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

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "endpoint.h"
#include "endpoint_backend.h"
#include "log.h"

#define BACKOFF_MIN_MS		100
/* A socket that just appeared is retried this soon, doubling (see
 * conn_failed). */
#define QUICK_MIN_MS		1
#define BACKOFF_MAX_MS		5000
#define CONNECT_TIMEOUT_S	10
/* An fd that lived less than this before it was lost does not reset the
 * backoff: a peer that accepts and hangs up at once must not spin us. */
#define STABLE_MS		1000
#define STATUS_MAX		256
#define NAME_MAX_LEN		(64 + 16 + EP_TEXT_MAX)

enum ep_state {
	EPS_IDLE,		/* not started */
	EPS_WAITING,		/* down: watch and/or timer armed */
	EPS_CONNECTING,		/* resolving or connecting (tcp) */
	EPS_UP,			/* fd handed to the relay */
	EPS_OTHER,		/* the backend's (e.g. listening) */
};

struct endpoint {
	struct event_base	*base;
	struct ep_spec		 spec;
	char			 name[NAME_MAX_LEN];	/* "pair/side: spec" */
	char			 label[EP_TEXT_MAX];	/* spec sans options */
	endpoint_up_cb		 up;
	endpoint_down_cb	 down;
	void			*arg;
	const struct ep_backend	*be;
	void			*be_data;

	enum ep_state		 state;
	int			 fd;		/* the relay's, -1 when down */
	int			 is_tty;
	int			 crlf_guess;
	struct timespec		 up_since;

	/* What to (re)open. */
	enum ep_kind		 tkind;		/* EP_TTY, EP_UNIX, EP_TCP */
	char			 tpath[PATH_MAX];
	int			 tflags;
	int			 last_err;	/* last reported, 0 none */
	char			 lost_why[128];	/* loss not yet logged */
	unsigned		 backoff_ms;
	unsigned		 quick_ms;	/* next quick retry, 0 none */
	struct event		*ev_retry;

	/* inotify on the directory of a missing path. */
	int			 ino_fd;
	int			 ino_wd;
	struct event		*ev_ino;
	char			 wdir[PATH_MAX];
	char			 wname[NAME_MAX + 1];
	int			 watch_warned;

	/* tcp */
	struct evdns_base	*dns;
	struct evdns_getaddrinfo_request *dnsreq;
	int			 resolving;
	struct evutil_addrinfo	*ai, *ai_next;
	int			 cfd;
	int			 cerr;
	struct event		*ev_conn;

	/* Read by other threads (systemd STATUS, stats). */
	pthread_mutex_t		 lock;
	char			 status[STATUS_MAX];
	struct event		*watcher;	/* told of status changes */
	uint64_t		 opens;
};

static const struct ep_backend ep_backend_connect = { NULL, NULL, NULL, NULL };

static void	conn_attempt(struct endpoint *);
static void	conn_failed(struct endpoint *, int, const char *, int);
static void	conn_retry_cb(evutil_socket_t, short, void *);

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

static void
arm_timer(struct endpoint *ep, unsigned ms)
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
	ep->fd = ep->ino_fd = ep->ino_wd = ep->cfd = -1;
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
		arm_timer(ep, 0);
	} else
		endpoint_set_target(ep, ep->spec.kind, ep->spec.path, 0);
	return 0;
}

/* ---- inotify: wake up when the path (or a missing parent) appears ---- */

static void	watch_cb(evutil_socket_t, short, void *);

static void
watch_disarm(struct endpoint *ep)
{
	if (ep->ino_wd != -1) {
		inotify_rm_watch(ep->ino_fd, ep->ino_wd);
		ep->ino_wd = -1;
	}
}

/*
 * Up: give the inotify instance back.  A user has few of them
 * (fs.inotify.max_user_instances, 128 by default), and a daemon with
 * hundreds of endpoints must not keep one per connected endpoint.
 */
static void
watch_close(struct endpoint *ep)
{
	watch_disarm(ep);
	if (ep->ev_ino != NULL) {
		event_free(ep->ev_ino);
		ep->ev_ino = NULL;
	}
	if (ep->ino_fd != -1) {
		close(ep->ino_fd);
		ep->ino_fd = -1;
	}
}

/*
 * Watch the deepest existing directory on the way to tpath for the next
 * component to appear.  0 when the watch is in place.
 */
static int
watch_arm(struct endpoint *ep)
{
	char		 dir[PATH_MAX], name[NAME_MAX + 1], *slash;
	struct stat	 st;
	const uint32_t	 mask = IN_CREATE | IN_MOVED_TO | IN_ATTRIB |
			    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
	int		 wd;

	snprintf(dir, sizeof dir, "%s", ep->tpath);
	for (;;) {
		if ((slash = strrchr(dir, '/')) == NULL || slash[1] == '\0' ||
		    strlen(slash + 1) > NAME_MAX) {
			errno = EINVAL;
			goto fail;
		}
		strcpy(name, slash + 1);
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
	if (ep->ino_fd == -1) {
		ep->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ep->ino_fd == -1)
			goto fail;
		ep->ev_ino = event_new(ep->base, ep->ino_fd,
		    EV_READ | EV_PERSIST, watch_cb, ep);
		if (ep->ev_ino == NULL || event_add(ep->ev_ino, NULL) == -1) {
			errno = ENOMEM;
			goto fail;
		}
	}
	if (ep->ino_wd != -1 && strcmp(dir, ep->wdir) == 0) {
		strcpy(ep->wname, name);
		return 0;
	}
	watch_disarm(ep);
	if ((wd = inotify_add_watch(ep->ino_fd, dir, mask)) == -1)
		goto fail;
	ep->ino_wd = wd;
	strcpy(ep->wdir, dir);
	strcpy(ep->wname, name);
	return 0;
fail:
	if (!ep->watch_warned) {
		log_warn("%s: cannot watch the directory of %s (%s); polling",
		    ep->name, ep->tpath, strerror(errno));
		ep->watch_warned = 1;
	}
	watch_disarm(ep);
	return -1;
}

static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct endpoint			*ep = arg;
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
			if (ie->wd != ep->ino_wd || ep->ino_wd == -1)
				continue;
			if (ie->mask & (IN_IGNORED | IN_DELETE_SELF |
			    IN_MOVE_SELF)) {
				/* The directory itself went: watch anew. */
				watch_disarm(ep);
				hit = 1;
			} else if (ie->len > 0 &&
			    strcmp(ie->name, ep->wname) == 0)
				hit = 1;
		}
	}
	if (hit && ep->state == EPS_WAITING && ep->tpath[0] != '\0') {
		ep->quick_ms = QUICK_MIN_MS;
		conn_attempt(ep);
	}
}

/* ---- reporting: each state change once ---- */

static void
report_fail(struct endpoint *ep, int err, const char *reason,
    const char *action)
{
	if (err == ep->last_err && ep->lost_why[0] == '\0')
		return;
	ep->last_err = err;
	if (ep->lost_why[0] != '\0') {
		log_notice("%s: lost (%s); %s; %s", ep->name, ep->lost_why,
		    reason, action);
		ep->lost_why[0] = '\0';
	} else
		log_notice("%s: %s; %s", ep->name, reason, action);
}

/* ---- the connect machinery ---- */

static void
conn_cleanup(struct endpoint *ep)
{
	if (ep->ev_conn != NULL) {
		event_free(ep->ev_conn);
		ep->ev_conn = NULL;
	}
	if (ep->cfd != -1) {
		close(ep->cfd);
		ep->cfd = -1;
	}
	if (ep->dnsreq != NULL) {
		evdns_getaddrinfo_cancel(ep->dnsreq);
		ep->dnsreq = NULL;
	}
	ep->resolving = 0;
	if (ep->ai != NULL) {
		evutil_freeaddrinfo(ep->ai);
		ep->ai = ep->ai_next = NULL;
	}
}

static const char *
target_text(const struct endpoint *ep)
{
	if (ep->tkind == EP_TCP || ep->tpath[0] == '\0')
		return ep->label;
	return ep->tpath;
}

static void
conn_up(struct endpoint *ep, int fd)
{
	int	one = 1;

	if (ep->tkind == EP_TCP)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (ep->be->check != NULL && ep->be->check(ep, fd) == -1) {
		int	err = errno;

		close(fd);
		conn_failed(ep, err, NULL, 0);
		return;
	}
	watch_close(ep);
	conn_cleanup(ep);
	ep->quick_ms = 0;
	if (ep->dns != NULL) {
		/* No resolver timers (nameserver probes) while connected. */
		evdns_base_free(ep->dns, 0);
		ep->dns = NULL;
	}
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
static void
conn_failed(struct endpoint *ep, int err, const char *reason, int watching)
{
	struct stat	st;
	int		missing = 0;

	conn_cleanup(ep);
	ep->state = EPS_WAITING;
	if (ep->tkind != EP_TCP && watching)
		missing = lstat(ep->tpath, &st) == -1 && errno == ENOENT;
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
		arm_timer(ep, ep->quick_ms);
		ep->quick_ms = ep->quick_ms * 2 < BACKOFF_MIN_MS ?
		    ep->quick_ms * 2 : 0;
		return;
	}
	ep->quick_ms = 0;
	arm_timer(ep, backoff_next(ep));
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

static void	tcp_try_next(struct endpoint *);

static void
tcp_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct endpoint	*ep = arg;
	socklen_t	 len = sizeof ep->cerr;
	int		 s;

	if (what & EV_TIMEOUT)
		ep->cerr = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &ep->cerr, &len) == -1)
		ep->cerr = errno;
	event_free(ep->ev_conn);
	ep->ev_conn = NULL;
	s = ep->cfd;
	ep->cfd = -1;
	if (ep->cerr == 0) {
		conn_up(ep, s);
		return;
	}
	close(s);
	tcp_try_next(ep);
}

/* Try the resolved addresses in order; report the last error. */
static void
tcp_try_next(struct endpoint *ep)
{
	struct evutil_addrinfo	*a;
	struct timeval		 tv = { CONNECT_TIMEOUT_S, 0 };
	int			 s;

	while ((a = ep->ai_next) != NULL) {
		ep->ai_next = a->ai_next;
		s = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (s == -1) {
			ep->cerr = errno;
			continue;
		}
		if (connect(s, a->ai_addr, a->ai_addrlen) == 0) {
			conn_up(ep, s);
			return;
		}
		if (errno == EINPROGRESS) {
			ep->ev_conn = event_new(ep->base, s, EV_WRITE,
			    tcp_connected_cb, ep);
			if (ep->ev_conn != NULL &&
			    event_add(ep->ev_conn, &tv) == 0) {
				ep->cfd = s;
				ep->state = EPS_CONNECTING;
				return;
			}
			if (ep->ev_conn != NULL)
				event_free(ep->ev_conn);
			ep->ev_conn = NULL;
			errno = ENOMEM;
		}
		ep->cerr = errno;
		close(s);
	}
	conn_failed(ep, ep->cerr != 0 ? ep->cerr : ECONNREFUSED, NULL, 0);
}

static void
tcp_resolved_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct endpoint	*ep = arg;
	char		 why[EP_HOST_MAX + 128];

	if (result == EVUTIL_EAI_CANCEL) {	/* endpoint going away */
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	ep->dnsreq = NULL;
	ep->resolving = 0;
	if (result != 0) {
		snprintf(why, sizeof why, "cannot resolve %s: %s",
		    ep->spec.host, evutil_gai_strerror(result));
		conn_failed(ep, 100000 + result, why, 0);
		return;
	}
	ep->ai = ep->ai_next = res;
	ep->cerr = 0;
	ep->state = EPS_WAITING;
	arm_timer(ep, 0);		/* connect from the loop, not from here */
}

static void
tcp_attempt(struct endpoint *ep)
{
	struct evutil_addrinfo		 hints;
	struct evdns_getaddrinfo_request *req;
	int				 r;

	if (ep->ai_next != NULL) {
		tcp_try_next(ep);
		return;
	}
	conn_cleanup(ep);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	r = evutil_getaddrinfo(ep->spec.host, ep->spec.port, &hints, &ep->ai);
	if (r == 0) {
		ep->ai_next = ep->ai;
		ep->cerr = 0;
		tcp_try_next(ep);
		return;
	}
	/* A name: resolve without blocking the pair's loop. */
	if (ep->dns == NULL)
		ep->dns = evdns_base_new(ep->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (ep->dns == NULL) {
		tcp_resolved_cb(EVUTIL_EAI_FAIL, NULL, ep);
		return;
	}
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	ep->state = EPS_CONNECTING;
	endpoint_set_status(ep, "resolving %s", ep->spec.host);
	ep->resolving = 1;
	req = evdns_getaddrinfo(ep->dns, ep->spec.host, ep->spec.port, &hints,
	    tcp_resolved_cb, ep);
	if (ep->resolving)		/* else answered already */
		ep->dnsreq = req;
}

static void
conn_attempt(struct endpoint *ep)
{
	int	fd, watching;

	evtimer_del(ep->ev_retry);
	if (ep->tkind == EP_TCP) {
		tcp_attempt(ep);
		return;
	}
	if (ep->tpath[0] == '\0')
		return;
	/* Watch first, then look: a path created in between is not missed. */
	watching = watch_arm(ep) == 0;
	if (ep->tkind == EP_TTY)
		fd = tty_open_raw(ep->tpath, ep->tflags);
	else
		fd = unix_connect(ep->tpath);
	if (fd == -1) {
		conn_failed(ep, errno, NULL, watching);
		return;
	}
	conn_up(ep, fd);
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
	watch_disarm(ep);
	conn_cleanup(ep);
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
	arm_timer(ep, 0);
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
	snprintf(ep->lost_why, sizeof ep->lost_why, "%s",
	    why != NULL && *why != '\0' ? why : "gone");
	ep->last_err = 0;
	if (elapsed_ms(&ep->up_since) >= STABLE_MS)
		ep->backoff_ms = BACKOFF_MIN_MS;
	else
		delay = backoff_next(ep);
	endpoint_set_status(ep, "reconnecting to %s", target_text(ep));
	arm_timer(ep, delay);
}

void
endpoint_free(struct endpoint *ep)
{
	if (ep == NULL)
		return;
	if (ep->be != NULL && ep->be->stop != NULL)
		ep->be->stop(ep);
	conn_cleanup(ep);
	if (ep->dns != NULL)
		evdns_base_free(ep->dns, 0);
	if (ep->ev_ino != NULL)
		event_free(ep->ev_ino);
	if (ep->ino_fd != -1)
		close(ep->ino_fd);
	event_free(ep->ev_retry);
	if (ep->fd != -1)
		close(ep->fd);
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
