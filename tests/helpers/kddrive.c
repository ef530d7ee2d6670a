/*
 * kddrive - a tiny scripted KD debugger for driving a real KD target
 * (xen-kdd with tests/peers/xenctrl_stub.c) in integration tests.
 *
 * usage: kddrive [-Civ] [-a addr] [-B bad] [-l len] [-m mark] [-n reads]
 *            [-r readyfile] [-S run|stop|none] [-t seconds] endpoint
 * endpoint: tcp-listen:PORT (127.0.0.1, one client), tcp:HOST:PORT,
 *           unix-listen:PATH, unix:PATH, or a tty/pty path (made raw).
 * Connecting endpoints (tcp:, unix:, path) are retried until the deadline.
 * -r FILE is created once listening (or connected): wait for it before
 * starting a peer that connects only once, as kdd does.  -C repairs the
 * Xen CRLF corruption on what it receives (each 0x0d right before a 0x0a
 * is dropped, also across reads), as a reference for the relay's own
 * repair; -B N lets up to N damaged packets (bad checksum or trailer,
 * oversize) pass without failing, for a relay that switches its repair on
 * only after seeing the damage (a lost DbgPrint is then forgiven too);
 * -v traces every packet to stderr.
 *
 * The session, each step waiting for its answer before the next:
 *   [-i: the target's initial STATE_CHANGE64]
 *   RESET (id 0)        -> RESET, DbgPrint, STATE_CHANGE64
 *   GetVersion (0x3146) -> ACK, GetVersion reply (56 bytes, status 0)
 *   -n ReadVirtualMemory (0x3130) of -l bytes from -a on (default 4 x
 *   1000 bytes, crossing pages) -> ACK, reply whose data must match the
 *   pattern in tests/peers/kddmem.h.
 * Every data packet received is checked (checksum, trailer, ids
 * alternating) and ACKed with its id; a DbgPrint must end in "\r\n"; a
 * STATE_CHANGE64 must be 240 bytes carrying 36 instruction bytes of the
 * pattern at its rip, or be the "target shutdown" a relay sends when the
 * target goes (kdcom-protocol.md: 240 bytes of 0xff but NewState 0x3031,
 * ProcessorLevel 6, Processor 0, NumberProcessors 1, a DBGKD_LOAD_SYMBOLS64
 * at 32 with PathNameLength 0, BaseOfDll all ones, ProcessId, CheckSum,
 * SizeOfImage 0, UnloadSymbols 1), checked here field by field.
 *
 * -S: the target is expected to go away after the session (the test
 * kills it once MARK.1 exists), and the relay to say so:
 *   run   we send Continue2 first (the target runs); then exactly one
 *         target shutdown with the id the target would have used next;
 *         we ACK it and send Continue2 as WinDbg does: ACKed, no more;
 *   stop  the target stays stopped at its state change: the first copy,
 *         ACKed, then our Continue2 brings the second (the next id), and
 *         no third;
 *   none  nothing at all may come (target-shutdown off).
 * Then MARK.2 is created, the test starts a new target, and the whole
 * session runs again through the same connection, its initial
 * STATE_CHANGE64 first.  Our data packets use ids 0x80800000/1, toggled
 * after each ACK; a RESEND makes us send the pending packet again.
 *
 * Output on stdout, one key=value per line (a test greps them):
 *   sent.packets sent.bytes sent.<TYPE>  recv.packets recv.bytes
 *   recv.<TYPE> recv.garbage recv.bad_checksum recv.bad_trailer
 *   recv.oversize recv.bad_id recv.unexpected  recv.crlf_removed (-C)
 *   dbgprint.count dbgprint.crlf  statechange.count statechange.inst_ok
 *   getversion.ok  reads.ok reads.bad  result=pass|fail
 *   reason=<text> (on fail)
 * Exit 0 only when every step passed and nothing bad was seen; 1 on a
 * failed check or timeout, 2 on a usage or endpoint error.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "le.h"
#include "kdcom.h"
#include "../peers/kddmem.h"

#define MANIP_SIZE	56
#define SC64_SIZE	240
#define STATUS_PENDING	0x103u

struct pkt {
	int		 control;
	uint16_t	 type;
	uint16_t	 len;
	uint32_t	 id;
	const uint8_t	*payload;
};

struct drv {
	int		 fd;
	int		 verbose;
	int		 crlf;		/* -C: repair CRLF on input */
	int		 held_cr;	/* a 0x0d waiting for its next byte */
	struct timespec	 deadline;
	uint8_t		 rx[2 * KD_MAX_PACKET];
	size_t		 have;
	size_t		 consumed;	/* bytes of rx the last packet used */
	uint32_t	 next_id;	/* id of our next data packet */
	uint32_t	 last_rx_id;	/* id of the target's last data packet */
	int		 seen_rx_id;
	uint8_t		 pending[KD_MAX_PACKET];	/* last data packet sent */
	size_t		 pendlen;
	const char	*fail;		/* first failed check */

	uint64_t	 sent_pkts, sent_bytes, sent_type[KD_TYPE_MAX];
	uint64_t	 recv_pkts, recv_bytes, recv_type[KD_TYPE_MAX];
	uint64_t	 garbage, bad_sum, bad_trailer, oversize, bad_id;
	uint64_t	 unexpected;
	uint64_t	 dbg_count, dbg_crlf, sc_count, sc_inst_ok;
	uint64_t	 gv_ok, reads_ok, reads_bad;
	uint64_t	 crlf_removed;
	uint64_t	 damaged, max_damaged;	/* -B */
	uint64_t	 shutdowns, shutdown_bad;
	uint32_t	 shutdown_id;	/* of the last one */
};

