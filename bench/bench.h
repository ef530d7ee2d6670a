/*
 * bench.h - pieces shared by the benchmark programs (header only: each
 * program is one .c file, built by `make bench`).
 *
 * Traffic is real KDCOM: data packets with full-size random payloads,
 * valid checksums and trailers, ids alternating as a sender's do.  A
 * "corrupting line" is simulated on the sending side exactly as a Xen
 * stubdomain console does it (every 0x0a written arrives as 0x0d 0x0a), so
 * every contender is fed the same bytes; a repairing relay must deliver
 * the original packets, a plain one delivers what it was given.
 */
#ifndef KDRELAY_BENCH_H
#define KDRELAY_BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crlf.h"
#include "kdcom.h"

static inline int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A small deterministic generator (xorshift64*): same seed, same bytes. */
static inline uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static inline void
rng_fill(uint64_t *s, uint8_t *p, size_t n)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = rng_next(s);
		p[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

static inline void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n)) == NULL) {
		fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
		exit(71);
	}
	return p;
}

/*
 * One direction's traffic, a cycle of npkt packets repeated forever: orig
 * is what the sender means, wire what a corrupting line delivers.  off[]
 * and woff[] are where packet i starts in each (npkt + 1 entries).
 */
struct cycle {
	size_t	 npkt;
	uint8_t	*orig, *wire;
	size_t	 olen, wlen;
	size_t	*off, *woff;
};

static inline void
cycle_make(struct cycle *c, size_t npkt, uint16_t payload, uint64_t seed)
{
	uint8_t	pay[KD_MAX_PAYLOAD], pkt[KD_MAX_PACKET];
	size_t	i, n;
	uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;

	c->npkt = npkt;
	c->orig = xmalloc(npkt * KD_MAX_PACKET);
	c->wire = xmalloc(npkt * KD_MAX_PACKET * 2);
	c->off = xmalloc((npkt + 1) * sizeof *c->off);
	c->woff = xmalloc((npkt + 1) * sizeof *c->woff);
	c->olen = c->wlen = 0;
	for (i = 0; i < npkt; i++) {
		rng_fill(&s, pay, payload);
		/* STATE_MANIPULATE, as a memory dump's replies are. */
		n = kd_build(pkt, 2, KD_ID_INITIAL | (i & 1), pay, payload);
		c->off[i] = c->olen;
		c->woff[i] = c->wlen;
		memcpy(c->orig + c->olen, pkt, n);
		c->olen += n;
		c->wlen += crlf_corrupt(pkt, n, c->wire + c->wlen);
	}
	c->off[npkt] = c->olen;
	c->woff[npkt] = c->wlen;
}

/*
 * A position in an endless cyclic byte string buf[0..len): copy or compare
 * the next n bytes.
 */
struct cpos {
	const uint8_t	*buf;
	size_t		 len, at;
	uint64_t	 done;		/* bytes consumed in all */
};

static inline void
cpos_init(struct cpos *p, const uint8_t *buf, size_t len, size_t at)
{
	p->buf = buf;
	p->len = len;
	p->at = at % len;
	p->done = 0;
}

/* The next contiguous run (at most max bytes) to send from. */
static inline const uint8_t *
cpos_run(const struct cpos *p, size_t max, size_t *n)
{
	*n = p->len - p->at < max ? p->len - p->at : max;
	return p->buf + p->at;
}

static inline void
cpos_advance(struct cpos *p, size_t n)
{
	p->at = (p->at + n) % p->len;
	p->done += n;
}

/* Check n received bytes against the expected stream; -1 on a mismatch. */
static inline int
cpos_check(struct cpos *p, const uint8_t *got, size_t n)
{
	size_t	k;

	while (n > 0) {
		k = p->len - p->at < n ? p->len - p->at : n;
		if (memcmp(p->buf + p->at, got, k) != 0)
			return -1;
		cpos_advance(p, k);
		got += k;
		n -= k;
	}
	return 0;
}

/* Sort helper and percentiles of n samples (sorted in place). */
static inline int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static inline int64_t
pct(int64_t *v, size_t n, double p)
{
	size_t	i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static inline uint64_t
parse_size(const char *s)
{
	char		*end;
	uint64_t	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		goto bad;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end == '\0')
		return v;
bad:
	fprintf(stderr, "bench: %s: not a size (N, Nk, NM, NG)\n", s);
	exit(64);
}

#endif
