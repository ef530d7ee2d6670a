/*
 * linering.h - a bounded queue of text lines from a pair's thread to a
 * reader in another thread (a `kdrelayctl watch` client).
 *
 * The writer never blocks and never allocates: a line that does not fit is
 * dropped and counted.  The reader's event (in its own loop) is activated
 * when the ring goes from empty to not empty, and when it is closed.
 */
#ifndef KDRELAY_LINERING_H
#define KDRELAY_LINERING_H

#include <stddef.h>
#include <stdint.h>

struct event;
struct linering;

struct linering *linering_new(size_t cap, struct event *ev);
void	linering_free(struct linering *);
/* Writer: queue line (no newline; one is added) or drop and count it. */
void	linering_push(struct linering *, const char *line, size_t len);
/* Writer: no more lines will come (the pair stopped). */
void	linering_close(struct linering *);
/*
 * Reader: move whole lines, at most len bytes, into buf; returns the
 * bytes moved.  *dropped gets (and resets) the lines dropped since the
 * last call, *closed whether the writer is gone and the ring is empty.
 */
size_t	linering_take(struct linering *, char *buf, size_t len,
	    uint64_t *dropped, int *closed);

#endif
