/*
 * stream.c - one direction: CRLF repair (on, off, auto) and validation.
 *
 * Modes: off delivers the input and validates it as read; on delivers the
 * repaired bytes and validates those.  Auto runs both parsers, one over the
 * input (view 0) and one over the repaired bytes (view 1, always repaired
 * whatever is delivered), and delivers the reading `repairing` names.
 *
 * Auto feeds both parsers in exact steps: a step ends wherever either
 * parser may complete a leader, a header or a packet (kd_parser_span), so
 * every packet event happens on the last byte of a step and both parsers
 * stand at the same input offset when the step is judged.  A switch decided
 * there takes effect from the next input byte: the rest of the chunk goes
 * out in the new reading.  A packet is named by the input offset at which
 * its leader completed, which is the same in both readings (leader bytes
 * are never 0x0d or 0x0a).  While the parsers stand alike (alike()), the
 * bytes up to the next 0x0d read the same both ways and make the same
 * packets in both: no step there can disagree, so they go in one span.
 *
 * The decision: when the reading not delivered completes a packet OK and
 * the delivered one failed the same packet, or is still inside it (it
 * needs more bytes than a valid packet has: the readings differ in
 * length), switch.  Also when the delivered reading fails a packet the
 * other completed OK before.  Control packets end where a 0x0d may be
 * held, so the repaired reading finishing one a byte later is no
 * disagreement.
 *
 * One struct crlf serves both the repaired parser and, when repairing,
 * the output.  Switching to as-read while a 0x0d is held sends it (it was
 * held back from the peer); switching to repair while one is held drops it
 * from the repair state (it went out as read already).  When delivering as
 * read the repaired bytes go through a 4 KiB scratch buffer on the stack,
 * which bounds a step.
 *
 * Until a packet has decided (unsettled), a layer in front of all this
 * holds each data packet the delivered reading begins (crlfprobe.c), from
 * the byte after its leader, before either parser sees it.  When one
 * reading validates it (the delivered one first) the stream takes that
 * reading, switching exactly at the held packet's first byte, and feeds
 * the held bytes through as above; so the packet goes out whole and
 * right, and its events are the right reading's.  When neither does it
 * goes out as the guess reads it, and the quiet timer releases a packet
 * cut short (stream_release()).  A packet that is all there and holds no
 * 0x0d is not held: both readings of it are the same bytes, which would
 * be judged alike (probe_needless(), unheld()).  Leader bytes read the
 * same both ways, so repair holds no 0x0d at a held packet's start.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bytescan.h"
#include "stream.h"

#define VIEW_RAW	0
#define VIEW_REP	1
#define NO_START	UINT64_MAX
#define SCRATCH		4096
#define CR		0x0d
#define LF		0x0a

/* A packet event to both listeners: its own, then its brief. */
static __attribute__((noinline)) void
tell_both(struct stream *s, const struct kd_event *ev)
{
	struct kd_brief	 b;

	if (s->on_event != NULL)
		s->on_event(s->arg, ev);
	kd_brief_of(ev->pkt, &b);
	s->on_brief(s->arg, &b);
}

/*
 * An event to the stream's listeners.  Apart when a brief goes along:
 * every event (garbage too) then costs no stack frame, and the event
 * callback is a tail call.
 */
static inline void
tell(struct stream *s, const struct kd_event *ev)
{
	if (s->on_brief != NULL && ev->kind == KD_EV_PACKET)
		tell_both(s, ev);
	else if (s->on_event != NULL)
		s->on_event(s->arg, ev);
}

/* A parser's event outside auto mode, with both listeners on. */
static void
told(void *arg, const struct kd_event *ev)
{
	tell(arg, ev);
}

/* A parser's event, when its reading is the one delivered. */
static void
got_one(void *arg, const struct kd_event *ev)
{
	struct stream	*s = arg;

	kd_counters_add(&s->c.kd, ev);
	tell(s, ev);
}

/* Auto mode: either reading's event, noted for the judging. */
static void
got(struct stream *s, int view, const struct kd_event *ev)
{
	struct stream_view	*v = &s->view[view];

	if (ev->kind == KD_EV_PACKET) {
		v->done = 1;
		v->last_start = v->busy ? v->start : NO_START;
		v->last_ok = ev->pkt->verdict == KD_OK;
		v->busy = 0;
	}
	/* Only the reading delivered at this moment is reported. */
	if (view == s->repairing)
		got_one(s, ev);
}

static void
got_raw(void *arg, const struct kd_event *ev)
{
	got(arg, VIEW_RAW, ev);
}

