/*
 * eppath.c - keeping a path open: a tty or a unix socket, the pty: and
 * unix: backend, also used by pve:.
 *
 * A path that is down waits for the cheapest thing that can bring it
 * back.  A missing path is watched with inotify on its directory (or the
 * nearest existing ancestor) and nothing else: an idle relay must not
 * wake up periodically.  A path that exists but cannot be opened
 * (ECONNREFUSED, EIO, EACCES), or a directory that cannot be watched,
 * gets the lifecycle's backoff.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint_impl.h"
#include "sock.h"

/* A socket that has just appeared is retried this soon, doubling up to
 * where the backoff starts. */
#define QUICK_MIN_MS		1

static void	watch_hit(void *);

void
eppath_init(struct endpoint *ep)
{
	tty_claim_init(&ep->claim);
	pathwatch_init(&ep->watch, ep->base, watch_hit, ep);
}

void
eppath_free(struct endpoint *ep)
{
	pathwatch_free(&ep->watch);
	free(ep->tpath);
	ep->tpath = NULL;
}


/*
 * Pty numbers are reused: remember how a pty slave was named, so that
 * after a loss it is reopened only through a link made again since.
 */
static void
note_pty(struct endpoint *ep, int fd)
{
	struct stat	st, lst;

	ep->bare_pty = 0;
	ep->link_ino = 0;
	if (fstat(fd, &st) == -1 || !tty_is_pty(st.st_rdev))
		return;
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

static int
path_open(struct endpoint *ep)
{
	int	fd, err;

	ep->why[0] = '\0';
	if (ep->tkind != EP_TTY)
		return sock_unix_connect(ep->tpath);
	if (stale_link(ep)) {
		snprintf(ep->why, sizeof ep->why, "the link still names the "
		    "pty that was lost (its number may be reused): not "
		    "followed until it is made again");
		errno = ESTALE;
		return -1;
	}
	fd = tty_open(ep->tpath, ep->tflags, NULL, ep->why, sizeof ep->why);
	if (fd != -1 && tty_claim(&ep->claim, fd, 1, ep->why,
	    sizeof ep->why) == -1) {
		err = errno;
		close(fd);
		errno = err;
		fd = -1;
	}
	return fd;
}

int
endpoint_claim_tty(struct endpoint *ep, int fd, const char *what,
    const char *tty)
{
	char	why[160];

	tty_release(&ep->claim);
	if (tty_claim(&ep->claim, fd, 1, why, sizeof why) == 0)
		return 0;
	endpoint_note(ep, LOG_LVL_WARN, "%s: not opening %s: %s; retrying",
	    what, tty, why);
	endpoint_retry_backoff(ep);
	endpoint_set_status(ep, EP_RETRYING, tty, "%s: %s", tty, why);
	return -1;
}

/* A path known missing while its directory is watched needs no timer. */
static void
path_failed(struct endpoint *ep, int err, int watching)
{
	struct stat	 st;
	const char	*reason;
	char		 buf[PATH_MAX + sizeof ep->why + 2];
	enum log_level	 lvl = LOG_LVL_NOTICE;

	if (ep->tkind == EP_UNIX && err == ECONNREFUSED &&
	    stat(ep->tpath, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(ep->why, sizeof ep->why, "%s, not a socket",
		    tty_mode_name(st.st_mode));
		err = ENOTSOCK;
	}
	if (ep->why[0] != '\0')
		reason = ep->why;
	else if (ep->tkind == EP_TTY && err == ENXIO)
		reason = "no such device (a socket? use unix:PATH)";
	else
		reason = strerror(err);
	/* pve:999 waits for /var/run/qemu-server/999.serial0: say which. */
	if (strcmp(ep->tpath, ep->spec->path) != 0) {
		snprintf(buf, sizeof buf, "%s: %s", ep->tpath, reason);
		reason = buf;
	}
	/* Not what it must be (a file where a tty was): someone's mistake. */
	if (err == ENOTTY || err == EISDIR || err == ENOTSOCK)
		lvl = LOG_LVL_ERR;
	else if (err == EBUSY || err == ESTALE)
		lvl = LOG_LVL_WARN;
	if (watching && lstat(ep->tpath, &st) == -1 && errno == ENOENT) {
		endpoint_retry_cancel(ep);
		endpoint_set_status(ep, EP_WAITING, ep->tpath,
		    "waiting for %s", ep->tpath);
		endpoint_note(ep, LOG_LVL_NOTICE, "%s; waiting for it to "
		    "appear", reason);
		return;
	}
	if (lvl != LOG_LVL_NOTICE) {
		ep->quick_ms = 0;
		endpoint_retry_backoff(ep);
		endpoint_set_status(ep, EP_REFUSED, ep->tpath,
		    "refused %s (%s)", ep->tpath, reason);
		endpoint_note(ep, lvl, "%s; retrying", reason);
		return;
	}
	if (ep->quick_ms != 0 && err == ECONNREFUSED) {
		/*
		 * The socket has just appeared and refuses: its server (QEMU)
		 * binds, then listens, and the watch woke us in between.
		 * Nothing tells when it listens: look again soon.
		 */
		endpoint_retry_in(ep, ep->quick_ms);
		ep->quick_ms = ep->quick_ms * 2 < ep->retry.min_ms ?
		    ep->quick_ms * 2 : 0;
		endpoint_set_status(ep, EP_RETRYING, ep->tpath,
		    "retrying %s (%s)", ep->tpath, reason);
		endpoint_note(ep, LOG_LVL_NOTICE, "%s; retrying", reason);
		return;
	}
	ep->quick_ms = 0;
	endpoint_failed(ep, ep->tpath, err, reason);
}

void
endpoint_target_attempt(struct endpoint *ep)
{
	int	fd, watching = 0;

	if (ep->fd != -1 || ep->tpath == NULL)
		return;
	endpoint_retry_cancel(ep);
	/*
	 * Look first: a path that is there needs no watch, and a user has
	 * few inotify instances (128 by default) for hundreds of endpoints.
	 * Else watch, then look again: a path created in between is not
	 * missed.
	 */
	if ((fd = path_open(ep)) == -1) {
		watching = pathwatch_arm(&ep->watch, ep->tpath,
		    ep->name) == 0;
		fd = path_open(ep);
	}
	if (fd == -1) {
		path_failed(ep, errno, watching);
		return;
	}
	pathwatch_disarm(&ep->watch);
	ep->quick_ms = 0;
	if (ep->tkind == EP_TTY)
		note_pty(ep, fd);
	endpoint_opened(ep, fd, ep->tpath);
}

static void
watch_hit(void *arg)
{
	struct endpoint	*ep = arg;

	if (ep->fd == -1 && ep->tpath != NULL) {
		ep->quick_ms = QUICK_MIN_MS;
		endpoint_target_attempt(ep);
	}
}

void
endpoint_set_target(struct endpoint *ep, enum ep_kind kind, const char *path,
    int open_flags)
{
	char	*copy;
	int	 changed = kind != ep->tkind;

	endpoint_retry_cancel(ep);
	pathwatch_disarm(&ep->watch);
	if (path == NULL) {
		free(ep->tpath);
		ep->tpath = NULL;
		return;
	}
	if (ep->tpath == NULL || strcmp(path, ep->tpath) != 0) {
		if ((copy = strdup(path)) == NULL) {
			free(ep->tpath);
			ep->tpath = NULL;
			log_err("%s: %s: out of memory", ep->name, path);
			endpoint_set_status(ep, EP_REFUSED, path,
			    "out of memory");
			return;
		}
		free(ep->tpath);
		ep->tpath = copy;
		changed = 1;
	}
	if (changed) {			/* a new target: a fresh backoff */
		endpoint_retry_reset(ep);
		ep->note[0] = '\0';
	}
	ep->tkind = kind;
	ep->tflags = open_flags;
	if (ep->fd != -1)
		return;			/* takes effect when it is lost */
	endpoint_set_status(ep, EP_CONNECTING, ep->tpath, "opening %s",
	    ep->tpath);
	endpoint_retry_in(ep, 0);
}

static int
path_start(struct endpoint *ep, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	endpoint_set_target(ep, ep->spec->kind, ep->spec->path, 0);
	return 0;
}

/*
 * A pty named by its number alone is not reopened: the number goes to the
 * next pty opened anywhere, an admin's shell, say.
 */
static void
path_lost(struct endpoint *ep, const char *why, int stable)
{
	if (!ep->bare_pty) {
		endpoint_reopen(ep, why, stable);
		return;
	}
	log_warn("%s: lost (%s); not reopened: a pty named by its number "
	    "alone may next be another program's terminal; reload or restart "
	    "the pair, or name it by a link (socat link=) or by its VM (xen:, "
	    "pve:)", ep->name, why != NULL && *why != '\0' ? why : "gone");
	free(ep->tpath);
	ep->tpath = NULL;
	pthread_mutex_lock(&ep->lock);
	ep->spent = 1;
	pthread_mutex_unlock(&ep->lock);
	endpoint_set_status(ep, EP_REFUSED, ep->label, "lost %s; not reopened "
	    "(a bare pty)", ep->label);
}

const struct ep_backend ep_backend_path = {
	.start = path_start,
	.lost = path_lost,
	.retry = endpoint_target_attempt,
};
