/*
 * player.c - one side of a kdtrace, played like a KDCOM peer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "le.h"
#include "player.h"

/* A record's shape, read from its header. */
enum shape {
	SH_OTHER,
	SH_BREAKIN,
	SH_DATA,
	SH_ACK,
	SH_RESEND,
	SH_RESET,
};

static enum shape
shape_of(const uint8_t *p, size_t len)
{
	if (len == 1 && p[0] == KD_BREAKIN)
		return SH_BREAKIN;
	if (len < KD_HEADER_SIZE)
		return SH_OTHER;
	if (le32_get(p) == KD_LEADER_DATA)
		return SH_DATA;
	if (le32_get(p) != KD_LEADER_CONTROL)
		return SH_OTHER;
	switch (le16_get(p + 4)) {
	case KD_TYPE_ACKNOWLEDGE:
		return SH_ACK;
	case KD_TYPE_RESEND:
		return SH_RESEND;
	case KD_TYPE_RESET:
		return SH_RESET;
	}
	return SH_OTHER;
}

static uint32_t
id_of(const uint8_t *p, size_t len)
{
	return len >= KD_HEADER_SIZE ? le32_get(p + 8) : 0;
}

static const struct kdtrace_rec *
rec(const struct player *p, long i)
{
	return &p->trace->recs[i];
}

static int
same(const struct kdtrace_rec *r, const uint8_t *raw, size_t len)
{
	return r->len == len && memcmp(r->pkt, raw, len) == 0;
}

const char *
player_describe(const uint8_t *raw, size_t len, char *buf, size_t size)
{
	const char	*api = NULL;
	unsigned	 type;
	uint32_t	 n = 0;

	if (len == 1 && raw[0] == KD_BREAKIN) {
		snprintf(buf, size, "break-in");
		return buf;
	}
	if (len < KD_HEADER_SIZE) {
		snprintf(buf, size, "%zu bytes, not a packet", len);
		return buf;
	}
	type = le16_get(raw + 4);
	if (le32_get(raw) == KD_LEADER_DATA && len >= KD_HEADER_SIZE + 4) {
		n = le32_get(raw + KD_HEADER_SIZE);
		api = kd_api_name(type, n);
	}
	if (api != NULL)
		snprintf(buf, size, "%s(%s) id 0x%08x len %u",
		    kd_type_name(type), api, le32_get(raw + 8), le16_get(raw + 6));
	else if (le32_get(raw) == KD_LEADER_DATA && len >= KD_HEADER_SIZE + 4)
		snprintf(buf, size, "%s(0x%04x) id 0x%08x len %u",
		    kd_type_name(type), n, le32_get(raw + 8), le16_get(raw + 6));
	else
		snprintf(buf, size, "%s id 0x%08x len %u", kd_type_name(type),
		    le32_get(raw + 8), le16_get(raw + 6));
	return buf;
}

static enum player_status
fail(struct player *p, enum player_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum player_status
fail(struct player *p, enum player_status st, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof p->err, fmt, ap);
	va_end(ap);
	return st;
}

static void
emit(struct player *p, const uint8_t *pkt, size_t len)
{
	p->st.sent++;
	p->send(p->arg, pkt, len);
}

void
player_init(struct player *p, const struct kdtrace *t, char self,
    unsigned retries, player_send_cb send, void *arg)
{
	memset(p, 0, sizeof *p);
	p->trace = t;
	p->self = self;
	p->pending = p->rx_data = p->rx_ack = p->rx_ctl = p->last_sent = -1;
	p->retries = retries ? retries : PLAYER_RETRIES;
	p->send = send;
	p->arg = arg;
	p->resendlen = kd_build(p->resend, KD_TYPE_RESEND, 0, NULL, 0);
}

size_t
player_count(const struct kdtrace *t, char dir)
{
	size_t	i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->recs[i].dir == dir;
	return n;
}

int
player_done(const struct player *p)
{
	return p->next >= p->trace->n;
}

int
player_linger(const struct player *p)
{
	return p->trace->n > 0 && p->trace->recs[p->trace->n - 1].dir == p->self;
}

