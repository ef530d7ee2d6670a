/*
 * fuzz_kdcom - the streaming KDCOM parser on any bytes, cut anywhere.
 *
 * For the input x:
 *  1. Accounting: the events partition x in order.  Garbage of length L
 *     stands for the next L bytes, a break-in for one 0x62, a packet for
 *     its raw bytes, which are exactly the next rawlen bytes of x; after a
 *     final kd_parser_reset() nothing is left over.  Garbage is coalesced
 *     (never an empty one, never two in a row except that a reset turns a
 *     packet cut short into garbage of its own).
 *  2. Every packet reported OK re-serialises through kd_build() to exactly
 *     its raw bytes (a control packet's ByteCount and Checksum fields are
 *     not checked by kdcom, nor by the parser, so those two fields are
 *     compared with what the packet reports instead); verdicts agree with
 *     the lengths (header only for bad type and oversize).
 *  3. Feeding in pieces (plan cuts, single bytes, kd_parser_span steps)
 *     never changes the event sequence; inside a span no packet completes
 *     and busy does not change before its last byte; busy iff want > 0.
 *     Inside a packet kd_parser_left() falls with every byte, from what
 *     it said at the leader, and is never below want: the packet ends
 *     within it.
 *  4. kd_counters_add() over the events gives consistent counters.
 *  5. Resets at plan-chosen points keep the accounting of 1.
 *  6. A parser that counts for itself (kd_parser_count), with no
 *     callback (nothing decoded) or with one, cut as in 3, ends with the
 *     counters kd_counters_add() makes of the events of 1.
 *  7. The light listener (kd_parser_brief) hears of the packets of 1, in
 *     order, with their verdicts and bytes: alone (nothing decoded) and on
 *     twins fed at once (kd_parser_feed_twin); beside an event callback it
 *     hears nothing, the events are those of 1.  What a brief's listener
 *     reads from the bytes (kd_raw_id, kd_raw_len, kd_brief_api) is what
 *     the event says, for every packet of 2.
 */
#include <string.h>

#include "le.h"
#include "kdcom.h"
#include "fuzz.h"

struct rec {
	enum kd_event_kind	kind;
	size_t			len;	/* garbage length, packet rawlen */
	enum kd_verdict		verdict;
	size_t			raw;	/* offset of the raw bytes in log */
};

struct log {
	struct rec	*r;
	size_t		 n, cap;
	uint8_t		*bytes;
	size_t		 nbytes, capbytes;
	size_t		 packets;	/* packet events so far */
};

static void
log_add(struct log *l, const struct kd_event *ev)
{
	struct rec	*r;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if ((l->r = realloc(l->r, l->cap * sizeof *l->r)) == NULL)
			abort();
	}
	r = &l->r[l->n++];
	memset(r, 0, sizeof *r);
	r->kind = ev->kind;
	r->len = ev->len;
	if (ev->kind != KD_EV_PACKET)
		return;
	l->packets++;
	r->len = ev->pkt->rawlen;
	r->verdict = ev->pkt->verdict;
	r->raw = l->nbytes;
	if (l->nbytes + r->len > l->capbytes) {
		l->capbytes = 2 * (l->nbytes + r->len);
		if ((l->bytes = realloc(l->bytes, l->capbytes)) == NULL)
			abort();
	}
	memcpy(l->bytes + l->nbytes, ev->pkt->raw, r->len);
	l->nbytes += r->len;
}

