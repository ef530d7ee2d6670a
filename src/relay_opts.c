/*
 * relay_opts.c - a pair's options: defaults and comparison (for reload).
 */
#include <string.h>

#include "relay.h"

void
relay_opts_init(struct relay_opts *o)
{
	memset(o, 0, sizeof *o);
	o->hold_ms = RELAY_HOLD_MS;
	o->bufsize = RELAY_BUFSIZE;
	o->validate = 1;
}

int
relay_opts_equal(const struct relay_opts *a, const struct relay_opts *b)
{
	return (strcmp(a->name, b->name) == 0 &&
	    ep_spec_equal(&a->side[SIDE_HOST], &b->side[SIDE_HOST]) &&
	    ep_spec_equal(&a->side[SIDE_TARGET], &b->side[SIDE_TARGET]) &&
	    a->hold_ms == b->hold_ms && a->bufsize == b->bufsize &&
	    a->validate == b->validate &&
	    strcmp(a->packet_log, b->packet_log) == 0 &&
	    strcmp(a->capture, b->capture) == 0);
}
