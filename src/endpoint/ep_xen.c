/*
 * ep_xen.c - xen:NAME, a Xen domain's serial pty found and followed by name.
 *
 * The domain is looked up by name in xenstore (no index: a table of every
 * domain's name, kept current by watches), then its pty: the stubdomain's
 * console 3 when a domain NAME-dm exists (Qubes), else serial/N/tty, or
 * the PV console with the console option.  One watch on /local/domain sees
 * every write below it; only writes to a domain's node itself, its name,
 * or the nodes we follow cause any work, so a busy store costs no rescans.
 *
 * Everything there is writable by the guest, so a tty value is used only
 * if it is exactly /dev/pts/<digits>, is opened with O_NOFOLLOW, and must
 * turn out to be a pty slave.  A name two domains claim is refused.  While
 * we hold a pty we hold xl console's lock for that domain, so that the two
 * do not steal each other's bytes, and claim the pty as any tty is claimed
 * (another reader refused, the UUCP lock, TIOCEXCL).  Each refusal or wait is logged once.
 *
 * The pty is opened here, once per value, and never waited for or opened
 * again by path: pty numbers are reused, so a /dev/pts/N that is missing
 * or has closed may next be someone else's terminal.  After a loss the
 * node must be written again (a new QEMU or console daemon does that).
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "endpoint_backend.h"
#include "log.h"
#include "tty.h"
#include "xendom.h"
#include "xentrack.h"
#include "xenwatch.h"

#ifdef HAVE_XENSTORE

#define LOCK_DIR_ENV		"KDRELAY_XEN_LOCK_DIR"
#define LOCK_DIR_DEFAULT	"/var/lock"

struct epxen {
	struct endpoint	*ep;
	struct xentrack	*xt;		/* every domain's name */
	struct xenwatch	*xw;		/* its connection, for our reads */
	char		 stubname[EP_NAME_MAX + 8];

	/* Followed: a write to either path makes us look again. */
	char		 node[XENDOM_PATH_MAX];		/* the tty's node */
	char		 dmnode[XENDOM_PATH_MAX];	/* device-model-domid */

	/* Held: the pty given to the endpoint and xl console's lock. */
	char		 tty[XENDOM_TTY_MAX + 1];	/* "" none */
	unsigned	 guest;				/* the domain named */
	unsigned	 domid;				/* of the console */
	int		 gone;		/* seen to die (not just missing) */
	int		 lockfd;
	char		 lockpath[PATH_MAX];

	/* "node=value" not to be opened again until the node is written. */
	char		 spent[XENDOM_PATH_MAX + XENDOM_TTY_MAX + 2];
	int		 node_written;

	char		 owner_note[XENDOM_PATH_MAX + XENDOM_TTY_MAX + 2];
};

static void	reconcile(struct epxen *);

/* ---- xl console's lock ---- */

static const char *
lock_dir(void)
{
	const char	*d = getenv(LOCK_DIR_ENV);

	return d != NULL && *d != '\0' ? d : LOCK_DIR_DEFAULT;
}

/*
 * flock <lockdir>/xenconsole.<domid> as xl console does.  The file is
 * removed when released, so check that the one locked is still the one
 * named.  -1 with errno (EWOULDBLOCK: someone else holds it).
 */