/* Property 2, on the packet as the callback sees it. */
static void
check_packet(const struct kd_packet *pkt)
{
	uint8_t	b[KD_MAX_PACKET];
	size_t	n;

	CHECK(pkt->rawlen >= KD_HEADER_SIZE && pkt->rawlen <= KD_MAX_PACKET,
	    "rawlen %zu", pkt->rawlen);
	CHECK(pkt->raw[0] == pkt->raw[1] && pkt->raw[1] == pkt->raw[2] &&
	    pkt->raw[2] == pkt->raw[3] && (pkt->raw[0] == 0x30 ||
	    pkt->raw[0] == 0x69), "leader %02x%02x%02x%02x", pkt->raw[0],
	    pkt->raw[1], pkt->raw[2], pkt->raw[3]);
	CHECK(pkt->control == (pkt->raw[0] == 0x69), "control flag");
	switch (pkt->verdict) {
	case KD_BAD_TYPE:
	case KD_OVERSIZE:
		CHECK(pkt->rawlen == KD_HEADER_SIZE, "%s packet of %zu bytes",
		    kd_verdict_name(pkt->verdict), pkt->rawlen);
		CHECK(pkt->verdict != KD_OVERSIZE || (!pkt->control &&
		    pkt->len > KD_MAX_PAYLOAD), "oversize with len %u",
		    pkt->len);
		return;
	case KD_BAD_CHECKSUM:
	case KD_BAD_TRAILER:
		CHECK(!pkt->control && pkt->rawlen == KD_HEADER_SIZE +
		    (size_t)pkt->len + 1, "damaged data packet length");
		CHECK((pkt->verdict == KD_BAD_TRAILER) ==
		    (pkt->raw[pkt->rawlen - 1] != KD_TRAILER), "trailer");
		return;
	case KD_OK:
		break;
	}
	if (pkt->control) {
		n = kd_build(b, pkt->type, pkt->id, NULL, 0);
		CHECK(n == KD_HEADER_SIZE && pkt->rawlen == n,
		    "control packet of %zu bytes", pkt->rawlen);
		le16_put(b + 6, pkt->len);
		le32_put(b + 12, pkt->checksum);
	} else {
		CHECK(pkt->payload == pkt->raw + KD_HEADER_SIZE, "payload");
		n = kd_build(b, pkt->type, pkt->id, pkt->payload, pkt->len);
		CHECK(n == pkt->rawlen, "rebuilt %zu bytes, raw %zu", n,
		    pkt->rawlen);
		CHECK(pkt->has_api == (pkt->len >= 4 &&
		    (pkt->type == KD_TYPE_STATE_CHANGE32 ||
		    pkt->type == KD_TYPE_STATE_MANIPULATE ||
		    pkt->type == KD_TYPE_DEBUG_IO ||
		    pkt->type == KD_TYPE_STATE_CHANGE64)), "has_api");
	}
	CHECK(memcmp(b, pkt->raw, n) == 0, "OK %s packet does not "
	    "re-serialise to its raw bytes", kd_type_name(pkt->type));
}

/* Property 7: a brief's reading of the bytes is the event's. */
static void
check_brief_of(const struct kd_packet *pkt)
{
	struct kd_brief	b;
	uint32_t	api;
	int		has;

	kd_brief_of(pkt, &b);
	has = kd_brief_api(&b, &api);
	CHECK(kd_raw_id(b.raw) == pkt->id && kd_raw_len(b.raw) == pkt->len &&
	    has == pkt->has_api && api == pkt->api, "id, ByteCount or API "
	    "read from the bytes differ from the event's");
}

static void
on_event(void *arg, const struct kd_event *ev)
{
	if (ev->kind == KD_EV_PACKET) {
		check_packet(ev->pkt);
		check_brief_of(ev->pkt);
	}
	CHECK(ev->kind != KD_EV_GARBAGE || ev->len > 0, "empty garbage");
	log_add(arg, ev);
}

/* Property 1 over x (resets allowed between events). */
static void
check_partition(const struct log *l, const uint8_t *x, size_t n)
{
	size_t			 i, off = 0;
	const struct rec	*r;

	for (i = 0; i < l->n; i++) {
		r = &l->r[i];
		switch (r->kind) {
		case KD_EV_GARBAGE:
			off += r->len;
			break;
		case KD_EV_BREAKIN:
			CHECK(off < n && x[off] == KD_BREAKIN,
			    "break-in at %zu is not 0x62", off);
			off++;
			break;
		case KD_EV_PACKET:
			CHECK(off + r->len <= n && memcmp(x + off,
			    l->bytes + r->raw, r->len) == 0,
			    "packet at %zu is not the input's bytes", off);
			off += r->len;
			break;
		}
		CHECK(off <= n, "events cover %zu bytes of %zu", off, n);
	}
	CHECK(off == n, "events cover %zu bytes of %zu", off, n);
}

static int
same_log(const struct log *a, const struct log *b)
{
	size_t	i;

	if (a->n != b->n || a->nbytes != b->nbytes || (a->nbytes > 0 &&
	    memcmp(a->bytes, b->bytes, a->nbytes) != 0))
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->r[i].kind != b->r[i].kind ||
		    a->r[i].len != b->r[i].len ||
		    a->r[i].verdict != b->r[i].verdict)
			return 0;
	}
	return 1;
}

static void
log_free(struct log *l)
{
	free(l->r);
	free(l->bytes);
	memset(l, 0, sizeof *l);
}

