/*
 * autodisc.c - a pair for every running VM whose name matches [auto].
 *
 * Xen: the domains' names come from xenstore and are kept current by the
 * same watches the xen: endpoint uses (a write below /local/domain costs
 * nothing unless it is a domain's node or its name).  Proxmox: the VM
 * configs give names, and a VM counts as running while its serial0 socket
 * exists; inotify on both directories says when to look again.
 *
 * Which pairs the running VMs make is wanted.c's (pure) policy; this file
 * watches, makes the directory of a unix-listen socket, and whenever the
 * set of pairs changes, gives the daemon all of it.
 */
#include <sys/types.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "autodisc.h"
#include "log.h"
#include "sock.h"
#include "wanted.h"
#include "pvecfg.h"
#include "xendom.h"
#include "xenwatch.h"

#define NOTED_MAX	256

static const char *const watch_paths[] = {
	"@introduceDomain", "@releaseDomain", "/local/domain",
};

struct autodisc {
	struct event_base	*base;
	struct config_auto	 policy;	/* [auto] */
	struct pair_opts	 defaults;	/* what every pair starts as */
	int			 allow_remote;
	autodisc_cb		 cb;
	void			*arg;
	struct event		*ev_work;

	/* Xen */
	struct xenwatch		*xw;
	struct xendoms		 doms;
	int			 xen_synced;
	int			 need_xscan;

	/* Proxmox */
	int			 pve;
	int			 ino_fd, wd_conf, wd_run, wd_runparent;
	struct event		*ev_ino;
	struct pvevm		*vms;
	size_t			 nvms;
	unsigned char		*running;	/* per vms[] */
	int			 need_pscan;

	struct pair_opts	*cur;
	size_t			 ncur;
	int			 reported;
	struct wanted_ports	 ports;
	char			*noted[NOTED_MAX];	/* said once already */
	size_t			 nnoted;
};

/* Log a message about a VM once in the daemon's life (bounded). */
static void	note_once(struct autodisc *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
note_once(struct autodisc *ad, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	size_t	i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (i = 0; i < ad->nnoted; i++) {
		if (strcmp(ad->noted[i], buf) == 0)
			return;
	}
	if (ad->nnoted == NOTED_MAX) {
		for (i = 0; i < ad->nnoted; i++)
			free(ad->noted[i]);
		ad->nnoted = 0;
	}
	if ((ad->noted[ad->nnoted] = strdup(buf)) != NULL)
		ad->nnoted++;
	log_notice("auto: %s", buf);
}

/* ---- the wanted set ---- */

static void
wanted_note(void *arg, int once, const char *msg)
{
	if (once)
		note_once(arg, "%s", msg);
	else
		log_notice("auto: %s", msg);
}

/* The running VMs: Xen domains first (once read), then Proxmox VMs. */
static struct wanted_vm *
running(struct autodisc *ad, char (*num)[16], size_t *np)
{
	struct wanted_vm	*v;
	size_t			 i, n = 0;

	if ((v = calloc(ad->doms.n + ad->nvms + 1, sizeof *v)) == NULL)
		return NULL;
	for (i = 0; ad->xen_synced && i < ad->doms.n; i++) {
		if (ad->doms.v[i].truncated ||
		    xendom_is_infra(ad->doms.v[i].name))
			continue;
		v[n].name = ad->doms.v[i].name;
		v[n++].id = ad->doms.v[i].domid;
	}
	for (i = 0; i < ad->nvms; i++) {
		if (!ad->running[i])
			continue;
		snprintf(num[i], sizeof num[i], "%u", ad->vms[i].vmid);
		v[n].name = ad->vms[i].name[0] != '\0' ? ad->vms[i].name :
		    num[i];
		v[n].pve = 1;
		v[n++].id = ad->vms[i].vmid;
	}
	*np = n;
	return v;
}

/* Drop the pairs whose socket directory cannot be made. */
static size_t
make_dirs(struct autodisc *ad, struct pair_opts *w, size_t n)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		if (w[i].side[SIDE_HOST].kind == EP_UNIX_LISTEN &&
		    sock_make_dir(w[i].side[SIDE_HOST].path) == -1) {
			note_once(ad, "%s: cannot create the directory of %s: "
			    "%s; skipped", w[i].name, w[i].side[SIDE_HOST].path,
			    strerror(errno));
			continue;
		}
		w[k++] = w[i];
	}
	return k;
}

static const struct pair_opts *
find_pair(const struct pair_opts *v, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	}
	return NULL;
}

