/*
 * crlf.c - exact inverse of the "\n -> \r\n" corruption.
 *
 * The hot path of the relay: memchr() finds each 0x0d and the runs between
 * them move with memmove(), so clean data costs one scan and (when out is
 * not in) one copy.
 */
#include <string.h>
#include <strings.h>

#include "crlf.h"

#define CR	0x0d
#define LF	0x0a

void
crlf_init(struct crlf *c)
{
	c->held = 0;
	c->removed = 0;
}

/* Move a run; out may trail in (the relay repairs in place). */
static uint8_t *
run(uint8_t *o, const uint8_t *p, size_t len)
{
	if (o != p && len != 0)
		memmove(o, p, len);
	return (o + len);
}

size_t
crlf_repair(struct crlf *c, const uint8_t *in, size_t n, uint8_t *out)
{
	const uint8_t	*p = in, *end = in + n, *q;
	uint8_t		*o = out;

	if (n == 0)
		return (0);
	if (c->held) {
		/* Read *p before writing: out may be in - 1. */
		if (*p == LF)
			c->removed++;
		else
			*o++ = CR;
		c->held = 0;
	}
	while (p < end) {
		q = memchr(p, CR, end - p);
		if (q == NULL) {
			o = run(o, p, end - p);
			break;
		}
		o = run(o, p, q - p);
		if (q + 1 == end) {
			c->held = 1;
			break;
		}
		if (q[1] == LF) {
			c->removed++;
			*o++ = LF;
			p = q + 2;
		} else {
			*o++ = CR;
			p = q + 1;
		}
	}
	return (o - out);
}

size_t
crlf_flush(struct crlf *c, uint8_t *out)
{
	if (!c->held)
		return (0);
	c->held = 0;
	*out = CR;
	return (1);
}

size_t
crlf_corrupt(const uint8_t *in, size_t n, uint8_t *out)
{
	const uint8_t	*p = in, *end = in + n, *q;
	uint8_t		*o = out;

	while (p < end) {
		q = memchr(p, LF, end - p);
		if (q == NULL)
			q = end;
		memcpy(o, p, q - p);
		o += q - p;
		if (q == end)
			break;
		*o++ = CR;
		*o++ = LF;
		p = q + 1;
	}
	return (o - out);
}

const char *
crlf_mode_name(enum crlf_mode m)
{
	switch (m) {
	case CRLF_OFF:
		return ("off");
	case CRLF_ON:
		return ("on");
	case CRLF_AUTO:
		return ("auto");
	}
	return ("unknown");
}

int
crlf_mode_parse(const char *s, enum crlf_mode *m)
{
	if (strcasecmp(s, "off") == 0)
		*m = CRLF_OFF;
	else if (strcasecmp(s, "on") == 0)
		*m = CRLF_ON;
	else if (strcasecmp(s, "auto") == 0)
		*m = CRLF_AUTO;
	else
		return (-1);
	return (0);
}
