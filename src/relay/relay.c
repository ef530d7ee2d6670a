/*
 * relay.c - one pair: endpoint -> repair -> validator -> peer, both ways.
 *
 * Each pair has its own event_base and thread.  A direction owns one
 * buffer: bytes are read straight into it, repaired in place and written
 * to the peer in the same callback, so a byte normally leaves in the read
 * that brought it.  Only when the peer will not take it all does the write
 * event go on, and only when the buffer is full does reading stop:
 * backpressure instead of growth.
 *
 * The buffer is a ring of two runs (the older at off, the newer wrapped to
 * the front), so nothing is moved.  Its limit starts small and doubles
 * while reads fill all the room offered (a pty hands over at most 4 KiB a
 * read and never needs more), and also on each look that finds both
 * directions full with no byte taken; the growth comes from one pool for
 * all pairs and goes back once the queue has drained below the base
 * again (relaybuf.c); a direction idle for IDLE_MS gives all its pages
 * back.
 */
#include <sys/uio.h>
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "endpoint.h"
#include "kdtrace.h"
#include "linering.h"
#include "log.h"
#include "pktlog.h"
#include "relay.h"
#include "relay_impl.h"
#include "tshutdown.h"

/*
 * A sender writes a packet in one go, so silence in the middle of one means
 * it was cut short: peers then time out, drop it and ask for it again, and
 * the validator must drop it too or it takes the retransmission for the
 * rest of the cut packet.  Shorter than a peer's wait, longer than any
 * scheduling hiccup inside a packet.  Garbage the validator holds until the
 * next packet (boot text on the line, say) is counted then too.
 */
#define QUIET_MS	200
/* The silence that gives pages back. */
#define IDLE_MS		5000
/* Both ways full this long: a deadlock of blocking peers, not slowness. */
#define STUCK_MS	500
/* Looks again while the pool has nothing to give, at most this far apart. */
#define STUCK_MAX_MS	8000
const char *relay_side_label[2] = { "host", "target" };
const char *relay_dir_name[2] = { "host->target", "target->host" };

static void	side_lost(struct side *, const char *);
static void	dir_write(struct dir *);
static void	dir_arm_hold(struct dir *);
static void	read_cb(evutil_socket_t, short, void *);

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
wallclock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds, to the kernel's tick: cheap enough for every read. */
static uint64_t
tick_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The wall clock of a direction's last read, 0 before the first. */
double
relay_dir_last_rx(const struct dir *d)
{
	if (d->rx_ms == 0)
		return 0;
	return wallclock() - (double)(tick_ms() - d->rx_ms) / 1000;
}

/* A packet-log line: to the file and to every watcher. */
static void
emit(struct relay *r, const char *line, size_t n)
{
	size_t	i;

	if (r->pktlog != NULL)
		pktlog_write(r->pktlog, line, n);
	for (i = 0; i < r->nwatch; i++)
		linering_push(r->watch[i], line, n);
}

static int
wants_lines(const struct relay *r)
{
	return r->pktlog != NULL || r->nwatch > 0;
}

/* The target-shutdown watch, told of each packet in brief. */
static void
brief_target(void *arg, const struct kd_brief *b)
{
	struct dir	*d = arg;

	tsd_from_target(d->r->tsd, b);
}

static void
brief_debugger(void *arg, const struct kd_brief *b)
{
	struct tsd	*t = ((struct dir *)arg)->r->tsd;

	/* The clock only for an exchange: idle, it is unused. */
	tsd_from_debugger(t, b, tsd_active(t) ? relay_now_ms() : 0);
}

/*
 * Decode packets into events only for someone: a packet log, a watcher or
 * a capture.  The target-shutdown watch needs a packet's type, id and
 * verdict alone: it is told in brief (stream_brief()), at a fraction of
 * an event's cost.  Unheard, the parser only counts packets, at about
 * half.  Called whenever one of those changes.
 */
void
relay_listen(struct relay *r)
{
	int	i, on = wants_lines(r) || r->capture != NULL;

	for (i = 0; i < 2; i++) {
		stream_listen(&r->dir[i].st, on);
		stream_brief(&r->dir[i].st, r->tsd == NULL ? NULL :
		    r->dir[i].idx == SIDE_TARGET ? brief_target :
		    brief_debugger);
	}
}