static void
fail(struct drv *d, const char *why)
{
	if (d->fail == NULL)
		d->fail = why;
	if (d->verbose)
		fprintf(stderr, "kddrive: check failed: %s\n", why);
}

static int
ms_left(const struct drv *d)
{
	struct timespec	now;
	long long	ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (d->deadline.tv_sec - now.tv_sec) * 1000LL +
	    (d->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

static void
pause_ms(int ms)
{
	struct timespec	ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static void
ready(const char *file)
{
	int	fd;

	if (file == NULL)
		return;
	if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		fprintf(stderr, "kddrive: %s: %s\n", file, strerror(errno));
		exit(2);
	}
	close(fd);
}

static int
accept_one(struct drv *d, int lfd, const char *ep, const char *readyfile)
{
	struct pollfd	pfd = { lfd, POLLIN, 0 };
	int		fd;

	if (listen(lfd, 1) == -1) {
		fprintf(stderr, "kddrive: %s: listen: %s\n", ep, strerror(errno));
		exit(2);
	}
	ready(readyfile);
	if (poll(&pfd, 1, ms_left(d)) != 1) {
		fprintf(stderr, "kddrive: %s: nobody connected\n", ep);
		exit(1);
	}
	if ((fd = accept(lfd, NULL, NULL)) == -1) {
		fprintf(stderr, "kddrive: %s: accept: %s\n", ep, strerror(errno));
		exit(2);
	}
	close(lfd);
	return fd;
}

static int
open_tcp(struct drv *d, const char *ep, const char *hostport, int listening,
    const char *readyfile)
{
	struct addrinfo	 hints, *ai;
	char		 host[256], *port;
	int		 fd, one = 1, e;

	if (listening) {
		snprintf(host, sizeof host, "127.0.0.1:%s", hostport);
	} else
		snprintf(host, sizeof host, "%s", hostport);
	if ((port = strrchr(host, ':')) == NULL) {
		fprintf(stderr, "kddrive: %s: no port\n", ep);
		exit(2);
	}
	*port++ = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0) {
		fprintf(stderr, "kddrive: %s: %s\n", ep, gai_strerror(e));
		exit(2);
	}
	for (;;) {
		if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1) {
			fprintf(stderr, "kddrive: %s: socket: %s\n", ep,
			    strerror(errno));
			exit(2);
		}
		if (listening) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof one);
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
				fprintf(stderr, "kddrive: %s: bind: %s\n", ep,
				    strerror(errno));
				exit(2);
			}
			fd = accept_one(d, fd, ep, readyfile);
			break;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		if (ms_left(d) == 0) {
			fprintf(stderr, "kddrive: %s: connect: %s\n", ep,
			    strerror(errno));
			exit(1);
		}
		pause_ms(20);
	}
	freeaddrinfo(ai);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int
