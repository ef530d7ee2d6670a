/*
 * autodisc.c - a pair for every running VM whose name matches [auto].
 *
 * Xen: the domains' names come from xenstore and are kept current by the
 * same watches the xen: endpoint uses (a write below /local/domain costs
 * nothing unless it is a domain's node or its name).  Proxmox: the VM
 * configs give names, and a VM counts as running while its serial0 socket
 * exists; inotify on both directories says when to look again.
 *
 * Whenever the set of pairs this makes changes, the daemon gets all of it.
 * The pairs are built from templates only: the VM's own endpoint follows
 * it across restarts, so a restart changes nothing here.  A TCP port given
 * to a VM stays its own while the VM runs.
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
#include "pvecfg.h"
#include "xendom.h"
#include "xenwatch.h"

#define NOTED_MAX	256

static const char *const watch_paths[] = {
	"@introduceDomain", "@releaseDomain", "/local/domain",
};

struct cand {
	char		name[PAIR_NAME_MAX];
	int		pve;
	unsigned	vmid;
};

struct port {
	char		name[PAIR_NAME_MAX];
	unsigned	port;
};

struct autodisc {
	struct event_base	*base;
	struct config		 cf;		/* [auto] and the defaults */
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
	struct port		*ports;
	size_t			 nports;
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

/* Names were checked with config_valid_name: they fit. */
static void
copy_name(char *dst, const char *src)
{
	size_t	len = strnlen(src, PAIR_NAME_MAX - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int
has_cand(const struct cand *c, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(c[i].name, name) == 0)
			return 1;
	}
	return 0;
}

static const struct cand *
find_cand(const struct cand *c, size_t n, const char *name, int pve)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (c[i].pve == pve && strcmp(c[i].name, name) == 0)
			return &c[i];
	}
	return NULL;
}

/* Every running VM that could be named in a pair. */
static struct cand *
candidates(struct autodisc *ad, size_t *np)
{
	struct cand	*c;
	size_t		 i, n = 0;
	const char	*name;
	char		 num[16];

	if ((c = calloc(ad->doms.n + ad->nvms + 1, sizeof *c)) == NULL)
		return NULL;
	for (i = 0; ad->xen_synced && i < ad->doms.n; i++) {
		name = ad->doms.v[i].name;
		if (ad->doms.v[i].truncated || xendom_is_infra(name))
			continue;
		if (!config_valid_name(name)) {
			note_once(ad, "domain %u: its name cannot name a pair "
			    "(letters, digits, '_', '.', '-'); skipped",
			    ad->doms.v[i].domid);
			continue;
		}
		if (has_cand(c, n, name))
			continue;	/* ambiguous: its endpoint says so */
		copy_name(c[n].name, name);
		c[n++].vmid = ad->doms.v[i].domid;
	}
	for (i = 0; i < ad->nvms; i++) {
		if (!ad->running[i])
			continue;
		snprintf(num, sizeof num, "%u", ad->vms[i].vmid);
		name = ad->vms[i].name[0] != '\0' ? ad->vms[i].name : num;
		if (has_cand(c, n, name))
			continue;
		copy_name(c[n].name, name);
		c[n].pve = 1;
		c[n++].vmid = ad->vms[i].vmid;
	}
	*np = n;
	return c;
}

/* Forget the ports of VMs that are no longer wanted. */
static void
ports_prune(struct autodisc *ad, const struct cand *t, size_t nt)
{
	size_t	i, k = 0;

	for (i = 0; i < ad->nports; i++) {
		if (has_cand(t, nt, ad->ports[i].name))
			ad->ports[k++] = ad->ports[i];
	}
	ad->nports = k;
}

/* The VM's port: the one it has, else the lowest free one; 0 if none. */
static unsigned
port_for(struct autodisc *ad, const char *name)
{
	struct port	*np;
	unsigned	 p;
	size_t		 i;

	for (i = 0; i < ad->nports; i++) {
		if (strcmp(ad->ports[i].name, name) == 0)
			return ad->ports[i].port;
	}
	for (p = ad->cf.discover.port_lo; p <= ad->cf.discover.port_hi; p++) {
		for (i = 0; i < ad->nports && ad->ports[i].port != p; i++)
			;
		if (i == ad->nports)
			break;
	}
	if (p > ad->cf.discover.port_hi)
		return 0;
	if ((np = reallocarray(ad->ports, ad->nports + 1, sizeof *np)) == NULL)
		return 0;
	ad->ports = np;
	copy_name(np[ad->nports].name, name);
	np[ad->nports++].port = p;
	log_notice("auto: %s: port %u", name, p);
	return p;
}

/* mkdir -p with mode 0700 for the directory of a unix-listen socket. */
static int
make_dir(const char *sock)
{
	char		 dir[PATH_MAX], *p, c;
	struct stat	 st;

	snprintf(dir, sizeof dir, "%s", sock);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	if (stat(dir, &st) == 0)
		return 0;
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return -1;
		if ((*p = c) == '\0')
			break;
	}
	return 0;
}

static const char *
crlf_opt(enum crlf_mode m)
{
	switch (m) {
	case CRLF_ON:
		return ",crlf=on";
	case CRLF_OFF:
		return ",crlf=off";
	default:
		return "";
	}
}

/* The pair for target t (partner: the debugger VM, or NULL). */
static int
make_pair(struct autodisc *ad, const struct cand *t, const struct cand *partner,
    struct pair_opts *o)
{
	const struct config_auto	*a = &ad->cf.discover;
	char				 host[EP_TEXT_MAX], target[EP_TEXT_MAX];
	char				 err[512];
	unsigned			 port;

