/*
 * bytescan.h - the byte scans of the hot paths, one helper per job.
 *
 * Each comes twice: a portable one (eight bytes at a time in a 64-bit
 * word) and, where the compiler targets it, an SSE2 one (x86_64's
 * baseline, 64 bytes at a time); the unsuffixed name is the best one
 * built.  bs_sum and bs_find_run have a third, AVX2, taken at run time
 * when the CPU has it (bs_avx2).  Header only and static inline, so that
 * every variant stays compiled everywhere and tests/core/check_kdcom.c
 * holds each to the byte-at-a-time model; full blocks only, nothing is
 * read past n.
 *
 *	bs_copy_until(out, in, n, b)	copy in to out up to the first b;
 *					the bytes copied (n when no b)
 *	bs_find_run(p, n, a, b, c, t)	the resync skip: an index j, or
 *					n, such that p[0..j) holds no
 *					part of a run of a or b that is
 *					four long or ends p, and no c;
 *					or, given a tally t, c's counted
 *					there, not stopped at (the
 *					portable one stops at the first
 *					a or b followed by the same byte
 *					or last, the SSE2 and AVX2 ones
 *					may pass a run of two or three)
 *	bs_sum(p, n)			the bytes' sum, modulo 2^32
 *
 * bs_copy_until's out may trail in (out <= in) or be in: every block is
 * loaded before it is stored, front to back.
 */
#ifndef KDRELAY_BYTESCAN_H
#define KDRELAY_BYTESCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define BS_SSE2	1
#endif

/*
 * AVX2 is not x86_64's baseline: its variants are built for it alone
 * (target attributes) and chosen at run time.  The choice reads what
 * libgcc's constructor found with cpuid (and xgetbv: the OS saves the
 * ymm registers) once, before main: read-only after, the same for every
 * caller, so the core stays without state of its own.
 */
#if defined(BS_SSE2) && defined(__x86_64__) && defined(__GNUC__) && \
    !defined(BS_NO_AVX2)
#include <immintrin.h>
#define BS_AVX2	1
#define BS_TARGET_AVX2	__attribute__((target("avx2,popcnt")))
#endif

#define BS_ONES		0x0101010101010101ull
#define BS_HIGHS	0x8080808080808080ull

/* Nonzero when one of the eight bytes in w is b (exact, no false hits). */
static inline uint64_t
bs_has(uint64_t w, uint8_t b)
{
	w ^= BS_ONES * b;
	return (w - BS_ONES) & ~w & BS_HIGHS;
}

static inline size_t
bs_copy_until_p(uint8_t *out, const uint8_t *in, size_t n, uint8_t b)
{
	uint64_t	w;
	size_t		i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, in + i, 8);
		if (bs_has(w, b))
			break;
		memcpy(out + i, &w, 8);
	}
	for (; i < n && in[i] != b; i++)
		out[i] = in[i];
	return i;
}

/* The c's bs_find_run() passed, when given one to count them in. */
struct bs_tally {
	size_t	n;		/* how many */
	size_t	last;		/* the index of the last one */
};

/* p[i] is a or b followed by the same byte, or last: a run may begin. */
static inline int
bs_run_at(const uint8_t *p, size_t n, size_t i, uint8_t a, uint8_t b)
{
	return (p[i] == a || p[i] == b) && (i + 1 == n || p[i + 1] == p[i]);
}

/* The skip stops at p[i], or passes it (counting a c in t). */
static inline int
bs_stop_at(const uint8_t *p, size_t n, size_t i, uint8_t a, uint8_t b,
    uint8_t c, struct bs_tally *t)
{
	if (p[i] != c)
		return bs_run_at(p, n, i, a, b);
	if (t == NULL)
		return 1;
	t->n++;
	t->last = i;
	return 0;
}

