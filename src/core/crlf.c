/*
 * crlf.c - exact inverse of the "\n -> \r\n" corruption.
 *
 * The hot path of the relay: one pass copies each run up to the next 0x0d
 * (bytescan.h, 64 bytes a step), so clean data costs one scan that is also
 * the copy, in place or not.  Where the CPU has AVX2 (bytescan.h's
 * bs_avx2), a first pass takes 64 bytes a step and deletes the pairs'
 * 0x0d in registers, leaving the last bytes to the scan.
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
typedef size_t (*bulk_fn)(uint8_t *, const uint8_t *, size_t, uint64_t *);

#ifdef BS_AVX2
/* Row k: the indices of 16 bytes without the k-th (the last one spare). */
#define DROP(k) { 0 + (0 >= k), 1 + (1 >= k), 2 + (2 >= k), 3 + (3 >= k), \
	4 + (4 >= k), 5 + (5 >= k), 6 + (6 >= k), 7 + (7 >= k), \
	8 + (8 >= k), 9 + (9 >= k), 10 + (10 >= k), 11 + (11 >= k), \
	12 + (12 >= k), 13 + (13 >= k), 14 + (14 >= k), 15 }
static const uint8_t drop_row[16][16] __attribute__((aligned(16))) = {
	DROP(0), DROP(1), DROP(2), DROP(3), DROP(4), DROP(5), DROP(6),
	DROP(7), DROP(8), DROP(9), DROP(10), DROP(11), DROP(12), DROP(13),
	DROP(14), DROP(15),
};

/* Store 16 bytes less those marked in dm, highest first; their count. */
static inline BS_TARGET_AVX2 size_t
drop16(uint8_t *o, __m128i h, unsigned dm)
{
	unsigned	left = dm, k;

	while (left != 0) {
		k = 31 - (unsigned)__builtin_clz(left);
		h = _mm_shuffle_epi8(h,
		    _mm_load_si128((const __m128i *)drop_row[k]));
		left &= ~(1u << k);
	}
	_mm_storeu_si128((__m128i *)o, h);
	return 16 - (size_t)__builtin_popcount(dm);
}

/*
 * 32 bytes loaded in a (ca: where it holds 0x0d) from in, with a byte
 * after them: stored whole at out when no 0x0d 0x0a pair is in them, else
 * 16 at a time with the pairs' 0x0d shuffled out.  The bytes stored.
 */
static inline BS_TARGET_AVX2 size_t
step32(uint8_t *out, const uint8_t *in, __m256i a, __m256i ca,
    uint64_t *removed)
{
	unsigned	d;
	size_t		o;

	if (_mm256_movemask_epi8(ca) != 0) {
		/* A 0x0d's next byte, one further on. */
		d = (unsigned)_mm256_movemask_epi8(_mm256_and_si256(ca,
		    _mm256_cmpeq_epi8(_mm256_loadu_si256(
		    (const __m256i *)(in + 1)), _mm256_set1_epi8(LF))));
		if (d != 0) {
			o = drop16(out, _mm256_castsi256_si128(a), d & 0xffff);
			o += drop16(out + o, _mm256_extracti128_si256(a, 1),
			    d >> 16);
			*removed += (unsigned)__builtin_popcount(d);
			return (o);
		}
	}
	_mm256_storeu_si256((__m256i *)out, a);
	return (32);
}

/* The same for 64 bytes, in a and b. */
static inline BS_TARGET_AVX2 size_t
step64(uint8_t *out, const uint8_t *in, __m256i a, __m256i b, __m256i ca,
    __m256i cb, uint64_t *removed)
{
	size_t	o;

	o = step32(out, in, a, ca, removed);
	return (o + step32(out + o, in + 32, b, cb, removed));
}

