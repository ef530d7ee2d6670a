/*
 * pairopts.c - what a pair is, as data.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The string fields of a pair_opts, in the order they come in it. */
#define STR(f)	{ offsetof(struct pair_opts, f), \
		    sizeof(((struct pair_opts *)0)->f) }
#define SPEC_STRS(i)	STR(side[i].text), STR(side[i].path), \
		    STR(side[i].host), STR(side[i].port), STR(side[i].name)

static const struct {
	size_t	off, size;
} strs[] = {
	STR(name),		/* first: pair_packed_name() */
	SPEC_STRS(0), SPEC_STRS(1),
	STR(packet_log), STR(capture),
};
#define NSTRS	(sizeof strs / sizeof strs[0])

_Static_assert(offsetof(struct pair_opts, name) == 0,
    "pair_packed_name() reads the name first");

/*
 * The struct as it is, but each string field as its bytes and a NUL: into
 * out (NULL: only counted).  Returns the length.
 */
static size_t
pack_to(const struct pair_opts *o, char *out)
{
	const char	*in = (const char *)o;
	size_t		 at = 0, len = 0, i, n;

	for (i = 0; i < NSTRS; i++) {
		n = strnlen(in + strs[i].off, strs[i].size - 1);
		if (out != NULL) {
			memcpy(out + len, in + at, strs[i].off - at);
			memcpy(out + len + strs[i].off - at, in + strs[i].off,
			    n);
			out[len + strs[i].off - at + n] = '\0';
		}
		len += strs[i].off - at + n + 1;
		at = strs[i].off + strs[i].size;
	}
	if (out != NULL)
		memcpy(out + len, in + at, sizeof *o - at);
	return len + sizeof *o - at;
}

/* A struct pair_packed is those bytes: the type only keeps them apart. */
struct pair_packed *
pair_opts_pack(const struct pair_opts *o)
{
	char	*p;

	if ((p = malloc(pack_to(o, NULL))) != NULL)
		pack_to(o, p);
	return (struct pair_packed *)p;
}

void
pair_opts_unpack(const struct pair_packed *p, struct pair_opts *o)
{
	char		*out = (char *)o;
	const char	*in = (const char *)p;
	size_t		 at = 0, i, n;

	memset(o, 0, sizeof *o);
	for (i = 0; i < NSTRS; i++) {
		memcpy(out + at, in, strs[i].off - at);
		in += strs[i].off - at;
		n = strlen(in);
		memcpy(out + strs[i].off, in, n + 1);
		in += n + 1;
		at = strs[i].off + strs[i].size;
	}
	memcpy(out + at, in, sizeof *o - at);
}

void
pair_opts_copy_fresh(struct pair_opts *dst, const struct pair_opts *src)
{
	char		*out = (char *)dst;
	const char	*in = (const char *)src;
	size_t		 at = 0, i;

	for (i = 0; i < NSTRS; i++) {
		memcpy(out + at, in + at, strs[i].off - at);
		at = strs[i].off;
		memcpy(out + at, in + at, strnlen(in + at, strs[i].size - 1));
		at += strs[i].size;
	}
	memcpy(out + at, in + at, sizeof *dst - at);
}

const char *
pair_packed_name(const struct pair_packed *p)
{
	return (const char *)p;
}