static int
lock_take(struct epxen *ex, unsigned domid)
{
	struct stat	fst, pst;
	int		fd, tries, err;

	if (snprintf(ex->lockpath, sizeof ex->lockpath, "%s/xenconsole.%u",
	    lock_dir(), domid) >= (int)sizeof ex->lockpath) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (tries = 0; tries < 3; tries++) {
		fd = open(ex->lockpath, O_RDWR | O_CREAT | O_NOFOLLOW |
		    O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0600);
		if (fd == -1)
			return -1;
		if (fstat(fd, &fst) == -1)
			goto fail;
		if (!S_ISREG(fst.st_mode)) {
			errno = EINVAL;
			goto fail;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1)
			goto fail;
		if (stat(ex->lockpath, &pst) == 0 && pst.st_dev == fst.st_dev &&
		    pst.st_ino == fst.st_ino) {
			ex->lockfd = fd;
			return 0;
		}
		close(fd);		/* unlinked under us: take the new one */
	}
	errno = EAGAIN;
	return -1;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static void
lock_release(struct epxen *ex)
{
	if (ex->lockfd == -1)
		return;
	unlink(ex->lockpath);
	close(ex->lockfd);
	ex->lockfd = -1;
}

/* ---- holding a pty ---- */

static void
release(struct epxen *ex, const char *why)
{
	endpoint_retry_cancel(ex->ep);
	if (ex->tty[0] == '\0')
		return;
	ex->tty[0] = '\0';
	if (endpoint_fd(ex->ep) != -1)
		endpoint_drop(ex->ep, why);
	lock_release(ex);
}

/* Do not open node's value tty again until the node is written. */
static void
spend(struct epxen *ex, const char *tty)
{
	snprintf(ex->spent, sizeof ex->spent, "%s=%s", ex->node, tty);
}

static int
is_spent(const struct epxen *ex, const char *tty)
{
	char	key[sizeof ex->spent];

	snprintf(key, sizeof key, "%s=%s", ex->node, tty);
	return strcmp(key, ex->spent) == 0;
}

/* Whatever the store said, only a pty slave is accepted. */
static int
is_pty_slave(int fd, struct stat *st)
{
	return fstat(fd, st) == 0 && S_ISCHR(st->st_mode) &&
	    tty_is_pty(st->st_rdev);
}

/* Whatever the store said, st is no pty slave: wait for another value. */
static void
refuse_not_pty(struct epxen *ex, const char *what, const char *tty,
    const struct stat *st)
{
	spend(ex, tty);
	endpoint_note(ex->ep, LOG_LVL_WARN, "%s: refusing %s: not a pty slave "
	    "(mode %o, device %u:%u); waiting for %s to be written again",
	    what, tty, (unsigned)st->st_mode, major(st->st_rdev),
	    minor(st->st_rdev), ex->node);
	endpoint_set_status(ex->ep, EP_REFUSED, tty, "refused %s", tty);
}

/* An open that failed: worth retrying, or the value names no pty now? */
static int
open_transient(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
	case ENXIO:
	case ENODEV:
	case EISDIR:
		return 0;
	}
	return 1;
}

/*
 * Take domid's lock, open tty and hand it to the relay.  Runs from the
 * loop only (endpoint_attach calls the relay back).
 */
static void
take(struct epxen *ex, const char *what, unsigned guest, unsigned domid,
    const char *tty, int stub)
{
	struct stat	st;
	int		fd, err;

	if (lock_take(ex, domid) == -1) {
		if (errno == EWOULDBLOCK)
			endpoint_note(ex->ep, LOG_LVL_WARN,
			    "%s: %s is locked by another "
			    "reader (xl console attached?); not opening %s, "
			    "retrying", what, ex->lockpath, tty);
		else
			endpoint_note(ex->ep, LOG_LVL_WARN,
			    "%s: cannot lock %s (%s); not "
			    "opening %s, retrying", what, ex->lockpath,
			    strerror(errno), tty);
		endpoint_retry_backoff(ex->ep);
		endpoint_set_status(ex->ep, EP_RETRYING, ex->lockpath,
		    "waiting for the lock %s", ex->lockpath);
		return;
	}
	if ((fd = tty_open_raw(tty, O_NOFOLLOW)) == -1) {
		err = errno;
		lock_release(ex);
		/* tty_open refuses what is no tty: refuse it as ours would. */
		if (err == ENOTTY && lstat(tty, &st) == 0) {
			refuse_not_pty(ex, what, tty, &st);
			return;
		}
		if (open_transient(err)) {
			endpoint_note(ex->ep, LOG_LVL_WARN,
			    "%s: cannot open %s (%s); "
			    "retrying", what, tty, strerror(err));
			endpoint_retry_backoff(ex->ep);
			endpoint_set_status(ex->ep, EP_RETRYING, tty,
			    "retrying %s (%s)", tty, strerror(err));
			return;
		}
		spend(ex, tty);
		endpoint_note(ex->ep, LOG_LVL_WARN,
		    "%s: cannot open %s (%s); waiting for "
		    "%s to be written again", what, tty, strerror(err),
		    ex->node);
		endpoint_set_status(ex->ep, EP_WAITING, ex->node,
		    "waiting for %s", ex->node);
		return;
	}
	if (!is_pty_slave(fd, &st)) {
		close(fd);
		lock_release(ex);
		refuse_not_pty(ex, what, tty, &st);
		return;
	}
	/* One reader, as for any tty: the UUCP lock and TIOCEXCL. */
	if (endpoint_claim_tty(ex->ep, fd, what, tty) == -1) {
		close(fd);
		lock_release(ex);
		return;
	}
	snprintf(ex->tty, sizeof ex->tty, "%s", tty);
	ex->guest = guest;
	ex->domid = domid;
	ex->gone = 0;
	endpoint_retry_reset(ex->ep);
	ex->spent[0] = '\0';
	endpoint_set_crlf_guess(ex->ep, stub);
	endpoint_note(ex->ep, LOG_LVL_NOTICE, "%s: opening %s%s", what, tty,
	    stub ? " (a stubdomain console: CRLF repair guessed on)" : "");
	endpoint_opened(ex->ep, fd, tty);	/* last: it may call xen_lost */
}