void
relay_note(struct relay *r, const char *fmt, ...)
{
	char	text[256], line[320];
	va_list	ap;

	if (!wants_lines(r))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	emit(r, line, pktlog_format_note(text, line, sizeof line));
}

uint64_t
relay_now_ms(void)
{
	return (uint64_t)(now() * 1000);
}

/*
 * An event's packet-log line.  Not inlined: its buffer stays off the stack
 * of every event nobody logs, which keeps a pair thread's stack in two
 * pages.
 */
static void __attribute__((noinline))
emit_event(struct dir *d, const struct kd_event *ev)
{
	char	line[1400];

	emit(d->r, line, pktlog_format(d->tag, ev, line, sizeof line));
}

void
relay_stream_event(void *arg, const struct kd_event *ev)
{
	struct dir	*d = arg;
	struct relay	*r = d->r;

	if (wants_lines(r))
		emit_event(d, ev);
	if (r->capture != NULL)
		capture_event(r->capture, d->tag, ev);
}

void
relay_stream_switch(void *arg, int repairing)
{
	struct dir	*d = arg;

	log_notice("%s: %s: CRLF repair switched %s (detected)", d->r->o.name,
	    d->name, repairing ? "on" : "off");
	relay_note(d->r, "%s CRLF repair %s", d->name,
	    repairing ? "on" : "off");
}


static void
dir_arm_idle(struct dir *d)
{
	struct timeval	tv = { IDLE_MS / 1000, (IDLE_MS % 1000) * 1000 };

	d->active = 1;
	if (!d->touched) {
		d->touched = 1;
		event_add(d->idle, &tv);
	}
}

/*
 * Give an idle direction's pages back (they come back zeroed on the next
 * read) and start small again; or look again later: one wake-up per
 * IDLE_MS while bytes flow, none once idle.  A busy direction grown past
 * the base (a stall, a deadlock broken) gives that part back.
 */
void
relay_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dir	*d = arg;
	struct timeval	 tv = { IDLE_MS / 1000, (IDLE_MS % 1000) * 1000 };

	(void)fd;
	(void)what;
	relay_dir_shrink(d);
	relay_stack_trim(d->r);
	if (d->active || relay_dir_queued(d) > 0) {
		d->active = 0;
		event_add(d->idle, &tv);
		return;
	}
	relay_dir_release(d);
	d->touched = 0;
}

static void
side_set_reading(struct side *s, int on)
{
	if (s->fd == -1 || s->reading == on)
		return;
	if (on)
		event_add(s->rd, NULL);
	else
		event_del(s->rd);
	s->reading = on;
	/* A 0x0d held while reading was stopped is timed from now on. */
	if (on)
		dir_arm_hold(&s->r->dir[s->idx]);
}

/* Queue n processed bytes at the buffer's tail, or drop them. */
static void
dir_append(struct dir *d, size_t n)
{
	if (d->r->side[!d->idx].fd == -1) {
		d->dropped += n;
		d->front = d->front && d->wrap > 0;
	} else if (d->front)
		d->wrap += n;
	else
		d->len += n;
}

/* Whether the peer takes bytes now (its write event says when it does). */
static int
dir_peer_ready(const struct dir *d)
{
	const struct side	*to = &d->r->side[!d->idx];

	return to->fd != -1 && !to->writing;
}

/* Hand n processed bytes at the buffer's tail on, or drop them. */
void
relay_dir_commit(struct dir *d, size_t n)
{
	if (n == 0)
		return;
	dir_append(d, n);
	if (dir_peer_ready(d))
		dir_write(d);
}

static void
dir_hold_off(struct dir *d)
{
	if (d->hold_on) {
		event_del(d->hold);
		d->hold_on = 0;
	}
}

static void
dir_arm_hold(struct dir *d)
{
	struct timeval	tv;
	unsigned	ms = d->r->o.hold_ms;

	/* Only outside a packet: inside one the next byte decides. */
	if (stream_hold_timed(&d->st)) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		event_add(d->hold, &tv);
		d->hold_on = 1;
	} else
		dir_hold_off(d);
}

static void
dir_quiet_add(struct dir *d, uint64_t ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(d->quiet, &tv);
	d->quiet_on = 1;
}

/*
 * Silence is counted from t.  While bytes flow the timer stays armed: a
 * read only notes its time, and relay_quiet_cb waits out the rest.  An
 * event_add and event_del per read cost as much as the repair.
 */