open_unix(struct drv *d, const char *ep, const char *path, int listening,
    const char *readyfile)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "kddrive: %s: path too long\n", ep);
		exit(2);
	}
	strcpy(sun.sun_path, path);
	for (;;) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
			fprintf(stderr, "kddrive: %s: socket: %s\n", ep,
			    strerror(errno));
			exit(2);
		}
		if (listening) {
			unlink(path);
			if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
				fprintf(stderr, "kddrive: %s: bind: %s\n", ep,
				    strerror(errno));
				exit(2);
			}
			return accept_one(d, fd, ep, readyfile);
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
			return fd;
		close(fd);
		if (ms_left(d) == 0) {
			fprintf(stderr, "kddrive: %s: connect: %s\n", ep,
			    strerror(errno));
			exit(1);
		}
		pause_ms(20);
	}
}

static int
open_tty(struct drv *d, const char *path)
{
	struct termios	t;
	int		fd;

	while ((fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT || ms_left(d) == 0) {
			fprintf(stderr, "kddrive: %s: %s\n", path,
			    strerror(errno));
			exit(errno == ENOENT ? 1 : 2);
		}
		pause_ms(20);
	}
	if (isatty(fd)) {
		if (tcgetattr(fd, &t) == -1) {
			fprintf(stderr, "kddrive: %s: tcgetattr: %s\n", path,
			    strerror(errno));
			exit(2);
		}
		cfmakeraw(&t);
		/* TCSANOW: TCSAFLUSH would drop bytes already queued. */
		if (tcsetattr(fd, TCSANOW, &t) == -1) {
			fprintf(stderr, "kddrive: %s: tcsetattr: %s\n", path,
			    strerror(errno));
			exit(2);
		}
	}
	return fd;
}

static int
open_endpoint(struct drv *d, const char *ep, const char *readyfile)
{
	int	fd;

	if (strncmp(ep, "tcp-listen:", 11) == 0)
		return open_tcp(d, ep, ep + 11, 1, readyfile);
	if (strncmp(ep, "unix-listen:", 12) == 0)
		return open_unix(d, ep, ep + 12, 1, readyfile);
	if (strncmp(ep, "tcp:", 4) == 0)
		fd = open_tcp(d, ep, ep + 4, 0, NULL);
	else if (strncmp(ep, "unix:", 5) == 0)
		fd = open_unix(d, ep, ep + 5, 0, NULL);
	else
		fd = open_tty(d, ep);
	ready(readyfile);
	return fd;
}

static void
xmit(struct drv *d, const uint8_t *buf, size_t len, unsigned type)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < len) {
		if ((n = write(d->fd, buf + off, len - off)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fail(d, "write to the target failed");
			return;
		}
		off += n;
	}
	d->sent_pkts++;
	d->sent_bytes += len;
	d->sent_type[type]++;
	if (d->verbose)
		fprintf(stderr, "kddrive: sent %s (%zu bytes)\n",
		    kd_type_name(type), len);
}

static void
send_control(struct drv *d, uint16_t type, uint32_t id)
{
	uint8_t	h[KD_HEADER_SIZE];

	le32_put(h, KD_LEADER_CONTROL);
	le16_put(h + 4, type);
	le16_put(h + 6, 0);
	le32_put(h + 8, id);
	le32_put(h + 12, 0);
	xmit(d, h, sizeof h, type);
}

static void
send_data(struct drv *d, uint16_t type, const uint8_t *payload, uint16_t len)
{
	uint8_t		*p = d->pending;
	uint32_t	 sum = 0;
	uint16_t	 i;

	for (i = 0; i < len; i++)
		sum += payload[i];
	le32_put(p, KD_LEADER_DATA);
	le16_put(p + 4, type);
	le16_put(p + 6, len);
	le32_put(p + 8, d->next_id);
	le32_put(p + 12, sum);
	memcpy(p + KD_HEADER_SIZE, payload, len);
	p[KD_HEADER_SIZE + len] = KD_TRAILER;
	d->pendlen = KD_HEADER_SIZE + len + 1;
	xmit(d, p, d->pendlen, type);
}

