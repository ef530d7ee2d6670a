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
#include "pvewatch.h"
#include "xendom.h"
#include "xentrack.h"
#include "xenwatch.h"
#include "virtwatch.h"

#define NOTED_MAX	256

struct autodisc {
	struct event_base	*base;
	struct config_auto	 policy;	/* [auto] */
	struct pair_opts	 defaults;	/* what every pair starts as */
	int			 allow_remote;
	autodisc_cb		 cb;
	void			*arg;
	struct event		*ev_work;

	/* Xen */
	struct xentrack		*xt;

	/* libvirt: the domains seen running and still defined */
	struct virtsub		*vs;
	char			**lv;
	size_t			 nlv;
	int			 need_lscan;

	/* Proxmox */
	int			 pve;
	struct pvewatch		*pw;
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
	static const struct xendoms	 none;
	const struct xendoms		*doms = &none;
	struct wanted_vm		*v;
	size_t				 i, n = 0;

	/*
	 * Xen domains count once xenstore has been read; after that a lost
	 * xenstored leaves the table as it was, so that the pairs go on.
	 */
	if (ad->xt != NULL && xentrack_ever_synced(ad->xt))
		doms = xentrack_domains(ad->xt);
	if ((v = calloc(doms->n + ad->nvms + ad->nlv + 1, sizeof *v)) == NULL)
		return NULL;
	for (i = 0; i < doms->n; i++) {
		if (doms->v[i].truncated || xendom_is_infra(doms->v[i].name))
			continue;
		v[n].name = doms->v[i].name;
		v[n++].id = doms->v[i].domid;
	}
	for (i = 0; i < ad->nvms; i++) {
		if (!ad->running[i])
			continue;
		snprintf(num[i], sizeof num[i], "%u", ad->vms[i].vmid);
		v[n].name = ad->vms[i].name[0] != '\0' ? ad->vms[i].name :
		    num[i];
		v[n].platform = WANTED_PVE;
		v[n++].id = ad->vms[i].vmid;
	}
	for (i = 0; i < ad->nlv; i++) {
		v[n].name = ad->lv[i];
		v[n++].platform = WANTED_LIBVIRT;
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
xen_work(void *arg, int released)
{
	(void)released;
	compute(arg);
}

/* ---- Proxmox ---- */

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

static int
pve_event(void *arg, enum pvewatch_what what, const char *name)
{
	unsigned	vmid;

	(void)arg;
	switch (what) {
	case PVEW_CONF:
		return pvecfg_conf_vmid(name, &vmid) == 0;
	case PVEW_SOCKET:
		return pvecfg_socket_vmid(name, 0, &vmid) == 0;
	case PVEW_RUNDIR:
		break;
	}
	return 1;
}

static void
pve_look(void *arg)
{
	struct autodisc	*ad = arg;

	ad->need_pscan = 1;
	event_active(ad->ev_work, 0, 0);
}

static int
pve_setup(struct autodisc *ad)
{
	ad->pw = pvewatch_new(ad->base, IN_CREATE | IN_DELETE |
	    IN_MOVED_FROM | IN_MOVED_TO, pve_event, pve_look, ad);
	if (ad->pw == NULL)
		return -1;
	if (!pvewatch_confs_watched(ad->pw))
		log_notice("auto: cannot watch %s (%s); VM configs are read "
		    "again when a VM starts or stops", PVE_CONF_DIR,
		    strerror(errno));
	ad->need_pscan = 1;
	return 0;
}

/* ---- libvirt ---- */

static int
has_name(char **v, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

/*
 * A domain gets its pair once it runs and keeps it while it is defined:
 * its endpoint follows it through stop and start.  While libvirtd is away
 * nothing changes.
 */
static void
lv_scan(struct autodisc *ad)
{
	char	**run = NULL, **all = NULL, **nv;
	size_t	 nrun = 0, nall = 0, i, k = 0;
	int	 c1, c2;

	if (virtwatch_names(0, &run, &nrun, &c1) == -1 ||
	    virtwatch_names(1, &all, &nall, &c2) == -1) {
		log_err("auto: out of memory");
		goto out;
	}
	if (!c1 || !c2)
		goto out;
	if ((nv = calloc(nrun + ad->nlv + 1, sizeof *nv)) == NULL)
		goto out;
	for (i = 0; i < ad->nlv; i++) {
		if (has_name(all, nall, ad->lv[i]) &&
		    !has_name(run, nrun, ad->lv[i]))
			nv[k++] = ad->lv[i];	/* defined, stopped: kept */
		else
			free(ad->lv[i]);
	}
	for (i = 0; i < nrun; i++) {
		nv[k++] = run[i];
		run[i] = NULL;
	}
	free(ad->lv);
	ad->lv = nv;
	ad->nlv = k;
out:
	virtwatch_free_names(run, nrun);
	virtwatch_free_names(all, nall);
}

static void
lv_changed(void *arg)
{
	struct autodisc	*ad = arg;

	ad->need_lscan = 1;
	event_active(ad->ev_work, 0, 0);
}

/* ---- the module ---- */

static void
work_cb(evutil_socket_t fd, short what, void *arg)
{
	struct autodisc	*ad = arg;

	(void)fd;
	(void)what;
	if (ad->need_pscan) {
		ad->need_pscan = 0;
		pve_scan(ad);
	}
	if (ad->need_lscan) {
		ad->need_lscan = 0;
		lv_scan(ad);
	}
	compute(ad);
}

struct autodisc *
autodisc_new(struct event_base *base, const struct config_auto *policy,
    const struct pair_opts *defaults, int allow_remote, autodisc_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct autodisc	*ad;
	struct stat	 st;
	char		 why[512];
	int		 xen, pve, lv;
	const struct xentrack_cbs xcbs = { NULL, NULL, xen_work, NULL };
	enum auto_source src = policy->source;

	xen = src == AUTO_SOURCE_XEN ||
	    (src == AUTO_SOURCE_HOST && xenwatch_available());
	pve = src == AUTO_SOURCE_PVE || (src == AUTO_SOURCE_HOST &&
	    stat(PVE_CONF_DIR, &st) == 0 && S_ISDIR(st.st_mode));
	lv = src == AUTO_SOURCE_LIBVIRT ||
	    (src == AUTO_SOURCE_HOST && virtwatch_available());
	if (xen && xenwatch_load(why, sizeof why) == -1) {
		if (!pve && !lv) {
			snprintf(err, errlen, "xenstore: %s", why);
			return NULL;
		}
		log_warn("auto: xenstore: %s; watching %s only", why,
		    PVE_CONF_DIR);
		xen = 0;
	}
	if (!xen && !pve && !lv) {
		snprintf(err, errlen, "neither xenstore (no xenstored socket "
		    "or xenbus) nor Proxmox VE (no %s) nor libvirtd on this "
		    "host", PVE_CONF_DIR);
		return NULL;
	}
	if ((ad = calloc(1, sizeof *ad)) == NULL)
		goto nomem;
	ad->base = base;
	ad->cb = cb;
	ad->arg = arg;
	ad->defaults = *defaults;
	ad->allow_remote = allow_remote;
	if (config_auto_copy(&ad->policy, policy) == -1)
		goto nomem;
	if ((ad->ev_work = event_new(base, -1, 0, work_cb, ad)) == NULL)
		goto nomem;
	if (xen && (ad->xt = xentrack_new(base, "auto", &xcbs, ad)) == NULL)
		goto nomem;
	if (pve && pve_setup(ad) == -1) {
		snprintf(err, errlen, "inotify on %s: %s", PVE_CONF_DIR,
		    strerror(errno));
		autodisc_free(ad);
		return NULL;
	}
	if (lv && (ad->vs = virtwatch_subscribe(base, NULL, lv_changed, ad,
	    why, sizeof why)) == NULL) {
		if (src == AUTO_SOURCE_LIBVIRT || (!xen && !pve)) {
			snprintf(err, errlen, "%s", why);
			autodisc_free(ad);
			return NULL;
		}
		log_warn("auto: %s; not watching libvirt", why);
		lv = 0;
	}
	log_info("auto: watching %s%s%s%s%s", xen ? "xenstore" : "",
	    xen && pve ? " and " : "", pve ? PVE_CONF_DIR : "",
	    lv && (xen || pve) ? " and " : "", lv ? "libvirt" : "");
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
	xentrack_free(ad->xt);
	pvewatch_free(ad->pw);
	virtwatch_unsubscribe(ad->vs);
	virtwatch_free_names(ad->lv, ad->nlv);
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