static void
check_counters(const struct log *l, struct kd_counters *out)
{
	struct kd_counters	c;
	struct kd_event		ev;
	struct kd_packet	pkt;
	uint64_t		ok = 0, bad[5] = { 0 }, garbage = 0, brk = 0;
	uint64_t		sum = 0;
	size_t			i;
	int			t;

	memset(&c, 0, sizeof c);
	for (i = 0; i < l->n; i++) {
		const struct rec *r = &l->r[i];
		const uint8_t *raw;

		memset(&pkt, 0, sizeof pkt);
		ev.kind = r->kind;
		ev.len = r->len;
		ev.pkt = NULL;
		if (r->kind == KD_EV_PACKET) {
			raw = l->bytes + r->raw;
			pkt.control = raw[0] == 0x69;
			pkt.type = raw[4] | raw[5] << 8;
			pkt.verdict = r->verdict;
			ev.pkt = &pkt;
			if (r->verdict == KD_OK)
				ok++;
			else
				bad[r->verdict]++;
		} else if (r->kind == KD_EV_GARBAGE)
			garbage += r->len;
		else
			brk++;
		kd_counters_add(&c, &ev);
	}
	for (t = 0; t < KD_TYPE_MAX; t++)
		sum += c.packets[t];
	CHECK(c.data + c.control == ok && sum == ok, "%llu OK packets, "
	    "counted %llu data + %llu control, %llu by type",
	    (unsigned long long)ok, (unsigned long long)c.data,
	    (unsigned long long)c.control, (unsigned long long)sum);
	CHECK(c.bad_checksum == bad[KD_BAD_CHECKSUM] &&
	    c.bad_trailer == bad[KD_BAD_TRAILER] &&
	    c.bad_type == bad[KD_BAD_TYPE] && c.oversize == bad[KD_OVERSIZE],
	    "bad packet counters");
	CHECK(c.garbage == garbage && c.breakins == brk, "garbage/break-ins");
	CHECK(c.resends == c.packets[KD_TYPE_RESEND] &&
	    c.resets == c.packets[KD_TYPE_RESET], "resends/resets");
	CHECK(c.packets[KD_TYPE_UNUSED] == 0 &&
	    c.packets[KD_TYPE_POLL_BREAKIN] == 0, "impossible types counted");
	if (out != NULL)
		*out = c;
}

/* Property 7: a brief, logged as the packet event it stands for. */
static void
on_brief(void *arg, const struct kd_brief *b)
{
	struct kd_packet	pkt;
	struct kd_event		ev;

	CHECK(b->rawlen >= KD_HEADER_SIZE && b->type == le16_get(b->raw + 4) &&
	    b->control == (b->raw[0] == 0x69), "brief type %u control %d",
	    b->type, b->control);
	memset(&pkt, 0, sizeof pkt);
	pkt.verdict = b->verdict;
	pkt.raw = b->raw;
	pkt.rawlen = b->rawlen;
	ev.kind = KD_EV_PACKET;
	ev.len = 0;
	ev.pkt = &pkt;
	log_add(arg, &ev);
}

/* The packets of a, and b's (briefs) alike. */
static int
same_packets(const struct log *a, const struct log *b)
{
	size_t	i, k = 0;

	for (i = 0; i < a->n; i++) {
		if (a->r[i].kind != KD_EV_PACKET)
			continue;
		if (k == b->n || b->r[k].len != a->r[i].len ||
		    b->r[k].verdict != a->r[i].verdict ||
		    memcmp(a->bytes + a->r[i].raw, b->bytes + b->r[k].raw,
		    a->r[i].len) != 0)
			return 0;
		k++;
	}
	return k == b->n;
}

static void
check_state(const struct kd_parser *p)
{
	CHECK(kd_parser_busy(p) == (kd_parser_want(p) > 0),
	    "busy %d, want %zu", kd_parser_busy(p), kd_parser_want(p));
}