/* From i on, t counted up to there already. */
static inline size_t
bs_find_run_from(const uint8_t *p, size_t n, size_t i, uint8_t a, uint8_t b,
    uint8_t c, struct bs_tally *t)
{
	uint64_t	w;
	size_t		k;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		if (bs_has(w, a) | bs_has(w, b) | bs_has(w, c)) {
			for (k = i; k < i + 8; k++)
				if (bs_stop_at(p, n, k, a, b, c, t))
					return k;
		}
	}
	for (; i < n && !bs_stop_at(p, n, i, a, b, c, t); i++)
		;
	return i;
}

static inline size_t
bs_find_run_p(const uint8_t *p, size_t n, uint8_t a, uint8_t b, uint8_t c,
    struct bs_tally *t)
{
	if (t != NULL)
		t->n = 0;
	return bs_find_run_from(p, n, 0, a, b, c, t);
}

static inline uint32_t
bs_sum_p(const uint8_t *p, size_t n)
{
	const uint64_t	lo = 0x00ff00ff00ff00ffull;
	uint64_t	w, acc;
	uint32_t	sum = 0;
	size_t		i = 0, k;

	while (i + 8 <= n) {
		/* Four 16-bit lanes; 128 words add at most 65280 to each. */
		acc = 0;
		for (k = 0; k < 128 && i + 8 <= n; k++, i += 8) {
			memcpy(&w, p + i, 8);
			acc += (w & lo) + ((w >> 8) & lo);
		}
		acc = (acc & 0x0000ffff0000ffffull) +
		    ((acc >> 16) & 0x0000ffff0000ffffull);
		sum += (uint32_t)acc + (uint32_t)(acc >> 32);
	}
	for (; i < n; i++)
		sum += p[i];
	return sum;
}

#ifdef BS_SSE2
/* Copy k < 16 bytes in at most four steps, each loaded before stored. */
static inline void
bs_copy_small(uint8_t *out, const uint8_t *in, size_t k)
{
	uint64_t	w8;
	uint32_t	w4;
	uint16_t	w2;

	if (k & 8) {
		memcpy(&w8, in, 8);
		memcpy(out, &w8, 8);
		in += 8, out += 8;
	}
	if (k & 4) {
		memcpy(&w4, in, 4);
		memcpy(out, &w4, 4);
		in += 4, out += 4;
	}
	if (k & 2) {
		memcpy(&w2, in, 2);
		memcpy(out, &w2, 2);
		in += 2, out += 2;
	}
	if (k & 1)
		*out = *in;
}

static inline __m128i
bs_load(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)p);
}

/* Eight bytes into the low half. */
static inline __m128i
bs_load8(const uint8_t *p)
{
	return _mm_loadl_epi64((const __m128i *)p);
}

/* Where four blocks' compares hit, as one 64-bit mask. */
static inline uint64_t
bs_mask4(__m128i w, __m128i x, __m128i y, __m128i z)
{
	return (uint64_t)(unsigned)_mm_movemask_epi8(w) |
	    (uint64_t)(unsigned)_mm_movemask_epi8(x) << 16 |
	    (uint64_t)(unsigned)_mm_movemask_epi8(y) << 32 |
	    (uint64_t)(unsigned)_mm_movemask_epi8(z) << 48;
}

