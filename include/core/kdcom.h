/*
 * kdcom.h - KDCOM framing: constants, checksum, a streaming validator.
 *
 * The parser is pure (no I/O, no allocation, no globals): feed it bytes cut
 * anywhere and it reports packets, break-ins and garbage through a callback,
 * resynchronising the way kdcom does (four identical leader bytes).  It
 * only observes; the relay forwards every byte unchanged.
 */
#ifndef KDRELAY_KDCOM_H
#define KDRELAY_KDCOM_H

#include <stddef.h>
#include <stdint.h>

#include "le.h"

#define KD_LEADER_DATA		0x30303030u	/* "0000" */
#define KD_LEADER_CONTROL	0x69696969u	/* "iiii" */
#define KD_BREAKIN		0x62		/* 'b' */
#define KD_TRAILER		0xaa
#define KD_HEADER_SIZE		16
#define KD_MAX_PAYLOAD		4000
#define KD_MAX_PACKET		(KD_HEADER_SIZE + KD_MAX_PAYLOAD + 1)

#define KD_ID_INITIAL		0x80800000u
#define KD_ID_SYNC		0x00000800u

enum kd_type {
	KD_TYPE_UNUSED = 0,
	KD_TYPE_STATE_CHANGE32 = 1,
	KD_TYPE_STATE_MANIPULATE = 2,
	KD_TYPE_DEBUG_IO = 3,
	KD_TYPE_ACKNOWLEDGE = 4,
	KD_TYPE_RESEND = 5,
	KD_TYPE_RESET = 6,
	KD_TYPE_STATE_CHANGE64 = 7,
	KD_TYPE_POLL_BREAKIN = 8,
	KD_TYPE_TRACE_IO = 9,
	KD_TYPE_CONTROL_REQUEST = 10,
	KD_TYPE_FILE_IO = 11,
	KD_TYPE_MAX = 12,
};

/* The API numbers a packet's payload starts with (kd_api_name). */
enum kd_api {
	/* STATE_CHANGE32/64: why the target stopped. */
	KD_API_EXCEPTION = 0x3030,
	KD_API_LOAD_SYMBOLS = 0x3031,
	/* STATE_MANIPULATE: the debugger's requests, echoed in replies. */
	KD_API_READ_VIRTUAL = 0x3130,
	KD_API_WRITE_VIRTUAL = 0x3131,
	KD_API_GET_CONTEXT = 0x3132,
	KD_API_SET_CONTEXT = 0x3133,
	KD_API_WRITE_BREAKPOINT = 0x3134,
	KD_API_RESTORE_BREAKPOINT = 0x3135,
	KD_API_CONTINUE = 0x3136,
	KD_API_READ_CONTROL = 0x3137,
	KD_API_WRITE_CONTROL = 0x3138,
	KD_API_CONTINUE2 = 0x313c,
	KD_API_GET_VERSION = 0x3146,
	KD_API_GET_CONTEXT_EX = 0x315f,
	/* DEBUG_IO */
	KD_API_PRINT_STRING = 0x3230,
};

/* Verdicts on what the parser saw. */
enum kd_verdict {
	KD_OK = 0,
	KD_BAD_CHECKSUM,	/* data packet, payload sum mismatch */
	KD_BAD_TRAILER,		/* data packet, last byte not 0xAA */
	KD_BAD_TYPE,		/* type 0, 8 or > 11, or kind/leader mismatch */
	KD_OVERSIZE,		/* ByteCount > 4000: header only, resync */
};

enum kd_event_kind {
	KD_EV_PACKET,		/* a whole packet (see verdict) */
	KD_EV_BREAKIN,		/* a lone 0x62 between packets */
	KD_EV_GARBAGE,		/* bytes outside any packet, count in len */
};

struct kd_packet {
	int		 control;	/* control leader (no payload/trailer) */
	uint16_t	 type;
	uint16_t	 len;		/* ByteCount as sent */
	uint32_t	 id;
	uint32_t	 checksum;	/* as sent */
	uint32_t	 api;		/* first u32 of payload, or 0 */
	int		 has_api;	/* STATE_MANIPULATE/DEBUG_IO/STATE_CHANGE */
	enum kd_verdict	 verdict;
	const uint8_t	*payload;	/* len bytes (none when oversize) */
	const uint8_t	*raw;		/* the packet as on the wire */
	size_t		 rawlen;
};

struct kd_event {
	enum kd_event_kind	 kind;
	size_t			 len;	/* garbage bytes */
	const struct kd_packet	*pkt;	/* KD_EV_PACKET */
};

typedef void (*kd_event_cb)(void *arg, const struct kd_event *);

/*
 * A packet in brief: what the parser has in hand when it judges one, for a
 * listener that needs no more (the target-shutdown watch) and should not
 * pay for an event (kd_parser_brief()).  The rest is in raw: kd_raw_id(),
 * kd_raw_len(), kd_brief_api().  It says what an event's packet would
 * (kd_brief_of()).
 */
