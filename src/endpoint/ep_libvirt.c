/*
 * ep_libvirt.c - libvirt:NAME, a libvirt domain's serial port, followed
 * through stop, start and restart.
 *
 * The shared watcher (virtwatch.c) tells us, on our own loop, when the
 * domain or the connection to libvirtd changes; we read the domain's
 * live XML from it and make what we hold match:
 *   pty                 the pty, opened here once per start of the domain
 *                       (a pty number is reused: after a loss it may be
 *                       someone else's), exactly /dev/pts/<digits>, with
 *                       O_NOFOLLOW, and it must be a pty slave;
 *   unix mode='bind'    QEMU listens: connected to, reconnected at once
 *                       when it comes back (the endpoint machinery);
 *   tcp mode='bind'     QEMU listens: connected to with tcp:'s connector
 *                       (eptcp_new), retried with the backoff;
 *   unix/tcp mode='connect'
 *                       QEMU connects: we listen there with the
 *                       listener (eplisten_new, sock.c's rules: a tcp
 *                       address on loopback unless allow-remote, a unix
 *                       path absolute, replacing only a stale socket),
 *                       while the domain is defined, from its config
 *                       while it is stopped: QEMU connects as it
 *                       starts, and libvirt labels the socket then.
 * Other kinds (file, null...) are refused and said once.
 *
 * libvirt's console locking: `virsh console` (virDomainOpenConsole) has
 * libvirtd take a UUCP-style lock file, /var/lock/LCK.._pts_N (the path
 * after /dev, each / an _) holding its pid, while it streams a pty.  We take the same lock while we hold the pty and do not
 * open a pty someone else has locked, so that the two do not steal each
 * other's bytes; a lock whose pid is gone is stale and removed, as libvirt
 * does.  libvirtd going away keeps what is open (the pty says when it
 * ends); its return brings a fresh look.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "endpoint_backend.h"
#include "log.h"
#include "tty.h"
#include "virtwatch.h"
#include "virxml.h"
#include "xendom.h"

#ifdef HAVE_LIBVIRT

#define LOCK_DIR_ENV		"KDRELAY_LIBVIRT_LOCK_DIR"
#define LOCK_DIR_DEFAULT	"/var/lock"

enum held { HELD_NONE, HELD_PTY, HELD_UNIX, HELD_TCP, HELD_LISTEN };

struct eplv {
	struct endpoint	*ep;
	struct virtsub	*sub;
	enum held	 held;
	char		 path[PATH_MAX + 32];	/* held or followed */
	struct eptcp	*tcp;			/* HELD_TCP */
	struct eplisten	*lis;			/* HELD_LISTEN */
	unsigned	 gen;			/* the start it belongs to */
	char		 lockpath[PATH_MAX];
	int		 locked;		/* we hold lockpath */
	/* The pty of this start was lost or refused: not opened again. */
	unsigned	 spent_gen;
	char		 spent[PATH_MAX + 32];
};

/* ---- libvirt's console lock ---- */

static const char *
lock_dir(void)
{
	const char	*d = getenv(LOCK_DIR_ENV);

	return d != NULL && *d != '\0' ? d : LOCK_DIR_DEFAULT;
}

/*
 * Take /var/lock/LCK.._pts_N for pty as libvirt's virChrdevOpen does.  0
 * (taken, or no lock directory: nothing to respect), -1 with *owner set
 * when another live process holds it, -1 with errno otherwise.
 */