static void
damaged(struct drv *d)
{
	if (++d->damaged > d->max_damaged)
		fail(d, "a packet with a bad checksum or trailer, or oversize");
	/* The lost packet had an id of its own: the next need not follow. */
	d->seen_rx_id = 0;
}

/* Drop n bytes of rx as garbage. */
static void
skip(struct drv *d, size_t n)
{
	d->garbage += n;
	memmove(d->rx, d->rx + n, d->have - n);
	d->have -= n;
}

/* Cut one packet off the front of rx; 1 when one is ready. */
static int
parse(struct drv *d, struct pkt *p)
{
	const uint8_t	*b = d->rx;
	uint32_t	 sum;
	size_t		 need, i;

	while (d->have > 0) {
		if (b[0] != 0x30 && b[0] != 0x69) {
			skip(d, 1);
			continue;
		}
		for (i = 1; i < 4 && i < d->have; i++)
			if (b[i] != b[0])
				break;
		if (i < 4 && i < d->have) {
			skip(d, i);
			continue;
		}
		if (d->have < KD_HEADER_SIZE)
			return 0;
		p->control = b[0] == 0x69;
		p->type = le16_get(b + 4);
		p->len = le16_get(b + 6);
		p->id = le32_get(b + 8);
		p->payload = b + KD_HEADER_SIZE;
		if (p->control) {
			d->consumed = KD_HEADER_SIZE;
			return 1;
		}
		if (p->len > KD_MAX_PAYLOAD) {
			d->oversize++;
			damaged(d);
			skip(d, 4);
			continue;
		}
		need = KD_HEADER_SIZE + p->len + 1;
		if (d->have < need)
			return 0;
		for (sum = 0, i = 0; i < p->len; i++)
			sum += p->payload[i];
		if (sum != le32_get(b + 12) || b[need - 1] != KD_TRAILER) {
			if (sum != le32_get(b + 12))
				d->bad_sum++;
			else
				d->bad_trailer++;
			damaged(d);
			skip(d, 4);
			continue;
		}
		d->consumed = need;
		return 1;
	}
	return 0;
}

static void
check_state_change(struct drv *d, const struct pkt *p)
{
	uint64_t	rip;
	uint32_t	ilen, i;

	d->sc_count++;
	if (p->len != SC64_SIZE || le32_get(p->payload) != KD_API_EXCEPTION) {
		fail(d, "STATE_CHANGE64 is not a 240-byte exception");
		return;
	}
	/* ProgramCounter at 24; kdd puts ilen at 200, the bytes from 204. */
	rip = le64_get(p->payload + 24);
	ilen = le32_get(p->payload + 200);
	if (ilen != KDDMEM_INST_LEN) {
		fail(d, "STATE_CHANGE64 instruction length is not 36");
		return;
	}
	for (i = 0; i < ilen; i++)
		if (p->payload[204 + i] != kddmem_byte(rip + i)) {
			fail(d, "STATE_CHANGE64 instruction bytes differ");
			return;
		}
	d->sc_inst_ok++;
}

/* The documented target shutdown, field by field; 1 when it is one. */
static int
check_shutdown(struct drv *d, const struct pkt *p)
{
	uint8_t		want[SC64_SIZE];

	if (p->len != SC64_SIZE || le32_get(p->payload) != KD_API_LOAD_SYMBOLS)
		return 0;
	memset(want, 0xff, sizeof want);
	le32_put(want, KD_API_LOAD_SYMBOLS);
	le16_put(want + 4, 6);
	le16_put(want + 6, 0);
	le32_put(want + 8, 1);
	le32_put(want + 32, 0);
	le32_put(want + 36, 0);
	le64_put(want + 48, 0);
	le32_put(want + 56, 0);
	le32_put(want + 60, 0);
	want[64] = 1;
	d->shutdowns++;
	d->shutdown_id = p->id;
	if (memcmp(p->payload, want, sizeof want) != 0) {
		d->shutdown_bad++;
		fail(d, "the target shutdown is not the documented packet");
	}
	if (d->verbose)
		fprintf(stderr, "kddrive: target shutdown, id %#" PRIx32 "\n",
		    p->id);
	return 1;
}

