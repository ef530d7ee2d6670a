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

int
kd_type_is_control(unsigned type)
{
	return (type == KD_TYPE_ACKNOWLEDGE || type == KD_TYPE_RESEND ||
	    type == KD_TYPE_RESET);
}

/* A type that may appear on the wire (8 is internal to the API). */
static int
type_on_wire(unsigned type)
{
	return (type > KD_TYPE_UNUSED && type < KD_TYPE_MAX &&
	    type != KD_TYPE_POLL_BREAKIN);
}

static int
type_has_api(unsigned type)
{
	return (type == KD_TYPE_STATE_CHANGE32 ||
	    type == KD_TYPE_STATE_MANIPULATE || type == KD_TYPE_DEBUG_IO ||
	    type == KD_TYPE_STATE_CHANGE64);
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

static void
emit(struct kd_parser *p, enum kd_event_kind kind, size_t len,
    const struct kd_packet *pkt)
{
	struct kd_event	ev;

	if (p->cb == NULL)
		return;
	ev.kind = kind;
	ev.len = len;
	ev.pkt = pkt;
	p->cb(p->arg, &ev);
}

static void
emit_garbage(struct kd_parser *p)
{
	size_t	n = p->garbage;

	if (n == 0)
		return;
	p->garbage = 0;
	emit(p, KD_EV_GARBAGE, n, NULL);
}

/* Report the buffered packet and go back to scanning for a leader. */
static void
finish(struct kd_parser *p, enum kd_verdict verdict)
{
	struct kd_packet	pkt;
	const uint8_t		*b = p->buf;

	memset(&pkt, 0, sizeof(pkt));
	pkt.control = le32_get(b) == KD_LEADER_CONTROL;
	pkt.type = le16_get(b + 4);
	pkt.len = le16_get(b + 6);
	pkt.id = le32_get(b + 8);
	pkt.checksum = le32_get(b + 12);
	pkt.verdict = verdict;
	pkt.raw = b;
	pkt.rawlen = p->have;
	if (p->state == S_BODY) {
		pkt.payload = b + KD_HEADER_SIZE;
		if (type_has_api(pkt.type) && pkt.len >= 4) {
			pkt.api = le32_get(pkt.payload);
			pkt.has_api = 1;
		}
	}
	p->state = S_LEADER;
	p->nleader = 0;
	p->have = p->need = 0;
	emit(p, KD_EV_PACKET, 0, &pkt);
}

static void
header_done(struct kd_parser *p)
{
	unsigned	type = le16_get(p->buf + 4), len = le16_get(p->buf + 6);
	int		control = p->buf[0] == LEADER_CONTROL_BYTE;

	if (!type_on_wire(type) || kd_type_is_control(type) != control)
		finish(p, KD_BAD_TYPE);
	else if (control)
		finish(p, KD_OK);
	else if (len > KD_MAX_PAYLOAD)
		finish(p, KD_OVERSIZE);
	else {
		p->state = S_BODY;
		p->need = KD_HEADER_SIZE + len + 1;
	}
}

static void
body_done(struct kd_parser *p)
{
	const uint8_t	*b = p->buf;
	size_t		 len = p->need - KD_HEADER_SIZE - 1;

	if (b[p->need - 1] != KD_TRAILER)
		finish(p, KD_BAD_TRAILER);
	else if (kd_checksum(b + KD_HEADER_SIZE, len) != le32_get(b + 12))
		finish(p, KD_BAD_CHECKSUM);
	else
		finish(p, KD_OK);
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
	size_t		i = 0;
	unsigned	type, len;

	for (; i < n && k->verdict == -1; i++) {
		if (k->have < sizeof(k->hdr))
			k->hdr[k->have] = d[i];
		else if (k->have + 1 < k->need)
			k->sum += d[i];
		k->have++;
		if (k->have == sizeof(k->hdr)) {
			/* The header after the leader: type, ByteCount, id, sum. */
			type = le16_get(k->hdr);
			len = le16_get(k->hdr + 2);
			if (!type_on_wire(type) || kd_type_is_control(type))
				k->verdict = KD_BAD_TYPE;
			else if (len > KD_MAX_PAYLOAD)
				k->verdict = KD_OVERSIZE;
			k->need = sizeof(k->hdr) + len + 1;
		} else if (k->have == k->need) {
			if (d[i] != KD_TRAILER)
				k->verdict = KD_BAD_TRAILER;
			else if (k->sum != le32_get(k->hdr + 8))
				k->verdict = KD_BAD_CHECKSUM;
			else
				k->verdict = KD_OK;
		}
	}
	return (i);
}

/*
 * Skip bytes that cannot start a leader: the fast path through garbage and
 * non-KDCOM traffic (bytescan.h).
 */
static size_t
skip(const uint8_t *d, size_t i, size_t n)
{
	/* Between packets on a KD line the next leader is usually here. */
	if (i < n && (d[i] == LEADER_DATA_BYTE || d[i] == LEADER_CONTROL_BYTE))
		return (i);
	return (i + bs_find3(d + i, n - i, LEADER_DATA_BYTE,
	    LEADER_CONTROL_BYTE, KD_BREAKIN));
}

/*
 * Scan for a leader; returns the bytes consumed.  The state lives in
 * locals while scanning (the compiler cannot keep p's fields in registers
 * across stores through a byte pointer).
 */
static size_t
scan(struct kd_parser *p, const uint8_t *d, size_t n)
{
	size_t		garbage = p->garbage, i = 0, j;
	unsigned	nleader = p->nleader;
	uint8_t		leader = p->leader, b;

	while (i < n) {
		if (nleader == 0) {
			j = skip(d, i, n);
			garbage += j - i;
			if ((i = j) == n)
				break;
		}
		b = d[i++];
		if (b == LEADER_DATA_BYTE || b == LEADER_CONTROL_BYTE) {
			if (nleader == 0 || b != leader) {
				garbage += nleader;
				leader = b;
				nleader = 0;
			}
			if (++nleader < 4)
				continue;
			p->garbage = garbage;
			emit_garbage(p);
			memset(p->buf, b, 4);
			p->have = 4;
			p->need = KD_HEADER_SIZE;
			p->nleader = 0;
			p->state = S_HEADER;
			return (i);
		}
		garbage += nleader;
		nleader = 0;
		if (b == KD_BREAKIN) {
			p->garbage = garbage;
			emit_garbage(p);
			emit(p, KD_EV_BREAKIN, 0, NULL);
			garbage = 0;
		} else
			garbage++;
	}
	p->garbage = garbage;
	p->nleader = nleader;
	p->leader = leader;
	return (n);
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

size_t
kd_parser_span(const struct kd_parser *p, const uint8_t *d, size_t n)
{
	unsigned	count = p->nleader;
	uint8_t		leader = p->leader;
	size_t		i;

	if (p->state != S_LEADER)
		return (p->need - p->have < n ? p->need - p->have : n);
	for (i = 0; i < n; i++) {
		if (count == 0 && (i = skip(d, i, n)) == n)
			break;
		if (d[i] != LEADER_DATA_BYTE && d[i] != LEADER_CONTROL_BYTE) {
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

void
kd_parser_reset(struct kd_parser *p)
{
	p->garbage += p->state == S_LEADER ? p->nleader : p->have;
	p->state = S_LEADER;
	p->nleader = 0;
	p->have = p->need = 0;
	emit_garbage(p);
}

void
kd_counters_add(struct kd_counters *c, const struct kd_event *ev)
{
	const struct kd_packet	*pkt = ev->pkt;

	switch (ev->kind) {
	case KD_EV_GARBAGE:
		c->garbage += ev->len;
		return;
	case KD_EV_BREAKIN:
		c->breakins++;
		return;
	case KD_EV_PACKET:
		break;
	}
	switch (pkt->verdict) {
	case KD_OK:
		break;
	case KD_BAD_CHECKSUM:
		c->bad_checksum++;
		return;
	case KD_BAD_TRAILER:
		c->bad_trailer++;
		return;
	case KD_BAD_TYPE:
		c->bad_type++;
		return;
	case KD_OVERSIZE:
		c->oversize++;
		return;
	}
	if (pkt->type < KD_TYPE_MAX)
		c->packets[pkt->type]++;
	if (pkt->control)
		c->control++;
	else
		c->data++;
	if (pkt->type == KD_TYPE_RESEND)
		c->resends++;
	else if (pkt->type == KD_TYPE_RESET)
		c->resets++;
}
