/*
 * check_crlf.c - the CRLF inverse against a reference model, exhaustively
 * for short strings and on random data for long ones.  Every test runs
 * once per variant (loop index bits 0-1): crlf_repair() as the relay calls
 * it, then the portable, SSE2 and AVX2 ones (crlf_repair_impl); and short
 * strings are also tried at every offset of a long run, where the scans
 * work a block at a time.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crlf.h"
#include "kdtest.h"

#define MAXLEN	8
#define FILL	200		/* a long run around short strings */
#define NVARIANT	4

typedef size_t (*repair_fn)(struct crlf *, const uint8_t *, size_t,
    uint8_t *);
static repair_fn	repair_impl = crlf_repair;
#define crlf_repair(c, in, n, out)	repair_impl(c, in, n, out)

/*
 * Loop index i: bits 0-1 pick the variant, the rest is the test's own.
 * Each variant this machine can run must be there to be tested.
 */
static int
variant(int i)
{
	static crlf_repair_fn *const relays = crlf_repair;

	switch (i % NVARIANT) {
	case 0:
		repair_impl = relays;
		break;
	case 1:
		repair_impl = crlf_repair_impl(CRLF_PORTABLE);
		break;
	case 2:
		repair_impl = crlf_repair_impl(CRLF_SSE2);
#if defined(__SSE2__)
		ck_assert_msg(repair_impl != NULL, "no SSE2 variant");
#endif
		break;
	case 3:
		repair_impl = crlf_repair_impl(CRLF_AVX2);
#if defined(__x86_64__) && defined(__GNUC__)
		ck_assert_msg(repair_impl != NULL ||
		    !__builtin_cpu_supports("avx2"), "no AVX2 variant");
#endif
		break;
	}
	if (repair_impl == NULL)	/* not this CPU's: the best instead */
		repair_impl = relays;
	return (i / NVARIANT);
}

static const uint8_t alphabet[] = { 0x0d, 0x0a, 'x' };

/* The definition: delete each 0x0d directly followed by 0x0a. */
static size_t
model(const uint8_t *in, size_t n, uint8_t *out, size_t *removed)
{
	size_t	i, o = 0;

	*removed = 0;
	for (i = 0; i < n; i++) {
		if (in[i] == 0x0d && i + 1 < n && in[i + 1] == 0x0a)
			(*removed)++;
		else
			out[o++] = in[i];
	}
	return (o);
}

/* How the relay calls it: read into buf + 1, repair into buf. */
static size_t
repair_inplace(struct crlf *c, const uint8_t *src, size_t n, uint8_t *out)
{
	uint8_t	buf[MAXLEN + 2];
	size_t	len;

	memcpy(buf + 1, src, n);
	len = crlf_repair(c, buf + 1, n, buf);
	memcpy(out, buf, len);
	return (len);
}

/* Repair the chunks cut at cuts[] in one of three aliasing styles. */
static void
check_cut(const uint8_t *s, size_t n, const size_t *cuts, size_t ncuts,
    int style)
{
	struct crlf	c;
	uint8_t		got[2 * MAXLEN + 2], want[MAXLEN], tmp[MAXLEN + 1];
	size_t		wantlen, removed, got_len = 0, from = 0, i, to, len;
	size_t		plen, prem;

	wantlen = model(s, n, want, &removed);
	crlf_init(&c);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : n;
		if (style == 0)
			len = crlf_repair(&c, s + from, to - from,
			    got + got_len);
		else if (style == 1)
			len = repair_inplace(&c, s + from, to - from,
			    got + got_len);
		else {
			/* out == in is allowed only with nothing held. */
			memcpy(tmp, s + from, to - from);
			if (c.held)
				len = repair_inplace(&c, tmp, to - from,
				    got + got_len);
			else {
				len = crlf_repair(&c, tmp, to - from, tmp);
				memcpy(got + got_len, tmp, len);
			}
		}
		got_len += len;
		from = to;
		/* A 0x0d at the end of what came so far is held, nothing else. */
		KT_CHECK(c.held == (to > 0 && s[to - 1] == 0x0d),
		    "held after %zu of %zu bytes", to, n);
		/* And what came out is the repaired prefix without it. */
		plen = model(s, to - c.held, tmp, &prem);
		KT_CHECK(plen == got_len && memcmp(tmp, got, plen) == 0,
		    "prefix of %zu bytes, style %d", to, style);
	}
	got_len += crlf_flush(&c, got + got_len);
	KT_CHECK(c.held == 0, "held after flush");
	KT_CHECK(got_len == wantlen && memcmp(got, want, wantlen) == 0,
	    "%zu-byte string, %zu cuts, style %d: wrong output", n, ncuts,
	    style);
	KT_CHECK(c.removed == removed, "removed %ju, want %zu",
	    (uintmax_t)c.removed, removed);
}

