/*
 * fuzz_stream - one direction of the relay (repair, validation, auto
 * detection) on any bytes, read in pieces, with the relay's timers and
 * reconnects (flush then reset) where the plan says.
 *
 * The first byte picks the mode (off, on, auto), auto's initial guess and
 * whether the validator runs; the rest is what the endpoint sends.  Each
 * read is processed in place as the relay does it (out = in - slack, slack
 * 1 or, while auto mode is unsettled, a held packet's worth) in a buffer
 * of exactly n + slack bytes, so ASan sees any write past the promised
 * room, and each call must return at most that.  At a timer point the
 * quiet timer releases a held packet and expires a partial one, and the
 * hold timer flushes a held 0x0d when stream_hold_timed() allows (never
 * inside a packet); a reconnect releases and flushes all.
 *
 * The bytes delivered must follow a byte-at-a-time model:
 * - off: the input itself;
 * - on: the CRLF inverse, a flushed 0x0d kept;
 * - auto: between the switches the stream reports (recorded with the input
 *   offset they take effect at), each byte goes out as read or repaired,
 *   and a 0x0d held when repair turns off goes out then, one already
 *   delivered when it turns on is not sent twice.
 *   A packet held until it decides switches at its first byte after the
 *   leader, so the model needs nothing more: the output is always the
 *   input in one reading or the other, piecewise.
 * So whatever auto mode decides, no byte is lost, duplicated or invented,
 * and no more than one packet's bytes are ever held.
 * The counters must add up (bytes in, bytes out, never more out than in).
 * A second stream that nobody listens to (no callbacks: its parsers count
 * packets without decoding them, kdcom.h) fed alike step by step gives
 * the same bytes, counters and states; a third with a brief listener
 * alone (stream_brief, the target-shutdown watch's) too, and it hears of
 * the packets the first's events report, as they report them, in order,
 * as does the first's own brief listener beside its events.
 */
#include <string.h>

#include "stream.h"
#include "fuzz.h"

#define CR	0x0d
#define LF	0x0a
#define MAXSW	4096

struct sw {
	uint64_t	at;		/* input offset it applies from */
	unsigned	flushes;	/* flush calls made before it */
	int		on;
};

/* The packets heard, by a hash of what each says (FNV-1a, in order). */
struct heard {
	uint64_t	n, h;
};