static void
check_dbgprint(struct drv *d, const struct pkt *p)
{
	uint32_t	n;

	d->dbg_count++;
	if (p->len < 16 || le32_get(p->payload) != KD_API_PRINT_STRING) {
		fail(d, "DEBUG_IO is not a print string");
		return;
	}
	n = le32_get(p->payload + 8);
	if (n + 16 != p->len || n < 2) {
		fail(d, "DbgPrint length disagrees with its packet");
		return;
	}
	if (p->payload[16 + n - 2] != '\r' || p->payload[16 + n - 1] != '\n') {
		fail(d, "DbgPrint text does not end in \\r\\n");
		return;
	}
	d->dbg_crlf++;
	if (d->verbose)
		fprintf(stderr, "kddrive: DbgPrint: %.*s", (int)n,
		    p->payload + 16);
}

/*
 * -C: undo the Xen/pty CRLF corruption on input.  Delete each 0x0d that
 * immediately precedes a 0x0a, even across reads; a 0x0d at the end of a
 * read waits for the next byte (a KD packet never ends in 0x0d).
 */
static void
uncrlf(struct drv *d, const uint8_t *buf, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (d->held_cr) {
			d->held_cr = 0;
			if (buf[i] == 0x0a)
				d->crlf_removed++;
			else
				d->rx[d->have++] = 0x0d;
		}
		if (buf[i] == 0x0d)
			d->held_cr = 1;
		else
			d->rx[d->have++] = buf[i];
	}
}

/*
 * Next packet from the target, within the deadline.  Data packets are
 * ACKed here and their ids checked; 0 on timeout or EOF.
 */
static int
next_packet(struct drv *d, struct pkt *p)
{
	uint8_t		buf[sizeof d->rx];
	struct pollfd	pfd;
	ssize_t		n;
	int		ms;

	if (d->consumed > 0) {
		memmove(d->rx, d->rx + d->consumed, d->have - d->consumed);
		d->have -= d->consumed;
		d->consumed = 0;
	}
	while (!parse(d, p)) {
		if ((ms = ms_left(d)) == 0)
			return 0;
		pfd.fd = d->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) <= 0)
			continue;
		n = read(d->fd, buf, sizeof d->rx - d->have - 1);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		d->recv_bytes += n;
		if (d->crlf)
			uncrlf(d, buf, n);
		else {
			memcpy(d->rx + d->have, buf, n);
			d->have += n;
		}
	}
	d->recv_pkts++;
	if (p->type < KD_TYPE_MAX)
		d->recv_type[p->type]++;
	if (d->verbose)
		fprintf(stderr, "kddrive: received %s id %#" PRIx32
		    " (%u bytes)\n", kd_type_name(p->type), p->id, p->len);
	if (p->control)
		return 1;
	if ((p->id & ~1u) != KD_ID_INITIAL ||
	    (d->seen_rx_id && p->id != (d->last_rx_id ^ 1))) {
		d->bad_id++;
		fail(d, "target data packet ids do not alternate");
	}
	d->seen_rx_id = 1;
	d->last_rx_id = p->id;
	send_control(d, KD_TYPE_ACKNOWLEDGE, p->id);
	if (p->type == KD_TYPE_DEBUG_IO)
		check_dbgprint(d, p);
	else if (p->type == KD_TYPE_STATE_CHANGE64 && !check_shutdown(d, p))
		check_state_change(d, p);
	return 1;
}

/*
 * Wait for a packet of the given type (and API, when nonzero).  DbgPrints
 * may come in between, and any data packet when lenient (what a target
 * sent before our RESET); anything else is unexpected.  ACKs are matched
 * by id, and a RESEND makes us send the pending packet again.
 */
