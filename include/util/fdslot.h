/*
 * fdslot.h - an fd number kept for one use, so that what is opened later
 * can take it.  libevent sizes each loop's fd table by the highest fd the
 * loop watches, and fd numbers are the process's: a pair whose tty opens
 * after a thousand other loops were made would pay a table for all of
 * them.  A slot taken when the pair is made keeps its fds beside its loop.
 *
 * A slot holds an inert fd (never ready, reads and writes fail) while
 * empty.
 */
#ifndef KDRELAY_FDSLOT_H
#define KDRELAY_FDSLOT_H

/* A new empty slot, or -1 with errno (none left: go without). */
int	fdslot_new(void);
/* Move fd into the empty slot (fd is closed); returns the slot, or fd
 * itself when slot is -1 or the move fails. */
int	fdslot_fill(int slot, int fd);
/*
 * Close what fd refers to: empty the slot when fd is it, else close fd.
 * Returns the slot, or -1 when it could not be kept (closed: never use
 * that number again).
 */
int	fdslot_close(int slot, int fd);

#endif