static inline BS_TARGET_AVX2 __m256i
load32(const uint8_t *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

/*
 * 128 bytes a step, then 64, while a byte follows them (the one that
 * decides a 0x0d at the end); a step without 0x0d is a plain copy.  Every
 * store ends where the bytes loaded end, so out <= in works in place.
 * Returns the bytes consumed; the output is that less those removed.
 */
static BS_TARGET_AVX2 size_t
bulk_avx2(uint8_t *out, const uint8_t *in, size_t n, uint64_t *removed)
{
	const __m256i	cr = _mm256_set1_epi8(CR);
	__m256i		a, b, c, e, ca, cb, cc, ce;
	size_t		i = 0, o = 0;

	for (; n - i > 128; i += 128) {
		a = load32(in + i);
		b = load32(in + i + 32);
		c = load32(in + i + 64);
		e = load32(in + i + 96);
		ca = _mm256_cmpeq_epi8(a, cr);
		cb = _mm256_cmpeq_epi8(b, cr);
		cc = _mm256_cmpeq_epi8(c, cr);
		ce = _mm256_cmpeq_epi8(e, cr);
		if (_mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(ca,
		    cb), _mm256_or_si256(cc, ce))) == 0) {
			_mm256_storeu_si256((__m256i *)(out + o), a);
			_mm256_storeu_si256((__m256i *)(out + o + 32), b);
			_mm256_storeu_si256((__m256i *)(out + o + 64), c);
			_mm256_storeu_si256((__m256i *)(out + o + 96), e);
			o += 128;
			continue;
		}
		o += step64(out + o, in + i, a, b, ca, cb, removed);
		o += step64(out + o, in + i + 64, c, e, cc, ce, removed);
	}
	for (; n - i > 64; i += 64) {
		a = load32(in + i);
		b = load32(in + i + 32);
		o += step64(out + o, in + i, a, b, _mm256_cmpeq_epi8(a, cr),
		    _mm256_cmpeq_epi8(b, cr), removed);
	}
	return (i);
}
#endif

/*
 * The repair around a run copier and a bulk pass (NULL: none), inlined so
 * that the copier is too.
 */
static inline __attribute__((always_inline)) size_t
repair(struct crlf *c, const uint8_t *in, size_t n, uint8_t *out,
    copy_fn copy_until, bulk_fn bulk)
{
	const uint8_t	*p = in, *end = in + n;
	uint8_t		*o = out;
	uint64_t	 before;
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
	if (bulk != NULL) {
		before = c->removed;
		k = bulk(o, p, end - p, &c->removed);
		p += k;
		o += k - (c->removed - before);
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

static size_t
repair_portable(struct crlf *c, const uint8_t *in, size_t n, uint8_t *out)
{
	return (repair(c, in, n, out, bs_copy_until_p, NULL));
}

#ifdef BS_SSE2
static size_t
repair_sse2(struct crlf *c, const uint8_t *in, size_t n, uint8_t *out)
{
	return (repair(c, in, n, out, bs_copy_until_sse2, NULL));
}
#endif

#ifdef BS_AVX2
static size_t
repair_avx2(struct crlf *c, const uint8_t *in, size_t n, uint8_t *out)
{
	return (repair(c, in, n, out, bs_copy_until_sse2, bulk_avx2));
}
#endif

size_t
crlf_repair(struct crlf *c, const uint8_t *in, size_t n, uint8_t *out)
{
#ifdef BS_AVX2
	if (bs_avx2())
		return (repair_avx2(c, in, n, out));
#endif
	return (repair(c, in, n, out, bs_copy_until, NULL));
}

crlf_repair_fn *
crlf_repair_impl(enum crlf_impl v)
{
	switch (v) {
	case CRLF_PORTABLE:
		return (repair_portable);
	case CRLF_SSE2:
#ifdef BS_SSE2
		return (repair_sse2);
#else
		break;
#endif
	case CRLF_AVX2:
#ifdef BS_AVX2
		if (bs_avx2())
			return (repair_avx2);
#endif
		break;
	}
	return (NULL);
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
