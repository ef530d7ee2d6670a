/*
 * tshutdown.h - a clean end for the debugger when its target goes away.
 *
 * What VirtualKD does on VMware and VirtualBox (kdcom-protocol.md, "target
 * shutdown"): when the target is lost while a debugger is attached, send
 * the debugger a STATE_CHANGE64 load-symbols event with UnloadSymbols set,
 * carrying the id the target would have used next, so that WinDbg ends the
 * session and waits for the next boot instead of retrying for ever; then
 * answer its STATE_MANIPULATE requests for a while.  Pure: packets in,
 * bytes for the debugger out, deadlines as values (milliseconds of any
 * monotonic clock the caller keeps).  Nothing here ever goes to a target.
 */
#ifndef KDRELAY_TSHUTDOWN_H
#define KDRELAY_TSHUTDOWN_H

#include <stddef.h>
#include <stdint.h>

#include "kdcom.h"

#define TSD_PAYLOAD	240	/* the state change's payload */
#define TSD_COPIES	2	/* more put WinDbg out of sync */
#define TSD_RESEND_MS	500	/* unacknowledged this long: send again */
#define TSD_LINGER_MS	1500	/* answer the debugger this long */
#define TSD_OUT_MAX	(2 * KD_HEADER_SIZE + KD_MAX_PACKET)

enum tsd_state {
	TSD_IDLE = 0,		/* the target is there, or it is over */
	TSD_WAIT_ACK,		/* our state change sent, not yet ACKed */
	TSD_ANSWER,		/* answering requests until the end */
	TSD_LAST,		/* the copy after a Continue, then over */
};

struct tsd {
	/* What the target's session has shown so far. */
	int		 target_sent;	/* a packet, this session */
	int		 have_id;	/* a data packet since any RESET */
	uint32_t	 last_id;	/* the target's last data packet */
	int		 acked;		/* the debugger ACKed it */
	int		 stopped;	/* at a state change, not continued */

	/* The exchange with the debugger after the target is gone. */
	enum tsd_state	 state;
	unsigned	 copies;	/* state changes sent */
	uint32_t	 next_id;	/* for our next data packet */
	uint32_t	 wait_id;	/* the one we want an ACK for */
	int		 waiting;
	int		 wait_sc;	/* it is the state change */
	uint64_t	 resend_at;	/* 0: none */
	uint64_t	 end_at;
	int		 have_req;
	uint32_t	 req_id;	/* the last request answered */

	uint64_t	 started;	/* exchanges begun */
	uint64_t	 injected;	/* packets sent to the debugger */

	size_t		 outlen;
	uint8_t		 out[TSD_OUT_MAX];
};

void	tsd_init(struct tsd *);
/* The target (re)connected: a new session; any exchange ends. */
void	tsd_target_up(struct tsd *);
/* The debugger side went away: any exchange ends. */
void	tsd_host_down(struct tsd *);
/*
 * A packet from the target, valid or not (only valid ones are used), in
 * brief (kdcom.h: all this needs, without decoding an event).
 */
void	tsd_from_target(struct tsd *, const struct kd_brief *);
/* A packet from the debugger: tracked, and answered during an exchange. */
void	tsd_from_debugger(struct tsd *, const struct kd_brief *,
	    uint64_t now);
/*
 * The target is gone and the debugger is there: begin, if the target sent
 * a packet this session.  Returns 1 when begun (bytes are waiting).
 */
int	tsd_target_lost(struct tsd *, uint64_t now);
/* A deadline passed (tsd_deadline()). */
void	tsd_timer(struct tsd *, uint64_t now);
/* Nonzero with *when set while an exchange needs the clock. */
int	tsd_deadline(const struct tsd *, uint64_t *when);
/* Inline: the relay asks for each of the debugger's packets. */
static inline int
tsd_active(const struct tsd *t)
{
	return (t->state != TSD_IDLE);
}
/* Move the bytes for the debugger into out (room TSD_OUT_MAX). */
size_t	tsd_take(struct tsd *, uint8_t *out);
/* The id the target would use next. */
uint32_t tsd_next_target_id(const struct tsd *);
/* The state change itself (out: room KD_MAX_PACKET); returns its length. */
size_t	tsd_build(uint8_t *out, uint32_t id);

#endif