static void
dir_arm_quiet(struct dir *d, uint64_t t)
{
	d->quiet_from = t;
	if (!d->quiet_on && stream_pending(&d->st))
		dir_quiet_add(d, QUIET_MS);
}

static void
dir_quiet_off(struct dir *d)
{
	if (d->quiet_on) {
		event_del(d->quiet);
		d->quiet_on = 0;
	}
}

/*
 * A 0x0d waited for a 0x0a: send it, unless the next byte is in fact
 * there.  It may be, unread: reading stops while the peer is slow, and a
 * busy machine can run this before the read event.  The byte the line
 * sent, not how soon the relay looked, must decide.
 */
void
relay_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dir	*d = arg;
	struct side	*s = &d->r->side[d->idx];
	uint64_t	 before = d->st.c.bytes_in;

	(void)fd;
	(void)what;
	d->hold_on = 0;
	if (s->fd != -1 && s->reading)
		read_cb(s->fd, EV_READ, s);
	if (!stream_hold_timed(&d->st) || d->st.c.bytes_in != before)
		return;			/* decided, or timed anew */
	if (s->fd != -1 && !s->reading)
		return;			/* side_set_reading() re-arms */
	if (relay_dir_room(d) == 0)
		return;
	relay_dir_commit(d, stream_flush(&d->st, relay_dir_end(d)));
	dir_arm_quiet(d, tick_ms());
	relay_tsd_pump(d->r);
}

/*
 * Both directions stayed full with no byte taken either way: each peer may
 * be blocked writing to us until we read (a single-threaded console
 * backend does that), so the buffers grow (up to buffer-size, from the
 * pool), and reading goes on.  Full one way, or both while the peers
 * still take bytes, is plain backpressure; so is a pool with nothing to
 * give, looked at again later.
 */
void
relay_stuck_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay	*r = arg;
	struct dir	*d;
	struct timeval	 tv = { 0, STUCK_MS * 1000 };
	uint64_t	 written = r->dir[0].written + r->dir[1].written;
	int		 i, rc, refused = 0;

	(void)fd;
	(void)what;
	for (i = 0; i < 2; i++) {
		d = &r->dir[i];
		if (r->side[i].fd == -1 ||
		    relay_dir_room(d) > stream_slack(&d->st))
			return;
	}
	if (written != r->stuck_mark) {
		/* Slow, not stuck: the peers are taking bytes. */
		r->stuck_mark = written;
		r->stuck_wait = 0;
		event_add(r->stuck, &tv);
		return;
	}
	/*
	 * Doubled, not buffer-size at once: a peer that is only slow (a
	 * loaded machine) looks the same for STUCK_MS.  A real deadlock
	 * doubles on every look.
	 */
	for (i = 0; i < 2; i++) {
		d = &r->dir[i];
		rc = relay_dir_grow(d);
		refused |= rc == -1;
		if (rc != 1)
			continue;
		if (d->front && d->off + d->len + d->wrap <= d->lim) {
			/* The newer run goes after the older: room behind. */
			memcpy(d->buf + d->off + d->len, d->buf, d->wrap);
			d->len += d->wrap;
			d->wrap = 0;
			d->front = 0;
		}
		side_set_reading(&r->side[i], 1);
	}
	if (refused) {
		/* Others hold the pool: look again, less often each time. */
		r->stuck_wait = r->stuck_wait == 0 ? STUCK_MS :
		    r->stuck_wait * 2 < STUCK_MAX_MS ? r->stuck_wait * 2 :
		    STUCK_MAX_MS;
		tv.tv_sec = r->stuck_wait / 1000;
		tv.tv_usec = (r->stuck_wait % 1000) * 1000;
		event_add(r->stuck, &tv);
	} else
		r->stuck_wait = 0;
}

/*
 * Full: stop reading until the writer makes room, and look in STUCK_MS
 * whether the other way is full too with nothing moving (relay_stuck_cb).
 */
static void
dir_full(struct dir *d)
{
	struct relay	*r = d->r;
	struct timeval	 tv = { 0, STUCK_MS * 1000 };

	side_set_reading(&r->side[d->idx], 0);
	if (r->side[!d->idx].fd != -1 && !evtimer_pending(r->stuck, NULL)) {
		r->stuck_mark = r->dir[0].written + r->dir[1].written;
		event_add(r->stuck, &tv);
	}
}

