/*
 * kdcom.c - KDCOM framing: checksum, builder, names, a streaming validator.
 *
 * The parser is a three-state machine (leader, header, body) that buffers
 * the packet it is in, so input may be cut anywhere.  Between packets it
 * resynchronises like kdcom: four identical leader bytes start a packet, a
 * different leader byte restarts the count, anything else resets it; a lone
 * 0x62 there is a break-in.  Bytes that belong to no packet are garbage,
 * coalesced and reported just before the next packet or break-in starts.
 */
#include <stddef.h>
#include <string.h>

#include "bytescan.h"
#include "le.h"
#include "kdcom.h"

enum {
	S_LEADER = 0,	/* between packets, counting leader bytes */
	S_HEADER,	/* buffering the 16-byte header */
	S_BODY,		/* buffering payload and trailer */
};

#define LEADER_DATA_BYTE	0x30
#define LEADER_CONTROL_BYTE	0x69

uint32_t
kd_checksum(const uint8_t *p, size_t n)
{
	return (bs_sum(p, n));
}

/* The types each leader may carry, a bit each (8 is internal to the API). */
#define T(x)		(1u << KD_TYPE_ ## x)
#define DATA_TYPES	(T(STATE_CHANGE32) | T(STATE_MANIPULATE) | T(DEBUG_IO) | \
			 T(STATE_CHANGE64) | T(TRACE_IO) | T(CONTROL_REQUEST) | \
			 T(FILE_IO))
#define CONTROL_TYPES	(T(ACKNOWLEDGE) | T(RESEND) | T(RESET))

int
kd_type_is_control(unsigned type)
{
	return (type < 32 && (CONTROL_TYPES >> type & 1));
}

/* A type that may follow this leader. */
static inline int
type_fits(unsigned type, int control)
{
	return (type < 32 &&
	    ((control ? CONTROL_TYPES : DATA_TYPES) >> type & 1));
}

size_t
kd_build(uint8_t *out, uint16_t type, uint32_t id, const uint8_t *payload,
    uint16_t len)
{
	if (kd_type_is_control(type)) {
		le32_put(out, KD_LEADER_CONTROL);
		le16_put(out + 4, type);
		le16_put(out + 6, 0);
		le32_put(out + 8, id);
		le32_put(out + 12, 0);
		return (KD_HEADER_SIZE);
	}
	if (len > KD_MAX_PAYLOAD)
		return (0);
	le32_put(out, KD_LEADER_DATA);
	le16_put(out + 4, type);
	le16_put(out + 6, len);
	le32_put(out + 8, id);
	le32_put(out + 12, kd_checksum(payload, len));
	if (len != 0)
		memcpy(out + KD_HEADER_SIZE, payload, len);
	out[KD_HEADER_SIZE + len] = KD_TRAILER;
	return (KD_HEADER_SIZE + len + 1);
}

const char *
kd_type_name(unsigned type)
{
	static const char *const names[KD_TYPE_MAX] = {
		"UNUSED", "STATE_CHANGE32", "STATE_MANIPULATE", "DEBUG_IO",
		"ACKNOWLEDGE", "RESEND", "RESET", "STATE_CHANGE64",
		"POLL_BREAKIN", "TRACE_IO", "CONTROL_REQUEST", "FILE_IO",
	};

	if (type >= KD_TYPE_MAX)
		return ("UNKNOWN");
	return (names[type]);
}

const char *
kd_api_name(unsigned type, uint32_t api)
{
	static const struct {
		uint32_t	 api;
		const char	*name;
	} manip[] = {
		{ KD_API_READ_VIRTUAL, "ReadVirtualMemory" },
		{ KD_API_WRITE_VIRTUAL, "WriteVirtualMemory" },
		{ KD_API_GET_CONTEXT, "GetContext" },
		{ KD_API_SET_CONTEXT, "SetContext" },
		{ KD_API_WRITE_BREAKPOINT, "WriteBreakPoint" },
		{ KD_API_RESTORE_BREAKPOINT, "RestoreBreakPoint" },
		{ KD_API_CONTINUE, "Continue" },
		{ KD_API_READ_CONTROL, "ReadControlSpace" },
		{ KD_API_WRITE_CONTROL, "WriteControlSpace" },
		{ KD_API_CONTINUE2, "Continue2" },
		{ KD_API_GET_VERSION, "GetVersion" },
		{ KD_API_GET_CONTEXT_EX, "GetContextEx" },
	};
	size_t	i;

	switch (type) {
	case KD_TYPE_STATE_MANIPULATE:
		for (i = 0; i < sizeof(manip) / sizeof(manip[0]); i++) {
			if (manip[i].api == api)
				return (manip[i].name);
		}
		break;
	case KD_TYPE_STATE_CHANGE32:
	case KD_TYPE_STATE_CHANGE64:
		if (api == KD_API_EXCEPTION)
			return ("Exception");
		if (api == KD_API_LOAD_SYMBOLS)
			return ("LoadSymbols");
		break;
	case KD_TYPE_DEBUG_IO:
		if (api == KD_API_PRINT_STRING)
			return ("PrintString");
		break;
	}
	return (NULL);
}

