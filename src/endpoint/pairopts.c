/*
 * pairopts.c - what a pair is, as data.
 */
#include <stdio.h>
#include <string.h>

#include "pairopts.h"

void
pair_opts_init(struct pair_opts *o)
{
	memset(o, 0, sizeof *o);
	snprintf(o->name, sizeof o->name, "kd");
	o->hold_ms = PAIR_HOLD_MS;
	o->bufsize = PAIR_BUFSIZE;
	o->validate = 1;
	o->target_shutdown = 1;
}

int
pair_opts_equal(const struct pair_opts *a, const struct pair_opts *b)
{
	return strcmp(a->name, b->name) == 0 &&
	    ep_spec_equal(&a->side[0], &b->side[0]) &&
	    ep_spec_equal(&a->side[1], &b->side[1]) &&
	    a->hold_ms == b->hold_ms && a->bufsize == b->bufsize &&
	    a->validate == b->validate &&
	    a->target_shutdown == b->target_shutdown &&
	    strcmp(a->packet_log, b->packet_log) == 0 &&
	    strcmp(a->capture, b->capture) == 0;
}

int
pair_name_valid(const char *s)
{
	size_t	n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	return n > 0 && s[n] == '\0' && n < PAIR_NAME_MAX;
}