struct kd_brief {
	enum kd_verdict	 verdict;
	unsigned	 type;
	int		 control;
	const uint8_t	*raw;		/* the packet as on the wire */
	size_t		 rawlen;
};

typedef void (*kd_brief_cb)(void *arg, const struct kd_brief *);

struct kd_counters;

struct kd_parser {
	kd_event_cb	 cb;
	void		*arg;
	struct kd_counters *count;	/* kd_parser_count() */
	kd_brief_cb	 brief;		/* kd_parser_brief() */
	void		*brief_arg;
	int		 state;
	uint8_t		 leader;	/* leader byte being counted */
	unsigned	 nleader;	/* identical leader bytes seen */
	size_t		 garbage;	/* pending garbage not yet reported */
	size_t		 have;		/* bytes of the packet buffered */
	size_t		 need;		/* bytes the packet needs in all */
	struct kd_parser *twin;		/* fed alongside (kd_parser_feed_twin) */
	size_t		 twin_extra;	/* its garbage beyond ours, unreported */
	size_t		 twin_keep;	/* its buffer's bytes that are ours */
	unsigned	 judged;	/* twins' packets nobody heard: how many */
	int		 last_ok;	/* and whether the last one was OK */
	uint8_t		 buf[KD_MAX_PACKET];
};

/*
 * The callback runs inside kd_parser_feed()/kd_parser_reset(); the packet it
 * is given (raw, payload) points into the parser, or into the bytes fed
 * when the whole packet lies there (judged in place, not copied), and
 * lives until it returns.  It must not feed or reset the same parser.
 */
void	kd_parser_init(struct kd_parser *, kd_event_cb, void *arg);
/*
 * Add every event to c (kd_counters_add()) in the parser itself, before
 * the callback if any: a packet nobody listens to is then counted without
 * being decoded into an event (NULL: stop counting).
 */
void	kd_parser_count(struct kd_parser *, struct kd_counters *c);
/*
 * Tell cb (NULL: nobody) in brief of every packet no event is made of (no
 * callback, nor a twin's: an event says all a brief does, kd_brief_of()):
 * the packet is judged and counted as if nobody listened, and only cb
 * hears of it.  Its raw bytes live as an event's do.
 */
void	kd_parser_brief(struct kd_parser *, kd_brief_cb cb, void *arg);
void	kd_parser_feed(struct kd_parser *, const uint8_t *, size_t);
/*
 * Feed a and b, which stand alike (kd_parser_alike(), the same bytes
 * buffered), the same bytes at the cost of one: each gets the events it
 * would have got (its own garbage counts), and b ends where a does.  When
 * neither has a callback their packets are not decoded: each counts them
 * (kd_parser_count) and tells its brief listener, and a->judged grows by
 * their number, a->last_ok says whether the last was OK.
 */
void	kd_parser_feed_twin(struct kd_parser *a, struct kd_parser *b,
	    const uint8_t *, size_t);
/* Nonzero when inside a packet (the relay's timeout may then reset). */
int	kd_parser_busy(const struct kd_parser *);
/*
 * Nonzero when bytes are held unreported: a partial packet, leader bytes
 * being counted, or garbage waiting for the next packet to be reported.
 */
int	kd_parser_pending(const struct kd_parser *);
/*
 * Drop a partial packet (a timeout, a reconnect); reports it, and any
 * garbage held, as garbage.
 */
void	kd_parser_reset(struct kd_parser *);
/*
 * For feeding in exact steps (stream.c's auto mode): inside a packet, the
 * bytes still needed to complete the header or the packet (0 between
 * packets); and how many of the next n bytes in buf can be fed before such a
 * boundary or a completed leader.  A packet event or a change of busy state
 * can happen only on the last byte of such a span.
 */
size_t	kd_parser_want(const struct kd_parser *);
/*
 * The most bytes the packet the parser is in may still take: to its end
 * once the header has said, else to the end of the largest packet; after
 * leader bytes between packets, the rest of the largest packet they may
 * begin; otherwise 0.  (What a timeout that resets the parser cuts short.)
 */
size_t	kd_parser_left(const struct kd_parser *);
size_t	kd_parser_span(const struct kd_parser *, const uint8_t *buf, size_t n);
/* The same for a parser between packets with no leader byte counted. */
size_t	kd_leader_span(const uint8_t *buf, size_t n);
/*
 * The length after its leader of the data packet whose header (after the
 * leader, 12 bytes) is h: the header alone when that judges it, else
 * with its payload and trailer.
 */
size_t	kd_data_rest(const uint8_t *h);
/*
 * Nonzero when a and b stand alike: between packets with the same leader
 * bytes counted, or inside packets with as many bytes buffered.  Given
 * the same bytes next they then report the same packets and break-ins
 * (garbage may differ), if, inside packets, the caller knows the bytes
 * buffered are the same (stream.c: the same packet start, nothing
 * repaired since).
 */