int
LLVMFuzzerTestOneInput(const uint8_t *x, size_t n)
{
	struct kd_parser	*p;
	struct log		 whole, cut, bytes, span, resets, counted;
	struct kd_counters	 want, c;
	struct plan		 pl;
	size_t			 pos, len, before, left;
	int			 busy, listen;

	if ((p = malloc(sizeof *p)) == NULL)
		abort();
	memset(&whole, 0, sizeof whole);
	cut = bytes = span = resets = counted = whole;

	kd_parser_init(p, on_event, &whole);
	kd_parser_feed(p, x, n);
	check_state(p);
	kd_parser_reset(p);
	CHECK(!kd_parser_busy(p), "busy after reset");
	check_partition(&whole, x, n);
	check_counters(&whole, &want);
	/* The last event may be the final reset's: a packet cut short. */
	for (pos = 1; pos + 1 < whole.n; pos++)
		CHECK(whole.r[pos].kind != KD_EV_GARBAGE ||
		    whole.r[pos - 1].kind != KD_EV_GARBAGE,
		    "garbage not coalesced at event %zu", pos);

	kd_parser_init(p, on_event, &cut);
	plan_init(&pl, x, n);
	for (pos = 0; pos < n; pos += len) {
		len = plan_len(&pl, n - pos);
		kd_parser_feed(p, x + pos, len);
		check_state(p);
	}
	kd_parser_reset(p);
	CHECK(same_log(&whole, &cut), "plan cuts change the events");

	kd_parser_init(p, on_event, &bytes);
	for (pos = 0; pos < n; pos++) {
		busy = kd_parser_busy(p);
		left = kd_parser_left(p);
		kd_parser_feed(p, x + pos, 1);
		/* A packet ends within what left said when it began. */
		CHECK(kd_parser_left(p) >= kd_parser_want(p) &&
		    (!busy || left >= 1) && (!busy || !kd_parser_busy(p) ||
		    kd_parser_left(p) < left), "left %zu, then %zu (want %zu)",
		    left, kd_parser_left(p), kd_parser_want(p));
	}
	kd_parser_reset(p);
	CHECK(same_log(&whole, &bytes), "byte-at-a-time changes the events");

	kd_parser_init(p, on_event, &span);
	for (pos = 0; pos < n; pos += len) {
		len = kd_parser_span(p, x + pos, n - pos);
		CHECK(len >= 1 && len <= n - pos, "span %zu of %zu", len,
		    n - pos);
		if (kd_parser_busy(p))
			CHECK(len == (kd_parser_want(p) < n - pos ?
			    kd_parser_want(p) : n - pos), "span inside a "
			    "packet is not what it wants");
		busy = kd_parser_busy(p);
		before = span.packets;
		kd_parser_feed(p, x + pos, len - 1);
		CHECK(span.packets == before && kd_parser_busy(p) == busy,
		    "packet or busy change before the end of a span");
		kd_parser_feed(p, x + pos + len - 1, 1);
		check_state(p);
	}
	kd_parser_reset(p);
	CHECK(same_log(&whole, &span), "span steps change the events");

	kd_parser_init(p, on_event, &resets);
	plan_init(&pl, x, n);
	for (pos = 0; pos < n; pos += len) {
		len = plan_len(&pl, n - pos);
		kd_parser_feed(p, x + pos, len);
		if ((plan_byte(&pl) & 0x70) == 0x70) {
			kd_parser_reset(p);
			CHECK(!kd_parser_busy(p), "busy after reset");
		}
	}
	kd_parser_reset(p);
	check_partition(&resets, x, n);
	check_counters(&resets, NULL);

	for (listen = 0; listen < 2; listen++) {
		memset(&c, 0, sizeof c);
		kd_parser_init(p, listen ? on_event : NULL, &counted);
		kd_parser_count(p, &c);
		plan_init(&pl, x, n);
		for (pos = 0; pos < n; pos += len) {
			len = plan_len(&pl, n - pos);
			kd_parser_feed(p, x + pos, len);
		}
		kd_parser_reset(p);
		CHECK(memcmp(&c, &want, sizeof c) == 0, "the parser's own "
		    "counters (%s) differ from its events'", listen ?
		    "listened to" : "quiet");
	}
	CHECK(same_log(&whole, &counted), "counting changes the events");

	for (listen = 0; listen < 2; listen++) {
		struct kd_parser	*t;
		struct log		 lb, tb, ev;

		if ((t = malloc(sizeof *t)) == NULL)
			abort();
		memset(&lb, 0, sizeof lb);
		tb = ev = lb;
		kd_parser_init(p, listen ? on_event : NULL, &ev);
		kd_parser_brief(p, on_brief, &lb);
		kd_parser_init(t, NULL, NULL);
		kd_parser_brief(t, on_brief, &tb);
		plan_init(&pl, x, n);
		for (pos = 0; pos < n; pos += len) {
			len = plan_len(&pl, n - pos);
			if (listen)
				kd_parser_feed(p, x + pos, len);
			else
				kd_parser_feed_twin(p, t, x + pos, len);
		}
		kd_parser_reset(p);
		kd_parser_reset(t);
		if (listen) {
			CHECK(same_log(&whole, &ev), "a brief listener changes "
			    "the events");
			CHECK(lb.n == 0, "briefs beside events");
		} else {
			CHECK(same_packets(&whole, &lb), "briefs are not the "
			    "packets");
			CHECK(same_packets(&whole, &tb), "the twin's briefs are "
			    "not the packets");
		}
		log_free(&lb);
		log_free(&tb);
		log_free(&ev);
		free(t);
	}

	log_free(&whole);
	log_free(&cut);
	log_free(&bytes);
	log_free(&span);
	log_free(&resets);
	log_free(&counted);
	free(p);
	return 0;
}