/* The line went quiet: a partial packet was cut short. */
void
relay_quiet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dir	*d = arg;
	struct side	*from = &d->r->side[d->idx];
	uint64_t	 t = tick_ms();

	(void)fd;
	(void)what;
	d->quiet_on = 0;
	if (!stream_pending(&d->st))
		return;			/* left armed when it settled */
	if (t - d->quiet_from < QUIET_MS) {
		/* Bytes came since it was armed: wait out the rest. */
		dir_quiet_add(d, QUIET_MS - (t - d->quiet_from));
		return;
	}
	/* Not silence but backpressure: we stopped reading it. */
	if (from->fd != -1 && !from->reading) {
		dir_arm_quiet(d, t);
		return;
	}
	/* A packet held for auto detection goes out as the guess reads it. */
	if (stream_held(&d->st)) {
		if (relay_dir_room(d) < stream_slack(&d->st)) {
			dir_arm_quiet(d, t);
			return;
		}
		relay_dir_commit(d, stream_release(&d->st, relay_dir_end(d)));
		dir_arm_hold(d);
	}
	stream_expire(&d->st);
	relay_tsd_pump(d->r);
}

/*
 * A pty hands over at most RX_CHUNK a read (n_tty's buffer, less one)
 * however much waits behind it: while reads come that full, read on and
 * write the lot in one go.  The peer's line then takes one write where it
 * took several, and the loop one wake-up.  A read that comes short ends
 * it, so a lone packet still leaves in the read that brought it.
 */
#define RX_CHUNK	4095

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct side	*s = arg;
	struct dir	*d = &s->r->dir[s->idx];
	uint8_t		*tail;
	size_t		 room, slack;
	ssize_t		 n;
	int		 got = 0;

	(void)what;
	for (;;) {
		room = relay_dir_room(d);
		slack = stream_slack(&d->st);
		if (room <= slack || (got && room - slack < RX_CHUNK))
			break;
		/*
		 * Read past the tail so repair can work in place: one byte,
		 * or a held packet's worth until auto detection has settled.
		 */
		tail = relay_dir_end(d);
		n = read(fd, tail + slack, room - slack);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				if (got)
					dir_write(d);
				side_lost(s, n == 0 ? "end of file" :
				    strerror(errno));
				return;
			}
			break;
		}
		/* Reads limited by the buffer, not the source: grow. */
		if ((size_t)n == room - slack && relay_dir_queued(d) == 0)
			relay_dir_grow(d);
		got = 1;
		dir_append(d, stream_process(&d->st, tail + slack, (size_t)n,
		    tail));
		if ((size_t)n < RX_CHUNK)
			break;
	}
	if (!got) {
		if (room <= slack)	/* full: wait for the writer */
			dir_full(d);
		return;
	}
	dir_arm_idle(d);
	d->rx_ms = tick_ms();
	if (relay_dir_queued(d) > 0 && dir_peer_ready(d))
		dir_write(d);
	dir_arm_hold(d);
	dir_arm_quiet(d, d->rx_ms);
	if (s->r->tsd != NULL && s->r->tsd->outlen > 0)
		relay_tsd_pump(s->r);
}

static void
dir_write(struct dir *d)
{
	struct side	*to = &d->r->side[!d->idx];
	struct side	*from = &d->r->side[d->idx];
	struct iovec	 iov[2];
	size_t		 k;
	ssize_t		 n;

	for (;;) {
		if (d->len == 0 && d->wrap > 0) {
			/* The older run is out: the newer one is next. */
			d->off = 0;
			d->len = d->wrap;
			d->wrap = 0;
			d->front = 0;
		}
		if (d->len == 0)
			break;
		/* Both runs in one call when the ring has wrapped. */
		iov[0].iov_base = d->buf + d->off;
		iov[0].iov_len = d->len;
		iov[1].iov_base = d->buf;
		iov[1].iov_len = d->wrap;
		n = writev(to->fd, iov, d->wrap > 0 ? 2 : 1);
		if (n > 0) {
			d->written += (size_t)n;
			k = (size_t)n < d->len ? (size_t)n : d->len;
			d->off += k;
			d->len -= k;
			if ((size_t)n > k) {
				/* Into the newer run: it is the older now. */
				d->off = (size_t)n - k;
				d->len = d->wrap - d->off;
				d->wrap = 0;
				d->front = 0;
			}
			if (relay_dir_queued(d) == 0)
				continue;
			/* Taken in part: the peer is full, as EAGAIN says. */
		} else if (n == -1 && errno == EINTR)
			continue;
		else if (n == 0 || errno != EAGAIN) {
			side_lost(to, n == 0 ? "wrote nothing" :
			    strerror(errno));
			return;
		}
		/*
		 * The peer is slow: read on while there is room (read_cb
		 * stops when full).  Stopping earlier can hold a peer that
		 * writes blocking and reads only after: each side then waits
		 * for the other.
		 */
		if (!to->writing) {
			event_add(to->wr, NULL);
			to->writing = 1;
		}
		if (d->lim - relay_dir_queued(d) > stream_slack(&d->st))
			side_set_reading(from, 1);
		else
			dir_full(d);
		return;
	}
	d->off = 0;
	d->front = 0;
	if (to->writing) {
		event_del(to->wr);
		to->writing = 0;
	}
	side_set_reading(from, 1);
}