static int
expect(struct drv *d, uint16_t type, uint32_t api, uint32_t ackid,
    struct pkt *p, int lenient)
{
	while (next_packet(d, p)) {
		if (p->type == type && (type != KD_TYPE_ACKNOWLEDGE ||
		    p->id == ackid) && (api == 0 || (p->len >= 4 &&
		    le32_get(p->payload) == api)))
			return 1;
		if (p->type == KD_TYPE_DEBUG_IO || (lenient && !p->control))
			continue;
		if (p->type == KD_TYPE_RESEND && d->pendlen > 0) {
			xmit(d, d->pending, d->pendlen, le16_get(d->pending + 4));
			continue;
		}
		d->unexpected++;
		fail(d, "an unexpected packet");
	}
	return 0;
}

/* Send a STATE_MANIPULATE request and wait for its ACK. */
static int
request(struct drv *d, const uint8_t *payload, uint16_t len)
{
	struct pkt	p;
	uint32_t	id = d->next_id;

	send_data(d, KD_TYPE_STATE_MANIPULATE, payload, len);
	if (!expect(d, KD_TYPE_ACKNOWLEDGE, 0, id, &p, 0)) {
		fail(d, "no ACK for our request");
		return 0;
	}
	d->next_id ^= 1;
	d->pendlen = 0;
	return 1;
}

static int
reset(struct drv *d)
{
	struct pkt	p;
	uint64_t	prints = d->dbg_crlf, before = d->damaged;

	send_control(d, KD_TYPE_RESET, 0);
	d->next_id = KD_ID_INITIAL;
	if (!expect(d, KD_TYPE_RESET, 0, 0, &p, 1)) {
		fail(d, "no RESET answer");
		return 0;
	}
	if (!expect(d, KD_TYPE_STATE_CHANGE64, 0, 0, &p, 0)) {
		fail(d, "no STATE_CHANGE64 after RESET");
		return 0;
	}
	if (d->dbg_crlf == prints && d->damaged == before) {
		fail(d, "no DbgPrint after RESET");
		return 0;
	}
	return 1;
}

static int
get_version(struct drv *d)
{
	uint8_t		req[MANIP_SIZE] = { 0 };
	struct pkt	p;

	le32_put(req, KD_API_GET_VERSION);
	le32_put(req + 8, STATUS_PENDING);
	if (!request(d, req, sizeof req))
		return 0;
	if (!expect(d, KD_TYPE_STATE_MANIPULATE, KD_API_GET_VERSION, 0, &p,
	    0)) {
		fail(d, "no GetVersion reply");
		return 0;
	}
	/* DBGKD_GET_VERSION64 at 16: MajorVersion 0xf, protocol 6. */
	if (p.len != MANIP_SIZE || le32_get(p.payload + 8) != 0 ||
	    le16_get(p.payload + 16) != 0xf || p.payload[20] != 6) {
		fail(d, "GetVersion reply is malformed");
		return 0;
	}
	d->gv_ok++;
	return 1;
}

static int
read_virtual(struct drv *d, uint64_t addr, uint32_t len)
{
	uint8_t		req[MANIP_SIZE] = { 0 };
	struct pkt	p;
	uint32_t	i;

	le32_put(req, KD_API_READ_VIRTUAL);
	le32_put(req + 8, STATUS_PENDING);
	le64_put(req + 16, addr);
	le32_put(req + 24, len);
	if (!request(d, req, sizeof req))
		return 0;
	if (!expect(d, KD_TYPE_STATE_MANIPULATE, KD_API_READ_VIRTUAL, 0, &p,
	    0)) {
		fail(d, "no ReadVirtualMemory reply");
		return 0;
	}
	if (p.len != MANIP_SIZE + len || le32_get(p.payload + 8) != 0 ||
	    le64_get(p.payload + 16) != addr || le32_get(p.payload + 24) != len ||
	    le32_get(p.payload + 28) != len) {
		d->reads_bad++;
		fail(d, "ReadVirtualMemory reply header is wrong");
		return 1;
	}
	for (i = 0; i < len; i++)
		if (p.payload[MANIP_SIZE + i] != kddmem_byte(addr + i)) {
			d->reads_bad++;
			fail(d, "ReadVirtualMemory data differ from the pattern");
			return 1;
		}
	d->reads_ok++;
	return 1;
}