const char *
kd_verdict_name(enum kd_verdict v)
{
	switch (v) {
	case KD_OK:
		return ("ok");
	case KD_BAD_CHECKSUM:
		return ("bad-checksum");
	case KD_BAD_TRAILER:
		return ("bad-trailer");
	case KD_BAD_TYPE:
		return ("bad-type");
	case KD_OVERSIZE:
		return ("oversize");
	}
	return ("unknown");
}

void
kd_parser_init(struct kd_parser *p, kd_event_cb cb, void *arg)
{
	/* Not the packet buffer: pages a parser never uses stay untouched. */
	memset(p, 0, offsetof(struct kd_parser, buf));
	p->cb = cb;
	p->arg = arg;
	p->state = S_LEADER;
}

void
kd_parser_count(struct kd_parser *p, struct kd_counters *c)
{
	p->count = c;
}

void
kd_parser_brief(struct kd_parser *p, kd_brief_cb cb, void *arg)
{
	p->brief = cb;
	p->brief_arg = arg;
}

/* Inlined: an event per packet is the hot path's fixed cost. */
static inline __attribute__((always_inline)) void
emit_one(struct kd_parser *p, enum kd_event_kind kind, size_t len,
    const struct kd_packet *pkt)
{
	struct kd_event	ev;

	ev.kind = kind;
	ev.len = len;
	ev.pkt = pkt;
	if (p->count != NULL)
		kd_counters_add(p->count, &ev);
	if (p->cb != NULL)
		p->cb(p->arg, &ev);
}

/* An event, to the twin too while one is fed alongside. */
static inline __attribute__((always_inline)) void
emit(struct kd_parser *p, enum kd_event_kind kind, size_t len,
    const struct kd_packet *pkt)
{
	emit_one(p, kind, len, pkt);
	if (p->twin != NULL)
		emit_one(p->twin, kind, len, pkt);
}

static void
flush_garbage(struct kd_parser *p)
{
	size_t	n = p->garbage, m;

	p->garbage = 0;
	if (p->twin != NULL) {
		/* The twin's own count, which may differ until this one. */
		m = n + p->twin_extra;
		p->twin_extra = 0;
		if (n != 0)
			emit_one(p, KD_EV_GARBAGE, n, NULL);
		if (m != 0)
			emit_one(p->twin, KD_EV_GARBAGE, m, NULL);
	} else if (n != 0)
		emit_one(p, KD_EV_GARBAGE, n, NULL);
}

/* Report garbage held before a packet or break-in: usually none. */
static inline __attribute__((always_inline)) void
emit_garbage(struct kd_parser *p)
{
	if (p->garbage != 0 || p->twin != NULL)
		flush_garbage(p);
}

/*
 * What a header says alone: a verdict when it decides the packet (a bad
 * type, a control packet, an oversize ByteCount), -1 when the body does.
 */
static inline int
head_verdict(unsigned type, unsigned len, int control)
{
	if (!type_fits(type, control))
		return (KD_BAD_TYPE);
	if (control)
		return (KD_OK);
	if (len > KD_MAX_PAYLOAD)
		return (KD_OVERSIZE);
	return (-1);
}

/* The verdict on a whole data packet b of need bytes. */
static inline enum kd_verdict
body_verdict(const uint8_t *b, size_t need)
{
	if (b[need - 1] != KD_TRAILER)
		return (KD_BAD_TRAILER);
	if (kd_checksum(b + KD_HEADER_SIZE, need - KD_HEADER_SIZE - 1) !=
	    le32_get(b + 12))
		return (KD_BAD_CHECKSUM);
	return (KD_OK);
}