static inline size_t
bs_copy_until_sse2(uint8_t *out, const uint8_t *in, size_t n, uint8_t b)
{
	const __m128i	bb = _mm_set1_epi8((char)b);
	__m128i		w, x, y, z, ew, ex, ey, ez;
	size_t		i = 0, k;
	unsigned	m;

	for (; n - i >= 64; i += 64) {
		w = bs_load(in + i);
		x = bs_load(in + i + 16);
		y = bs_load(in + i + 32);
		z = bs_load(in + i + 48);
		ew = _mm_cmpeq_epi8(w, bb);
		ex = _mm_cmpeq_epi8(x, bb);
		ey = _mm_cmpeq_epi8(y, bb);
		ez = _mm_cmpeq_epi8(z, bb);
		if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(ew, ex),
		    _mm_or_si128(ey, ez)))) {
			/* The blocks before b's whole, then b's up to it. */
			k = (size_t)__builtin_ctzll(bs_mask4(ew, ex, ey, ez));
			if (k >= 16)
				_mm_storeu_si128((__m128i *)(out + i), w);
			if (k >= 32)
				_mm_storeu_si128((__m128i *)(out + i + 16), x);
			if (k >= 48)
				_mm_storeu_si128((__m128i *)(out + i + 32), y);
			bs_copy_small(out + i + (k & ~(size_t)15),
			    in + i + (k & ~(size_t)15), k & 15);
			return i + k;
		}
		_mm_storeu_si128((__m128i *)(out + i), w);
		_mm_storeu_si128((__m128i *)(out + i + 16), x);
		_mm_storeu_si128((__m128i *)(out + i + 32), y);
		_mm_storeu_si128((__m128i *)(out + i + 48), z);
	}
	for (; n - i >= 16; i += 16) {
		w = bs_load(in + i);
		m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, bb));
		if (m != 0) {
			bs_copy_small(out + i, in + i, __builtin_ctz(m));
			return i + __builtin_ctz(m);
		}
		_mm_storeu_si128((__m128i *)(out + i), w);
	}
	return i + bs_copy_until_p(out + i, in + i, n - i, b);
}

/*
 * A pair of a or of b in one 16-bit lane: a run of four a or b covers
 * such a pair wherever it starts, one byte before it at most.
 */
static inline __m128i
bs_pairs(__m128i v, __m128i a, __m128i b)
{
	return _mm_or_si128(_mm_cmpeq_epi16(v, a), _mm_cmpeq_epi16(v, b));
}

/* Where a stop found at k is: a c, or where its run may begin. */
static inline size_t
bs_run_start(const uint8_t *p, size_t k, uint8_t c)
{
	return p[k] != c && k > 0 && p[k - 1] == p[k] ? k - 1 : k;
}

/* Count the c's of mask m, for p[i..i + 64), that lie before j. */
static inline void
bs_tally_add(struct bs_tally *t, size_t i, uint64_t m, size_t j)
{
	if (j < i + 64)
		m = j > i ? m & ((1ull << (j - i)) - 1) : 0;
	if (m == 0)
		return;
	t->last = i + 63 - (size_t)__builtin_clzll(m);
	for (; m != 0; m &= m - 1)
		t->n++;
}

/* One 16-byte block: the stops, and the c's apart when counting them. */
static inline __attribute__((always_inline)) __m128i
bs_block(const uint8_t *p, __m128i aa, __m128i bb, __m128i cc, __m128i *e,
    int counting)
{
	__m128i	v = bs_load(p);

	*e = _mm_cmpeq_epi8(v, cc);
	return counting ? bs_pairs(v, aa, bb) :
	    _mm_or_si128(bs_pairs(v, aa, bb), *e);
}

/*
 * Where the skip stops in the w bytes at p + i, given their stops and
 * c's (bits; c's when counting them in t, which gets those before it):
 * i + w when not there.
 */
static inline size_t
bs_stop_in(const uint8_t *p, size_t i, size_t w, uint64_t ms, uint64_t mc,
    uint8_t c, struct bs_tally *t)
{
	size_t	j = i + w;

	if (ms != 0)
		j = bs_run_start(p, i + (size_t)__builtin_ctzll(ms), c);
	if (mc != 0)
		bs_tally_add(t, i, mc, j);
	return j;
}

/*
 * bs_find_run_sse2 from i (a multiple of 16; t counted up to there),
 * built twice: counting (t) or stopping at c.
 */