int	kd_parser_alike(const struct kd_parser *a, const struct kd_parser *b);

/*
 * A data packet judged as it arrives, from the byte after its leader
 * "0000", without buffering it: the verdict the parser will give, for
 * looking at bytes before they are fed (stream.c's lossless detection).
 */
struct kd_check {
	int		verdict;	/* -1 until judged, else kd_verdict */
	size_t		have, need;
	uint8_t		hdr[KD_HEADER_SIZE - 4];
	uint32_t	sum;
};

void	kd_check_init(struct kd_check *);
/* Returns the bytes taken: all of them, or up to the one that judged. */
size_t	kd_check_feed(struct kd_check *, const uint8_t *, size_t);
/* The bytes up to the next one that may judge (SIZE_MAX once judged). */
size_t	kd_check_want(const struct kd_check *);
uint32_t kd_checksum(const uint8_t *, size_t);
/*
 * Serialise a packet into out (room KD_MAX_PACKET); returns its length, or 0
 * when len > KD_MAX_PAYLOAD.  Data packets get the checksum and trailer;
 * control packets are header only (ByteCount and Checksum 0, payload unused).
 */
size_t	kd_build(uint8_t *out, uint16_t type, uint32_t id, const uint8_t *payload,
	    uint16_t len);
int	kd_type_is_control(unsigned type);
const char *kd_type_name(unsigned type);
/* A short name for an API number ("ReadVirtualMemory"), or NULL. */
const char *kd_api_name(unsigned type, uint32_t api);
const char *kd_verdict_name(enum kd_verdict);

/* A packet's header words, from its bytes as on the wire. */
static inline unsigned
kd_raw_len(const uint8_t *raw)
{
	return (le16_get(raw + 6));
}

static inline uint32_t
kd_raw_id(const uint8_t *raw)
{
	return (le32_get(raw + 8));
}

/* The types whose payload starts with an API number (kd_api). */
static inline int
kd_type_has_api(unsigned type)
{
	return (type == KD_TYPE_STATE_CHANGE32 ||
	    type == KD_TYPE_STATE_MANIPULATE || type == KD_TYPE_DEBUG_IO ||
	    type == KD_TYPE_STATE_CHANGE64);
}

/*
 * The API number the payload of the packet at raw (rawlen bytes) starts
 * with, when it has one (an event's has_api and api): nonzero with *api
 * set, else 0 and *api 0.
 */
static inline int
kd_raw_api(const uint8_t *raw, size_t rawlen, uint32_t *api)
{
	if (rawlen > KD_HEADER_SIZE && kd_type_has_api(le16_get(raw + 4)) &&
	    kd_raw_len(raw) >= 4) {
		*api = le32_get(raw + KD_HEADER_SIZE);
		return (1);
	}
	*api = 0;
	return (0);
}

static inline int
kd_brief_api(const struct kd_brief *b, uint32_t *api)
{
	return (kd_raw_api(b->raw, b->rawlen, api));
}

/* The brief of an event's packet: what kd_parser_brief() is told. */
static inline void
kd_brief_of(const struct kd_packet *pkt, struct kd_brief *b)
{
	b->verdict = pkt->verdict;
	b->type = pkt->type;
	b->control = pkt->control;
	b->raw = pkt->raw;
	b->rawlen = pkt->rawlen;
}

/* Per-direction counters fed from parser events. */
struct kd_counters {
	uint64_t	packets[KD_TYPE_MAX];	/* by type, valid ones */
	uint64_t	data, control;
	uint64_t	breakins, resends, resets;
	uint64_t	bad_checksum, bad_trailer, bad_type, oversize;
	uint64_t	garbage;		/* bytes */
};

/* Inline: it runs for every packet, in the parser or from its callbacks. */
static inline void
kd_counters_packet(struct kd_counters *c, enum kd_verdict verdict,
    unsigned type, int control)
{
	if (verdict != KD_OK) {
		c->bad_checksum += verdict == KD_BAD_CHECKSUM;
		c->bad_trailer += verdict == KD_BAD_TRAILER;
		c->bad_type += verdict == KD_BAD_TYPE;
		c->oversize += verdict == KD_OVERSIZE;
		return;
	}
	if (type < KD_TYPE_MAX)
		c->packets[type]++;
	if (!control)
		c->data++;
	else {
		c->control++;
		if (type == KD_TYPE_RESEND)
			c->resends++;
		else if (type == KD_TYPE_RESET)
			c->resets++;
	}
}

static inline void
kd_counters_add(struct kd_counters *c, const struct kd_event *ev)
{
	if (ev->kind == KD_EV_GARBAGE)
		c->garbage += ev->len;
	else if (ev->kind == KD_EV_BREAKIN)
		c->breakins++;
	else
		kd_counters_packet(c, ev->pkt->verdict, ev->pkt->type,
		    ev->pkt->control);
}

#endif
