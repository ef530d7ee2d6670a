/*
 * ep_pve.c - pve:VMID or pve:NAME, a Proxmox VM's serial socket.
 *
 * QEMU listens on /var/run/qemu-server/<vmid>.serialN and serves one
 * client at a time; what the guest writes while nobody is connected is
 * lost, so the endpoint machinery's inotify on that directory connects the
 * moment the socket (re)appears.  A name is looked up in the VM configs,
 * and again when a config changes (inotify on /etc/pve/qemu-server), when
 * a serial socket appears, and whenever the connection is lost: /etc/pve
 * is a FUSE file system on which inotify may say nothing.
 */
#include <sys/types.h>
#include <sys/inotify.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "endpoint_backend.h"
#include "log.h"
#include "pvecfg.h"
#include "pvewatch.h"

struct eppve {
	struct endpoint	*ep;
	int		 byname;
	int		 started;	/* followed something yet */
	unsigned	 vmid;		/* followed now, 0 none */
	char		 sock[PATH_MAX];

	struct pvewatch	*pw;		/* by name only */
};

/* Point the endpoint at vmid's socket (0: at nothing). */
static void
follow(struct eppve *px, unsigned vmid)
{
	const struct ep_spec	*sp = endpoint_spec(px->ep);

	if (vmid == px->vmid && px->started)
		return;			/* the lifecycle reopens it */
	px->started = 1;
	if (vmid != px->vmid && endpoint_fd(px->ep) != -1)
		endpoint_drop(px->ep, "the VM name now means another VMID");
	px->vmid = vmid;
	if (vmid == 0 || pvecfg_socket_path(vmid, sp->serial, px->sock,
	    sizeof px->sock) == -1) {
		px->sock[0] = '\0';
		endpoint_set_target(px->ep, EP_UNIX, NULL, 0);
		return;
	}
	endpoint_set_target(px->ep, EP_UNIX, px->sock, 0);
}

/* Name -> VMID, from the configs as they are now. */
static void
resolve(struct eppve *px)
{
	const struct ep_spec	*sp = endpoint_spec(px->ep);
	struct pvevm		*vms;
	size_t			 n;
	unsigned		 ids[2];

	if (!px->byname) {
		follow(px, px->vmid);
		return;
	}
	if (pvecfg_scan(PVE_CONF_DIR, &vms, &n) == -1) {
		endpoint_note(px->ep, LOG_LVL_WARN,
		    "cannot read %s (%s); waiting",
		    PVE_CONF_DIR, strerror(errno));
		endpoint_set_status(px->ep, EP_WAITING, PVE_CONF_DIR,
		    "waiting for %s", PVE_CONF_DIR);
		if (endpoint_fd(px->ep) == -1)
			follow(px, 0);
		return;
	}
	switch (pvecfg_lookup(vms, n, sp->name, ids)) {
	case 0:
		endpoint_note(px->ep, LOG_LVL_NOTICE,
		    "no VM named %s in %s; waiting for "
		    "one", sp->name, PVE_CONF_DIR);
		endpoint_set_status(px->ep, EP_WAITING, sp->name,
		    "waiting for a VM named %s", sp->name);
		if (endpoint_fd(px->ep) == -1)	/* an open one may go on */
			follow(px, 0);
		break;
	case 1:
		if (ids[0] != px->vmid || !px->started)
			endpoint_note(px->ep, LOG_LVL_NOTICE,
			    "VM %s is VMID %u: following "
			    "%s/%u.serial%d", sp->name, ids[0], PVE_RUN_DIR,
			    ids[0], sp->serial);
		follow(px, ids[0]);
		break;
	default:
		endpoint_note(px->ep, LOG_LVL_WARN,
		    "refusing: the name %s is used by VMIDs "
		    "%u and %u (ambiguous)", sp->name, ids[0], ids[1]);
		endpoint_set_status(px->ep, EP_REFUSED, sp->name,
		    "refused: %s is ambiguous", sp->name);
		if (endpoint_fd(px->ep) != -1)
			endpoint_drop(px->ep, "the VM name is ambiguous");
		follow(px, 0);
		break;
	}
	free(vms);
}

/* ---- news from the configs and the socket directory ---- */

static int
pve_event(void *arg, enum pvewatch_what what, const char *name)
{
	struct eppve	*px = arg;
	unsigned	 vmid;

	switch (what) {
	case PVEW_CONF:
		return pvecfg_conf_vmid(name, &vmid) == 0;
	case PVEW_SOCKET:
		return pvecfg_socket_vmid(name, endpoint_spec(px->ep)->serial,
		    &vmid) == 0 && vmid != px->vmid;
	case PVEW_RUNDIR:
		break;
	}
	return 1;
}

static void
pve_look(void *arg)
{
	resolve(arg);
}

/* ---- the backend ---- */

static void	pve_stop(struct endpoint *);

static int
pve_start(struct endpoint *ep, char *err, size_t errlen)
{
	const struct ep_spec	*sp = endpoint_spec(ep);
	struct eppve		*px;

	if ((px = calloc(1, sizeof *px)) == NULL) {
		snprintf(err, errlen, "%s: %s", endpoint_name(ep),
		    strerror(errno));
		return -1;
	}
	px->ep = ep;
	endpoint_set_data(ep, px);
	if (pvecfg_parse_vmid(sp->name, &px->vmid) == -1) {
		px->byname = 1;
		px->vmid = 0;
		px->pw = pvewatch_new(endpoint_base(ep), IN_CREATE |
		    IN_MOVED_TO, pve_event, pve_look, px);
		if (px->pw == NULL) {
			snprintf(err, errlen, "%s: inotify: %s",
			    endpoint_name(ep), strerror(errno));
			pve_stop(ep);
			return -1;
		}
		if (!pvewatch_confs_watched(px->pw))
			log_notice("%s: cannot watch %s (%s); names are looked "
			    "up again when a VM's socket appears",
			    endpoint_name(ep), PVE_CONF_DIR, strerror(errno));
	}
	resolve(px);
	return 0;
}

/*
 * QEMU closed the connection (the VM stopped, or it dropped us).  The name
 * may mean another VM now; else the socket is opened again.
 */
static void
pve_lost(struct endpoint *ep, const char *why, int stable)
{
	struct eppve	*px = endpoint_data(ep);
	unsigned	 before = px->vmid;

	resolve(px);
	if (px->vmid != 0 && px->vmid == before)
		endpoint_reopen(ep, why, stable);
	else
		log_notice("%s: lost (%s)", endpoint_name(ep), why);
}

static void
pve_stop(struct endpoint *ep)
{
	struct eppve	*px = endpoint_data(ep);

	if (px == NULL)
		return;
	pvewatch_free(px->pw);
	free(px);
	endpoint_set_data(ep, NULL);
}

const struct ep_backend ep_backend_pve = {
	.start = pve_start,
	.lost = pve_lost,
	.retry = endpoint_target_attempt,
	.stop = pve_stop,
};