/* A packet in brief, to p's brief listener, which it has. */
static inline __attribute__((always_inline)) void
tell_(const struct kd_parser *p, const uint8_t *b, size_t rawlen,
    enum kd_verdict verdict, unsigned type, int control)
{
	struct kd_brief	k;

	k.verdict = verdict;
	k.type = type;
	k.control = control;
	k.raw = b;
	k.rawlen = rawlen;
	p->brief(p->brief_arg, &k);
}

/*
 * The same to twins nobody listens to, each that has one; a call of its
 * own, so the paths around it need no registers kept across calls.
 */
static __attribute__((noinline)) void
tell_twins(const struct kd_parser *p, const uint8_t *b, size_t rawlen,
    enum kd_verdict verdict, unsigned type, int control)
{
	if (p->brief != NULL)
		tell_(p, b, rawlen, verdict, type, control);
	if (p->twin->brief != NULL)
		tell_(p->twin, b, rawlen, verdict, type, control);
}

/* Decode the packet b (rawlen bytes, a body when more than a header). */
static void
report(struct kd_parser *p, const uint8_t *b, size_t rawlen,
    enum kd_verdict verdict)
{
	struct kd_packet	pkt;

	pkt.control = b[0] == LEADER_CONTROL_BYTE;
	pkt.type = le16_get(b + 4);
	pkt.len = kd_raw_len(b);
	pkt.id = kd_raw_id(b);
	pkt.checksum = le32_get(b + 12);
	pkt.has_api = kd_raw_api(b, rawlen, &pkt.api);
	pkt.verdict = verdict;
	pkt.payload = rawlen > KD_HEADER_SIZE ? b + KD_HEADER_SIZE : NULL;
	pkt.raw = b;
	pkt.rawlen = rawlen;
	emit(p, KD_EV_PACKET, 0, &pkt);
}

/* How much of a packet p's listeners need: heard() says. */
enum {
	LOUD = 0,	/* an event (a callback, or a twin fed alongside) */
	QUIET,		/* nothing: it need not be decoded */
	BRIEF,		/* a brief alone (kd_parser_brief()) */
};

static inline int
heard(const struct kd_parser *p)
{
	if (p->cb != NULL || p->twin != NULL)
		return (LOUD);
	return (p->brief != NULL ? BRIEF : QUIET);
}

/*
 * A packet judged: counted, told in brief, and decoded into an event only
 * when someone listens (quiet: heard(), built apart for each).
 */
static inline __attribute__((always_inline)) void
packet(struct kd_parser *p, int quiet, const uint8_t *b, size_t rawlen,
    enum kd_verdict verdict, unsigned type, int control)
{
	struct kd_counters	*c = p->count;

	if (quiet) {
		if (c != NULL)
			kd_counters_packet(c, verdict, type, control);
		if (quiet == BRIEF)
			tell_(p, b, rawlen, verdict, type, control);
	} else if (p->cb == NULL && p->twin != NULL && p->twin->cb == NULL) {
		/* Twins nobody listens to (kd_parser_feed_twin). */
		if (c != NULL)
			kd_counters_packet(c, verdict, type, control);
		if ((c = p->twin->count) != NULL)
			kd_counters_packet(c, verdict, type, control);
		p->judged++;
		p->last_ok = verdict == KD_OK;
		if (p->brief != NULL || p->twin->brief != NULL)
			tell_twins(p, b, rawlen, verdict, type, control);
	} else
		report(p, b, rawlen, verdict);
}

/* The buffered packet of have bytes, for nobody or a brief listener. */
static __attribute__((noinline)) void
finish_quiet(struct kd_parser *p, size_t have, enum kd_verdict verdict)
{
	packet(p, QUIET, p->buf, have, verdict, le16_get(p->buf + 4),
	    p->buf[0] == LEADER_CONTROL_BYTE);
	if (p->brief != NULL)
		tell_(p, p->buf, have, verdict, le16_get(p->buf + 4),
		    p->buf[0] == LEADER_CONTROL_BYTE);
}

/* Report the buffered packet and go back to scanning for a leader. */
static void
finish(struct kd_parser *p, enum kd_verdict verdict)
{
	size_t	have = p->have;

	p->state = S_LEADER;
	p->nleader = 0;
	p->have = p->need = 0;
	if (heard(p) == LOUD)
		packet(p, LOUD, p->buf, have, verdict, le16_get(p->buf + 4),
		    p->buf[0] == LEADER_CONTROL_BYTE);
	else
		finish_quiet(p, have, verdict);
}