	pair_opts_init(o);
	copy_name(o->name, t->name);
	o->hold_ms = ad->cf.hold_ms;
	o->bufsize = ad->cf.bufsize;
	o->validate = ad->cf.validate;
	if (t->pve)
		snprintf(target, sizeof target, "pve:%u%s", t->vmid,
		    crlf_opt(a->crlf));
	else
		snprintf(target, sizeof target, "xen:%s%s", t->name,
		    crlf_opt(a->crlf));
	if (partner != NULL && partner->pve)
		snprintf(host, sizeof host, "pve:%u", partner->vmid);
	else if (partner != NULL)
		snprintf(host, sizeof host, "xen:%s", partner->name);
	else if (a->port_lo != 0) {
		if ((port = port_for(ad, t->name)) == 0) {
			note_once(ad, "%s: no free port in %u-%u; skipped",
			    t->name, a->port_lo, a->port_hi);
			return -1;
		}
		snprintf(host, sizeof host, ad->cf.allow_remote ?
		    "tcp-listen:0.0.0.0:%u,allow-remote" :
		    "tcp-listen:127.0.0.1:%u", port);
	} else if (config_expand(a->endpoint, t->name, host,
	    sizeof host) == -1) {
		note_once(ad, "%s: the endpoint template is too long for this "
		    "name; skipped", t->name);
		return -1;
	}
	if (ep_spec_parse(host, &o->side[SIDE_HOST], err, sizeof err) == -1 ||
	    ep_spec_parse(target, &o->side[SIDE_TARGET], err,
	    sizeof err) == -1) {
		note_once(ad, "%s: %s; skipped", t->name, err);
		return -1;
	}
	if (o->side[SIDE_HOST].kind == EP_UNIX_LISTEN &&
	    make_dir(o->side[SIDE_HOST].path) == -1) {
		note_once(ad, "%s: cannot create the directory of %s: %s; "
		    "skipped", t->name, o->side[SIDE_HOST].path,
		    strerror(errno));
		return -1;
	}
	return 0;
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
	const struct config_auto	*a = &ad->cf.discover;
	struct cand			*c, *t = NULL;
	const struct cand		*partner;
	struct pair_opts		*w = NULL;
	char				 pname[PAIR_NAME_MAX + EP_NAME_MAX];
	unsigned char			*is_partner = NULL;
	size_t				 n, i, j, nt = 0, nw = 0;

	if ((c = candidates(ad, &n)) == NULL ||
	    (t = calloc(n + 1, sizeof *t)) == NULL ||
	    (w = calloc(n + 1, sizeof *w)) == NULL ||
	    (is_partner = calloc(n + 1, 1)) == NULL)
		goto nomem;
	/* A debugger VM is some target's partner, never a target itself. */
	for (i = 0; a->pair_with[0] != '\0' && i < n; i++) {
		if (!config_auto_match(&ad->cf, c[i].name) ||
		    config_expand(a->pair_with, c[i].name, pname,
		    sizeof pname) == -1)
			continue;
		for (j = 0; j < n; j++) {
			if (j != i && c[j].pve == c[i].pve &&
			    strcmp(c[j].name, pname) == 0)
				is_partner[j] = 1;
		}
	}
	for (i = 0; i < n; i++) {
		if (!is_partner[i] && config_auto_match(&ad->cf, c[i].name))
			t[nt++] = c[i];
	}
	ports_prune(ad, t, nt);
	for (i = 0; i < nt; i++) {
		partner = NULL;
		if (a->pair_with[0] != '\0') {
			if (config_expand(a->pair_with, t[i].name, pname,
			    sizeof pname) == -1 || (partner = find_cand(c, n,
			    pname, t[i].pve)) == NULL) {
				log_debug("auto: %s: no debugger VM %s yet",
				    t[i].name, pname);
				continue;
			}
		}
		if (make_pair(ad, &t[i], partner, &w[nw]) == 0)
			nw++;
	}
	free(c);
	free(t);
	free(is_partner);
	if (adopt(ad, w, nw) || !ad->reported) {
		ad->reported = 1;
		ad->cb(ad->arg, ad->cur, ad->ncur);
	}
	return;
nomem:
	log_err("auto: out of memory");
	free(c);
	free(t);
	free(w);
	free(is_partner);
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

static int
copy_config(struct config *dst, const struct config *src)
{
	size_t	i;

	config_init(dst);
	dst->hold_ms = src->hold_ms;
	dst->bufsize = src->bufsize;
	dst->validate = src->validate;
	dst->allow_remote = src->allow_remote;
	dst->discover = src->discover;
	dst->discover.match = NULL;
	dst->discover.nmatch = 0;
	if (src->discover.nmatch == 0)
		return 0;
	dst->discover.match = calloc(src->discover.nmatch,
	    sizeof *dst->discover.match);
	if (dst->discover.match == NULL)
		return -1;
	for (i = 0; i < src->discover.nmatch; i++) {
		dst->discover.match[i] = strdup(src->discover.match[i]);
		if (dst->discover.match[i] == NULL)
			return -1;
		dst->discover.nmatch = i + 1;
	}
	return 0;
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
	if (copy_config(&ad->cf, cf) == -1)
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
	free(ad->ports);
	for (i = 0; i < ad->nnoted; i++)
		free(ad->noted[i]);
	config_free(&ad->cf);
	free(ad);
}
