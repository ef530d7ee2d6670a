/*
 * kdtrace.h - the kdtrace capture format (version 1).
 *
 * "KDTRACE1", then records: direction ('D' debugger->target, 'T'
 * target->debugger), flags (0), u16le length, the packet as on the wire.
 */
#ifndef KDRELAY_KDTRACE_H
#define KDRELAY_KDTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KDTRACE_MAGIC	"KDTRACE1"
#define KDTRACE_DEBUGGER 'D'
#define KDTRACE_TARGET	'T'

struct kdtrace_rec {
	char		 dir;
	uint16_t	 len;
	const uint8_t	*pkt;
};

struct kdtrace {
	size_t			 n;
	struct kdtrace_rec	*recs;
	uint8_t			*data;	/* the whole file */
	size_t			 size;
};

/* Load a whole file; on error returns -1 with a reason in err. */
int	kdtrace_load(const char *path, struct kdtrace *, char *err, size_t errlen);
/* Parse a buffer the caller owns (the trace keeps pointers into it). */
int	kdtrace_parse(const uint8_t *, size_t, struct kdtrace *, char *err,
	    size_t errlen);
void	kdtrace_free(struct kdtrace *);

int	kdtrace_write_header(FILE *);
int	kdtrace_write(FILE *, char dir, const uint8_t *pkt, uint16_t len);

#endif
