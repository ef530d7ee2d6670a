/*
 * crlfprobe.c - one held data packet, judged as read and repaired.
 *
 * Each byte is judged once per reading as it is added (kd_check), so
 * holding costs the same however the input is cut.  Bytes up to the next
 * 0x0d read the same both ways and go in as runs; a 0x0d and the byte
 * after it go through the repaired reading's CRLF state one at a time.
 * A 0x0d at the end of what is held is not yet part of the repaired
 * reading: the next byte decides whether it was the corruption's.
 */
#include <string.h>

#include "bytescan.h"
#include "crlfprobe.h"

#define CR	0x0d

size_t
probe_needless(const uint8_t *in, size_t n)
{
	size_t	len;

	if (n < KD_HEADER_SIZE - 4 || (len = kd_data_rest(in)) > n ||
	    memchr(in, CR, len) != NULL)
		return (0);
	return (len);
}

void
probe_start(struct crlf_probe *p)
{
	p->active = 1;
	p->len = 0;
	crlf_init(&p->crlf);
	kd_check_init(&p->check[PROBE_RAW]);
	kd_check_init(&p->check[PROBE_REP]);
}

/*
 * Hold n more bytes (already at buf + len), repaired into rep (nrep bytes)
 * for the repaired reading; nonzero when a reading's verdict came.
 */
static int
judge(struct crlf_probe *p, size_t n, const uint8_t *rep, size_t nrep)
{
	int	raw = p->check[PROBE_RAW].verdict;
	int	was = p->check[PROBE_REP].verdict;

	kd_check_feed(&p->check[PROBE_RAW], p->buf + p->len, n);
	kd_check_feed(&p->check[PROBE_REP], rep, nrep);
	p->len += n;
	return (raw != p->check[PROBE_RAW].verdict ||
	    was != p->check[PROBE_REP].verdict);
}

/* One byte, through the repaired reading's CRLF state. */
static int
add_byte(struct crlf_probe *p, uint8_t b)
{
	uint8_t	out[2];

	p->buf[p->len] = b;
	return (judge(p, 1, out, crlf_repair(&p->crlf, &b, 1, out)));
}

size_t
probe_add(struct crlf_probe *p, const uint8_t *in, size_t n)
{
	size_t	i = 0, k, w;

	while (i < n && p->len < PROBE_MAX) {
		if (p->crlf.held || in[i] == CR) {
			if (add_byte(p, in[i++]))
				return (i);
			continue;
		}
		/*
		 * Bytes up to the next 0x0d read the same both ways: held and
		 * judged at once, up to where either reading may judge next.
		 */
		k = n - i;
		if (k > PROBE_MAX - p->len)
			k = PROBE_MAX - p->len;
		if (k > (w = kd_check_want(&p->check[PROBE_RAW])))
			k = w;
		if (k > (w = kd_check_want(&p->check[PROBE_REP])))
			k = w;
		k = bs_copy_until(p->buf + p->len, in + i, k, CR);
		i += k;
		if (judge(p, k, p->buf + p->len, k))
			return (i);
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
