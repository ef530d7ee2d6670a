/*
 * pktlog.h - the human packet log and the kdtrace capture of a pair.
 *
 * One line per packet (wall-clock time, direction, type, id, length,
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
/* Reopen the same path (after logrotate moved it); -1 keeps the old. */
int	pktlog_reopen(struct pktlog *, char *err, size_t errlen);
/*
 * One line, without its newline, into buf (truncated to fit); returns its
 * length.  It starts with the wall-clock time (ISO 8601, microseconds,
 * local offset: what the journal can be matched with).  dir: 'D'
 * debugger->target, 'T' target->debugger.  The same lines go to the file
 * and to `kdrelayctl watch`.
 */
size_t	pktlog_format(char dir, const struct kd_event *, char *buf, size_t len);
size_t	pktlog_format_note(const char *note, char *buf, size_t len);
/* Append line and a newline, flushed. */
void	pktlog_write(struct pktlog *, const char *line, size_t len);

/* Format a DbgPrint payload's text, escaped, into buf; 0 if none. */
size_t	pktlog_dbgprint(const struct kd_packet *, char *buf, size_t len);

struct capture;

/* Create (truncate) and write the kdtrace header. */
struct capture *capture_open(const char *path, char *err, size_t errlen);
void	capture_close(struct capture *);
const char *capture_path(const struct capture *);
/*
 * Record an intact packet or a break-in (a one-byte record).  Damaged
 * packets and garbage are line noise the peers recovered from (the packet
 * log has them): a capture holds the session kdreplay can play again.
 */
void	capture_event(struct capture *, char dir, const struct kd_event *);

#endif