static void
got_rep(void *arg, const struct kd_event *ev)
{
	got(arg, VIEW_REP, ev);
}

static int
is_auto(const struct stream *s)
{
	return (s->mode == CRLF_AUTO && s->validate);
}

static void
views_clear(struct stream *s)
{
	int	i;

	for (i = 0; i < 2; i++) {
		s->view[i].busy = 0;
		s->view[i].start = NO_START;
		s->view[i].done = 0;
		s->view[i].last_start = NO_START;
		s->view[i].last_ok = 0;
	}
}

int
stream_init(struct stream *s, enum crlf_mode mode, int guess, int validate,
    stream_event_cb on_event, stream_switch_cb on_switch, void *arg)
{
	size_t	parsers = offsetof(struct stream, as_read),
		after = parsers + 2 * sizeof(struct kd_parser);

	/*
	 * All but the parsers' packet buffers (kd_parser_init() does the
	 * rest of those): pages a stream does not use stay untouched where
	 * the owner's memory is fresh.  Only auto mode holds packets: the
	 * probe's 8 KiB are not there for the others, a thousand pairs'
	 * worth.
	 */
	_Static_assert(offsetof(struct stream, repaired) ==
	    offsetof(struct stream, as_read) + sizeof(struct kd_parser),
	    "the two parsers are adjacent");
	memset(s, 0, parsers);
	memset((char *)s + after, 0, sizeof(*s) - after);
	s->mode = mode;
	s->repairing = mode == CRLF_ON;
	stream_guess(s, guess);
	s->validate = validate;
	s->on_event = s->listener = on_event;
	s->on_switch = on_switch;
	s->arg = arg;
	crlf_init(&s->crlf);
	if (is_auto(s)) {
		kd_parser_init(&s->as_read, got_raw, s);
		kd_parser_init(&s->repaired, got_rep, s);
	} else {
		/*
		 * One parser is ever fed: no views to keep.  It counts for
		 * itself and decodes packets only for a listener.
		 */
		kd_parser_init(&s->as_read, on_event, arg);
		kd_parser_init(&s->repaired, on_event, arg);
		kd_parser_count(&s->as_read, &s->c.kd);
		kd_parser_count(&s->repaired, &s->c.kd);
	}
	views_clear(s);
	if (mode == CRLF_AUTO && validate) {	/* is_auto() */
		if ((s->probe = malloc(sizeof *s->probe)) == NULL)
			return (-1);
		s->probe->active = 0;
		s->probe->len = 0;
	}
	return (0);
}

/*
 * Outside auto mode (whose parsers call got_raw() and got_rep()) the
 * parser counts for itself; events go straight to the listener, or through
 * told() when briefs go along; briefs alone come from the parser, which
 * then decodes nothing.
 */
static void
wire(struct stream *s)
{
	struct kd_parser	*p[2] = { &s->as_read, &s->repaired };
	kd_event_cb		 cb = s->on_event;
	void			*arg = s->arg;
	int			 i;

	if (is_auto(s))
		return;
	if (cb != NULL && s->on_brief != NULL) {
		cb = told;
		arg = s;
	}
	for (i = 0; i < 2; i++) {
		p[i]->cb = cb;
		p[i]->arg = arg;
		kd_parser_brief(p[i], cb == NULL ? s->on_brief : NULL, s->arg);
	}
}

void
stream_listen(struct stream *s, int on)
{
	s->on_event = on ? s->listener : NULL;
	wire(s);
}

void
stream_brief(struct stream *s, stream_brief_cb cb)
{
	s->on_brief = cb;
	wire(s);
}

void
stream_free(struct stream *s)
{
	free(s->probe);
	s->probe = NULL;
}

/* A data packet is held (auto mode, not settled). */
static int
holding_packet(const struct stream *s)
{
	return (s->probe != NULL && s->probe->active);
}

void
stream_guess(struct stream *s, int guess)
{
	if (s->mode == CRLF_AUTO && !s->decided)
		s->repairing = guess != 0;
}

/* Repair into out, counting only removals that reach the output. */
static size_t
repair(struct stream *s, const uint8_t *in, size_t n, uint8_t *out)
{
	uint64_t	before = s->crlf.removed;
	size_t		len;

	len = crlf_repair(&s->crlf, in, n, out);
	s->c.cr_removed += s->crlf.removed - before;
	return (len);
}