static void
check_string(const uint8_t *s, size_t n)
{
	size_t	cut, singles[MAXLEN], i;
	int	style;

	for (style = 0; style < 3; style++) {
		/* Whole, then split at every position. */
		for (cut = 0; cut <= n; cut++)
			check_cut(s, n, &cut, 1, style);
		for (i = 0; i + 1 < n; i++)
			singles[i] = i + 1;
		check_cut(s, n, singles, n > 0 ? n - 1 : 0, style);
	}
}

START_TEST(exhaustive_short)
{
	uint8_t	s[MAXLEN];
	size_t	n, i, count = 0;
	unsigned long k, total;

	variant(_i);
	for (n = 0; n <= MAXLEN; n++) {
		for (total = 1, i = 0; i < n; i++)
			total *= 3;
		for (k = 0; k < total; k++) {
			unsigned long v = k;

			for (i = 0; i < n; i++) {
				s[i] = alphabet[v % 3];
				v /= 3;
			}
			check_string(s, n);
			count++;
		}
	}
	ck_assert_uint_eq(count, 9841);	/* 3^0 + ... + 3^8 */
}
END_TEST

/* Repair FILL bytes in one piece or two (cut), in a style of aliasing. */
static size_t
repair_pieces(struct crlf *c, const uint8_t *s, size_t cut, int style,
    uint8_t *got)
{
	uint8_t	buf[FILL + 1];
	size_t	from, to, len, o = 0;

	crlf_init(c);
	for (from = 0; from < FILL; from = to) {
		to = from < cut ? cut : FILL;
		memcpy(buf + 1, s + from, to - from);
		if (style == 1)			/* into another buffer */
			len = crlf_repair(c, buf + 1, to - from, got + o);
		else if (style == 2 && !c->held) {	/* into the input */
			len = crlf_repair(c, buf + 1, to - from, buf + 1);
			memcpy(got + o, buf + 1, len);
		} else {			/* the relay's: in place */
			len = crlf_repair(c, buf + 1, to - from, buf);
			memcpy(got + o, buf, len);
		}
		o += len;
	}
	return (o + crlf_flush(c, got + o));
}

/*
 * Every string of up to five bytes over the alphabet, at every offset of a
 * long run of 'x' (so before, across and after the scan's blocks), whole
 * and cut around it, in every style of aliasing.
 */
START_TEST(exhaustive_in_runs)
{
	uint8_t		s[FILL], want[FILL], got[FILL + 1];
	size_t		n, at, i, wantlen, removed, len, cuts[3];
	unsigned long	k, total, v;
	struct crlf	c;
	int		style, j;

	variant(_i);
	for (n = 1; n <= 5; n++) {
		for (total = 1, i = 0; i < n; i++)
			total *= 3;
		for (k = 0; k < total; k++) {
			for (at = 0; at + n <= FILL; at++) {
				memset(s, 'x', FILL);
				for (v = k, i = 0; i < n; i++, v /= 3)
					s[at + i] = alphabet[v % 3];
				wantlen = model(s, FILL, want, &removed);
				cuts[0] = FILL;
				cuts[1] = at + n;
				cuts[2] = at + 1;
				for (style = 0; style < 3; style++)
				for (j = 0; j < 3; j++) {
					len = repair_pieces(&c, s, cuts[j],
					    style, got);
					KT_CHECK(len == wantlen &&
					    memcmp(got, want, len) == 0 &&
					    c.removed == removed,
					    "string %lu of %zu at %zu, cut %zu, "
					    "style %d", k, n, at, cuts[j], style);
				}
			}
		}
	}
}
END_TEST

START_TEST(corrupt_adds_cr_before_each_lf)
{
	const uint8_t	in[] = "a\nb\r\n\n\rc";
	const uint8_t	want[] = "a\r\nb\r\r\n\r\n\rc";
	uint8_t		out[2 * sizeof(in)];
	size_t		len;

	len = crlf_corrupt(in, sizeof(in) - 1, out);
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert_mem_eq(out, want, len);
	ck_assert_uint_eq(crlf_corrupt(in, 0, out), 0);
}
END_TEST