/* Log the difference, keep the new set; 1 if it changed. */
static int
adopt(struct autodisc *ad, struct pair_opts *w, size_t n)
{
	const struct pair_opts	*o;
	size_t			 i;
	int			 changed = n != ad->ncur;

	for (i = 0; i < n; i++) {
		if ((o = find_pair(ad->cur, ad->ncur, w[i].name)) == NULL)
			log_notice("auto: %s appeared: pair %s, %s <-> %s",
			    w[i].name, w[i].name, w[i].side[SIDE_HOST].text,
			    w[i].side[SIDE_TARGET].text);
		else if (!pair_opts_equal(o, &w[i]))
			log_notice("auto: %s changed: pair %s, %s <-> %s",
			    w[i].name, w[i].name, w[i].side[SIDE_HOST].text,
			    w[i].side[SIDE_TARGET].text);
		else
			continue;
		changed = 1;
	}
	for (i = 0; i < ad->ncur; i++) {
		if (find_pair(w, n, ad->cur[i].name) == NULL) {
			log_notice("auto: %s is gone: pair removed",
			    ad->cur[i].name);
			changed = 1;
		}
	}
	free(ad->cur);
	ad->cur = w;
	ad->ncur = n;
	return changed;
}

static void
compute(struct autodisc *ad)
{
	struct wanted_vm	*v;
	struct pair_opts	*w;
	char			(*num)[16];
	size_t			 n, nw;

	if ((num = calloc(ad->nvms + 1, sizeof *num)) == NULL ||
	    (v = running(ad, num, &n)) == NULL) {
		free(num);
		log_err("auto: out of memory");
		return;
	}
	if (wanted_pairs(&ad->policy, &ad->defaults, ad->allow_remote, v, n,
	    &ad->ports, wanted_note, ad, &w, &nw) == -1) {
		log_err("auto: out of memory");
		free(v);
		free(num);
		return;
	}
	free(v);
	free(num);
	nw = make_dirs(ad, w, nw);
	if (adopt(ad, w, nw) || !ad->reported) {
		ad->reported = 1;
		ad->cb(ad->arg, ad->cur, ad->ncur);
	}
}

/* ---- Xen ---- */

static void
xen_fire(void *arg, const char *path)
{
	struct autodisc	*ad = arg;
	unsigned	 domid;

	switch (xendom_classify(path, &domid)) {
	case XENDOM_EV_RESCAN:
		ad->need_xscan = 1;
		break;
	case XENDOM_EV_DOMAIN:
		if (ad->xen_synced &&
		    xenwatch_read_domain(ad->xw, &ad->doms, domid) == -1)
			return;
		break;
	case XENDOM_EV_OTHER:
		return;
	}
	event_active(ad->ev_work, 0, 0);
}

static void
xen_state(void *arg, int up)
{
	struct autodisc	*ad = arg;

	if (!up)
		return;		/* the pairs go on; resync when it is back */
	ad->need_xscan = 1;
	event_active(ad->ev_work, 0, 0);
}

/* ---- Proxmox ---- */

static void
pve_watch_run(struct autodisc *ad)
{
	pvecfg_watch_run(ad->ino_fd, IN_CREATE | IN_DELETE | IN_MOVED_FROM |
	    IN_MOVED_TO, &ad->wd_run, &ad->wd_runparent);
}

static void
pve_scan(struct autodisc *ad)
{
	struct pvevm	*vms;
	struct stat	 st;
	char		 path[PATH_MAX];
	size_t		 n, i;
	unsigned char	*run;

	if (pvecfg_scan(PVE_CONF_DIR, &vms, &n) == -1) {
		note_once(ad, "cannot read %s: %s", PVE_CONF_DIR,
		    strerror(errno));
		return;
	}
	if ((run = calloc(n + 1, 1)) == NULL) {
		free(vms);
		return;
	}
	for (i = 0; i < n; i++) {
		run[i] = pvecfg_socket_path(vms[i].vmid, 0, path,
		    sizeof path) == 0 && lstat(path, &st) == 0 &&
		    S_ISSOCK(st.st_mode);
	}
	free(ad->vms);
	free(ad->running);
	ad->vms = vms;
	ad->nvms = n;
	ad->running = run;
}

static void
pve_ino_cb(evutil_socket_t fd, short what, void *arg)
{
	struct autodisc			*ad = arg;
	char				 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ie;
	ssize_t				 n;
	char				*p;
	unsigned			 vmid;
	int				 hit = 0;

	(void)what;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (p = buf; p < buf + n; p += sizeof *ie + ie->len) {
			ie = (const struct inotify_event *)p;
			if (ie->wd == -1)
				continue;
			if (ie->wd == ad->wd_conf) {
				if (ie->mask & IN_IGNORED)
					ad->wd_conf = -1;
				hit |= ie->len > 0 &&
				    pvecfg_conf_vmid(ie->name, &vmid) == 0;
			} else if (ie->wd == ad->wd_run) {
				if (ie->mask & IN_IGNORED) {
					ad->wd_run = -1;
					pve_watch_run(ad);
					hit = 1;
				}
				hit |= ie->len > 0 &&
				    pvecfg_socket_vmid(ie->name, 0, &vmid) == 0;
			} else if (ie->wd == ad->wd_runparent) {
				pve_watch_run(ad);
				hit = 1;
			}
		}
	}
	if (hit) {
		ad->need_pscan = 1;
		event_active(ad->ev_work, 0, 0);
	}
}