/* ---- reading the store ---- */

/* Once per node and value: who may write it (informational). */
static void
note_owner(struct epxen *ex, const char *node, const char *tty)
{
	char		key[sizeof ex->owner_note];
	unsigned	owner;

	snprintf(key, sizeof key, "%s=%s", node, tty);
	if (strcmp(key, ex->owner_note) == 0)
		return;
	strcpy(ex->owner_note, key);
	if (xenwatch_owner(ex->xw, node, &owner) == 0 && owner != 0)
		log_info("%s: %s is owned by domain %u: a guest-controlled "
		    "value, checked before use", endpoint_name(ex->ep), node,
		    owner);
}

/* The domain's console: its stubdomain's console 3 if it has one. */
static int
pick_console(struct epxen *ex, unsigned domid, unsigned *cons, int *stub,
    char *what, size_t wlen)
{
	const struct ep_spec	*sp = endpoint_spec(ex->ep);
	unsigned		 dm[2], declared, len;
	size_t			 n;
	char			*v;
	int			 have_decl = 0;

	*stub = 0;
	*cons = domid;
	ex->dmnode[0] = '\0';
	if (sp->console) {
		snprintf(ex->node, sizeof ex->node,
		    "/local/domain/%u/console/tty", domid);
		snprintf(what, wlen, "domain %s (domid %u) PV console",
		    sp->name, domid);
		return 0;
	}
	snprintf(ex->dmnode, sizeof ex->dmnode,
	    "/local/domain/%u/image/device-model-domid", domid);
	v = xenwatch_read(ex->xw, ex->dmnode, &len);
	if (v == NULL && errno != ENOENT)
		return -1;
	if (v != NULL) {
		have_decl = memchr(v, '\0', len) == NULL &&
		    xendom_parse_domid(v, &declared) == 0;
		free(v);
	}
	n = xendoms_find(xentrack_domains(ex->xt), ex->stubname, dm, 2);
	if (n > 1) {
		endpoint_note(ex->ep, LOG_LVL_WARN,
		    "refusing domain %s: its stubdomain "
		    "name %s is claimed by domains %u and %u (ambiguous)",
		    sp->name, ex->stubname, dm[0], dm[1]);
		endpoint_set_status(ex->ep, EP_REFUSED, ex->stubname,
		    "refused: %s is ambiguous", ex->stubname);
		return 1;
	}
	if (n == 1 && have_decl && declared != dm[0]) {
		endpoint_note(ex->ep, LOG_LVL_WARN,
		    "refusing domain %s: %s is domain %u "
		    "but %s names domain %u", sp->name, ex->stubname, dm[0],
		    ex->dmnode, declared);
		endpoint_set_status(ex->ep, EP_REFUSED, ex->stubname,
		    "refused: inconsistent stubdomain");
		return 1;
	}
	if (n == 1) {
		*stub = 1;
		*cons = dm[0];
		snprintf(ex->node, sizeof ex->node,
		    "/local/domain/%u/device/console/%d/tty", dm[0],
		    XENDOM_STUB_CONSOLE);
		snprintf(what, wlen, "domain %s (domid %u) via stubdomain "
		    "%s (domid %u) console %d", sp->name, domid,
		    ex->stubname, dm[0], XENDOM_STUB_CONSOLE);
		return 0;
	}
	snprintf(ex->node, sizeof ex->node, "/local/domain/%u/serial/%d/tty",
	    domid, sp->serial);
	snprintf(what, wlen, "domain %s (domid %u) serial %d", sp->name,
	    domid, sp->serial);
	return 0;
}