static inline __attribute__((always_inline)) size_t
bs_find_run_sse2_(const uint8_t *p, size_t n, size_t i, uint8_t a, uint8_t b,
    uint8_t c, struct bs_tally *t)
{
	const __m128i	aa = _mm_set1_epi8((char)a), bb = _mm_set1_epi8((char)b),
			cc = _mm_set1_epi8((char)c);
	__m128i		w, x, y, z, ew, ex, ey, ez;
	size_t		j;
	uint64_t	mc, ms;

	for (; n - i >= 64; i += 64) {
		w = bs_block(p + i, aa, bb, cc, &ew, t != NULL);
		x = bs_block(p + i + 16, aa, bb, cc, &ex, t != NULL);
		y = bs_block(p + i + 32, aa, bb, cc, &ey, t != NULL);
		z = bs_block(p + i + 48, aa, bb, cc, &ez, t != NULL);
		ms = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(w,
		    x), _mm_or_si128(y, z)));
		mc = t != NULL ? (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(ew, ex), _mm_or_si128(ey, ez))) : 0;
		if ((ms | mc) != 0 && (j = bs_stop_in(p, i, 64,
		    ms ? bs_mask4(w, x, y, z) : 0,
		    mc ? bs_mask4(ew, ex, ey, ez) : 0, c, t)) < i + 64)
			return j;
	}
	for (; n - i >= 16; i += 16) {
		w = bs_block(p + i, aa, bb, cc, &ew, t != NULL);
		ms = (unsigned)_mm_movemask_epi8(w);
		mc = t != NULL ? (unsigned)_mm_movemask_epi8(ew) : 0;
		if ((j = bs_stop_in(p, i, 16, ms, mc, c, t)) < i + 16)
			return j;
	}
	/* A run may begin on the blocks' last byte and go on. */
	if (i > 0 && bs_run_at(p, n, i - 1, a, b))
		return i - 1;
	return bs_find_run_from(p, n, i, a, b, c, t);
}

/*
 * Stops at aligned pairs (and at c unless counting): so it may pass a
 * run of two or three, which is garbage however the parser counts it,
 * where the portable one stops.
 */
static inline size_t
bs_find_run_sse2(const uint8_t *p, size_t n, uint8_t a, uint8_t b, uint8_t c,
    struct bs_tally *t)
{
	if (t == NULL)
		return bs_find_run_sse2_(p, n, 0, a, b, c, NULL);
	t->n = 0;
	return bs_find_run_sse2_(p, n, 0, a, b, c, t);
}

static inline uint32_t
bs_sum_sse2(const uint8_t *p, size_t n)
{
	const __m128i	z = _mm_setzero_si128();
	__m128i		acc = z;
	size_t		i = 0;

	/* psadbw: the sum of eight bytes per 64-bit lane, in one step. */
	for (; n - i >= 32; i += 32) {
		acc = _mm_add_epi64(acc, _mm_sad_epu8(bs_load(p + i), z));
		acc = _mm_add_epi64(acc, _mm_sad_epu8(bs_load(p + i + 16), z));
	}
	if (n - i >= 16) {
		acc = _mm_add_epi64(acc, _mm_sad_epu8(bs_load(p + i), z));
		i += 16;
	}
	if (n - i >= 8) {
		acc = _mm_add_epi64(acc, _mm_sad_epu8(bs_load8(p + i), z));
		i += 8;
	}
	if (i < n && n >= 8) {
		/* The last 8 bytes, those summed already shifted out. */
		acc = _mm_add_epi64(acc, _mm_sad_epu8(_mm_srl_epi64(
		    bs_load8(p + n - 8), _mm_cvtsi32_si128(8 * (8 - (n - i)))),
		    z));
		i = n;
	}
	acc = _mm_add_epi64(acc, _mm_unpackhi_epi64(acc, acc));
	return (uint32_t)_mm_cvtsi128_si32(acc) + bs_sum_p(p + i, n - i);
}

#ifdef BS_AVX2
/* Whether this CPU runs the AVX2 variants (popcnt comes with them). */
static inline int
bs_avx2(void)
{
	return __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("popcnt");
}

/* vpsadbw on 32 bytes at a time, four a step, added pairwise. */
static inline BS_TARGET_AVX2 __m256i
bs_sad32(const uint8_t *p)
{
	return _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *)p),
	    _mm256_setzero_si256());
}

