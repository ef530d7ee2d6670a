/*
 * crlf.h - exact inverse of the Xen/ONLCR "\n -> \r\n" corruption.
 *
 * Pure: no I/O, no allocation, no globals.  The corruption turns every 0x0a
 * into 0x0d 0x0a; its inverse deletes the 0x0d directly before each 0x0a and
 * keeps every other 0x0d.  A 0x0d at the end of one buffer is held until the
 * next byte shows whether it was the corruption's (crlf_flush() releases it
 * when no byte follows within the relay's hold time).
 */
#ifndef KDRELAY_CRLF_H
#define KDRELAY_CRLF_H

#include <stddef.h>
#include <stdint.h>

enum crlf_mode {
	CRLF_OFF = 0,
	CRLF_ON,
	CRLF_AUTO,
};

struct crlf {
	int		held;		/* a 0x0d is held back */
	uint64_t	removed;	/* 0x0d bytes deleted so far */
};

void	crlf_init(struct crlf *);

/*
 * Repair n bytes from in into out and return the number written.  out must
 * have room for n + 1 bytes (a held 0x0d may come out first).  out may alias
 * in as long as out <= in - 1, or out == in when nothing is held.
 */
size_t	crlf_repair(struct crlf *, const uint8_t *in, size_t n, uint8_t *out);

/*
 * Each variant of it by name, for the tests to hold every one to the
 * model (crlf_repair runs the best this CPU has): NULL when not built or
 * this CPU lacks it.
 */
enum crlf_impl {
	CRLF_PORTABLE = 0,	/* eight bytes a step, any CPU */
	CRLF_SSE2,		/* x86_64's baseline */
	CRLF_AVX2,		/* taken at run time where the CPU has it */
};
typedef size_t	crlf_repair_fn(struct crlf *, const uint8_t *, size_t,
		    uint8_t *);
crlf_repair_fn	*crlf_repair_impl(enum crlf_impl);

/* Release a held 0x0d into out (room for 1); returns 0 or 1. */
size_t	crlf_flush(struct crlf *, uint8_t *out);

/* The corruption itself (each 0x0a becomes 0x0d 0x0a); out has room 2n. */
size_t	crlf_corrupt(const uint8_t *in, size_t n, uint8_t *out);

const char *crlf_mode_name(enum crlf_mode);
int	crlf_mode_parse(const char *, enum crlf_mode *);

#endif
