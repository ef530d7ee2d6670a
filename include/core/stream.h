/*
 * stream.h - one direction of a pair, as pure byte processing.
 *
 * Bytes read from an endpoint go through CRLF repair (on, off, or detected
 * automatically) and the KDCOM validator, and come out as the bytes to write
 * to the peer.  No I/O, no libevent, no globals: the relay owns the fds and
 * the timers and calls in here.
 *
 * In auto mode two parsers run, one over the bytes as read and one over the
 * repaired bytes; when a complete packet validates under one reading and
 * fails under the other (or the other is still inside it: the readings
 * differ in length), repair switches to the reading that works, exactly
 * after that packet's last byte.  Events and counters are those of the
 * reading delivered when each event happened.
 *
 * Until auto mode has settled (a packet told the readings apart), no data
 * packet goes out in a reading that may be wrong: each is held (one at a
 * time, crlfprobe.h) until one reading validates it, and goes out in that
 * one; control packets, break-ins and bytes between packets pass at once.
 * Settled, the stream works as above and holds nothing.
 */
#ifndef KDRELAY_STREAM_H
#define KDRELAY_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "crlf.h"
#include "crlfprobe.h"
#include "kdcom.h"

/* Room before the input an unsettled stream may write (stream_slack()). */
#define STREAM_SLACK	(PROBE_MAX + 2)

struct stream;

/* Called for every parser event of the delivered interpretation. */
typedef void (*stream_event_cb)(void *arg, const struct kd_event *);
/*
 * Called for every packet of the delivered interpretation, in brief (after
 * its event, if any): what a listener that needs no more gets for a
 * fraction of an event's cost (kdcom.h).
 */
typedef void (*stream_brief_cb)(void *arg, const struct kd_brief *);
/* Called once when auto mode switches repair on (1) or off (0). */
typedef void (*stream_switch_cb)(void *arg, int repairing);

struct stream_counters {
	uint64_t		bytes_in;	/* read from the source */
	uint64_t		bytes_out;	/* handed on for the peer */
	uint64_t		cr_removed;
	uint64_t		switches;	/* auto-mode decisions */
	struct kd_counters	kd;
};

/*
 * Auto mode: where one reading's parser is (private to stream.c).  Offsets
 * are input offsets (bytes_in) just after a packet's leader completed, so
 * the two parsers name the same packet by the same number.
 */
struct stream_view {
	int			busy;		/* inside a packet */
	uint64_t		start;		/* of the packet it is in */
	int			done;		/* completed one this step */
	uint64_t		last_start;	/* of the last completed one */
	int			last_ok;
};

struct stream {
	enum crlf_mode		 mode;
	int			 repairing;	/* effective now */
	int			 validate;	/* run the parser(s) at all */
	struct crlf		 crlf;
	size_t			 cut_left;	/* of a packet expire() cut */
	struct kd_parser	 as_read;	/* bytes as they arrived */
	struct kd_parser	 repaired;	/* bytes after repair */
	int			 decided;	/* auto: a packet has decided */
	struct stream_view	 view[2];	/* as_read, repaired */
	stream_event_cb		 on_event;	/* NULL while not listened to */
	stream_event_cb		 listener;	/* as stream_init() got it */
	stream_brief_cb		 on_brief;	/* stream_brief() */
	stream_switch_cb	 on_switch;
	void			*arg;
	struct stream_counters	 c;
	/* Auto mode only (malloc'd, else NULL): a held packet. */
	struct crlf_probe	*probe;
};

/*
 * mode: on, off or auto; guess: the initial repair state in auto mode.
 * validate: 0 turns the parsers off (pure repair, counters bytes only).
 * -1 when out of memory (auto mode's probe); stream_free() undoes it.
 */
int	stream_init(struct stream *, enum crlf_mode mode, int guess,
	    int validate, stream_event_cb, stream_switch_cb, void *arg);