static inline BS_TARGET_AVX2 uint32_t
bs_sum_avx2(const uint8_t *p, size_t n)
{
	__m256i		a = _mm256_setzero_si256();
	__m128i		s;
	size_t		i = 0;

	for (; n - i >= 128; i += 128)
		a = _mm256_add_epi64(a, _mm256_add_epi64(
		    _mm256_add_epi64(bs_sad32(p + i), bs_sad32(p + i + 32)),
		    _mm256_add_epi64(bs_sad32(p + i + 64), bs_sad32(p + i + 96))));
	for (; n - i >= 32; i += 32)
		a = _mm256_add_epi64(a, bs_sad32(p + i));
	s = _mm_add_epi64(_mm256_castsi256_si128(a),
	    _mm256_extracti128_si256(a, 1));
	s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
	return (uint32_t)_mm_cvtsi128_si32(s) + bs_sum_sse2(p + i, n - i);
}

/* bs_runs for 32 bytes: the stops, and the c's apart when counting. */
static inline BS_TARGET_AVX2 uint64_t
bs_runs32(const uint8_t *p, __m256i aa, __m256i bb, __m256i cc, uint64_t *mc,
    int counting)
{
	__m256i	v = _mm256_loadu_si256((const __m256i *)p);
	__m256i	e = _mm256_cmpeq_epi8(v, cc);
	__m256i	s = _mm256_or_si256(_mm256_cmpeq_epi16(v, aa),
		    _mm256_cmpeq_epi16(v, bb));

	if (counting)
		*mc = (uint32_t)_mm256_movemask_epi8(e);
	else
		s = _mm256_or_si256(s, e);
	return (uint32_t)_mm256_movemask_epi8(s);
}

/* bs_find_run_sse2's loop 64 bytes a step in two ymm; the rest its. */
static inline __attribute__((always_inline)) BS_TARGET_AVX2 size_t
bs_find_run_avx2_(const uint8_t *p, size_t n, uint8_t a, uint8_t b,
    uint8_t c, struct bs_tally *t)
{
	const __m256i	aa = _mm256_set1_epi8((char)a),
			bb = _mm256_set1_epi8((char)b),
			cc = _mm256_set1_epi8((char)c);
	size_t		i = 0, j;
	uint64_t	ms, mc = 0, mc2 = 0;

	for (; n - i >= 64; i += 64) {
		ms = bs_runs32(p + i, aa, bb, cc, &mc, t != NULL) |
		    bs_runs32(p + i + 32, aa, bb, cc, &mc2, t != NULL) << 32;
		mc |= mc2 << 32;
		if ((ms | mc) != 0 && (j = bs_stop_in(p, i, 64, ms, mc, c,
		    t)) < i + 64)
			return j;
	}
	return bs_find_run_sse2_(p, n, i, a, b, c, t);
}

static inline BS_TARGET_AVX2 size_t
bs_find_run_avx2(const uint8_t *p, size_t n, uint8_t a, uint8_t b, uint8_t c,
    struct bs_tally *t)
{
	if (t == NULL)
		return bs_find_run_avx2_(p, n, a, b, c, NULL);
	t->n = 0;
	return bs_find_run_avx2_(p, n, a, b, c, t);
}
#endif

/* Below 256 bytes the AVX2 one saves too little to be worth the check. */
static inline size_t
bs_find_run(const uint8_t *p, size_t n, uint8_t a, uint8_t b, uint8_t c,
    struct bs_tally *t)
{
#ifdef BS_AVX2
	if (n >= 256 && bs_avx2())
		return bs_find_run_avx2(p, n, a, b, c, t);
#endif
	return bs_find_run_sse2(p, n, a, b, c, t);
}

/* Below 128 bytes the call to the AVX2 one costs what it saves. */
static inline uint32_t
bs_sum(const uint8_t *p, size_t n)
{
#ifdef BS_AVX2
	if (n >= 128 && bs_avx2())
		return bs_sum_avx2(p, n);
#endif
	return bs_sum_sse2(p, n);
}

#define bs_copy_until	bs_copy_until_sse2
#else
#define bs_copy_until	bs_copy_until_p
#define bs_find_run	bs_find_run_p
#define bs_sum		bs_sum_p
#endif

#endif