static void
header_done(struct kd_parser *p)
{
	unsigned	len = le16_get(p->buf + 6);
	int		v;

	v = head_verdict(le16_get(p->buf + 4), len,
	    p->buf[0] == LEADER_CONTROL_BYTE);
	if (v != -1)
		finish(p, v);
	else {
		p->state = S_BODY;
		p->need = KD_HEADER_SIZE + len + 1;
	}
}

static void
body_done(struct kd_parser *p)
{
	finish(p, body_verdict(p->buf, p->need));
}

/*
 * A packet whose leader starts at b, with n >= KD_HEADER_SIZE bytes there:
 * when all of it is there (the usual case), judged and reported where it
 * lies, without a copy.  Returns its length, or 0 when it is to be
 * buffered.  Type and ByteCount are one load.
 */
static inline __attribute__((always_inline)) size_t
in_place(struct kd_parser *p, int quiet, const uint8_t *b, size_t n)
{
	uint32_t	tl = le32_get(b + 4);
	unsigned	type = tl & 0xffff, len = tl >> 16;
	int		control = b[0] == LEADER_CONTROL_BYTE;
	size_t		need = KD_HEADER_SIZE;
	enum kd_verdict	v;

	/*
	 * head_verdict() spelled out: through its -1 the listened path
	 * measured 3% more instructions (callgrind, the WinDbg session).
	 */
	if (!type_fits(type, control))
		v = KD_BAD_TYPE;
	else if (control)
		v = KD_OK;
	else if (len > KD_MAX_PAYLOAD)
		v = KD_OVERSIZE;
	else {
		need += len + 1;
		if (n < need)
			return (0);
		v = body_verdict(b, need);
	}
	packet(p, quiet, b, need, v, type, control);
	return (need);
}

void
kd_check_init(struct kd_check *k)
{
	memset(k, 0, sizeof(*k));
	k->verdict = -1;
	k->need = sizeof(k->hdr);
}

size_t
kd_check_feed(struct kd_check *k, const uint8_t *d, size_t n)
{
	size_t		i = 0, t;

	while (i < n && k->verdict == -1) {
		if (k->have < sizeof(k->hdr)) {
			/* The header after the leader: type, ByteCount, id, sum. */
			t = sizeof(k->hdr) - k->have;
			t = t < n - i ? t : n - i;
			memcpy(k->hdr + k->have, d + i, t);
			k->have += t;
			i += t;
			if (k->have == sizeof(k->hdr)) {
				k->verdict = head_verdict(le16_get(k->hdr),
				    le16_get(k->hdr + 2), 0);
				k->need = sizeof(k->hdr) +
				    le16_get(k->hdr + 2) + 1;
			}
		} else if (k->have + 1 < k->need) {
			t = k->need - 1 - k->have;
			t = t < n - i ? t : n - i;
			k->sum += bs_sum(d + i, t);
			k->have += t;
			i += t;
		} else {
			if (d[i] != KD_TRAILER)
				k->verdict = KD_BAD_TRAILER;
			else if (k->sum != le32_get(k->hdr + 8))
				k->verdict = KD_BAD_CHECKSUM;
			else
				k->verdict = KD_OK;
			k->have++;
			i++;
		}
	}
	return (i);
}

size_t
kd_check_want(const struct kd_check *k)
{
	if (k->verdict != -1)
		return (SIZE_MAX);
	if (k->have < sizeof(k->hdr))
		return (sizeof(k->hdr) - k->have);
	return (k->need - k->have);
}

/* A byte that may begin a leader. */
static inline int
leader_byte(uint8_t b)
{
	return (b == LEADER_DATA_BYTE || b == LEADER_CONTROL_BYTE);
}

/*
 * Skip bytes that are garbage whatever follows, from between packets with
 * no leader byte counted: all but a break-in and a leader byte followed by
 * the same one (or last), which may begin a leader (bytescan.h).  Given t,
 * break-ins are passed and counted there (t->last from d + i).
 */
static inline size_t
skip(const uint8_t *d, size_t i, size_t n, struct bs_tally *t)
{
	return (i + bs_find_run(d + i, n - i, LEADER_DATA_BYTE,
	    LEADER_CONTROL_BYTE, KD_BREAKIN, t));
}

