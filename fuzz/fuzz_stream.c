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
 * the same bytes, counters and states.
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

struct ctx {
	struct stream	*s;
	unsigned	 flushes;
	struct sw	 sw[MAXSW];
	size_t		 nsw;
	uint64_t	 events;
};

static void
on_event(void *arg, const struct kd_event *ev)
{
	struct ctx	*c = arg;
	volatile uint8_t sink;

	c->events++;
	if (ev->kind == KD_EV_PACKET && ev->pkt->rawlen > 0)
		sink = ev->pkt->raw[ev->pkt->rawlen - 1];
	(void)sink;
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

/* The stream nobody listens to stands where s does. */
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
	struct stream	*s, *q;
	struct ctx	*c;
	struct model	 m;
	struct plan	 pl;
	const uint8_t	*x;
	uint8_t		*got, *want, *gotq;
	size_t		 n, pos, len, o = 0, oq = 0, end;
	unsigned	 op;
	int		 tracks, gone;

	if (size == 0)
		return 0;
	x = data + 1;
	n = size - 1;
	s = malloc(sizeof *s);
	q = malloc(sizeof *q);
	c = calloc(1, sizeof *c);
	got = malloc(n + 1);
	gotq = malloc(n + 1);
	want = malloc(n + 1);
	if (s == NULL || q == NULL || c == NULL || got == NULL ||
	    gotq == NULL || want == NULL)
		abort();
	c->s = s;
	if (stream_init(s, modes[data[0] & 3], data[0] >> 2 & 1,
	    !(data[0] >> 3 & 1), on_event, on_switch, c) != 0 ||
	    stream_init(q, modes[data[0] & 3], data[0] >> 2 & 1,
	    !(data[0] >> 3 & 1), NULL, NULL, NULL) != 0)
		abort();
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
		same_state(s, q, end);
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
		same_state(s, q, end);
		CHECK(s->c.bytes_in == end, "input not all taken in");
		if (gone) {
			CHECK(!stream_holding(s), "holding after a flush");
			stream_reset(s);
			stream_reset(q);
			same_state(s, q, end);
		}
	}
	o += timers(s, c, &m, x, got + o, 1);
	oq += timers_quiet(q, gotq + oq, 1);
	same_state(s, q, n);
	CHECK(oq == o && memcmp(got, gotq, o) == 0, "the unheard stream "
	    "delivered other bytes");

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
	free(s);
	free(q);
	free(c);
	free(got);
	free(gotq);
	free(want);
	return 0;
}
