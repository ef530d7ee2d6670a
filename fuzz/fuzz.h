/*
 * fuzz.h - pieces shared by the libFuzzer targets (header only).
 *
 * A target checks properties, not only survival: when one fails it says
 * which and aborts, so libFuzzer keeps the input as a crash.
 *
 * Cut plans: where a target feeds its input in pieces, the piece lengths
 * come from the input itself, read backwards from its last byte, so the
 * fuzzer chooses them (and the data stays the whole input).
 */
#ifndef KDRELAY_FUZZ_H
#define KDRELAY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s: ",		\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

struct plan {
	const uint8_t	*p;
	size_t		 n, i;
};

static inline void
plan_init(struct plan *pl, const uint8_t *p, size_t n)
{
	pl->p = p;
	pl->n = n;
	pl->i = 0;
}

/* The next plan byte (0 once used up). */
static inline unsigned
plan_byte(struct plan *pl)
{
	if (pl->i >= pl->n)
		return 0;
	return pl->p[pl->n - 1 - pl->i++];
}

/*
 * The next piece length: mostly short (0..31, 0 included: empty feeds are
 * legal), sometimes long; never more than left.
 */
static inline size_t
plan_len(struct plan *pl, size_t left)
{
	unsigned	b = plan_byte(pl);
	size_t		len;

	if (b < 0xc0)
		len = b & 31;
	else
		len = (size_t)(b - 0xc0) * 67 + 32;
	if (pl->i >= pl->n)		/* plan used up: the rest at once */
		len = left;
	return len < left ? len : left;
}

#endif