static int
pve_setup(struct autodisc *ad)
{
	if ((ad->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	ad->wd_conf = inotify_add_watch(ad->ino_fd, PVE_CONF_DIR,
	    IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
	    IN_MOVED_TO | IN_ONLYDIR);
	if (ad->wd_conf == -1)
		log_notice("auto: cannot watch %s (%s); VM configs are read "
		    "again when a VM starts or stops", PVE_CONF_DIR,
		    strerror(errno));
	pve_watch_run(ad);
	ad->ev_ino = event_new(ad->base, ad->ino_fd, EV_READ | EV_PERSIST,
	    pve_ino_cb, ad);
	if (ad->ev_ino == NULL || event_add(ad->ev_ino, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	ad->need_pscan = 1;
	return 0;
}

/* ---- the module ---- */

static void
work_cb(evutil_socket_t fd, short what, void *arg)
{
	struct autodisc	*ad = arg;

	(void)fd;
	(void)what;
	if (ad->need_xscan && ad->xw != NULL) {
		if (xenwatch_scan_domains(ad->xw, &ad->doms) == -1)
			return;		/* reconnecting: a rescan follows */
		ad->need_xscan = 0;
		ad->xen_synced = 1;
	}
	if (ad->need_pscan) {
		ad->need_pscan = 0;
		pve_scan(ad);
	}
	/*
	 * Xen domains count once xenstore has been read; after that a lost
	 * xenstored leaves the table as it was, so that the pairs go on.
	 */
	compute(ad);
}

struct autodisc *
autodisc_new(struct event_base *base, const struct config *cf, autodisc_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct autodisc	*ad;
	struct stat	 st;
	char		 why[512];
	int		 xen, pve;

	xen = xenwatch_available();
	pve = stat(PVE_CONF_DIR, &st) == 0 && S_ISDIR(st.st_mode);
	if (xen && xenwatch_load(why, sizeof why) == -1) {
		if (!pve) {
			snprintf(err, errlen, "xenstore: %s", why);
			return NULL;
		}
		log_warn("auto: xenstore: %s; watching %s only", why,
		    PVE_CONF_DIR);
		xen = 0;
	}
	if (!xen && !pve) {
		snprintf(err, errlen, "neither xenstore (no xenstored socket "
		    "or xenbus) nor Proxmox VE (no %s) on this host",
		    PVE_CONF_DIR);
		return NULL;
	}
	if ((ad = calloc(1, sizeof *ad)) == NULL)
		goto nomem;
	ad->base = base;
	ad->cb = cb;
	ad->arg = arg;
	ad->ino_fd = ad->wd_conf = ad->wd_run = ad->wd_runparent = -1;
	xendoms_init(&ad->doms);
	pair_opts_init(&ad->defaults);
	ad->defaults.hold_ms = cf->hold_ms;
	ad->defaults.bufsize = cf->bufsize;
	ad->defaults.validate = cf->validate;
	ad->allow_remote = cf->allow_remote;
	if (config_auto_copy(&ad->policy, &cf->discover) == -1)
		goto nomem;
	if ((ad->ev_work = event_new(base, -1, 0, work_cb, ad)) == NULL)
		goto nomem;
	if (xen && (ad->xw = xenwatch_new(base, "auto", watch_paths,
	    sizeof watch_paths / sizeof watch_paths[0], xen_fire, xen_state,
	    ad)) == NULL)
		goto nomem;
	if (pve && pve_setup(ad) == -1) {
		snprintf(err, errlen, "inotify on %s: %s", PVE_CONF_DIR,
		    strerror(errno));
		autodisc_free(ad);
		return NULL;
	}
	log_info("auto: watching %s%s%s", xen ? "xenstore" : "",
	    xen && pve ? " and " : "", pve ? PVE_CONF_DIR : "");
	if (pve)
		event_active(ad->ev_work, 0, 0);
	return ad;
nomem:
	snprintf(err, errlen, "%s", strerror(ENOMEM));
	autodisc_free(ad);
	return NULL;
}

void
autodisc_free(struct autodisc *ad)
{
	size_t	i;

	if (ad == NULL)
		return;
	xenwatch_free(ad->xw);
	xendoms_clear(&ad->doms);
	if (ad->ev_ino != NULL)
		event_free(ad->ev_ino);
	if (ad->ino_fd != -1)
		close(ad->ino_fd);
	if (ad->ev_work != NULL)
		event_free(ad->ev_work);
	free(ad->vms);
	free(ad->running);
	free(ad->cur);
	wanted_ports_free(&ad->ports);
	for (i = 0; i < ad->nnoted; i++)
		free(ad->noted[i]);
	config_auto_free(&ad->policy);
	free(ad);
}
