/*
 * crlf.c - exact inverse of the "\n -> \r\n" corruption.
 *
 * The hot path of the relay: one pass copies each run up to the next 0x0d
 * (bytescan.h, 32 bytes a step), so clean data costs one scan that is also
 * the copy, in place or not.
 */
#include <string.h>
#include <strings.h>

#include "bytescan.h"
#include "crlf.h"

#define CR	0x0d
#define LF	0x0a

void
crlf_init(struct crlf *c)
{
	c->held = 0;
	c->removed = 0;
}

typedef size_t (*copy_fn)(uint8_t *, const uint8_t *, size_t, uint8_t);

/* The repair around a run copier (inlined, so the copier is too). */
static inline __attribute__((always_inline)) size_t
repair(struct crlf *c, const uint8_t *in, size_t n, uint8_t *out,
    copy_fn copy_until)
{
	const uint8_t	*p = in, *end = in + n;
	uint8_t		*o = out;
	size_t		 k;

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
	for (;;) {
		k = copy_until(o, p, end - p, CR);
		o += k;
		p += k;
		if (p == end)
			break;
		if (p + 1 == end) {
			c->held = 1;
			break;
		}
		if (p[1] == LF) {
			c->removed++;
			*o++ = LF;
			p += 2;
		} else {
			*o++ = CR;
			p++;
		}
	}
	return (o - out);
}

size_t
crlf_repair(struct crlf *c, const uint8_t *in, size_t n, uint8_t *out)
{
	return (repair(c, in, n, out, bs_copy_until));
}

size_t
crlf_repair_portable(struct crlf *c, const uint8_t *in, size_t n,
    uint8_t *out)
{
	return (repair(c, in, n, out, bs_copy_until_p));
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
