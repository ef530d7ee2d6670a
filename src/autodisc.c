/*
 * autodisc.c - placeholder until the xenstore/Proxmox discovery lands.
 */
#include <stdio.h>

#include "autodisc.h"

struct autodisc *
autodisc_new(struct event_base *base, const struct config *cf, autodisc_cb cb,
    void *arg, char *err, size_t errlen)
{
	(void)base;
	(void)cf;
	(void)cb;
	(void)arg;
	snprintf(err, errlen, "not available in this build");
	return NULL;
}

void
autodisc_free(struct autodisc *ad)
{
	(void)ad;
}