/* Random data biased towards 0x0d and 0x0a, or plain random bytes. */
static void
fill(uint64_t *r, uint8_t *b, size_t n, int kind)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		uint64_t v = kt_rand(r);

		if (kind == 0)
			b[i] = v;
		else
			b[i] = (v & 3) == 0 ? 0x0d : (v & 3) == 1 ? 0x0a : v >> 8;
	}
}

START_TEST(corrupt_then_repair_is_identity)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 100, 4095, 4096, 65536,
	    65537, 200000 };
	uint64_t	r = 0x5eed0000 + variant(_i);
	uint8_t		*orig, *bad, *buf, *got;
	size_t		n, blen, i, pos, chunk, len, got_len, lfs;
	struct crlf	c;
	int		kind;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (kind = 0; kind < 2; kind++) {
			n = sizes[i];
			orig = kt_xmalloc(n);
			bad = kt_xmalloc(2 * n);
			buf = kt_xmalloc(2 * n + 1);
			got = kt_xmalloc(2 * n + 1);
			fill(&r, orig, n, kind);
			blen = crlf_corrupt(orig, n, bad);
			for (lfs = 0, pos = 0; pos < n; pos++)
				lfs += orig[pos] == 0x0a;
			ck_assert_uint_eq(blen, n + lfs);

			crlf_init(&c);
			got_len = 0;
			for (pos = 0; pos < blen; pos += chunk) {
				chunk = 1 + kt_below(&r, kt_below(&r, 3) == 0 ?
				    8 : 70000);
				if (chunk > blen - pos)
					chunk = blen - pos;
				/* The relay's way: buf + 1 into buf. */
				memcpy(buf + 1, bad + pos, chunk);
				len = crlf_repair(&c, buf + 1, chunk, buf);
				KT_CHECK(len <= chunk + 1, "grew");
				memcpy(got + got_len, buf, len);
				got_len += len;
			}
			got_len += crlf_flush(&c, got + got_len);
			ck_assert_uint_eq(got_len, n);
			ck_assert_int_eq(memcmp(got, orig, n), 0);
			ck_assert_uint_eq(c.removed, lfs);
			free(orig);
			free(bad);
			free(buf);
			free(got);
		}
	}
}
END_TEST

/*
 * Long random strings over 0x0d, 0x0a and one other byte (many pairs and
 * lone 0x0d in one block, across blocks and halves) against the model,
 * cut at random, repaired the relay's way.
 */
START_TEST(dense_against_model)
{
	static uint8_t	s[3000], want[3000], buf[3000 + 1], got[3000 + 1];
	uint64_t	r = 0xde05e000 + variant(_i);
	size_t		n, i, pos, chunk, len, o, wantlen, removed;
	struct crlf	c;
	int		round;

	for (round = 0; round < 400; round++) {
		n = kt_below(&r, sizeof s + 1);
		for (i = 0; i < n; i++)
			s[i] = alphabet[kt_below(&r, round % 2 ? 3 : 2)];
		wantlen = model(s, n, want, &removed);
		crlf_init(&c);
		for (o = 0, pos = 0; pos < n; pos += chunk) {
			chunk = 1 + kt_below(&r, kt_below(&r, 4) == 0 ? 70 :
			    sizeof s);
			if (chunk > n - pos)
				chunk = n - pos;
			memcpy(buf + 1, s + pos, chunk);
			len = crlf_repair(&c, buf + 1, chunk, buf);
			memcpy(got + o, buf, len);
			o += len;
		}
		o += crlf_flush(&c, got + o);
		KT_CHECK(o == wantlen && memcmp(got, want, o) == 0 &&
		    c.removed == removed, "round %d: %zu bytes", round, n);
	}
}
END_TEST

