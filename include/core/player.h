/*
 * player.h - one side of a kdtrace, played like a KDCOM peer.
 *
 * Pure logic, no I/O: the caller feeds parser events and timeouts, and the
 * player says what to write through a callback.  Records of our side are
 * sent in order; each record of the peer must arrive byte for byte.  On top
 * of the script sits the recovery a real peer does: a RESEND for a damaged
 * data packet or a packet cut short, a retransmission of our unanswered data
 * packet on a RESEND or a timeout, a fresh ACK for a duplicate of the data
 * packet we have just acknowledged, and a duplicate ACK ignored.  Scripted
 * RESENDs and retransmissions are plain records; only recovery is counted.
 */
#ifndef KDRELAY_PLAYER_H
#define KDRELAY_PLAYER_H

#include <stddef.h>
#include <stdint.h>

#include "kdcom.h"
#include "kdtrace.h"

#define PLAYER_RETRIES	10	/* recoveries in a row before giving up */

enum player_status {
	PLAYER_OK = 0,
	PLAYER_FAILED,		/* a mismatch, or recovery does not help */
	PLAYER_TIMEOUT,		/* nothing useful arrived for too long */
};

struct player_stats {
	uint64_t	sent;		/* packets written (records, recovery) */
	uint64_t	received;	/* valid packets and break-ins read */
	uint64_t	resends_sent;	/* recovery RESENDs we asked for */
	uint64_t	resends_received; /* unscripted RESENDs from the peer */
	uint64_t	retransmits;	/* our data packets written again */
	uint64_t	duplicates;	/* peer packets seen twice, answered */
	uint64_t	bad;		/* damaged packets */
	uint64_t	garbage;	/* bytes outside packets */
	uint64_t	breakins;	/* unscripted break-ins, ignored */
};

typedef void (*player_send_cb)(void *arg, const uint8_t *, size_t);

struct player {
	const struct kdtrace	*trace;
	char			 self;		/* KDTRACE_DEBUGGER or _TARGET */
	size_t			 next;		/* next record to play */
	long			 pending;	/* our unanswered data record */
	long			 rx_data;	/* peer's last data record */
	long			 rx_ack;	/* our ACK of rx_data, or -1 */
	long			 rx_ctl;	/* peer's last ACK record */
	long			 last_sent;	/* our last record sent */
	unsigned		 retries;
	unsigned		 strikes;	/* recoveries since progress */
	player_send_cb		 send;
	void			*arg;
	struct player_stats	 st;
	uint8_t			 resend[KD_HEADER_SIZE];
	size_t			 resendlen;
	char			 err[512];	/* why, after a failure */
};

/* self: KDTRACE_DEBUGGER or KDTRACE_TARGET; retries 0 means the default. */
void	player_init(struct player *, const struct kdtrace *, char self,
	    unsigned retries, player_send_cb, void *arg);
/* Send our records up to the next one of the peer (or the end). */
void	player_pump(struct player *);
/* A parser event from the peer's bytes. */
enum player_status player_event(struct player *, const struct kd_event *);
/*
 * Nothing arrived for the timeout.  busy: the parser was inside a packet
 * (the caller drops it with kd_parser_reset before calling).
 */
enum player_status player_timeout(struct player *, int busy);
/* The whole trace went through. */
int	player_done(const struct player *);
/* Done, but our side spoke last: stay a while to answer a retransmission. */
int	player_linger(const struct player *);
/* Records of the trace sent by each side. */
size_t	player_count(const struct kdtrace *, char dir);

/*
 * Check that every record is exactly one valid packet (or a break-in);
 * -1 with the record number and reason in err.
 */
int	player_check_trace(const struct kdtrace *, char *err, size_t errlen);

/* "STATE_MANIPULATE(ReadVirtualMemory) id 0x80800001 len 72" */
const char *player_describe(const uint8_t *, size_t, char *buf, size_t len);

#endif