#define SD_NONE	1
#define SD_RUN	2
#define SD_STOP	3

static void
mark(const char *base, int n)
{
	char	path[4096];

	if (base == NULL)
		return;
	snprintf(path, sizeof path, "%s.%d", base, n);
	ready(path);
}

/* Continue2 (DBG_CONTINUE), and its ACK. */
static int
cont(struct drv *d)
{
	uint8_t	req[MANIP_SIZE] = { 0 };

	le32_put(req, KD_API_CONTINUE2);
	le32_put(req + 8, STATUS_PENDING);
	le32_put(req + 16, 0x00010001);
	return request(d, req, sizeof req);
}

/* Listen for ms: every packet that comes is counted (data ACKed). */
static void
quiet_for(struct drv *d, int ms, uint64_t *other)
{
	struct timespec	saved = d->deadline;
	struct pkt	p;

	clock_gettime(CLOCK_MONOTONIC, &d->deadline);
	d->deadline.tv_sec += ms / 1000;
	d->deadline.tv_nsec += (ms % 1000) * 1000000L;
	if (d->deadline.tv_nsec >= 1000000000L) {
		d->deadline.tv_sec++;
		d->deadline.tv_nsec -= 1000000000L;
	}
	while (next_packet(d, &p))
		if (p.type != KD_TYPE_STATE_CHANGE64 ||
		    le32_get(p.payload) != KD_API_LOAD_SYMBOLS)
			(*other)++;
	d->deadline = saved;
}

static void
target_shutdown(struct drv *d, int mode)
{
	struct pkt	p;
	uint64_t	other = 0, before = d->shutdowns;
	uint32_t	want = d->last_rx_id ^ 1;

	if (mode == SD_NONE) {
		quiet_for(d, 2500, &other);
		if (d->shutdowns != before || other != 0)
			fail(d, "something came with target-shutdown off");
		return;
	}
	if (!expect(d, KD_TYPE_STATE_CHANGE64, KD_API_LOAD_SYMBOLS, 0, &p, 0)) {
		fail(d, "no target shutdown");
		return;
	}
	if (p.id != want)
		fail(d, "the target shutdown has not the target's next id");
	/* As WinDbg: continue from the state change. */
	if (!cont(d)) {
		fail(d, "no ACK for Continue after the target shutdown");
		return;
	}
	if (mode == SD_STOP) {
		if (!expect(d, KD_TYPE_STATE_CHANGE64, KD_API_LOAD_SYMBOLS, 0, &p, 0)) {
			fail(d, "no second target shutdown after Continue");
			return;
		}
		if (p.id != (want ^ 1))
			fail(d, "the second target shutdown's id is wrong");
	}
	quiet_for(d, 2500, &other);
	if (other != 0)
		fail(d, "packets other than the target shutdown came");
	if (d->shutdowns - before != (mode == SD_STOP ? 2u : 1u))
		fail(d, "not the expected number of target shutdowns");
}