/*
 * The store has no usable pty for us.  What is open stays open unless its
 * domain was seen to go: right after xenstored comes back, or before a
 * restarted toolstack has written everything, the store is not the whole
 * truth, and the pty itself says when it ends (EOF, EIO).
 */
static int
keep_open(struct epxen *ex, const char *state)
{
	if (endpoint_fd(ex->ep) == -1 || ex->gone)
		return 0;
	endpoint_note(ex->ep, LOG_LVL_NOTICE,
	    "%s; keeping %s open while it works", state,
	    ex->tty);
	return 1;
}

/* Make what we hold match the store. */
static void
reconcile(struct epxen *ex)
{
	const struct ep_spec	*sp = endpoint_spec(ex->ep);
	unsigned		 ids[2], cons, len;
	size_t			 n;
	char			 what[384], state[600], q[96], *v;
	const char		*why;
	int			 stub, r;

	if (!xentrack_synced(ex->xt) || !xenwatch_connected(ex->xw))
		return;
	n = xendoms_find(xentrack_domains(ex->xt), sp->name, ids, 2);
	if (n == 0) {
		ex->node[0] = ex->dmnode[0] = '\0';
		snprintf(state, sizeof state, "domain %s is not in xenstore",
		    sp->name);
		if (keep_open(ex, state))
			return;
		release(ex, "the domain is gone");
		endpoint_note(ex->ep, LOG_LVL_NOTICE,
		    "domain %s is not running; waiting "
		    "for it", sp->name);
		endpoint_set_status(ex->ep, EP_WAITING, sp->name,
		    "waiting for domain %s", sp->name);
		return;
	}
	if (n > 1) {
		ex->node[0] = ex->dmnode[0] = '\0';
		release(ex, "the domain name is ambiguous");
		endpoint_note(ex->ep, LOG_LVL_WARN,
		    "refusing: the name %s is claimed by "
		    "domains %u and %u (ambiguous)", sp->name, ids[0], ids[1]);
		endpoint_set_status(ex->ep, EP_REFUSED, sp->name,
		    "refused: %s is ambiguous", sp->name);
		return;
	}
	if ((r = pick_console(ex, ids[0], &cons, &stub, what,
	    sizeof what)) != 0) {
		if (r == 1)
			release(ex, "refused");
		return;
	}
	if ((v = xenwatch_read(ex->xw, ex->node, &len)) == NULL) {
		if (errno != ENOENT)
			return;		/* xenstored lost: keep what we have */
		snprintf(state, sizeof state, "%s: %s does not exist", what,
		    ex->node);
		if (keep_open(ex, state))
			return;
		release(ex, "its tty node is gone");
		endpoint_note(ex->ep, LOG_LVL_INFO,
		    "%s: waiting for %s", what, ex->node);
		endpoint_set_status(ex->ep, EP_WAITING, ex->node,
		    "waiting for %s", ex->node);
		return;
	}
	if (xendom_tty_valid(v, len, &why) == -1) {
		xendom_quote(v, len, q, sizeof q);
		free(v);
		release(ex, "its tty value is not acceptable");
		endpoint_note(ex->ep, LOG_LVL_WARN,
		    "%s: refusing %s = \"%s\" (%s); waiting "
		    "for a valid value", what, ex->node, q, why);
		endpoint_set_status(ex->ep, EP_REFUSED, ex->node,
		    "refused the value of %s", ex->node);
		return;
	}
	if (strcmp(v, ex->tty) == 0 && cons == ex->domid) {
		ex->guest = ids[0];
		free(v);
		return;			/* unchanged */
	}
	release(ex, "the domain's tty changed");
	if (is_spent(ex, v)) {
		endpoint_note(ex->ep, LOG_LVL_NOTICE,
		    "%s: waiting for %s to be written "
		    "again (%s closed or cannot be used)", what, ex->node, v);
		endpoint_set_status(ex->ep, EP_WAITING, ex->node,
		    "waiting for %s", ex->node);
		free(v);
		return;
	}
	note_owner(ex, ex->node, v);
	take(ex, what, ids[0], cons, v, stub);
	free(v);
}

