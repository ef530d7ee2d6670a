/*
 * fuzz_crlf - the CRLF repair is the exact inverse of the corruption,
 * whatever the bytes and wherever the reads cut them.
 *
 * For the input x:
 *  1. corrupt(x) has one 0x0d more per 0x0a; repair(corrupt(x)) + flush
 *     is x, whole and cut where the plan says, and `removed` counts the
 *     0x0a of x.
 *  2. repair(x) cut anywhere (every single cut for short inputs, plan cuts
 *     for all) equals repair(x) whole, which equals a byte-at-a-time model:
 *     drop each 0x0d that directly precedes a 0x0a.
 *  3. With flushes at plan-chosen points (the hold timer), the output is
 *     the model applied to each flushed segment on its own: a released
 *     0x0d stays, whatever follows it.
 * Every repair runs in place as the relay does it (out = in - 1) in a
 * buffer of exactly n + 1 bytes, so ASan sees any write past the room the
 * header promises.
 */
#include <string.h>

#include "crlf.h"
#include "fuzz.h"

#define CR	0x0d
#define LF	0x0a

static size_t
model(const uint8_t *x, size_t n, uint8_t *out)
{
	size_t	i, o = 0;

	for (i = 0; i < n; i++) {
		if (x[i] == CR && i + 1 < n && x[i + 1] == LF)
			continue;
		out[o++] = x[i];
	}
	return o;
}

/* One read: repair in place in a buffer of exactly len + 1 bytes. */
static size_t
repair_piece(struct crlf *c, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t	*b;
	size_t	 o;

	if ((b = malloc(len + 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(b + 1, in, len);
	o = crlf_repair(c, b + 1, len, b);
	CHECK(o <= len + 1, "repair of %zu bytes gave %zu", len, o);
	memcpy(out, b, o);
	free(b);
	return o;
}

/* Repair x in pieces (and flush where told); returns the output length. */
static size_t
repair_cut(const uint8_t *x, size_t n, struct plan *pl, int flushes,
    uint8_t *out, uint64_t *removed)
{
	struct crlf	c;
	size_t		pos = 0, o = 0, len, flushed = 0;

	crlf_init(&c);
	while (pos < n) {
		len = pl != NULL ? plan_len(pl, n - pos) : n - pos;
		o += repair_piece(&c, x + pos, len, out + o);
		pos += len;
		/* Held: exactly a 0x0d last read and not yet released. */
		CHECK(c.held == (pos > 0 && x[pos - 1] == CR && flushed != pos),
		    "held %d at %zu", c.held, pos);
		if (flushes && (plan_byte(pl) & 0x30) == 0x30) {
			o += crlf_flush(&c, out + o);
			flushed = pos;
		}
	}
	o += crlf_flush(&c, out + o);
	CHECK(!c.held, "held after flush");
	if (removed != NULL)
		*removed = c.removed;
	return o;
}

/* Property 3's expectation: the model per flushed segment. */
static size_t
model_flushed(const uint8_t *x, size_t n, struct plan *pl, uint8_t *out)
{
	size_t	pos = 0, seg = 0, o = 0, len;

	while (pos < n) {
		len = plan_len(pl, n - pos);
		pos += len;
		if ((plan_byte(pl) & 0x30) == 0x30 || pos == n) {
			o += model(x + seg, pos - seg, out + o);
			seg = pos;
		}
	}
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *x, size_t n)
{
	uint8_t		*cor, *want, *got, *got2;
	size_t		 ncor, nlf = 0, nwant, ngot, i, k, a;
	uint64_t	 removed;
	struct plan	 pl, pl2;
	struct crlf	 c;

	for (i = 0; i < n; i++)
		nlf += x[i] == LF;
	cor = malloc(2 * n + 1);
	want = malloc(2 * n + 1);
	got = malloc(2 * n + 1);
	got2 = malloc(2 * n + 1);
	if (cor == NULL || want == NULL || got == NULL || got2 == NULL)
		abort();

	/* 1. The inverse. */
	ncor = crlf_corrupt(x, n, cor);
	CHECK(ncor == n + nlf, "corrupt: %zu bytes from %zu with %zu LF",
	    ncor, n, nlf);
	ngot = repair_cut(cor, ncor, NULL, 0, got, &removed);
	CHECK(ngot == n && memcmp(got, x, n) == 0, "repair(corrupt(x)) != x");
	CHECK(removed == nlf, "removed %llu, expected %zu",
	    (unsigned long long)removed, nlf);
	plan_init(&pl, x, n);
	ngot = repair_cut(cor, ncor, &pl, 0, got, &removed);
	CHECK(ngot == n && memcmp(got, x, n) == 0,
	    "repair(corrupt(x)) cut != x");
	CHECK(removed == nlf, "cut: removed %llu, expected %zu",
	    (unsigned long long)removed, nlf);

	/* 2. Cuts never matter. */
	nwant = model(x, n, want);
	ngot = repair_cut(x, n, NULL, 0, got, NULL);
	CHECK(ngot == nwant && memcmp(got, want, nwant) == 0,
	    "repair(x) whole != model");
	plan_init(&pl, x, n);
	ngot = repair_cut(x, n, &pl, 0, got, NULL);
	CHECK(ngot == nwant && memcmp(got, want, nwant) == 0,
	    "repair(x) cut != whole");
	if (n <= 96) {
		for (k = 0; k <= n; k++) {
			crlf_init(&c);
			a = repair_piece(&c, x, k, got);
			a += repair_piece(&c, x + k, n - k, got + a);
			a += crlf_flush(&c, got + a);
			CHECK(a == nwant && memcmp(got, want, a) == 0,
			    "one cut at %zu changes the output", k);
		}
	}

	/* 3. Flushes keep the 0x0d they release. */
	plan_init(&pl, x, n);
	plan_init(&pl2, x, n);
	ngot = repair_cut(x, n, &pl, 1, got, NULL);
	nwant = model_flushed(x, n, &pl2, got2);
	CHECK(ngot == nwant && memcmp(got, got2, ngot) == 0,
	    "flushed repair != model per segment");

	free(cor);
	free(want);
	free(got);
	free(got2);
	return 0;
}