void
player_pump(struct player *p)
{
	const struct kdtrace_rec *r;

	while (p->next < p->trace->n) {
		r = rec(p, (long)p->next);
		if (r->dir != p->self)
			break;
		switch (shape_of(r->pkt, r->len)) {
		case SH_DATA:
			p->pending = (long)p->next;
			break;
		case SH_ACK:
			/* Remember our ACK of the peer's packet, to repeat it. */
			if (p->rx_data >= 0 && p->rx_ack < 0 &&
			    id_of(r->pkt, r->len) ==
			    id_of(rec(p, p->rx_data)->pkt, rec(p, p->rx_data)->len))
				p->rx_ack = (long)p->next;
			break;
		case SH_RESET:
			/* A reset voids what we were waiting on. */
			p->pending = -1;
			break;
		default:
			break;
		}
		p->last_sent = (long)p->next++;
		emit(p, r->pkt, r->len);
	}
}

static enum player_status
strike(struct player *p, const char *what)
{
	char	 d[128];
	const struct kdtrace_rec *r;

	if (++p->strikes <= p->retries)
		return PLAYER_OK;
	if (player_done(p))
		return fail(p, PLAYER_FAILED, "%s %u times in a row after the "
		    "end of the trace", what, p->strikes);
	r = rec(p, (long)p->next);
	return fail(p, PLAYER_FAILED, "%s %u times in a row waiting for "
	    "record %zu (%c %s)", what, p->strikes, p->next, r->dir,
	    player_describe(r->pkt, r->len, d, sizeof d));
}

static enum player_status
accept(struct player *p)
{
	const struct kdtrace_rec *r = rec(p, (long)p->next);

	switch (shape_of(r->pkt, r->len)) {
	case SH_DATA:
		p->rx_data = (long)p->next;
		p->rx_ack = -1;
		break;
	case SH_ACK:
		p->rx_ctl = (long)p->next;
		p->pending = -1;
		break;
	case SH_RESET:
		p->pending = -1;
		break;
	default:
		break;
	}
	p->strikes = 0;
	p->next++;
	player_pump(p);
	return PLAYER_OK;
}

/* The peer asks for our last packet again. */
static enum player_status
peer_resend(struct player *p)
{
	const struct kdtrace_rec *r;

	p->st.resends_received++;
	if (p->pending >= 0) {
		r = rec(p, p->pending);
		p->st.retransmits++;
		emit(p, r->pkt, r->len);
	}
	return strike(p, "RESEND received");
}

static enum player_status
mismatch(struct player *p, const struct kd_packet *pkt)
{
	const struct kdtrace_rec *r;
	char	 e[128], g[128];
	size_t	 off;

	player_describe(pkt->raw, pkt->rawlen, g, sizeof g);
	if (player_done(p))
		return fail(p, PLAYER_FAILED, "unexpected packet after the end "
		    "of the trace: got %s", g);
	r = rec(p, (long)p->next);
	for (off = 0; off < r->len && off < pkt->rawlen; off++)
		if (r->pkt[off] != pkt->raw[off])
			break;
	return fail(p, PLAYER_FAILED, "record %zu mismatch: expected %c %s, "
	    "got %s; first difference at offset %zu", p->next, r->dir,
	    player_describe(r->pkt, r->len, e, sizeof e), g, off);
}

static enum player_status
packet(struct player *p, const struct kd_packet *pkt)
{
	const struct kdtrace_rec *r = NULL;
	const struct kdtrace_rec *a;

	if (pkt->verdict != KD_OK) {
		p->st.bad++;
		if (pkt->control)
			return PLAYER_OK;	/* no payload: nothing to ask */
		p->st.resends_sent++;
		emit(p, p->resend, p->resendlen);
		return strike(p, "damaged packet");
	}
	p->st.received++;
	if (!player_done(p))
		r = rec(p, (long)p->next);
	if (r != NULL && same(r, pkt->raw, pkt->rawlen))
		return accept(p);
	if (pkt->control && pkt->type == KD_TYPE_RESEND)
		return peer_resend(p);
	if (!pkt->control && p->rx_data >= 0 &&
	    same(rec(p, p->rx_data), pkt->raw, pkt->rawlen)) {
		/* Our ACK got lost or was late: say it again. */
		p->st.duplicates++;
		if (p->rx_ack >= 0) {
			a = rec(p, p->rx_ack);
			emit(p, a->pkt, a->len);
		}
		return strike(p, "duplicate data packet");
	}
	if (pkt->control && p->rx_ctl >= 0 &&
	    same(rec(p, p->rx_ctl), pkt->raw, pkt->rawlen)) {
		p->st.duplicates++;
		return strike(p, "duplicate ACK");
	}
	return mismatch(p, pkt);
}

