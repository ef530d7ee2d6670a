/*
 * crlfprobe.c - one held data packet, judged as read and repaired.
 *
 * Each byte is judged once per reading as it is added (kd_check), so
 * holding costs a few compares per byte however the input is cut; only
 * unsettled streams hold, so a byte at a time is fine here.  A 0x0d at the end of what is held is not yet part of the repaired
 * reading: the next byte decides whether it was the corruption's.
 */
#include <string.h>

#include "crlfprobe.h"

void
probe_start(struct crlf_probe *p)
{
	p->active = 1;
	p->len = 0;
	crlf_init(&p->crlf);
	kd_check_init(&p->check[PROBE_RAW]);
	kd_check_init(&p->check[PROBE_REP]);
}

/* Judge one byte under both readings; nonzero when a verdict came. */
static int
add_byte(struct crlf_probe *p, uint8_t b)
{
	int	raw = p->check[PROBE_RAW].verdict;
	int	rep = p->check[PROBE_REP].verdict;
	uint8_t	out[2];
	size_t	len;

	p->buf[p->len++] = b;
	kd_check_feed(&p->check[PROBE_RAW], &b, 1);
	len = crlf_repair(&p->crlf, &b, 1, out);
	kd_check_feed(&p->check[PROBE_REP], out, len);
	return (raw != p->check[PROBE_RAW].verdict ||
	    rep != p->check[PROBE_REP].verdict);
}

size_t
probe_add(struct crlf_probe *p, const uint8_t *in, size_t n)
{
	size_t	i;

	for (i = 0; i < n && p->len < PROBE_MAX; i++) {
		if (add_byte(p, in[i]))
			return (i + 1);
	}
	return (i);
}

int
probe_verdict(const struct crlf_probe *p, int reading)
{
	return (p->check[reading].verdict);
}

int
probe_full(const struct crlf_probe *p)
{
	return (p->len == PROBE_MAX);
}