static void
write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct side	*s = arg;

	(void)fd;
	(void)what;
	dir_write(&s->r->dir[!s->idx]);
}

/* Forget the fd's events; the endpoint owns and closes the fd itself. */
static void
side_detach(struct side *s)
{
	struct relay	*r = s->r;
	struct dir	*from = &r->dir[s->idx], *to = &r->dir[!s->idx];
	uint8_t		 cr;

	if (s->fd == -1)
		return;
	event_free(s->rd);
	event_free(s->wr);
	s->rd = s->wr = NULL;
	s->fd = -1;
	s->reading = s->writing = 0;

	/* What it sent last still goes to the peer, a held 0x0d too. */
	if (relay_dir_room(from) >= stream_slack(&from->st))
		relay_dir_commit(from, stream_release(&from->st,
		    relay_dir_end(from)));
	if (relay_dir_room(from) > 0)
		relay_dir_commit(from, stream_flush(&from->st,
		    relay_dir_end(from)));
	dir_hold_off(from);
	dir_quiet_off(from);
	stream_reset(&from->st);

	/*
	 * What was on its way to it belongs to the old session: drop it, a
	 * packet held for CRLF detection too (the buffer is free for it).
	 */
	to->dropped += relay_dir_queued(to);
	to->off = to->len = to->wrap = 0;
	to->front = 0;
	to->dropped += stream_release(&to->st, to->buf);
	to->dropped += stream_flush(&to->st, &cr);
	dir_hold_off(to);
	side_set_reading(&r->side[!s->idx], 1);
	relay_note(r, "%s down", s->label);
	relay_publish(r);
}

/* Gone for good (not replaced by a new fd): the exchange may begin. */
static void
side_gone(struct side *s)
{
	side_detach(s);
	if (s->r->tsd == NULL)
		return;
	if (s->idx == SIDE_TARGET)
		relay_target_gone(s->r);
	else {
		tsd_host_down(s->r->tsd);
		relay_tsd_pump(s->r);
	}
}

static void
side_lost(struct side *s, const char *why)
{
	side_gone(s);
	endpoint_lost(s->ep, why);
}

void
relay_side_down(void *arg)
{
	side_gone(arg);
}

void
relay_side_up(void *arg, int fd)
{
	struct side	*s = arg;
	struct relay	*r = s->r;
	struct dir	*from = &r->dir[s->idx];

	if (s->fd != -1)
		side_detach(s);
	s->fd = fd;
	s->rd = event_new(r->base, fd, EV_READ | EV_PERSIST, read_cb, s);
	s->wr = event_new(r->base, fd, EV_WRITE | EV_PERSIST, write_cb, s);
	if (s->rd == NULL || s->wr == NULL) {
		if (s->rd != NULL)
			event_free(s->rd);
		if (s->wr != NULL)
			event_free(s->wr);
		s->rd = s->wr = NULL;
		s->fd = -1;
		endpoint_lost(s->ep, "out of memory");
		return;
	}
	stream_reset(&from->st);
	if (r->tsd != NULL && s->idx == SIDE_TARGET) {
		/* A new session: the exchange, if any, is over. */
		tsd_target_up(r->tsd);
		relay_tsd_pump(r);
	}
	/* A rebooted VM corrupts as before: keep what detection learnt. */
	stream_guess(&from->st, endpoint_crlf_guess(s->ep));
	s->reading = s->writing = 0;
	side_set_reading(s, 1);
	relay_note(r, "%s up", s->label);
	relay_publish(r);
	/* The claim's walk and the log line went deep: their pages back. */
	relay_stack_trim(r);
}