/* Did the delivered reading y fail (or overrun) the packet x got OK? */
static int
disagree(struct stream *s, int x)
{
	int			 y = !x;
	struct stream_view	*vx = &s->view[x], *vy = &s->view[y];
	uint64_t		 at = vx->last_start;

	if (!vx->done || !vx->last_ok || at == NO_START)
		return (0);
	if (vy->done)
		return (vy->last_start == at && !vy->last_ok);
	if (vy->busy && vy->start == at) {
		/* A held 0x0d may be all the repaired reading lacks. */
		if (y == VIEW_REP && s->crlf.held &&
		    kd_parser_want(&s->repaired) == 1)
			return (0);
		return (1);
	}
	return (vy->last_start == at && !vy->last_ok);
}

/* The delivered reading y just failed a packet that x got OK earlier. */
static int
failed_known(struct stream *s, int x)
{
	struct stream_view	*vx = &s->view[x], *vy = &s->view[!x];

	return (vy->done && !vy->last_ok && vy->last_start != NO_START &&
	    vx->last_ok && vx->last_start == vy->last_start);
}

/*
 * Judge a step: note packets begun, and switch if the readings disagree.
 * Returns the bytes put in out (a held 0x0d owed to the peer, 0 or 1).
 */
static size_t
settle(struct stream *s, uint8_t *out)
{
	struct kd_parser	*p[2] = { &s->as_read, &s->repaired };
	int			 i, x = !s->repairing;
	size_t			 len = 0;

	for (i = 0; i < 2; i++) {
		if (!s->view[i].busy && kd_parser_busy(p[i])) {
			/* Where its leader completed: have - 4 bytes back. */
			s->view[i].busy = 1;
			s->view[i].start = s->c.bytes_in - (p[i]->have - 4);
		}
	}
	/* Only a packet completed in this step can tell the readings apart. */
	if (!s->view[0].done && !s->view[1].done)
		return (0);
	if (disagree(s, x) || failed_known(s, x)) {
		if (s->repairing && s->crlf.held) {
			/* Held back from the peer so far: deliver it. */
			out[len++] = CR;
		} else if (!s->repairing && s->crlf.held) {
			/* Already delivered as read: not twice. */
			s->crlf.held = 0;
		}
		s->repairing = !s->repairing;
		s->decided = 1;
		s->c.switches++;
		if (s->on_switch != NULL)
			s->on_switch(s->arg, s->repairing);
	} else if (disagree(s, !x))
		s->decided = 1;
	s->view[0].done = s->view[1].done = 0;
	return (len);
}

/*
 * How many input bytes the next step may take (0: release the held 0x0d
 * first, it completes the repaired parser's packet on its own).
 */
static size_t
step_len(struct stream *s, const uint8_t *in, size_t n)
{
	size_t	len, rep, want;

	/* Scan no further than a step may go. */
	if (!s->repairing && n > SCRATCH - 1)
		n = SCRATCH - 1;
	len = kd_parser_span(&s->as_read, in, n);
	rep = kd_parser_span(&s->repaired, in, n);
	if (kd_parser_busy(&s->repaired) && s->crlf.held) {
		/* The held 0x0d comes out as one more repaired byte. */
		want = kd_parser_want(&s->repaired);
		if (want == 1)
			rep = in[0] == LF ? 1 : 0;
		else if (rep > want - 1)
			rep = want - 1;
	}
	if (rep < len)
		len = rep;
	return (len);
}

/*
 * Nonzero while the two readings stand alike: nothing held, and the
 * parsers between packets alike or inside the same packet with nothing
 * repaired in it (as many bytes from the same start).  Up to the next
 * 0x0d both then read the same bytes and report the same packets, so no
 * step can disagree: they go through in one span, not step by step.
 */
static int
alike(const struct stream *s)
{
	return (!s->crlf.held && kd_parser_alike(&s->as_read, &s->repaired) &&
	    (!kd_parser_busy(&s->as_read) ||
	    s->view[VIEW_RAW].start == s->view[VIEW_REP].start));
}

static struct kd_parser *
delivered(struct stream *s)
{
	return (s->repairing ? &s->repaired : &s->as_read);
}

/*
 * Feed both parsers, which stand alike, d as twins.  When nobody listens
 * to the stream's events, their packets are not decoded into events: the
 * parser delivered counts them and tells the brief listener, and the
 * views learn from the parsers' tally what got() would have (both
 * readings judged the same packets alike).
 */