void	stream_free(struct stream *);
/*
 * Whether the event callback is called (from stream_init(): when one was
 * given).  Off, packets are counted without being decoded into events,
 * which costs about half: a relay with nobody to tell (no packet log,
 * watcher, capture) turns it off.
 */
void	stream_listen(struct stream *, int on);
/*
 * Tell cb (NULL: nobody) of every packet in brief, with stream_init()'s
 * arg.  With events off, packets are then judged and counted as unheard
 * and only cb hears of them: what the target-shutdown watch needs, at
 * a fraction of the cost of events.
 */
void	stream_brief(struct stream *, stream_brief_cb cb);

/*
 * Auto mode, while no packet has decided: the repair state to start from
 * (a new source: 1 for a Xen stubdomain console).  Otherwise nothing.
 */
void	stream_guess(struct stream *, int guess);

/*
 * Process n bytes read from the source into out (room n + stream_slack()).
 * out may alias in as for crlf_repair: out <= in - stream_slack(), or out ==
 * in while stream_slack() is 1 and !stream_holding().  Returns the bytes to
 * hand to the peer.  In auto mode a switch decided inside the chunk applies
 * from the next input byte on (from a held packet's first byte when the
 * packet decided it).
 */
size_t	stream_process(struct stream *, const uint8_t *in, size_t n,
	    uint8_t *out);

/*
 * How far ahead of the input the output may run in the next call: 1, or
 * STREAM_SLACK while auto mode has not settled (a held packet goes out
 * whole).  Settled streams never need more than 1 again.
 */
size_t	stream_slack(const struct stream *);
/* Nonzero while a data packet is held (auto mode, not settled). */
int	stream_held(const struct stream *);
/*
 * The packet held will not be finished (its source fell quiet or went
 * away): release it as the current guess reads it into out (room
 * stream_slack()).  Call before stream_expire() and stream_reset().
 */
size_t	stream_release(struct stream *, uint8_t *out);

/* Nonzero when a 0x0d is held: the next byte decides what it was. */
int	stream_holding(const struct stream *);
/*
 * Nonzero when the held 0x0d may go out on the relay's hold timer: it was
 * read outside a KDCOM packet (text, garbage between packets).  Inside one
 * it is never the last byte (a data packet ends with 0xaa, a control
 * packet with its zero checksum's high byte): sending it early gives the
 * peer nothing, and a late 0x0a would then arrive as 0x0d 0x0a.  So it
 * waits for the next byte, also in the rest of a packet the quiet timer
 * cut short (stream_expire()), which may yet come, late.  The source ends
 * the wait: its next byte (the rest, or the retransmission a KD peer sends
 * for a packet cut short) or its going away (the relay flushes then).
 * Without validation every held 0x0d is timed.
 */
int	stream_hold_timed(const struct stream *);
/* Nonzero when the delivered bytes stop inside a KDCOM packet. */
int	stream_in_packet(const struct stream *);
/*
 * Release the held 0x0d into out (room 1): the hold timer expired
 * (stream_hold_timed()) or the source went away.  Returns 0 when the byte
 * was already delivered (auto mode, not repairing: only the repaired
 * parser was waiting for it).
 */
size_t	stream_flush(struct stream *, uint8_t *out);

/*
 * Nonzero while a parser holds bytes it has not reported (a partial
 * packet, leader bytes, garbage) or a packet is held: the relay's quiet
 * timer is then armed.
 */
int	stream_pending(const struct stream *);
/*
 * The source fell quiet for longer than a KD peer waits inside a packet:
 * drop a partial packet as the peer does, so that the retransmission that
 * follows is validated from its leader, and report held garbage now.
 */
void	stream_expire(struct stream *);

/*
 * The source went away or came back (after the relay flushed): drop partial
 * packets (reported as garbage) and the repair state; keep the counters and
 * what auto mode has learnt.
 */
void	stream_reset(struct stream *);

#endif