/* ---- events ---- */

/* A domain died (an event said so): was it one we hold? */
static void
mark_gone(struct epxen *ex)
{
	const struct xendoms	*doms = xentrack_domains(ex->xt);

	if (ex->tty[0] != '\0' && (xendoms_get(doms, ex->guest) == NULL ||
	    xendoms_get(doms, ex->domid) == NULL))
		ex->gone = 1;
}

static void
work(void *arg, int released)
{
	struct epxen	*ex = arg;

	if (released)
		mark_gone(ex);
	if (ex->node_written)
		ex->spent[0] = '\0';	/* a new value, or the same anew */
	ex->node_written = 0;
	reconcile(ex);
}

/* One of ours was re-read: did it die? */
static void
domain(void *arg, unsigned domid)
{
	struct epxen	*ex = arg;

	if (domid == ex->guest || domid == ex->domid)
		mark_gone(ex);
}

/* Any other write: only the nodes we follow matter. */
static int
other(void *arg, const char *path)
{
	struct epxen	*ex = arg;

	if (!xendom_path_covers(path, ex->node) &&
	    !xendom_path_covers(path, ex->dmnode))
		return 0;
	if (strcmp(path, ex->node) == 0)
		ex->node_written = 1;
	return 1;
}

/* ---- the backend ---- */

static void	xen_stop(struct endpoint *);

static int
xen_start(struct endpoint *ep, char *err, size_t errlen)
{
	const struct ep_spec	*sp = endpoint_spec(ep);
	struct epxen		*ex;
	char			 who[256], why[512];
	const struct xentrack_cbs cbs = { other, domain, work, NULL };

	if (xenwatch_load(why, sizeof why) == -1) {
		snprintf(err, errlen, "%s: %s", endpoint_name(ep), why);
		return -1;
	}
	if ((ex = calloc(1, sizeof *ex)) == NULL)
		goto nomem;
	ex->ep = ep;
	ex->lockfd = -1;
	endpoint_retry_reset(ex->ep);
	snprintf(ex->stubname, sizeof ex->stubname, "%s%s", sp->name,
	    XENDOM_STUB_SUFFIX);
	endpoint_set_data(ep, ex);
	snprintf(who, sizeof who, "%s", endpoint_name(ep));
	if ((ex->xt = xentrack_new(endpoint_base(ep), who, &cbs, ex)) == NULL)
		goto nomem;
	ex->xw = xentrack_xenwatch(ex->xt);
	endpoint_set_status(ep, EP_CONNECTING, "xenstore",
	    "connecting to xenstore");
	return 0;
nomem:
	snprintf(err, errlen, "%s: %s", endpoint_name(ep), strerror(ENOMEM));
	xen_stop(ep);
	return -1;
}

/*
 * The relay lost the pty (EOF, EIO: its master closed).  It is gone for
 * good: a pty with its number later is another one.
 */
static void
xen_lost(struct endpoint *ep, const char *why, int stable)
{
	struct epxen	*ex = endpoint_data(ep);

	(void)stable;		/* nothing is reopened by path */
	log_notice("%s: lost (%s)", endpoint_name(ep), why);
	if (ex->tty[0] != '\0')
		spend(ex, ex->tty);
	ex->tty[0] = '\0';
	lock_release(ex);
	endpoint_set_status(ep, EP_WAITING, ex->node, "waiting for %s",
	    ex->node);
	xentrack_wake(ex->xt);		/* is its domain going? */
}

static void
xen_stop(struct endpoint *ep)
{
	struct epxen	*ex = endpoint_data(ep);

	if (ex == NULL)
		return;
	xentrack_free(ex->xt);
	lock_release(ex);
	free(ex);
	endpoint_set_data(ep, NULL);
}

/* The lock was busy, or an open failed for a while. */
static void
xen_retry(struct endpoint *ep)
{
	reconcile(endpoint_data(ep));
}

const struct ep_backend ep_backend_xen = {
	.start = xen_start,
	.lost = xen_lost,
	.retry = xen_retry,
	.stop = xen_stop,
};

#endif /* HAVE_XENSTORE */