static void
heard_add(struct heard *w, const struct kd_brief *b)
{
	uint64_t	h = w->h ? w->h : 0xcbf29ce484222325ULL;
	uint32_t	v[4] = { b->verdict, b->type, (uint32_t)b->control,
			    (uint32_t)b->rawlen };
	const uint8_t	*p = (const uint8_t *)v;
	size_t		 i;

	for (i = 0; i < sizeof v; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	for (i = 0; i < b->rawlen; i++)
		h = (h ^ b->raw[i]) * 0x100000001b3ULL;
	w->h = h;
	w->n++;
}

struct ctx {
	struct stream	*s;
	unsigned	 flushes;
	struct sw	 sw[MAXSW];
	size_t		 nsw;
	uint64_t	 events;
	struct heard	 pkts;		/* its packet events */
	struct heard	 briefs;	/* its briefs */
	const struct kd_packet *owed;	/* an event whose brief is to come */
};

static void
on_event(void *arg, const struct kd_event *ev)
{
	struct ctx	*c = arg;
	struct kd_brief	 b;

	c->events++;
	CHECK(c->owed == NULL, "an event before the last one's brief");
	if (ev->kind != KD_EV_PACKET)
		return;
	kd_brief_of(ev->pkt, &b);
	heard_add(&c->pkts, &b);
	c->owed = ev->pkt;
}

static void
on_brief(void *arg, const struct kd_brief *b)
{
	struct ctx	*c = arg;
	uint32_t	 api;

	CHECK(c->owed != NULL && c->owed->raw == b->raw &&
	    c->owed->rawlen == b->rawlen && c->owed->verdict == b->verdict,
	    "a brief not after its event");
	CHECK(kd_raw_id(b->raw) == c->owed->id &&
	    kd_brief_api(b, &api) == c->owed->has_api &&
	    api == c->owed->api, "brief's id or API differ from the event's");
	c->owed = NULL;
	heard_add(&c->briefs, b);
}

/* The stream with a brief listener alone. */
static void
on_brief_alone(void *arg, const struct kd_brief *b)
{
	heard_add(arg, b);
}

static void
on_switch(void *arg, int on)
{
	struct ctx	*c = arg;

	CHECK(c->s->mode == CRLF_AUTO, "switch outside auto mode");
	CHECK(on == c->s->repairing, "switch callback disagrees");
	if (c->nsw == MAXSW)
		return;
	c->sw[c->nsw].at = c->s->c.bytes_in;
	c->sw[c->nsw].flushes = c->flushes;
	c->sw[c->nsw].on = on;
	c->nsw++;
}

struct model {
	int		 rep, held;
	uint8_t		*out;
	size_t		 n;
	const struct ctx *c;
	uint64_t	 pos;		/* input taken in */
	size_t		 next;		/* switch */
	unsigned	 flushes;
};

static void
model_switches(struct model *m, uint64_t at)
{
	const struct sw	*w;

	while (m->next < m->c->nsw) {
		w = &m->c->sw[m->next];
		if (w->at != at || w->flushes != m->flushes)
			break;
		CHECK(w->on != m->rep, "switch to the state it is in");
		if (m->rep && m->held)
			m->out[m->n++] = CR;	/* held back so far */
		if (!m->rep)
			m->held = 0;		/* delivered as read */
		m->rep = w->on;
		m->next++;
	}
}

static void
model_byte(struct model *m, uint8_t b)
{
	if (!m->rep)
		m->out[m->n++] = b;
	else if (m->held && b == LF)
		m->out[m->n++] = LF;
	else {
		if (m->held)
			m->out[m->n++] = CR;
		if (b != CR)
			m->out[m->n++] = b;
	}
	m->held = b == CR;
}

static void
model_flush(struct model *m)
{
	if (m->held && m->rep)
		m->out[m->n++] = CR;
	m->held = 0;
}

static size_t
process(struct stream *s, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t	 slack = stream_slack(s), o;
	uint8_t	*b;

	CHECK(slack == 1 || (s->mode == CRLF_AUTO && !s->decided),
	    "slack %zu when settled", slack);
	if ((b = malloc(len + slack)) == NULL)
		abort();
	if (len > 0)
		memcpy(b + slack, in, len);
	o = stream_process(s, b + slack, len, b);
	CHECK(o <= len + slack, "%zu bytes in gave %zu out", len, o);
	memcpy(out, b, o);
	free(b);
	return o;
}

/* The relay's quiet timer: a held packet goes out, into the room promised. */
static size_t
release(struct stream *s, uint8_t *out)
{
	size_t	 slack = stream_slack(s), o;
	uint8_t	*b;

	if ((b = malloc(slack)) == NULL)
		abort();
	o = stream_release(s, b);
	CHECK(o <= slack, "release gave %zu bytes", o);
	CHECK(!stream_held(s), "held after a release");
	memcpy(out, b, o);
	free(b);
	return o;
}

/* Its hold timer: a held 0x0d goes out. */
static size_t
flush(struct stream *s, uint8_t *out)
{
	uint8_t	*b;
	size_t	 o;

	if ((b = malloc(1)) == NULL)
		abort();
	o = stream_flush(s, b);
	CHECK(o <= 1, "flush gave %zu bytes", o);
	if (o == 1)
		*out = *b;
	free(b);
	return o;
}

/*
 * The model takes in what the stream took in (a held packet is not, until
 * it decides), so that a switch at its first byte finds the model there.
 */
static void
model_advance(struct model *m, const uint8_t *x, uint64_t upto)
{
	for (; m->pos < upto; m->pos++) {
		model_switches(m, m->pos);
		model_byte(m, x[m->pos]);
	}
	model_switches(m, upto);
}

/*
 * The quiet timer, then the hold timer (or the source gone: release and
 * flush all), each a step of its own for the switches.
 */
static size_t
timers(struct stream *s, struct ctx *c, struct model *m, const uint8_t *x,
    uint8_t *out, int gone)
{
	size_t	o;

	c->flushes++;
	m->flushes++;
	o = release(s, out);
	model_advance(m, x, s->c.bytes_in);
	if (!gone)
		stream_expire(s);
	c->flushes++;
	m->flushes++;
	if (gone || stream_hold_timed(s)) {
		CHECK(!stream_in_packet(s) || gone, "timed inside a packet");
		o += flush(s, out + o);
		model_flush(m);
	}
	model_switches(m, s->c.bytes_in);
	CHECK(!stream_hold_timed(s), "a timed 0x0d still held");
	return o;
}

/* The same timers for the stream nobody listens to. */
static size_t
timers_quiet(struct stream *q, uint8_t *out, int gone)
{
	size_t	o;

	o = release(q, out);
	if (!gone)
		stream_expire(q);
	if (gone || stream_hold_timed(q))
		o += flush(q, out + o);
	return o;
}

/* A stream nobody listens to, or only briefly, stands where s does. */
static void
same_state(const struct stream *s, const struct stream *q, size_t at)
{
	CHECK(memcmp(&s->c, &q->c, sizeof s->c) == 0 &&
	    s->repairing == q->repairing && s->decided == q->decided &&
	    stream_pending(s) == stream_pending(q) &&
	    stream_held(s) == stream_held(q) &&
	    stream_holding(s) == stream_holding(q) &&
	    stream_in_packet(s) == stream_in_packet(q),
	    "unheard stream differs at %zu", at);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum crlf_mode modes[4] = { CRLF_OFF, CRLF_ON, CRLF_AUTO,
	    CRLF_AUTO };
	struct stream	*s, *q, *l;
	struct ctx	*c;
	struct heard	 alone = { 0, 0 };
	struct model	 m;
	struct plan	 pl;
	const uint8_t	*x;
	uint8_t		*got, *want, *gotq, *gotl;
	size_t		 n, pos, len, o = 0, oq = 0, ol = 0, end;
	unsigned	 op;
	int		 tracks, gone;

	if (size == 0)
		return 0;
	x = data + 1;
	n = size - 1;
	s = malloc(sizeof *s);
	q = malloc(sizeof *q);
	l = malloc(sizeof *l);
	c = calloc(1, sizeof *c);
	got = malloc(n + 1);
	gotq = malloc(n + 1);
	gotl = malloc(n + 1);
	want = malloc(n + 1);
	if (s == NULL || q == NULL || l == NULL || c == NULL || got == NULL ||
	    gotq == NULL || gotl == NULL || want == NULL)
		abort();
	c->s = s;
	if (stream_init(s, modes[data[0] & 3], data[0] >> 2 & 1,
	    !(data[0] >> 3 & 1), on_event, on_switch, c) != 0 ||
	    stream_init(q, modes[data[0] & 3], data[0] >> 2 & 1,
	    !(data[0] >> 3 & 1), NULL, NULL, NULL) != 0 ||
	    stream_init(l, modes[data[0] & 3], data[0] >> 2 & 1,
	    !(data[0] >> 3 & 1), NULL, NULL, &alone) != 0)
		abort();
	stream_brief(s, on_brief);
	stream_brief(l, on_brief_alone);
	memset(&m, 0, sizeof m);
	m.rep = s->repairing;
	m.out = want;
	m.c = c;
	/* Whether the stream keeps repair state at all (not plain off). */
	tracks = s->repairing || (s->mode == CRLF_AUTO && s->validate);

	plan_init(&pl, data, size);
	for (pos = 0; pos < n; pos = end) {
		len = plan_len(&pl, n - pos);
		end = pos + len;
		o += process(s, x + pos, len, got + o);
		oq += process(q, x + pos, len, gotq + oq);
		ol += process(l, x + pos, len, gotl + ol);
		same_state(s, q, end);
		same_state(s, l, end);
		model_advance(&m, x, s->c.bytes_in);
		/* Held bytes are not yet taken in: one packet at most. */
		CHECK(end - s->c.bytes_in <= PROBE_MAX, "%zu bytes held",
		    (size_t)(end - s->c.bytes_in));
		CHECK(stream_held(s) || s->c.bytes_in == end, "bytes lag "
		    "with no packet held");
		if (tracks && !stream_held(s))
			CHECK(stream_holding(s) == m.held, "holding %d, model "
			    "%d at %zu", stream_holding(s), m.held, end);
		op = plan_byte(&pl);
		if ((op & 0x30) != 0x30)
			continue;
		/* The source reconnects, or time passes. */
		gone = (op & 0x70) == 0x70;
		o += timers(s, c, &m, x, got + o, gone);
		oq += timers_quiet(q, gotq + oq, gone);
		ol += timers_quiet(l, gotl + ol, gone);
		same_state(s, q, end);
		same_state(s, l, end);
		CHECK(s->c.bytes_in == end, "input not all taken in");
		if (gone) {
			CHECK(!stream_holding(s), "holding after a flush");
			stream_reset(s);
			stream_reset(q);
			stream_reset(l);
			same_state(s, q, end);
			same_state(s, l, end);
		}
	}
	o += timers(s, c, &m, x, got + o, 1);
	oq += timers_quiet(q, gotq + oq, 1);
	ol += timers_quiet(l, gotl + ol, 1);
	same_state(s, q, n);
	same_state(s, l, n);
	CHECK(oq == o && memcmp(got, gotq, o) == 0, "the unheard stream "
	    "delivered other bytes");
	CHECK(ol == o && memcmp(got, gotl, o) == 0, "the briefed stream "
	    "delivered other bytes");
	CHECK(c->owed == NULL, "a brief owed at the end");
	CHECK(memcmp(&c->briefs, &c->pkts, sizeof c->pkts) == 0 &&
	    memcmp(&alone, &c->pkts, sizeof c->pkts) == 0, "briefs (%llu, "
	    "alone %llu) are not the packet events (%llu)",
	    (unsigned long long)c->briefs.n, (unsigned long long)alone.n,
	    (unsigned long long)c->pkts.n);

	if (c->nsw < MAXSW) {
		CHECK(m.next == c->nsw, "%zu of %zu switches placed", m.next,
		    c->nsw);
		CHECK(o == m.n && memcmp(got, want, o) == 0, "delivered %zu "
		    "bytes, model %zu (mode %s, %zu switches)", o, m.n,
		    crlf_mode_name(s->mode), c->nsw);
	}
	if (s->mode == CRLF_OFF)
		CHECK(o == n && memcmp(got, x, n) == 0, "off is not identity");
	CHECK(o <= n, "%zu bytes out of %zu in", o, n);
	CHECK(s->c.bytes_in == n && s->c.bytes_out == o, "counters: in %llu "
	    "(%zu), out %llu (%zu)", (unsigned long long)s->c.bytes_in, n,
	    (unsigned long long)s->c.bytes_out, o);
	CHECK(s->c.switches == c->nsw || c->nsw == MAXSW, "switch count");
	CHECK(s->validate || c->events == 0, "events without validation");

	stream_free(s);
	stream_free(q);
	stream_free(l);
	free(s);
	free(q);
	free(l);
	free(gotl);
	free(c);
	free(got);
	free(gotq);
	free(want);
	return 0;
}