static void
report(const struct drv *d)
{
	unsigned	t;

	printf("sent.packets=%" PRIu64 "\nsent.bytes=%" PRIu64 "\n",
	    d->sent_pkts, d->sent_bytes);
	for (t = 1; t < KD_TYPE_MAX; t++)
		if (d->sent_type[t])
			printf("sent.%s=%" PRIu64 "\n", kd_type_name(t),
			    d->sent_type[t]);
	printf("recv.packets=%" PRIu64 "\nrecv.bytes=%" PRIu64 "\n",
	    d->recv_pkts, d->recv_bytes);
	for (t = 1; t < KD_TYPE_MAX; t++)
		if (d->recv_type[t])
			printf("recv.%s=%" PRIu64 "\n", kd_type_name(t),
			    d->recv_type[t]);
	printf("recv.garbage=%" PRIu64 "\nrecv.bad_checksum=%" PRIu64
	    "\nrecv.bad_trailer=%" PRIu64 "\nrecv.oversize=%" PRIu64
	    "\nrecv.bad_id=%" PRIu64 "\nrecv.unexpected=%" PRIu64 "\n",
	    d->garbage, d->bad_sum, d->bad_trailer, d->oversize, d->bad_id,
	    d->unexpected);
	if (d->crlf)
		printf("recv.crlf_removed=%" PRIu64 "\n", d->crlf_removed);
	printf("dbgprint.count=%" PRIu64 "\ndbgprint.crlf=%" PRIu64
	    "\nstatechange.count=%" PRIu64 "\nstatechange.inst_ok=%" PRIu64
	    "\ngetversion.ok=%" PRIu64 "\nreads.ok=%" PRIu64
	    "\nreads.bad=%" PRIu64 "\n", d->dbg_count, d->dbg_crlf,
	    d->sc_count, d->sc_inst_ok, d->gv_ok, d->reads_ok, d->reads_bad);
	printf("shutdown.count=%" PRIu64 "\nshutdown.bad=%" PRIu64
	    "\nshutdown.id=%#" PRIx32 "\n", d->shutdowns, d->shutdown_bad,
	    d->shutdown_id);
	if (d->fail == NULL)
		printf("result=pass\n");
	else
		printf("result=fail\nreason=%s\n", d->fail);
	fflush(stdout);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: kddrive [-Civ] [-a addr] [-B bad] [-l len] "
	    "[-m mark] [-n reads] [-r readyfile] [-S run|stop|none] "
	    "[-t seconds] endpoint\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct drv	 d;
	struct pkt		 p;
	const char		*readyfile = NULL, *markfile = NULL;
	int			 sd = 0, round;
	uint64_t		 addr = 0xffffffff80c59e00ull;
	unsigned long		 len = 1000, reads = 4, i;
	double			 secs = 5;
	int			 c, initial = 0;

	while ((c = getopt(argc, argv, "a:B:Cil:m:n:r:S:t:v")) != -1) {
		switch (c) {
		case 'a':
			addr = strtoull(optarg, NULL, 0);
			break;
		case 'B':
			d.max_damaged = strtoul(optarg, NULL, 0);
			break;
		case 'C':
			d.crlf = 1;
			break;
		case 'i':
			initial = 1;
			break;
		case 'l':
			len = strtoul(optarg, NULL, 0);
			if (len == 0 || len > KD_MAX_PAYLOAD - MANIP_SIZE)
				usage();
			break;
		case 'm':
			markfile = optarg;
			break;
		case 'n':
			reads = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			if (strcmp(optarg, "none") == 0)
				sd = SD_NONE;
			else if (strcmp(optarg, "run") == 0)
				sd = SD_RUN;
			else if (strcmp(optarg, "stop") == 0)
				sd = SD_STOP;
			else
				usage();
			break;
		case 'r':
			readyfile = optarg;
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'v':
			d.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || secs <= 0)
		usage();

	clock_gettime(CLOCK_MONOTONIC, &d.deadline);
	d.deadline.tv_sec += (time_t)secs;
	d.deadline.tv_nsec += (long)((secs - (time_t)secs) * 1e9);
	if (d.deadline.tv_nsec >= 1000000000L) {
		d.deadline.tv_sec++;
		d.deadline.tv_nsec -= 1000000000L;
	}
	d.fd = open_endpoint(&d, argv[optind], readyfile);
	d.next_id = KD_ID_INITIAL;

	for (round = 0; round < (sd ? 2 : 1) && d.fail == NULL; round++) {
		if (round > 0) {
			/* A new target: its ids start again. */
			d.seen_rx_id = 0;
			initial = 1;
		}
		if (initial && !expect(&d, KD_TYPE_STATE_CHANGE64, 0, 0, &p,
		    0))
			fail(&d, "no initial STATE_CHANGE64");
		if (d.fail == NULL && reset(&d) && get_version(&d))
			for (i = 0; i < reads && d.fail == NULL; i++)
				if (!read_virtual(&d, addr + i * 0x1f3, len))
					break;
		if (round > 0 || !sd || d.fail != NULL)
			break;
		if (sd == SD_RUN && !cont(&d))
			fail(&d, "no ACK for Continue");
		mark(markfile, 1);
		target_shutdown(&d, sd);
		mark(markfile, 2);
	}
	report(&d);
	return d.fail == NULL ? 0 : 1;
}
