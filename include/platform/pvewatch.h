/*
 * pvewatch.h - inotify on a Proxmox host's VM configs and serial sockets,
 * for the pve: endpoint and auto mode alike.
 *
 * /etc/pve/qemu-server holds the configs (a FUSE file system: inotify may
 * say nothing there, so owners also look again on other news);
 * /var/run/qemu-server holds QEMU's sockets, and may not exist before the
 * first VM starts: its parent is watched until it does.
 */
#ifndef KDRELAY_PVEWATCH_H
#define KDRELAY_PVEWATCH_H

#include <stdint.h>

struct event_base;
struct pvewatch;

enum pvewatch_what {
	PVEW_CONF,	/* a config file (name) was written, made, removed */
	PVEW_SOCKET,	/* a file (name) came or went in the socket directory */
	PVEW_RUNDIR,	/* the socket directory came or went */
};

/* Nonzero if the event is worth a look. */
typedef int (*pvewatch_event_cb)(void *arg, enum pvewatch_what,
	    const char *name);
/* After a batch of events of which one was worth a look. */
typedef void (*pvewatch_look_cb)(void *arg);

/*
 * run_mask: the socket directory's events (IN_CREATE, IN_DELETE, ...).
 * NULL with errno when inotify is not to be had.
 */
struct pvewatch *pvewatch_new(struct event_base *, uint32_t run_mask,
	    pvewatch_event_cb, pvewatch_look_cb, void *arg);
/* Zero when the config directory could not be watched (errno then). */
int	pvewatch_confs_watched(const struct pvewatch *);
void	pvewatch_free(struct pvewatch *);

#endif