static void
feed_alike(struct stream *s, const uint8_t *d, size_t len)
{
	struct kd_parser	*a = &s->as_read, *b = &s->repaired, *p;
	struct stream_view	*v;

	if (s->on_event != NULL) {
		kd_parser_feed_twin(a, b, d, len);
		return;
	}
	/* Set in place: two calls into kdcom.c a span cost auto mode 1%. */
	a->cb = b->cb = NULL;
	p = delivered(s);
	p->count = &s->c.kd;
	p->brief = s->on_brief;
	p->brief_arg = s->arg;
	a->judged = 0;
	kd_parser_feed_twin(a, b, d, len);
	a->cb = got_raw;
	b->cb = got_rep;
	p->count = NULL;
	p->brief = NULL;
	if (a->judged == 0)
		return;
	for (v = s->view; v < s->view + 2; v++) {
		v->done = 1;
		v->last_start = a->judged == 1 && v->busy ? v->start : NO_START;
		v->last_ok = a->last_ok;
		v->busy = 0;
	}
}

static size_t
process_auto(struct stream *s, const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t	scratch[SCRATCH], cr;
	size_t	pos = 0, o = 0, len, rlen;

	while (pos < n) {
		if (alike(s) && (len = bs_copy_until(out + o, in + pos, n - pos,
		    CR)) != 0) {
			/* Copied first: in may be where out is. */
			feed_alike(s, out + o, len);
			o += len;
			pos += len;
			s->c.bytes_in += len;
			o += settle(s, out + o);
			continue;
		}
		len = step_len(s, in + pos, n - pos);
		if (len == 0) {
			crlf_flush(&s->crlf, &cr);
			if (s->repairing)
				out[o++] = cr;
			kd_parser_feed(&s->repaired, &cr, 1);
			o += settle(s, out + o);
			continue;
		}
		/* As read first: out may overwrite what was read. */
		kd_parser_feed(&s->as_read, in + pos, len);
		if (s->repairing) {
			rlen = repair(s, in + pos, len, out + o);
			kd_parser_feed(&s->repaired, out + o, rlen);
			o += rlen;
		} else {
			rlen = crlf_repair(&s->crlf, in + pos, len, scratch);
			kd_parser_feed(&s->repaired, scratch, rlen);
			if (out + o != in + pos)
				memmove(out + o, in + pos, len);
			o += len;
		}
		pos += len;
		s->c.bytes_in += len;
		o += settle(s, out + o);
	}
	return (o);
}

/*
 * The held packet validates only as reading x reads it: take x from the
 * packet's first byte.  x's parser may be elsewhere (the readings split
 * packets differently before); it restarts at the leader, as the
 * delivered parser stands.
 */
static void
hold_switch(struct stream *s, int x)
{
	static const uint8_t	 leader[4] = { 0x30, 0x30, 0x30, 0x30 };
	struct kd_parser	*p = x ? &s->repaired : &s->as_read;

	kd_parser_reset(p);
	kd_parser_feed(p, leader, sizeof(leader));
	s->view[x].busy = 1;
	s->view[x].start = s->c.bytes_in;
	s->view[x].done = 0;
	s->crlf.held = 0;
	s->repairing = x;
	s->c.switches++;
	if (s->on_switch != NULL)
		s->on_switch(s->arg, s->repairing);
}

/* Feed the held bytes through in the reading now delivered. */
static size_t
hold_release(struct stream *s, uint8_t *out)
{
	s->probe->active = 0;
	if (s->probe->len == 0)
		return (0);
	return (process_auto(s, s->probe->buf, s->probe->len, out));
}

/* Judge the held packet; release it once that is settled. */
static size_t
hold_judge(struct stream *s, uint8_t *out)
{
	int	cur = s->repairing, v = probe_verdict(s->probe, cur);
	int	w = probe_verdict(s->probe, !cur);

	if (v == KD_OK) {
		/* The other reading differs unless it validates too. */
		if (w != KD_OK)
			s->decided = 1;
	} else if (w == KD_OK) {
		hold_switch(s, !cur);
		s->decided = 1;
	} else if ((v == -1 || w == -1) && !probe_full(s->probe))
		return (0);
	return (hold_release(s, out));
}

/*
 * Where a leader completed at len (short of n, from between packets):
 * whole packets that need no hold go through with the bytes before them,
 * in one call: a control packet, or a data packet read alike both ways
 * (it would be judged alike), each with no 0x0d, so that the repaired
 * reading ends it where the input does, and the bytes up to the next
 * leader (which both readings complete at the same byte).  Returns the
 * end: n, or the leader of the first packet that needs a hold or is not
 * all there.
 */
static size_t
unheld(const uint8_t *in, size_t len, size_t n)
{
	size_t	k;

	while (len < n) {
		if (in[len - 1] == KD_LEADER_DATA % 256)
			k = probe_needless(in + len, n - len);
		else if (n - len >= KD_HEADER_SIZE - 4 &&
		    memchr(in + len, CR, KD_HEADER_SIZE - 4) == NULL)
			k = KD_HEADER_SIZE - 4;
		else
			k = 0;
		if (k == 0)
			break;
		len += k;
		len += kd_leader_span(in + len, n - len);
	}
	return (len);
}