/* Four leader bytes at d (n of them there). */
static inline int
leader_at(const uint8_t *d, size_t n)
{
	uint32_t	w;

	return (n >= 4 && ((w = le32_get(d)) == KD_LEADER_DATA ||
	    w == KD_LEADER_CONTROL));
}

/*
 * Report the garbage scan() holds (before a packet or a break-in): counted
 * in place when nobody listens.  Returns the garbage left held: none.
 */
static inline __attribute__((always_inline)) size_t
held(struct kd_parser *p, int quiet, int twin, size_t garbage)
{
	if (garbage == 0 && !twin)
		return (0);
	if (!quiet) {
		p->garbage = garbage;
		flush_garbage(p);
	} else if (p->count != NULL)
		p->count->garbage += garbage;
	return (0);
}

/*
 * Scan for a leader; returns the bytes consumed.  Packets that lie whole
 * in d are reported on the way (in_place), the first one that does not is
 * started in the buffer.  The state lives in locals while scanning (the
 * compiler cannot keep p's fields in registers across stores through a
 * byte pointer); p->nleader reads 0 meanwhile, as it is at every event.
 */
static inline __attribute__((always_inline)) size_t
scan_(struct kd_parser *p, const uint8_t *d, size_t n, int quiet)
{
	size_t		garbage = p->garbage, i = 0, j, len;
	unsigned	nleader = p->nleader;
	uint8_t		leader = p->leader, b;
	int		twin = p->twin != NULL;
	struct bs_tally	t;

	p->nleader = 0;
	while (i < n) {
		/* Between packets on a KD line a leader is usually next. */
		if (nleader == 0 && !leader_byte(d[i])) {
			if (!quiet) {
				j = skip(d, i, n, NULL);
				garbage += j - i;
			} else if ((j = skip(d, i, n, &t)), t.n == 0)
				garbage += j - i;
			else {
				/*
				 * Break-ins passed, each after the garbage
				 * before it: only the counters see them.
				 */
				if (p->count != NULL) {
					p->count->garbage += garbage + t.last -
					    (t.n - 1);
					p->count->breakins += t.n;
				}
				garbage = j - (i + t.last) - 1;
			}
			if ((i = j) == n)
				break;
		}
		if (nleader == 0 && leader_at(d + i, n - i)) {
			/* Packet after packet, four leader bytes at once. */
			garbage = held(p, quiet, twin, garbage);
			do {
				if (n - i < KD_HEADER_SIZE || (len = in_place(p,
				    quiet, d + i, n - i)) == 0) {
					b = d[i];
					i += 4;
					goto start;
				}
				i += len;
			} while (leader_at(d + i, n - i));
			continue;
		}
		b = d[i++];
		if (leader_byte(b)) {
			if (nleader == 0 || b != leader) {
				garbage += nleader;
				leader = b;
				nleader = 0;
			}
			if (++nleader < 4)
				continue;
			nleader = 0;
			garbage = held(p, quiet, twin, garbage);
			/* i >= 4: the whole leader is in d, at i - 4. */
			if (i >= 4 && n - i + 4 >= KD_HEADER_SIZE &&
			    (len = in_place(p, quiet, d + i - 4,
			    n - i + 4)) != 0) {
				i += len - 4;
				continue;
			}
		start:
			p->garbage = 0;
			memset(p->buf, b, 4);
			p->have = 4;
			p->need = KD_HEADER_SIZE;
			p->state = S_HEADER;
			p->twin_keep = 0;
			return (i);
		}
		garbage += nleader;
		nleader = 0;
		if (b == KD_BREAKIN) {
			garbage = held(p, quiet, twin, garbage);
			if (!quiet)
				emit(p, KD_EV_BREAKIN, 0, NULL);
			else if (p->count != NULL)
				p->count->breakins++;
		} else
			garbage++;
	}
	p->garbage = garbage;
	p->nleader = nleader;
	p->leader = leader;
	return (n);
}

/* Built for each heard(): the unheard and the briefed are the hot ones. */
static inline __attribute__((always_inline)) size_t
scan(struct kd_parser *p, const uint8_t *d, size_t n)
{
	switch (heard(p)) {
	case QUIET:
		return (scan_(p, d, n, QUIET));
	case BRIEF:
		return (scan_(p, d, n, BRIEF));
	}
	return (scan_(p, d, n, LOUD));
}