static int
lock_take(struct eplv *lv, const char *pty, long *owner)
{
	struct stat	st;
	const char	*dev = pty + strlen("/dev");	/* "/pts/N" */
	char		*p;
	pid_t		holder = 0;

	*owner = 0;
	if (stat(lock_dir(), &st) == -1 || !S_ISDIR(st.st_mode))
		return 0;		/* libvirt has none either */
	if (snprintf(lv->lockpath, sizeof lv->lockpath, "%s/LCK..%s",
	    lock_dir(), dev) >= (int)sizeof lv->lockpath) {
		lv->lockpath[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = lv->lockpath + strlen(lock_dir()) + 1; *p != '\0'; p++)
		if (*p == '/')
			*p = '_';
	if (uucp_lock_take(lv->lockpath, &holder) == -1) {
		*owner = errno == EBUSY ? (long)holder : 0;
		return -1;
	}
	lv->locked = 1;
	return 0;
}

static void
lock_release(struct eplv *lv)
{
	if (!lv->locked)
		return;
	uucp_lock_release(lv->lockpath);
	lv->locked = 0;
}

/* ---- what we hold ---- */

static void
release(struct eplv *lv, const char *why)
{
	if (lv->held == HELD_UNIX)
		endpoint_set_target(lv->ep, EP_UNIX, NULL, 0);
	if (lv->held != HELD_NONE && endpoint_fd(lv->ep) != -1)
		endpoint_drop(lv->ep, why);
	if (lv->held == HELD_TCP)
		endpoint_retry_cancel(lv->ep);
	eptcp_free(lv->tcp);
	lv->tcp = NULL;
	eplisten_free(lv->lis);
	lv->lis = NULL;
	lock_release(lv);
	lv->held = HELD_NONE;
	lv->path[0] = '\0';
}

static void
spend(struct eplv *lv, const char *pty, unsigned gen)
{
	lv->spent_gen = gen;
	snprintf(lv->spent, sizeof lv->spent, "%s", pty);
}

static void
take_pty(struct eplv *lv, const char *what, const char *pty, unsigned gen)
{
	struct stat	st;
	long		owner;
	int		fd, err;

	if (lock_take(lv, pty, &owner) == -1) {
		if (owner != 0)
			endpoint_note(lv->ep, LOG_LVL_WARN, "%s: %s is locked "
			    "by process %ld (virsh console attached?); not "
			    "opening %s, retrying", what, lv->lockpath, owner,
			    pty);
		else
			endpoint_note(lv->ep, LOG_LVL_WARN, "%s: cannot take "
			    "the console lock for %s (%s); retrying", what,
			    pty, strerror(errno));
		endpoint_retry_backoff(lv->ep);
		endpoint_set_status(lv->ep, EP_RETRYING, pty,
		    "waiting for the console lock of %s", pty);
		return;
	}
	if ((fd = tty_open_raw(pty, O_NOFOLLOW)) == -1) {
		err = errno;
		lock_release(lv);
		spend(lv, pty, gen);
		endpoint_note(lv->ep, LOG_LVL_WARN, "%s: cannot open %s (%s); "
		    "waiting for the domain to start again", what, pty,
		    strerror(err));
		endpoint_set_status(lv->ep, EP_WAITING, pty,
		    "waiting for the domain to start again");
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISCHR(st.st_mode) ||
	    !tty_is_pty(st.st_rdev)) {
		close(fd);
		lock_release(lv);
		spend(lv, pty, gen);
		endpoint_note(lv->ep, LOG_LVL_WARN, "%s: refusing %s: not a "
		    "pty slave (mode %o, device %u:%u)", what, pty,
		    (unsigned)st.st_mode, major(st.st_rdev),
		    minor(st.st_rdev));
		endpoint_set_status(lv->ep, EP_REFUSED, pty, "refused %s",
		    pty);
		return;
	}
	if (endpoint_claim_tty(lv->ep, fd, what, pty) == -1) {
		close(fd);
		lock_release(lv);
		return;
	}
	lv->held = HELD_PTY;
	lv->gen = gen;
	snprintf(lv->path, sizeof lv->path, "%s", pty);
	endpoint_retry_reset(lv->ep);
	endpoint_note(lv->ep, LOG_LVL_NOTICE, "%s: opening %s", what, pty);
	endpoint_opened(lv->ep, fd, pty);	/* last: it may call lv_lost */
}

static void	refuse(struct eplv *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
refuse(struct eplv *lv, const char *what, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	release(lv, "refused");
	endpoint_note(lv->ep, LOG_LVL_WARN, "%s: refusing: %s", what, msg);
	endpoint_set_status(lv->ep, EP_REFUSED, what, "refused: %s", msg);
}

/*
 * A tcp serial QEMU listens on (connect there), or a tcp or unix serial
 * QEMU connects to (listen there).  The key in lv->path says what is
 * followed, so that an unchanged address keeps its socket.
 */
static void
take_socket(struct eplv *lv, const char *what, const struct virserial *s)
{
	const struct ep_spec	*sp = endpoint_spec(lv->ep);
	char			 key[sizeof ((struct eplv *)0)->path], err[512];
	const char		*why;
	int			 tcp = strcmp(s->type, "tcp") == 0;
	int			 listen;
	struct in6_addr		 a6;
	size_t			 n;

	if (strcmp(s->mode, "bind") != 0 && strcmp(s->mode, "connect") != 0) {
		refuse(lv, what, "a %s serial with mode '%s'", s->type,
		    s->mode);
		return;
	}
	listen = strcmp(s->mode, "connect") == 0;
	if (tcp && s->service[0] == '\0') {
		refuse(lv, what, "its tcp serial has no service (port)");
		return;
	}
	if (tcp && !listen && s->host[0] == '\0') {
		refuse(lv, what, "its tcp serial has no host to connect to");
		return;
	}
	/* A name would be resolved blocking the pair's loop. */
	if (tcp && listen && s->host[0] != '\0' &&
	    inet_pton(AF_INET, s->host, &a6) != 1 &&
	    inet_pton(AF_INET6, s->host, &a6) != 1) {
		refuse(lv, what, "its tcp address \"%s\" to listen on is not "
		    "a numeric address", s->host);
		return;
	}
	if (!tcp && virxml_path_valid(s->path, &why) == -1) {
		refuse(lv, what, "its socket path \"%s\": %s", s->path, why);
		return;
	}
	if (tcp)
		snprintf(key, sizeof key, "%s tcp %s %s", s->mode, s->host,
		    s->service);
	else
		snprintf(key, sizeof key, "%s unix %s", s->mode, s->path);
	if (lv->held == (listen ? HELD_LISTEN : HELD_TCP) &&
	    strcmp(lv->path, key) == 0)
		return;			/* unchanged */
	release(lv, "the domain's socket changed");
	if (!listen) {
		if ((lv->tcp = eptcp_new(lv->ep, s->host, s->service,
		    NULL)) == NULL) {
			refuse(lv, what, "its tcp address %s:%s: %s", s->host,
			    s->service, strerror(errno));
			return;
		}
		endpoint_note(lv->ep, LOG_LVL_NOTICE, "%s: following tcp "
		    "%s:%s (QEMU listens)", what, s->host, s->service);
		lv->held = HELD_TCP;
	} else {
		if ((lv->lis = eplisten_new(lv->ep, tcp ? EP_TCP_LISTEN :
		    EP_UNIX_LISTEN, tcp ? s->host : s->path, s->service,
		    sp->allow_remote, err, sizeof err)) == NULL) {
			/* In use, or not ours to take: look again later. */
			n = strlen(endpoint_name(lv->ep));
			why = strncmp(err, endpoint_name(lv->ep), n) == 0 &&
			    strncmp(err + n, ": ", 2) == 0 ? err + n + 2 : err;
			endpoint_note(lv->ep, LOG_LVL_WARN, "%s: cannot listen "
			    "where QEMU connects: %s; retrying", what, why);
			endpoint_set_status(lv->ep, EP_RETRYING, what,
			    "cannot listen: %s", why);
			endpoint_retry_backoff(lv->ep);
			return;
		}
		lv->held = HELD_LISTEN;
	}
	snprintf(lv->path, sizeof lv->path, "%s", key);
}

/* Make what we hold match what libvirt says now. */
static void
reconcile(struct eplv *lv)
{
	const struct ep_spec	*sp = endpoint_spec(lv->ep);
	struct virtdom_info	 di;
	struct virserial	 s;
	const char		*why;
	char			 what[EP_NAME_MAX + 64];
	int			 r;

	if (virtwatch_domain(sp->name, &di) == -1) {
		endpoint_note(lv->ep, LOG_LVL_ERR, "out of memory");
		return;
	}
	snprintf(what, sizeof what, "domain %s serial %d", sp->name,
	    sp->serial);
	if (!di.connected) {
		if (lv->held == HELD_NONE)
			endpoint_set_status(lv->ep, EP_WAITING, NULL,
			    "waiting for libvirtd");
		goto out;		/* what is open goes on */
	}
	if (!di.running) {
		/* QEMU connects at its start: be there before (libvirt
		 * also wants a unix socket to exist to label it). */
		if (di.xml != NULL && virxml_serial(di.xml, strlen(di.xml),
		    sp->serial, &s, &why) == 1 && s.bad == NULL &&
		    strcmp(s.mode, "connect") == 0 &&
		    (strcmp(s.type, "tcp") == 0 ||
		    strcmp(s.type, "unix") == 0)) {
			take_socket(lv, what, &s);
			if (lv->held != HELD_LISTEN)
				goto out;	/* said why, once */
		} else
			release(lv, "the domain stopped");
		endpoint_note(lv->ep, LOG_LVL_NOTICE, "domain %s is not "
		    "running; waiting for it", sp->name);
		if (lv->held == HELD_NONE)
			endpoint_set_status(lv->ep, EP_WAITING, sp->name,
			    "waiting for domain %s", sp->name);
		goto out;
	}
	if ((r = virxml_serial(di.xml, strlen(di.xml), sp->serial, &s,
	    &why)) == -1) {
		refuse(lv, what, "cannot read its XML (%s)", why);
		goto out;
	}
	if (r == 0) {
		refuse(lv, what, "the domain has no serial port %d",
		    sp->serial);
		goto out;
	}
	if (s.bad != NULL) {
		refuse(lv, what, "%s", s.bad);
		goto out;
	}
	if (strcmp(s.type, "pty") == 0) {
		if (!s.has_source || s.path[0] == '\0') {
			/* libvirt fills the path in once QEMU said it. */
			release(lv, "the pty is not known");
			endpoint_note(lv->ep, LOG_LVL_NOTICE, "%s: no pty path "
			    "in the XML yet; waiting", what);
			endpoint_set_status(lv->ep, EP_WAITING, sp->name,
			    "waiting for the pty of %s", sp->name);
			goto out;
		}
		if (xendom_tty_valid(s.path, strlen(s.path), &why) == -1) {
			refuse(lv, what, "its pty path \"%s\" is %s", s.path,
			    why);
			goto out;
		}
		if (lv->held == HELD_PTY && strcmp(lv->path, s.path) == 0 &&
		    lv->gen == di.gen)
			goto out;	/* unchanged */
		release(lv, "the domain's pty changed");
		if (lv->spent_gen == di.gen && strcmp(lv->spent, s.path) == 0) {
			endpoint_set_status(lv->ep, EP_WAITING, s.path,
			    "waiting for the domain to start again");
			goto out;
		}
		take_pty(lv, what, s.path, di.gen);
		goto out;
	}
	if (strcmp(s.type, "unix") == 0 && strcmp(s.mode, "bind") == 0) {
		if (virxml_path_valid(s.path, &why) == -1) {
			refuse(lv, what, "its socket path \"%s\": %s", s.path,
			    why);
			goto out;
		}
		if (lv->held == HELD_UNIX && strcmp(lv->path, s.path) == 0)
			goto out;
		release(lv, "the domain's socket changed");
		lv->held = HELD_UNIX;
		snprintf(lv->path, sizeof lv->path, "%s", s.path);
		endpoint_note(lv->ep, LOG_LVL_NOTICE, "%s: following %s "
		    "(QEMU listens)", what, s.path);
		endpoint_set_target(lv->ep, EP_UNIX, s.path, 0);
		goto out;
	}
	if (strcmp(s.type, "tcp") == 0 || strcmp(s.type, "unix") == 0) {
		take_socket(lv, what, &s);
		goto out;
	}
		refuse(lv, what, "its type '%s' is not a pty or a socket",
		    s.type[0] != '\0' ? s.type : "(none)");
out:
	free(di.xml);
}

static void
changed_cb(void *arg)
{
	reconcile(arg);
}

/* ---- the backend ---- */

static int
lv_start(struct endpoint *ep, char *err, size_t errlen)
{
	struct eplv	*lv;
	char		 why[512];

	if ((lv = calloc(1, sizeof *lv)) == NULL) {
		snprintf(err, errlen, "%s: %s", endpoint_name(ep),
		    strerror(errno));
		return -1;
	}
	lv->ep = ep;
	endpoint_set_data(ep, lv);
	endpoint_set_status(ep, EP_WAITING, NULL, "waiting for libvirtd");
	if ((lv->sub = virtwatch_subscribe(endpoint_base(ep),
	    endpoint_spec(ep)->name, changed_cb, lv, why, sizeof why)) == NULL) {
		snprintf(err, errlen, "%s: %s", endpoint_name(ep), why);
		free(lv);
		endpoint_set_data(ep, NULL);
		return -1;
	}
	return 0;
}

/*
 * The relay lost the fd.  A pty is spent (its number may be someone
 * else's next); a socket is reconnected by the endpoint machinery.
 */
static void
lv_lost(struct endpoint *ep, const char *why, int stable)
{
	struct eplv	*lv = endpoint_data(ep);

	if (lv->held == HELD_UNIX || lv->held == HELD_TCP) {
		endpoint_reopen(ep, why, stable);
		return;
	}
	if (lv->held == HELD_LISTEN) {
		eplisten_lost(lv->lis, why);
		return;
	}
	log_notice("%s: lost (%s)", endpoint_name(ep), why);
	if (lv->held == HELD_PTY)
		spend(lv, lv->path, lv->gen);
	lock_release(lv);
	lv->held = HELD_NONE;
	lv->path[0] = '\0';
	endpoint_set_status(ep, EP_WAITING, endpoint_spec(ep)->name,
	    "waiting for domain %s to start again", endpoint_spec(ep)->name);
	reconcile(lv);
}

static void
lv_retry(struct endpoint *ep)
{
	struct eplv	*lv = endpoint_data(ep);

	if (lv->held == HELD_UNIX)
		endpoint_target_attempt(ep);
	else if (lv->held == HELD_TCP)
		eptcp_attempt(lv->tcp);
	else
		reconcile(lv);
}

static void
lv_stop(struct endpoint *ep)
{
	struct eplv	*lv = endpoint_data(ep);

	if (lv == NULL)
		return;
	virtwatch_unsubscribe(lv->sub);
	eptcp_free(lv->tcp);
	eplisten_free(lv->lis);
	lock_release(lv);
	free(lv);
	endpoint_set_data(ep, NULL);
}

const struct ep_backend ep_backend_libvirt = {
	.start = lv_start,
	.lost = lv_lost,
	.retry = lv_retry,
	.stop = lv_stop,
};

#endif /* HAVE_LIBVIRT */
