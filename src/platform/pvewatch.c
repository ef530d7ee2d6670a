/*
 * pvewatch.c - inotify on a Proxmox host's VM configs and serial sockets.
 */
#include <sys/inotify.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inowatch.h"
#include "pvecfg.h"
#include "pvewatch.h"

struct pvewatch {
	struct inowatch		*iw;
	uint32_t		 run_mask;
	int			 wd_conf, wd_run, wd_runparent;
	int			 conf_errno;
	pvewatch_event_cb	 event;
	pvewatch_look_cb	 look;
	void			*arg;
};

/* The socket directory, or its parent until it exists. */
static void
watch_run(struct pvewatch *pw)
{
	char	parent[PATH_MAX], *slash;

	if (pw->wd_run != -1)
		return;
	pw->wd_run = inowatch_add(pw->iw, PVE_RUN_DIR,
	    pw->run_mask | IN_ONLYDIR);
	if (pw->wd_run != -1) {
		if (pw->wd_runparent != -1)
			inowatch_rm(pw->iw, pw->wd_runparent);
		pw->wd_runparent = -1;
		return;
	}
	/* Not there before the first VM starts: wait for it. */
	snprintf(parent, sizeof parent, "%s", PVE_RUN_DIR);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
		*slash = '\0';
	if (pw->wd_runparent == -1)
		pw->wd_runparent = inowatch_add(pw->iw, parent,
		    IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
}

static int
event_cb(void *arg, int wd, uint32_t mask, const char *name)
{
	struct pvewatch	*pw = arg;

	if (wd == pw->wd_conf) {
		if (mask & IN_IGNORED)
			pw->wd_conf = -1;
		return *name != '\0' && pw->event(pw->arg, PVEW_CONF, name);
	}
	if (wd == pw->wd_run) {
		if (mask & IN_IGNORED) {
			pw->wd_run = -1;
			watch_run(pw);
			return pw->event(pw->arg, PVEW_RUNDIR, "");
		}
		return *name != '\0' && pw->event(pw->arg, PVEW_SOCKET, name);
	}
	if (wd == pw->wd_runparent) {
		watch_run(pw);
		return pw->event(pw->arg, PVEW_RUNDIR, "");
	}
	return 0;
}

static void
look_cb(void *arg)
{
	struct pvewatch	*pw = arg;

	pw->look(pw->arg);
}

struct pvewatch *
pvewatch_new(struct event_base *base, uint32_t run_mask,
    pvewatch_event_cb event, pvewatch_look_cb look, void *arg)
{
	struct pvewatch	*pw;

	if ((pw = calloc(1, sizeof *pw)) == NULL)
		return NULL;
	pw->run_mask = run_mask;
	pw->event = event;
	pw->look = look;
	pw->arg = arg;
	pw->wd_conf = pw->wd_run = pw->wd_runparent = -1;
	if ((pw->iw = inowatch_new(base, event_cb, look_cb, pw)) == NULL) {
		free(pw);
		return NULL;
	}
	pw->wd_conf = inowatch_add(pw->iw, PVE_CONF_DIR, IN_CLOSE_WRITE |
	    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR);
	pw->conf_errno = pw->wd_conf == -1 ? errno : 0;
	watch_run(pw);
	return pw;
}

int
pvewatch_confs_watched(const struct pvewatch *pw)
{
	errno = pw->conf_errno;
	return pw->wd_conf != -1;
}

void
pvewatch_free(struct pvewatch *pw)
{
	if (pw == NULL)
		return;
	inowatch_free(pw->iw);
	free(pw);
}
