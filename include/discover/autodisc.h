/*
 * autodisc.h - auto-discovery: every matching VM gets its own pair.
 *
 * Runs on the daemon's main event loop.  It watches xenstore (and, on
 * Proxmox, the VM configs and sockets) and, whenever the set of running
 * VMs whose names match the globs changes, hands the daemon the whole
 * desired set of pairs; the daemon applies the difference the way a
 * reload does (unchanged pairs keep relaying).  Each VM that appears or
 * vanishes is logged once.
 */
#ifndef KDRELAY_AUTODISC_H
#define KDRELAY_AUTODISC_H

#include <stddef.h>

#include "pairopts.h"
#include "wanted.h"

struct event_base;
struct autodisc;

/* pairs: the full desired set of auto pairs (may be empty), owned by caller
 * only for the duration of the call. */
typedef void (*autodisc_cb)(void *arg, const struct pair_opts *pairs,
	    size_t n);

/*
 * policy: [auto] (copied).  defaults: what each pair starts from (hold,
 * buffer, validation); allow_remote: tcp ports listen on every address.
 * NULL with err on a setup error (e.g. no xenstore and no Proxmox).
 */
struct autodisc *autodisc_new(struct event_base *,
	    const struct config_auto *policy, const struct pair_opts *defaults,
	    int allow_remote, autodisc_cb, void *arg, char *err,
	    size_t errlen);
void	autodisc_free(struct autodisc *);

#endif