START_TEST(held_cr_and_flush)
{
	struct crlf	c;
	uint8_t		out[8];

	variant(_i);
	crlf_init(&c);
	ck_assert_uint_eq(crlf_flush(&c, out), 0);
	ck_assert_uint_eq(crlf_repair(&c, (const uint8_t *)"x\r", 2, out), 1);
	ck_assert_int_eq(out[0], 'x');
	ck_assert_int_eq(c.held, 1);
	/* Nothing to read: the held byte stays held. */
	ck_assert_uint_eq(crlf_repair(&c, (const uint8_t *)"", 0, out), 0);
	ck_assert_int_eq(c.held, 1);
	/* Hold time over: it goes out, and a late 0x0a cannot take it back. */
	ck_assert_uint_eq(crlf_flush(&c, out), 1);
	ck_assert_int_eq(out[0], 0x0d);
	ck_assert_int_eq(c.held, 0);
	ck_assert_uint_eq(crlf_repair(&c, (const uint8_t *)"\n", 1, out), 1);
	ck_assert_int_eq(out[0], 0x0a);
	ck_assert_uint_eq(c.removed, 0);
	/* Held across calls, then resolved either way. */
	ck_assert_uint_eq(crlf_repair(&c, (const uint8_t *)"\r", 1, out), 0);
	ck_assert_uint_eq(crlf_repair(&c, (const uint8_t *)"\n", 1, out), 1);
	ck_assert_int_eq(out[0], 0x0a);
	ck_assert_uint_eq(c.removed, 1);
	ck_assert_uint_eq(crlf_repair(&c, (const uint8_t *)"\r", 1, out), 0);
	ck_assert_uint_eq(crlf_repair(&c, (const uint8_t *)"\r\r", 2, out), 2);
	ck_assert_mem_eq(out, "\r\r", 2);
	ck_assert_int_eq(c.held, 1);
	ck_assert_uint_eq(crlf_repair(&c, (const uint8_t *)"y", 1, out), 2);
	ck_assert_mem_eq(out, "\ry", 2);
}
END_TEST

START_TEST(long_runs)
{
	static uint8_t	in[65536 + 1], out[65536 + 1];
	struct crlf	c;
	size_t		i, len;

	variant(_i);
	/* All 0x0d: every one kept, the last held. */
	memset(in, 0x0d, 65536);
	crlf_init(&c);
	len = crlf_repair(&c, in, 65536, out);
	ck_assert_uint_eq(len, 65535);
	ck_assert_int_eq(c.held, 1);
	/* All pairs: half removed, in place. */
	crlf_init(&c);
	for (i = 0; i < 65536; i++)
		in[i + 1] = i & 1 ? 0x0a : 0x0d;
	len = crlf_repair(&c, in + 1, 65536, in);
	ck_assert_uint_eq(len, 32768);
	ck_assert_uint_eq(c.removed, 32768);
	for (i = 0; i < len; i++)
		KT_CHECK(in[i] == 0x0a, "byte %zu", i);
	/* No 0x0d at all: a plain copy, and in place too. */
	for (i = 0; i < 65536; i++)
		in[i] = 'a' + i % 26;
	crlf_init(&c);
	ck_assert_uint_eq(crlf_repair(&c, in, 65536, in), 65536);
	ck_assert_int_eq(in[65535], 'a' + 65535 % 26);
}
END_TEST

START_TEST(mode_names)
{
	enum crlf_mode	m;

	ck_assert_int_eq(crlf_mode_parse("on", &m), 0);
	ck_assert_int_eq(m, CRLF_ON);
	ck_assert_int_eq(crlf_mode_parse("off", &m), 0);
	ck_assert_int_eq(m, CRLF_OFF);
	ck_assert_int_eq(crlf_mode_parse("auto", &m), 0);
	ck_assert_int_eq(m, CRLF_AUTO);
	ck_assert_int_eq(crlf_mode_parse("yes", &m), -1);
	ck_assert_int_eq(crlf_mode_parse("", &m), -1);
	ck_assert_int_eq(crlf_mode_parse("autox", &m), -1);
	ck_assert_str_eq(crlf_mode_name(CRLF_ON), "on");
	ck_assert_str_eq(crlf_mode_name(CRLF_OFF), "off");
	ck_assert_str_eq(crlf_mode_name(CRLF_AUTO), "auto");
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("crlf");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, exhaustive_short, 0, NVARIANT);
	tcase_add_loop_test(tc, exhaustive_in_runs, 0, NVARIANT);
	tcase_add_test(tc, corrupt_adds_cr_before_each_lf);
	tcase_add_loop_test(tc, corrupt_then_repair_is_identity, 0,
	    8 * NVARIANT);
	tcase_add_loop_test(tc, dense_against_model, 0, NVARIANT);
	tcase_add_loop_test(tc, held_cr_and_flush, 0, NVARIANT);
	tcase_add_loop_test(tc, long_runs, 0, NVARIANT);
	tcase_add_test(tc, mode_names);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (kt_run(suite()));
}
