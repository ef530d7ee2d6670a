/*
 * pktlog.h - the human packet log and the kdtrace capture of a pair.
 *
 * One line per packet (wall-clock time, ISO 8601 with microseconds and
 * the local offset, to match the journal; direction, type, id, length,
 * checksum verdict, API name), DbgPrint text escaped, and problems the
 * validator saw (garbage, break-ins).  The capture writes every intact
 * packet and break-in in the kdtrace format so that a user's session can
 * be replayed in a test.
 */
#ifndef KDRELAY_PKTLOG_H
#define KDRELAY_PKTLOG_H

#include <stdio.h>

#include "kdcom.h"

struct pktlog;

/* Open for append; NULL with a reason in err. */
struct pktlog *pktlog_open(const char *path, char *err, size_t errlen);
void	pktlog_close(struct pktlog *);
/* dir: 'D' debugger->target, 'T' target->debugger. */
void	pktlog_event(struct pktlog *, char dir, const struct kd_event *);
void	pktlog_note(struct pktlog *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Format a DbgPrint payload's text, escaped, into buf; 0 if none. */
size_t	pktlog_dbgprint(const struct kd_packet *, char *buf, size_t len);

struct capture;

/* Create (truncate) and write the kdtrace header. */
struct capture *capture_open(const char *path, char *err, size_t errlen);
void	capture_close(struct capture *);
/*
 * Record an intact packet or a break-in (a one-byte record).  Damaged
 * packets and garbage are line noise the peers recovered from (the packet
 * log has them): a capture holds the session kdreplay can play again.
 */
void	capture_event(struct capture *, char dir, const struct kd_event *);

#endif