/*
 * Unsettled: pass bytes through up to each leader the delivered reading
 * completes, and hold a data packet from there.
 */
static size_t
process_unsettled(struct stream *s, const uint8_t *in, size_t n,
    uint8_t *out)
{
	struct kd_parser	*p;
	size_t			 pos = 0, o = 0, len;
	int			 busy;

	while (pos < n) {
		if (s->probe->active) {
			pos += probe_add(s->probe, in + pos, n - pos);
			o += hold_judge(s, out + o);
			continue;
		}
		if (s->decided) {
			o += process_auto(s, in + pos, n - pos, out + o);
			break;
		}
		p = delivered(s);
		busy = kd_parser_busy(p);
		len = kd_parser_span(p, in + pos, n - pos);
		if (!busy)
			len = unheld(in + pos, len, n - pos);
		o += process_auto(s, in + pos, len, out + o);
		pos += len;
		p = delivered(s);
		/* Just past a data leader: the header is still to come. */
		if (!s->decided && kd_parser_busy(p) &&
		    kd_parser_want(p) == KD_HEADER_SIZE - 4 &&
		    p->buf[0] == KD_LEADER_DATA % 256)
			probe_start(s->probe);
	}
	return (o);
}

size_t
stream_slack(const struct stream *s)
{
	return (is_auto(s) && !s->decided ? STREAM_SLACK : 1);
}

int
stream_held(const struct stream *s)
{
	return (holding_packet(s));
}

size_t
stream_release(struct stream *s, uint8_t *out)
{
	size_t	len;

	if (!holding_packet(s))
		return (0);
	len = hold_release(s, out);
	s->c.bytes_out += len;
	return (len);
}

size_t
stream_process(struct stream *s, const uint8_t *in, size_t n, uint8_t *out)
{
	size_t	len;

	if (n == 0)
		return (0);
	if (is_auto(s))
		len = s->decided ? process_auto(s, in, n, out) :
		    process_unsettled(s, in, n, out);
	else {
		s->c.bytes_in += n;
		if (s->repairing) {
			len = repair(s, in, n, out);
			if (s->validate)
				kd_parser_feed(&s->repaired, out, len);
		} else {
			if (s->validate)
				kd_parser_feed(&s->as_read, in, n);
			if (out != in)
				memmove(out, in, n);
			len = n;
		}
	}
	s->c.bytes_out += len;
	if (s->cut_left > 0)
		s->cut_left = len < s->cut_left ? s->cut_left - len : 0;
	return (len);
}

int
stream_holding(const struct stream *s)
{
	return (s->crlf.held);
}

int
stream_hold_timed(const struct stream *s)
{
	return (s->crlf.held && s->cut_left == 0 && !stream_in_packet(s));
}

int
stream_in_packet(const struct stream *s)
{
	if (!s->validate)
		return (0);
	return (kd_parser_busy(s->repairing ? &s->repaired : &s->as_read));
}

size_t
stream_flush(struct stream *s, uint8_t *out)
{
	uint8_t	cr;
	size_t	len = 0;

	if (!crlf_flush(&s->crlf, &cr))
		return (0);
	if (s->repairing)
		out[len++] = cr;
	if (s->validate && (s->repairing || is_auto(s)))
		kd_parser_feed(&s->repaired, &cr, 1);
	if (is_auto(s))
		len += settle(s, out + len);
	s->c.bytes_out += len;
	return (len);
}

int
stream_pending(const struct stream *s)
{
	return (s->validate && (kd_parser_pending(&s->as_read) ||
	    kd_parser_pending(&s->repaired) || holding_packet(s)));
}

void
stream_expire(struct stream *s)
{
	size_t	left;

	if (!s->validate)
		return;
	/* The rest of the packet may yet come, late: stream_hold_timed(). */
	if ((left = kd_parser_left(delivered(s))) > s->cut_left)
		s->cut_left = left;
	kd_parser_reset(&s->as_read);
	kd_parser_reset(&s->repaired);
	views_clear(s);
	if (s->probe != NULL)
		s->probe->active = 0;
}

void
stream_reset(struct stream *s)
{
	uint64_t	removed = s->crlf.removed;

	if (s->validate) {
		kd_parser_reset(&s->as_read);
		kd_parser_reset(&s->repaired);
	}
	crlf_init(&s->crlf);
	s->crlf.removed = removed;
	s->cut_left = 0;
	views_clear(s);
	if (s->probe != NULL)
		s->probe->active = 0;
}