void
kd_parser_feed(struct kd_parser *p, const uint8_t *d, size_t n)
{
	size_t	take;

	while (n > 0) {
		if (p->state == S_LEADER) {
			take = scan(p, d, n);
			d += take;
			n -= take;
			continue;
		}
		take = p->need - p->have;
		if (take > n)
			take = n;
		memcpy(p->buf + p->have, d, take);
		p->have += take;
		d += take;
		n -= take;
		if (p->have < p->need)
			break;
		if (p->state == S_HEADER)
			header_done(p);
		else
			body_done(p);
	}
}

void
kd_parser_feed_twin(struct kd_parser *a, struct kd_parser *b,
    const uint8_t *d, size_t n)
{
	a->twin = b;
	a->twin_extra = b->garbage - a->garbage;	/* modulo 2^64 */
	a->twin_keep = a->state != S_LEADER ? a->have : 0;
	kd_parser_feed(a, d, n);
	a->twin = NULL;
	b->state = a->state;
	b->leader = a->leader;
	b->nleader = a->nleader;
	b->garbage = a->garbage + a->twin_extra;
	b->have = a->have;
	b->need = a->need;
	/* The packet's bytes b lacks: all, if a began it here. */
	if (a->state != S_LEADER && a->have > a->twin_keep)
		memcpy(b->buf + a->twin_keep, a->buf + a->twin_keep,
		    a->have - a->twin_keep);
}

int
kd_parser_busy(const struct kd_parser *p)
{
	return (p->state != S_LEADER);
}

int
kd_parser_pending(const struct kd_parser *p)
{
	return (p->state != S_LEADER || p->nleader > 0 || p->garbage > 0);
}

size_t
kd_parser_want(const struct kd_parser *p)
{
	if (p->state == S_LEADER)
		return (0);
	return (p->need - p->have);
}

size_t
kd_parser_left(const struct kd_parser *p)
{
	size_t	len;

	if (p->state == S_LEADER)
		return (p->nleader > 0 ? KD_MAX_PACKET - p->nleader : 0);
	if (p->state == S_BODY || p->buf[0] == LEADER_CONTROL_BYTE)
		return (p->need - p->have);
	len = p->have >= 8 ? le16_get(p->buf + 6) : KD_MAX_PAYLOAD;
	if (len > KD_MAX_PAYLOAD)		/* oversize: ends the header */
		return (p->need - p->have);
	return (KD_HEADER_SIZE + len + 1 - p->have);
}

/* Bytes up to a completed leader, counting from count leader bytes. */
static size_t
leader_span(unsigned count, uint8_t leader, const uint8_t *d, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++) {
		if (count == 0 && !leader_byte(d[i]) &&
		    (i = skip(d, i, n, NULL)) == n)
			break;
		/* Four leader bytes at once, as in scan(). */
		if (count == 0 && leader_at(d + i, n - i))
			return (i + 4);
		if (!leader_byte(d[i])) {
			count = 0;
			continue;
		}
		if (count == 0 || d[i] != leader) {
			leader = d[i];
			count = 0;
		}
		if (++count == 4)
			return (i + 1);
	}
	return (n);
}

size_t
kd_parser_span(const struct kd_parser *p, const uint8_t *d, size_t n)
{
	if (p->state != S_LEADER)
		return (p->need - p->have < n ? p->need - p->have : n);
	return (leader_span(p->nleader, p->leader, d, n));
}

size_t
kd_leader_span(const uint8_t *d, size_t n)
{
	return (leader_span(0, 0, d, n));
}

size_t
kd_data_rest(const uint8_t *h)
{
	unsigned	len = le16_get(h + 2);

	if (head_verdict(le16_get(h), len, 0) != -1)
		return (KD_HEADER_SIZE - 4);
	return (KD_HEADER_SIZE - 4 + len + 1);
}

int
kd_parser_alike(const struct kd_parser *a, const struct kd_parser *b)
{
	if (a->state != b->state)
		return (0);
	if (a->state != S_LEADER)
		return (a->have == b->have);
	return (a->nleader == b->nleader &&
	    (a->nleader == 0 || a->leader == b->leader));
}

void
kd_parser_reset(struct kd_parser *p)
{
	p->garbage += p->state == S_LEADER ? p->nleader : p->have;
	p->state = S_LEADER;
	p->nleader = 0;
	p->have = p->need = 0;
	emit_garbage(p);
}
