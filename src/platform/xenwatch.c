/*
 * xenwatch.c - a xenstore connection on a libevent loop, with reconnect.
 *
 * libxenstore (loaded on first use: xsapi.h) has a reader thread that
 * queues watch events and makes xs_fileno() readable; we drain them from
 * the loop.  When xenstored dies that thread just stops, without a word on
 * the watch fd, so an idle second connection to the daemon's socket is
 * watched for EOF instead (none when the store is reached through
 * /dev/xen/xenbus, a device that does not go away).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "retry.h"
#include "sock.h"
#include "xendom.h"
#include "xenwatch.h"

#ifdef HAVE_XENSTORE
#include "xsapi.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	2000
#define BATCH_MAX	256	/* events per wakeup: let the relay breathe */
/*
 * libxenstore's own default, to recognise a Xen host whose libxenstore is
 * missing (so that the admin is told to install it).
 */
#define XS_SOCKET_DEFAULT	"/var/run/xenstored/socket"

struct xenwatch {
	struct event_base	*base;
	char			 who[128];
	char			**paths;
	size_t			 npaths;
	unsigned char		*initial;	/* its first fire not seen */
	xenwatch_fire_cb	 fire;
	xenwatch_state_cb	 state;
	void			*arg;

	struct xs_handle	*xs;
	int			 sfd;		/* the sentinel, -1 none */
	struct event		*ev_watch;
	struct event		*ev_sentinel;
	struct retry		 retry;		/* connecting */
	struct event		*ev_notify;
	unsigned		 gen;		/* bumped on every loss */
	int			 up;
	int			 ever_up;
	int			 fail_logged;
};

static void	connect_cb(evutil_socket_t, short, void *);

static void
teardown(struct xenwatch *xw)
{
	if (xw->ev_watch != NULL) {
		event_free(xw->ev_watch);
		xw->ev_watch = NULL;
	}
	if (xw->ev_sentinel != NULL) {
		event_free(xw->ev_sentinel);
		xw->ev_sentinel = NULL;
	}
	if (xw->sfd != -1) {
		close(xw->sfd);
		xw->sfd = -1;
	}
	if (xw->xs != NULL) {
		xsapi.close(xw->xs);	/* cancels and joins its reader */
		xw->xs = NULL;
	}
}

static void
lose(struct xenwatch *xw, const char *why)
{
	if (!xw->up)
		return;
	teardown(xw);
	xw->up = 0;
	xw->gen++;
	retry_reset(&xw->retry);
	xw->fail_logged = 1;		/* "reconnecting" says it all */
	log_notice("%s: lost the connection to xenstored (%s); reconnecting",
	    xw->who, why);
	retry_backoff(&xw->retry);
	event_active(xw->ev_notify, 0, 0);
}

/* A request failed with err: a missing node, or a dead connection? */
static void
check_errno(struct xenwatch *xw, int err)
{
	switch (err) {
	case ENOENT:
	case EACCES:
	case EPERM:
	case E2BIG:
	case ENOSPC:
	case EEXIST:
	case EISDIR:
	case EAGAIN:
	case EBUSY:
	case EROFS:
	case ENOTEMPTY:
		return;
	}
	lose(xw, strerror(err));
	errno = err;
}

/*
 * The fire every watch makes as it is set says nothing new: the owner
 * resyncs on the state callback.  Swallowing it keeps "this changed"
 * events apart from "this is how things are".
 */
static int
initial_fire(struct xenwatch *xw, const char *path, const char *token)
{
	unsigned long	 i;
	char		*end;

	i = strtoul(token, &end, 10);
	if (*token == '\0' || *end != '\0' || i >= xw->npaths ||
	    !xw->initial[i] || strcmp(path, xw->paths[i]) != 0)
		return 0;
	xw->initial[i] = 0;
	return 1;
}

static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xenwatch	*xw = arg;
	unsigned	 gen = xw->gen, i;
	char		**w;

	(void)fd;
	(void)what;
	for (i = 0; i < BATCH_MAX && xw->up && xw->gen == gen; i++) {
		if ((w = xsapi.check_watch(xw->xs)) == NULL) {
			if (errno != EAGAIN)
				lose(xw, "the watch queue failed");
			return;
		}
		if (!initial_fire(xw, w[XS_WATCH_PATH], w[XS_WATCH_TOKEN]))
			xw->fire(xw->arg, w[XS_WATCH_PATH]);
		free(w);
	}
}

static void
sentinel_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xenwatch	*xw = arg;
	char		 buf[256];
	ssize_t		 n;

	(void)what;
	n = read(fd, buf, sizeof buf);
	if (n == 0)
		lose(xw, "xenstored closed the connection");
	else if (n == -1 && errno != EAGAIN && errno != EINTR)
		lose(xw, strerror(errno));
}

