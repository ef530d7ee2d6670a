/*
 * crlfprobe.h - one data packet held and judged under both readings.
 *
 * Until auto mode has settled whether a line corrupts, stream.c holds each
 * data packet here, from the byte after its leader, and asks how each
 * reading of it fares: as read, and with the CRLF inverse (crlf.h).  The
 * held bytes stay as read, so either reading can be delivered after.  Pure:
 * no I/O, no allocation, no globals.
 */
#ifndef KDRELAY_CRLFPROBE_H
#define KDRELAY_CRLFPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "crlf.h"
#include "kdcom.h"

/*
 * The most bytes one packet after its leader can take as read: every
 * byte a corrupted 0x0a, and a 0x0d waiting for the byte after.  By then
 * both readings have judged it.
 */
#define PROBE_MAX	(2 * (KD_MAX_PACKET - 4) + 1)

#define PROBE_RAW	0	/* readings: as read */
#define PROBE_REP	1	/* repaired */

struct crlf_probe {
	int		 active;	/* a packet is held */
	size_t		 len;		/* bytes held, as read */
	struct crlf	 crlf;		/* the repaired reading's state */
	struct kd_check	 check[2];	/* PROBE_RAW, PROBE_REP */
	uint8_t		 buf[PROBE_MAX];
};

/*
 * The n bytes after a data leader: when the whole packet is there and
 * holds no 0x0d, both readings are the same bytes and would be judged
 * alike, so holding it decides nothing: returns its length (else 0).
 */
size_t	probe_needless(const uint8_t *, size_t n);
/* Start holding: the bytes added next follow a data leader. */
void	probe_start(struct crlf_probe *);
/*
 * Hold up to n more bytes; returns how many were taken: all, or up to the
 * one on which a reading's verdict came (or the probe is full).
 */
size_t	probe_add(struct crlf_probe *, const uint8_t *, size_t);
/* A reading's verdict so far: -1 while it needs more, else a kd_verdict. */
int	probe_verdict(const struct crlf_probe *, int reading);
int	probe_full(const struct crlf_probe *);

#endif