enum player_status
player_event(struct player *p, const struct kd_event *ev)
{
	const struct kdtrace_rec *r;

	switch (ev->kind) {
	case KD_EV_GARBAGE:
		p->st.garbage += ev->len;
		return PLAYER_OK;
	case KD_EV_BREAKIN:
		p->st.received++;
		if (!player_done(p)) {
			r = rec(p, (long)p->next);
			if (shape_of(r->pkt, r->len) == SH_BREAKIN)
				return accept(p);
		}
		p->st.breakins++;
		return PLAYER_OK;
	case KD_EV_PACKET:
		return packet(p, ev->pkt);
	}
	return PLAYER_OK;
}

enum player_status
player_timeout(struct player *p, int busy)
{
	const struct kdtrace_rec *r;
	char	 d[128];

	if (++p->strikes > p->retries) {
		if (player_done(p))
			return fail(p, PLAYER_TIMEOUT, "timed out after the "
			    "end of the trace");
		r = rec(p, (long)p->next);
		return fail(p, PLAYER_TIMEOUT, "timed out waiting for record "
		    "%zu (%c %s) after %u recoveries in a row", p->next,
		    r->dir, player_describe(r->pkt, r->len, d, sizeof d),
		    p->strikes - 1);
	}
	if (busy) {
		/* A packet cut short: ask for it again, as kdcom does. */
		p->st.resends_sent++;
		emit(p, p->resend, p->resendlen);
	}
	if (p->pending >= 0) {
		r = rec(p, p->pending);
		p->st.retransmits++;
		emit(p, r->pkt, r->len);
	}
	return PLAYER_OK;
}

/* Collects what the parser makes of one record. */
struct check {
	int			 packets, breakins, bad;
	size_t			 garbage, rawlen;
	enum kd_verdict		 verdict;
};

static void
check_cb(void *arg, const struct kd_event *ev)
{
	struct check *c = arg;

	switch (ev->kind) {
	case KD_EV_PACKET:
		c->packets++;
		c->rawlen = ev->pkt->rawlen;
		if (ev->pkt->verdict != KD_OK) {
			c->bad++;
			c->verdict = ev->pkt->verdict;
		}
		break;
	case KD_EV_BREAKIN:
		c->breakins++;
		break;
	case KD_EV_GARBAGE:
		c->garbage += ev->len;
		break;
	}
}

int
player_check_trace(const struct kdtrace *t, char *err, size_t errlen)
{
	struct kd_parser	 kp;
	struct check		 c;
	const struct kdtrace_rec *r;
	size_t			 i;

	for (i = 0; i < t->n; i++) {
		r = &t->recs[i];
		memset(&c, 0, sizeof c);
		kd_parser_init(&kp, check_cb, &c);
		kd_parser_feed(&kp, r->pkt, r->len);
		kd_parser_reset(&kp);
		if (r->dir != KDTRACE_DEBUGGER && r->dir != KDTRACE_TARGET) {
			snprintf(err, errlen, "record %zu: bad direction 0x%02x",
			    i, (unsigned char)r->dir);
			return -1;
		}
		if (c.bad) {
			snprintf(err, errlen, "record %zu: %s", i,
			    kd_verdict_name(c.verdict));
			return -1;
		}
		if (c.garbage || c.packets + c.breakins != 1 ||
		    (c.packets && c.rawlen != r->len)) {
			snprintf(err, errlen, "record %zu: not one packet "
			    "(%zu bytes)", i, (size_t)r->len);
			return -1;
		}
	}
	return 0;
}