/* An idle connection to the daemon's socket; -1 when there is none. */
static int
sentinel_open(void)
{
	struct stat	 st;
	const char	*path = xsapi.daemon_socket();

	if (path == NULL || stat(path, &st) == -1 || !S_ISSOCK(st.st_mode))
		return -1;
	return sock_unix_connect(path);
}

static int
try_connect(struct xenwatch *xw)
{
	char	tok[24];
	size_t	i;
	int	fd;

	if ((xw->xs = xsapi.open(0)) == NULL)
		return -1;
	memset(xw->initial, 1, xw->npaths);
	for (i = 0; i < xw->npaths; i++) {
		snprintf(tok, sizeof tok, "%zu", i);
		if (!xsapi.watch(xw->xs, xw->paths[i], tok))
			return -1;
	}
	if ((fd = xsapi.fileno(xw->xs)) == -1)
		return -1;
	xw->ev_watch = event_new(xw->base, fd, EV_READ | EV_PERSIST, watch_cb,
	    xw);
	if (xw->ev_watch == NULL || event_add(xw->ev_watch, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	/* After the watches: a daemon that died meanwhile shows as EOF. */
	if ((xw->sfd = sentinel_open()) != -1) {
		xw->ev_sentinel = event_new(xw->base, xw->sfd,
		    EV_READ | EV_PERSIST, sentinel_cb, xw);
		if (xw->ev_sentinel == NULL ||
		    event_add(xw->ev_sentinel, NULL) == -1) {
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

static void
connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xenwatch	*xw = arg;
	int		 err;

	(void)fd;
	(void)what;
	if (xw->up)
		return;
	if (try_connect(xw) == -1) {
		err = errno;
		teardown(xw);
		if (!xw->fail_logged) {
			log_notice("%s: cannot reach xenstored (%s); retrying",
			    xw->who, strerror(err));
			xw->fail_logged = 1;
		}
		retry_backoff(&xw->retry);
		return;
	}
	xw->up = 1;
	retry_reset(&xw->retry);
	if (xw->ever_up)
		log_notice("%s: connected to xenstored again", xw->who);
	else if (xw->fail_logged)
		log_notice("%s: connected to xenstored", xw->who);
	else
		log_debug("%s: connected to xenstored", xw->who);
	xw->ever_up = 1;
	xw->fail_logged = 0;
	event_active(xw->ev_notify, 0, 0);
}

static void
notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xenwatch	*xw = arg;

	(void)fd;
	(void)what;
	if (xw->state != NULL)
		xw->state(xw->arg, xw->up);
}

struct xenwatch *
xenwatch_new(struct event_base *base, const char *who,
    const char *const *paths, size_t npaths, xenwatch_fire_cb fire,
    xenwatch_state_cb state, void *arg)
{
	struct xenwatch	*xw;
	size_t		 i;
	char		 err[1];

	if (xsapi_load(err, sizeof err) == -1) {
		errno = ELIBACC;
		return NULL;
	}
	if ((xw = calloc(1, sizeof *xw)) == NULL)
		return NULL;
	xw->base = base;
	snprintf(xw->who, sizeof xw->who, "%s", who);
	xw->fire = fire;
	xw->state = state;
	xw->arg = arg;
	xw->sfd = -1;
	if ((xw->paths = calloc(npaths + 1, sizeof *xw->paths)) == NULL ||
	    (xw->initial = calloc(npaths + 1, 1)) == NULL)
		goto fail;
	for (i = 0; i < npaths; i++) {
		if ((xw->paths[i] = strdup(paths[i])) == NULL)
			goto fail;
		xw->npaths = i + 1;
	}
	xw->ev_notify = event_new(base, -1, 0, notify_cb, xw);
	if (retry_init(&xw->retry, base, BACKOFF_MIN_MS, BACKOFF_MAX_MS,
	    connect_cb, xw) == -1 || xw->ev_notify == NULL)
		goto fail;
	retry_in(&xw->retry, 0);
	return xw;
fail:
	xenwatch_free(xw);
	return NULL;
}

void
xenwatch_free(struct xenwatch *xw)
{
	size_t	i;

	if (xw == NULL)
		return;
	teardown(xw);
	retry_free(&xw->retry);
	if (xw->ev_notify != NULL)
		event_free(xw->ev_notify);
	for (i = 0; i < xw->npaths; i++)
		free(xw->paths[i]);
	free(xw->paths);
	free(xw->initial);
	free(xw);
}

int
xenwatch_connected(const struct xenwatch *xw)
{
	return xw->up;
}

char *
xenwatch_read(struct xenwatch *xw, const char *path, unsigned *len)
{
	char	*v;

	if (!xw->up) {
		errno = ENOTCONN;
		return NULL;
	}
	if ((v = xsapi.read(xw->xs, XBT_NULL, path, len)) == NULL)
		check_errno(xw, errno);
	return v;
}

char **
xenwatch_directory(struct xenwatch *xw, const char *path, unsigned *n)
{
	char	**v;

	if (!xw->up) {
		errno = ENOTCONN;
		return NULL;
	}
	if ((v = xsapi.directory(xw->xs, XBT_NULL, path, n)) == NULL)
		check_errno(xw, errno);
	return v;
}

int
xenwatch_owner(struct xenwatch *xw, const char *path, unsigned *domid)
{
	struct xs_permissions	*p;
	unsigned		 n;

	if (!xw->up) {
		errno = ENOTCONN;
		return -1;
	}
	if ((p = xsapi.get_permissions(xw->xs, XBT_NULL, path, &n)) == NULL) {
		check_errno(xw, errno);
		return -1;
	}
	if (n == 0) {
		free(p);
		errno = ENOENT;
		return -1;
	}
	*domid = p[0].id;
	free(p);
	return 0;
}

int
xenwatch_read_domain(struct xenwatch *xw, struct xendoms *t, unsigned domid)
{
	char		 path[XENDOM_PATH_MAX], *name;
	unsigned	 len;
	int		 rc = 0;

	snprintf(path, sizeof path, "/local/domain/%u/name", domid);
	if ((name = xenwatch_read(xw, path, &len)) == NULL) {
		if (errno != ENOENT)
			return -1;
		xendoms_remove(t, domid);
		return 0;
	}
	if (xendoms_set(t, domid, name, len) == -1)
		rc = -1;
	free(name);
	return rc;
}

int
xenwatch_scan_domains(struct xenwatch *xw, struct xendoms *t)
{
	struct xendoms	  nt;
	char		**ents;
	unsigned	  n, i, domid;

	if ((ents = xenwatch_directory(xw, "/local/domain", &n)) == NULL) {
		if (errno != ENOENT)
			return -1;
		n = 0;
	}
	xendoms_init(&nt);
	for (i = 0; i < n; i++) {
		if (xendom_parse_domid(ents[i], &domid) == -1)
			continue;
		if (xenwatch_read_domain(xw, &nt, domid) == -1) {
			free(ents);
			xendoms_clear(&nt);
			return -1;
		}
	}
	free(ents);
	xendoms_clear(t);
	*t = nt;
	return 0;
}

int
xenwatch_load(char *err, size_t errlen)
{
	return xsapi_load(err, errlen);
}

int
xenwatch_available(void)
{
	const char	*s = XS_SOCKET_DEFAULT;
	char		 dir[PATH_MAX], *slash, err[1];

	if (getenv("XENSTORED_PATH") != NULL ||
	    access("/dev/xen/xenbus", F_OK) == 0 ||
	    access("/proc/xen/xenbus", F_OK) == 0)
		return 1;
	if (xsapi_load(err, sizeof err) == 0)
		s = xsapi.daemon_socket();
	if (s == NULL)
		return 0;
	if (access(s, F_OK) == 0)
		return 1;
	/* xenstored restarting: its run directory is still there. */
	snprintf(dir, sizeof dir, "%s", s);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		return access(dir, F_OK) == 0;
	}
	return 0;
}

#else /* !HAVE_XENSTORE */

struct xenwatch *
xenwatch_new(struct event_base *base, const char *who,
    const char *const *paths, size_t npaths, xenwatch_fire_cb fire,
    xenwatch_state_cb state, void *arg)
{
	(void)base;
	(void)who;
	(void)paths;
	(void)npaths;
	(void)fire;
	(void)state;
	(void)arg;
	errno = ENOSYS;
	return NULL;
}

void
xenwatch_free(struct xenwatch *xw)
{
	(void)xw;
}

int
xenwatch_connected(const struct xenwatch *xw)
{
	(void)xw;
	return 0;
}

char *
xenwatch_read(struct xenwatch *xw, const char *path, unsigned *len)
{
	(void)xw;
	(void)path;
	(void)len;
	errno = ENOSYS;
	return NULL;
}

char **
xenwatch_directory(struct xenwatch *xw, const char *path, unsigned *n)
{
	(void)xw;
	(void)path;
	(void)n;
	errno = ENOSYS;
	return NULL;
}

int
xenwatch_owner(struct xenwatch *xw, const char *path, unsigned *domid)
{
	(void)xw;
	(void)path;
	(void)domid;
	errno = ENOSYS;
	return -1;
}

int
xenwatch_scan_domains(struct xenwatch *xw, struct xendoms *t)
{
	(void)xw;
	(void)t;
	errno = ENOSYS;
	return -1;
}

int
xenwatch_read_domain(struct xenwatch *xw, struct xendoms *t, unsigned domid)
{
	(void)xw;
	(void)t;
	(void)domid;
	errno = ENOSYS;
	return -1;
}

int
xenwatch_load(char *err, size_t errlen)
{
	snprintf(err, errlen, "xenstore is not supported in this build");
	return -1;
}

int
xenwatch_available(void)
{
	return 0;
}

#endif
