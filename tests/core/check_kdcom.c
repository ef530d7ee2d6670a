/*
 * check_kdcom.c - the KDCOM parser on whole sessions (a generated one, and
 * the real WinDbg session when it is there) and on hand-made damage:
 * chunking, garbage, truncation, oversize, break-ins, bad packets.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytescan.h"
#include "le.h"
#include "crlf.h"
#include "kdcom.h"
#include "kdtest.h"

/* Feed in random chunks: mostly small, sometimes large, sometimes 1. */
static void
feed_random(struct kd_parser *p, const uint8_t *b, size_t n, uint64_t seed)
{
	uint64_t	r = seed;
	size_t		pos, chunk;

	for (pos = 0; pos < n; pos += chunk) {
		switch (kt_below(&r, 4)) {
		case 0:
			chunk = 1;
			break;
		case 1:
			chunk = 1 + kt_below(&r, 20);
			break;
		case 2:
			chunk = 1 + kt_below(&r, 600);
			break;
		default:
			chunk = 1 + kt_below(&r, 9000);
			break;
		}
		if (chunk > n - pos)
			chunk = n - pos;
		kd_parser_feed(p, b + pos, chunk);
	}
}

static void
parse_all(struct kt_log *log, const uint8_t *b, size_t n)
{
	struct kd_parser	*p = kt_xmalloc(sizeof(*p));

	memset(log, 0, sizeof(*log));
	kd_parser_init(p, kt_log_cb, log);
	kd_parser_feed(p, b, n);
	ck_assert_int_eq(kd_parser_busy(p), 0);
	free(p);
}

/* The log is exactly the direction's records, in order, all valid. */
static void
check_is_records(const struct kt_log *log, char dir, const char *what)
{
	size_t	i, k = 0;

	for (i = 0; i < kt_trace.n; i++) {
		const struct kdtrace_rec *rec = &kt_trace.recs[i];

		if (rec->dir != dir)
			continue;
		KT_CHECK(k < log->n, "%s: only %zu events", what, log->n);
		KT_CHECK(log->ev[k].kind == KD_EV_PACKET,
		    "%s: event %zu is not a packet", what, k);
		KT_CHECK(log->ev[k].pkt.verdict == KD_OK,
		    "%s: record %zu: %s", what, i,
		    kd_verdict_name(log->ev[k].pkt.verdict));
		KT_CHECK(log->ev[k].pkt.rawlen == rec->len &&
		    memcmp(log->ev[k].raw, rec->pkt, rec->len) == 0,
		    "%s: record %zu bytes differ", what, i);
		k++;
	}
	KT_CHECK(k == log->n, "%s: %zu extra events", what, log->n - k);
}

START_TEST(session_every_packet_validates)
{
	struct kd_parser	*p = kt_xmalloc(sizeof(*p));
	struct kt_log		 log;
	struct kd_counters	 all;
	uint8_t			 out[KD_MAX_PACKET];
	size_t			 i, len, maxlen = 0, lfs = 0, j;
	unsigned		 rvm[2] = { 0, 0 }, getver = 0;

	memset(&all, 0, sizeof(all));
	for (i = 0; i < kt_trace.n; i++) {
		const struct kdtrace_rec *rec = &kt_trace.recs[i];
		const struct kd_packet *pkt;

		memset(&log, 0, sizeof(log));
		kd_parser_init(p, kt_log_cb, &log);
		kd_parser_feed(p, rec->pkt, rec->len);
		ck_assert_uint_eq(log.n, 1);
		pkt = &log.ev[0].pkt;
		ck_assert_int_eq(log.ev[0].kind, KD_EV_PACKET);
		ck_assert_msg(pkt->verdict == KD_OK, "record %zu: %s", i,
		    kd_verdict_name(pkt->verdict));
		ck_assert_uint_eq(pkt->rawlen, rec->len);
		ck_assert_mem_eq(pkt->raw, rec->pkt, rec->len);
		ck_assert_int_eq(pkt->control, kd_type_is_control(pkt->type));
		/* Re-serialising gives the bytes on the wire back. */
		len = kd_build(out, pkt->type, pkt->id, pkt->payload, pkt->len);
		ck_assert_uint_eq(len, rec->len);
		ck_assert_mem_eq(out, rec->pkt, len);
		if (!pkt->control) {
			ck_assert_uint_eq(pkt->checksum,
			    kd_checksum(pkt->payload, pkt->len));
			if (pkt->len > maxlen)
				maxlen = pkt->len;
		}
		/* The README's "payload bytes" are the packets' bytes. */
		for (j = 0; j < rec->len; j++)
			lfs += rec->pkt[j] == 0x0a;
		if (pkt->type == KD_TYPE_STATE_MANIPULATE ||
		    pkt->type == KD_TYPE_DEBUG_IO ||
		    pkt->type == KD_TYPE_STATE_CHANGE64) {
			ck_assert_int_eq(pkt->has_api, 1);
			ck_assert_uint_eq(pkt->api, le32_get(pkt->payload));
		} else
			ck_assert_int_eq(pkt->has_api, 0);
		if (pkt->type == KD_TYPE_STATE_MANIPULATE &&
		    pkt->api == KD_API_READ_VIRTUAL)
			rvm[rec->dir == KDTRACE_TARGET]++;
		if (pkt->type == KD_TYPE_STATE_MANIPULATE &&
		    pkt->api == KD_API_GET_VERSION)
			getver++;
		if (pkt->type == KD_TYPE_DEBUG_IO)
			ck_assert_str_eq(kd_api_name(pkt->type, pkt->api),
			    "PrintString");
		kd_counters_add(&all, &(struct kd_event){ KD_EV_PACKET, 0,
		    pkt });
		kt_log_free(&log);
	}
	ck_assert_uint_eq(all.data + all.control, kt_trace.n);
	ck_assert_uint_eq(all.bad_checksum + all.bad_trailer + all.bad_type +
	    all.oversize + all.garbage + all.breakins, 0);
	ck_assert_uint_gt(lfs, 0);
	ck_assert_uint_gt(rvm[0], 0);
	ck_assert_uint_eq(rvm[0], rvm[1]);
	ck_assert_uint_ge(getver, 1);
	free(p);
	if (!kt_real)
		return;
	/* What the fixture's README says about it. */
	ck_assert_uint_eq(kt_trace.n, 526);
	ck_assert_uint_eq(all.packets[KD_TYPE_ACKNOWLEDGE], 259);
	ck_assert_uint_eq(all.packets[KD_TYPE_RESET], 2);
	ck_assert_uint_eq(all.packets[KD_TYPE_RESEND], 2);
	ck_assert_uint_eq(all.resets, 2);
	ck_assert_uint_eq(all.resends, 2);
	ck_assert_uint_eq(all.packets[KD_TYPE_STATE_CHANGE64], 3);
	ck_assert_uint_eq(all.packets[KD_TYPE_DEBUG_IO], 7);
	ck_assert_uint_eq(all.packets[KD_TYPE_FILE_IO], 66);
	ck_assert_uint_eq(rvm[0], 44);
	ck_assert_uint_eq(rvm[1], 44);
	ck_assert_uint_eq(maxlen, 1288);
	ck_assert_uint_eq(lfs, 39);
	ck_assert_uint_eq(all.data + all.control, 526);
	ck_assert_uint_eq(all.control, 259 + 2 + 2);
}
END_TEST

START_TEST(session_stream_any_chunking)
{
	char		 dir = _i % 2 ? KDTRACE_TARGET : KDTRACE_DEBUGGER;
	struct kd_parser *p = kt_xmalloc(sizeof(*p));
	struct kt_log	 whole, log;
	uint8_t		*b;
	size_t		 n, npkt, i, seed;

	b = kt_direction(&kt_trace, dir, &n, &npkt);
	parse_all(&whole, b, n);
	check_is_records(&whole, dir, "whole");
	ck_assert_uint_eq(whole.c.data + whole.c.control, npkt);
	ck_assert_uint_eq(whole.c.resets,
	    kt_count_type(&kt_trace, dir, KD_TYPE_RESET));
	ck_assert_uint_eq(whole.c.resends,
	    kt_count_type(&kt_trace, dir, KD_TYPE_RESEND));
	ck_assert_uint_eq(whole.c.resets, 1);
	if (kt_real)
		ck_assert_uint_eq(whole.c.resends, 1);

	/* Single bytes. */
	memset(&log, 0, sizeof(log));
	kd_parser_init(p, kt_log_cb, &log);
	for (i = 0; i < n; i++)
		kd_parser_feed(p, b + i, 1);
	kt_log_equal(&whole, &log, "single bytes");
	kt_log_free(&log);

	/* Many random cuttings. */
	for (seed = 0; seed < 50; seed++) {
		memset(&log, 0, sizeof(log));
		kd_parser_init(p, kt_log_cb, &log);
		feed_random(p, b, n, seed * 2 + _i);
		kt_log_equal(&whole, &log, "random chunks");
		ck_assert_mem_eq(&whole.c, &log.c, sizeof(log.c));
		kt_log_free(&log);
	}
	kt_log_free(&whole);
	free(b);
	free(p);
}
END_TEST

/* Corrupted on the way, repaired in random chunks: the same packets. */
START_TEST(session_corrupt_then_repair)
{
	char		 dir = _i % 2 ? KDTRACE_TARGET : KDTRACE_DEBUGGER;
	struct kd_parser *p = kt_xmalloc(sizeof(*p));
	struct kt_log	 log, bad;
	struct crlf	 c;
	uint8_t		*b, *corrupt, *buf;
	size_t		 n, npkt, clen, pos, chunk, len, lfs, i;
	uint64_t	 r = 77 + _i;

	b = kt_direction(&kt_trace, dir, &n, &npkt);
	corrupt = kt_xmalloc(2 * n);
	buf = kt_xmalloc(2 * n + 1);
	clen = crlf_corrupt(b, n, corrupt);
	for (lfs = 0, i = 0; i < n; i++)
		lfs += b[i] == 0x0a;
	ck_assert_uint_eq(clen, n + lfs);
	ck_assert_uint_gt(lfs, 0);

	/* As read, the corruption breaks packets... */
	parse_all(&bad, corrupt, clen);
	ck_assert_uint_gt(bad.c.bad_trailer + bad.c.bad_checksum +
	    bad.c.bad_type + bad.c.oversize, 0);
	ck_assert_uint_lt(bad.c.data + bad.c.control, npkt);
	kt_log_free(&bad);

	/* ...and repaired it gives them all back. */
	memset(&log, 0, sizeof(log));
	kd_parser_init(p, kt_log_cb, &log);
	crlf_init(&c);
	for (pos = 0; pos < clen; pos += chunk) {
		chunk = 1 + kt_below(&r, kt_below(&r, 2) ? 16 : 3000);
		if (chunk > clen - pos)
			chunk = clen - pos;
		memcpy(buf + 1, corrupt + pos, chunk);
		len = crlf_repair(&c, buf + 1, chunk, buf);
		kd_parser_feed(p, buf, len);
	}
	len = crlf_flush(&c, buf);
	kd_parser_feed(p, buf, len);
	check_is_records(&log, dir, "repaired");
	ck_assert_uint_eq(c.removed, lfs);
	kt_log_free(&log);
	free(b);
	free(corrupt);
	free(buf);
	free(p);
}
END_TEST

/* Garbage that cannot form or touch a leader, counted to the byte. */
static size_t
make_garbage(uint64_t *r, uint8_t *g, size_t max)
{
	static const uint8_t pool[] = { 'x', 0x00, 0xaa, 0x0d, 0x0a, 0x30,
	    0x69, 0xff, 0x63 };
	size_t	n = kt_below(r, max + 1), i, run = 0;

	for (i = 0; i < n; i++) {
		g[i] = pool[kt_below(r, sizeof(pool))];
		run = i > 0 && g[i] == g[i - 1] ? run + 1 : 1;
		if ((g[i] == 0x30 || g[i] == 0x69) && run == 4)
			g[i] = 'x';
	}
	/* Never end on a leader byte: it would join the next leader. */
	if (n > 0 && (g[n - 1] == 0x30 || g[n - 1] == 0x69))
		g[n - 1] = 'y';
	return (n);
}

START_TEST(garbage_between_packets_counted)
{
	struct kt_log	 whole, log;
	struct kd_parser *p = kt_xmalloc(sizeof(*p));
	uint8_t		*b, g[64];
	size_t		 n = 0, i, k, glen, total = 0, expect_ev = 0;
	uint64_t	 r = 4242, seed;
	size_t		*want_garbage;

	b = kt_xmalloc(kt_trace.size + (kt_trace.n + 1) * sizeof(g));
	want_garbage = kt_xmalloc(kt_trace.n * sizeof(*want_garbage));
	for (i = 0; i < kt_trace.n; i++) {
		glen = make_garbage(&r, g, sizeof(g));
		memcpy(b + n, g, glen);
		n += glen;
		total += glen;
		want_garbage[i] = glen;
		memcpy(b + n, kt_trace.recs[i].pkt, kt_trace.recs[i].len);
		n += kt_trace.recs[i].len;
		expect_ev += 1 + (glen > 0);
	}
	glen = make_garbage(&r, g, sizeof(g));
	if (glen == 0)
		g[glen++] = 'z';
	memcpy(b + n, g, glen);
	n += glen;

	memset(&whole, 0, sizeof(whole));
	kd_parser_init(p, kt_log_cb, &whole);
	kd_parser_feed(p, b, n);
	/* Trailing garbage waits for a packet, or for a reset. */
	ck_assert_uint_eq(whole.n, expect_ev);
	ck_assert_uint_eq(whole.c.garbage, total);
	kd_parser_reset(p);
	ck_assert_uint_eq(whole.n, expect_ev + 1);
	ck_assert_uint_eq(whole.c.garbage, total + glen);
	ck_assert_uint_eq(whole.c.data + whole.c.control, kt_trace.n);
	/* Each packet is preceded by exactly its garbage, coalesced. */
	for (i = 0, k = 0; i < kt_trace.n; i++) {
		if (want_garbage[i] > 0) {
			ck_assert_int_eq(whole.ev[k].kind, KD_EV_GARBAGE);
			ck_assert_uint_eq(whole.ev[k].len, want_garbage[i]);
			k++;
		}
		ck_assert_int_eq(whole.ev[k].kind, KD_EV_PACKET);
		ck_assert_int_eq(whole.ev[k].pkt.verdict, KD_OK);
		k++;
	}
	for (seed = 0; seed < 20; seed++) {
		memset(&log, 0, sizeof(log));
		kd_parser_init(p, kt_log_cb, &log);
		feed_random(p, b, n, seed);
		kd_parser_reset(p);
		kt_log_equal(&whole, &log, "garbage, random chunks");
		kt_log_free(&log);
	}
	kt_log_free(&whole);
	free(want_garbage);
	free(b);
	free(p);
}
END_TEST

/*
 * The session with garbage, break-ins (some in a row) and damaged packets
 * (a type, a ByteCount, a payload byte, a trailer) between (malloc'd).
 */
static uint8_t *
noisy_session(uint64_t *r, size_t *np)
{
	uint8_t	*b, g[64];
	size_t	 n = 0, i, k, glen, len;

	b = kt_xmalloc(kt_trace.size + (kt_trace.n + 1) * (sizeof(g) + 1));
	for (i = 0; i < kt_trace.n; i++) {
		glen = make_garbage(r, g, sizeof(g));
		for (k = 0; k < glen; k++)
			if (kt_below(r, 6) == 0)
				g[k] = KD_BREAKIN;
		memcpy(b + n, g, glen);
		n += glen;
		if (kt_below(r, 8) == 0)
			b[n++] = KD_BREAKIN;
		len = kt_trace.recs[i].len;
		memcpy(b + n, kt_trace.recs[i].pkt, len);
		if (kt_below(r, 5) == 0)
			b[n + 4 + kt_below(r, len - 4)] ^= 1 << kt_below(r, 8);
		n += len;
	}
	*np = n;
	return (b);
}

/*
 * A parser that counts for itself (kd_parser_count) counts what
 * kd_counters_add() makes of its events, with a callback or without one
 * (then packets are not decoded at all): on the session with garbage,
 * break-ins and damaged packets between, cut anywhere.
 */
START_TEST(parser_counts_its_events)
{
	struct kd_parser *p[3];
	struct kd_counters c[3];
	struct kt_log	 log[3];
	uint8_t		*b;
	size_t		 n, k, len, pos;
	uint64_t	 r = 77, seed;

	b = noisy_session(&r, &n);
	for (seed = 0; seed < 8; seed++) {
		for (k = 0; k < 3; k++) {
			p[k] = kt_xmalloc(sizeof(*p[k]));
			memset(&log[k], 0, sizeof(log[k]));
			memset(&c[k], 0, sizeof(c[k]));
			kd_parser_init(p[k], k == 1 ? NULL : kt_log_cb, &log[k]);
			if (k > 0)
				kd_parser_count(p[k], &c[k]);
		}
		/* After every piece the same counts, the same held. */
		for (pos = 0; pos < n; pos += len) {
			len = kt_piece(&r, n - pos);
			for (k = 0; k < 3; k++)
				kd_parser_feed(p[k], b + pos, len);
			KT_CHECK(memcmp(&c[1], &log[0].c, sizeof(c[1])) == 0 &&
			    memcmp(&c[2], &log[0].c, sizeof(c[2])) == 0 &&
			    kd_parser_pending(p[1]) == kd_parser_pending(p[0]) &&
			    kd_parser_left(p[1]) == kd_parser_left(p[0]),
			    "seed %llu: counts differ at %zu",
			    (unsigned long long)seed, pos + len);
		}
		for (k = 0; k < 3; k++)
			kd_parser_reset(p[k]);
		ck_assert_uint_eq(log[1].n, 0);
		ck_assert_mem_eq(&c[1], &log[0].c, sizeof(c[1]));
		ck_assert_mem_eq(&c[2], &log[0].c, sizeof(c[2]));
		ck_assert_mem_eq(&log[2].c, &log[0].c, sizeof(c[2]));
		ck_assert_uint_gt(c[1].breakins, kt_trace.n / 8);
		ck_assert_uint_gt(c[1].garbage, 0);
		ck_assert_uint_gt(c[1].bad_checksum + c[1].bad_trailer, 0);
		ck_assert_uint_gt(c[1].bad_type + c[1].oversize, 0);
		ck_assert_uint_gt(c[1].data, 0);
		ck_assert_uint_gt(c[1].control, 0);
		for (k = 0; k < 3; k++) {
			kt_log_free(&log[k]);
			free(p[k]);
		}
	}
	free(b);
}
END_TEST

/*
 * The light listener (kd_parser_brief) hears of every packet the full one
 * hears of, as its event says, cut anywhere: alone (the packet counted,
 * not decoded) and on twins fed at once (kd_parser_feed_twin) that nobody
 * else listens to; beside an event callback, or on twins one of which has
 * one, it hears nothing (the event says it all).  On the noisy session,
 * so every verdict comes up.
 */
START_TEST(briefs_match_events)
{
	struct kd_parser	*p[7];
	struct kd_counters	 c[2];
	struct kt_log		 log[3];
	struct kt_briefs	 br[5];
	uint8_t			*b;
	size_t			 n, k, pos, len;
	uint64_t		 r = 78, seed;

	b = noisy_session(&r, &n);
	for (seed = 0; seed < 4; seed++) {
		memset(log, 0, sizeof(log));
		memset(br, 0, sizeof(br));
		memset(c, 0, sizeof(c));
		for (k = 0; k < 7; k++)
			p[k] = kt_xmalloc(sizeof(*p[k]));
		kd_parser_init(p[0], kt_log_cb, &log[0]);
		kd_parser_init(p[1], NULL, NULL);
		kd_parser_brief(p[1], kt_brief_cb, &br[0]);
		kd_parser_count(p[1], &c[0]);
		kd_parser_init(p[2], kt_log_cb, &log[1]);
		kd_parser_brief(p[2], kt_brief_cb, &br[3]);
		/* Twins unheard but for briefs, and twins heard. */
		kd_parser_init(p[3], NULL, NULL);
		kd_parser_init(p[4], NULL, NULL);
		kd_parser_brief(p[3], kt_brief_cb, &br[1]);
		kd_parser_brief(p[4], kt_brief_cb, &br[2]);
		kd_parser_count(p[4], &c[1]);
		kd_parser_init(p[5], kt_log_cb, &log[2]);
		kd_parser_init(p[6], NULL, NULL);
		kd_parser_brief(p[5], kt_brief_cb, &br[4]);
		kd_parser_brief(p[6], kt_brief_cb, &br[4]);
		for (pos = 0; pos < n; pos += len) {
			len = kt_piece(&r, n - pos);
			kd_parser_feed(p[0], b + pos, len);
			kd_parser_feed(p[1], b + pos, len);
			kd_parser_feed(p[2], b + pos, len);
			kd_parser_feed_twin(p[3], p[4], b + pos, len);
			kd_parser_feed_twin(p[5], p[6], b + pos, len);
		}
		for (k = 0; k < 7; k++)
			kd_parser_reset(p[k]);
		kt_briefs_match(&br[0], &log[0], "alone");
		kt_briefs_match(&br[1], &log[0], "twin");
		kt_briefs_match(&br[2], &log[0], "its twin");
		kt_log_equal(&log[1], &log[0], "beside briefs");
		kt_log_equal(&log[2], &log[0], "a heard twin");
		ck_assert_uint_eq(br[3].n, 0);
		ck_assert_uint_eq(br[4].n, 0);
		ck_assert_mem_eq(&c[0], &log[0].c, sizeof(c[0]));
		ck_assert_mem_eq(&c[1], &log[0].c, sizeof(c[1]));
		ck_assert_uint_gt(br[0].n, kt_trace.n / 2);
		for (k = 0; k < 3; k++)
			kt_log_free(&log[k]);
		for (k = 0; k < 5; k++)
			kt_briefs_free(&br[k]);
		for (k = 0; k < 7; k++)
			free(p[k]);
	}
	free(b);
}
END_TEST

static size_t
ack(uint8_t *out, uint32_t id)
{
	return (kd_build(out, KD_TYPE_ACKNOWLEDGE, id, NULL, 0));
}

static size_t
data(uint8_t *out, uint16_t type, const void *payload, uint16_t len)
{
	return (kd_build(out, type, 0x80800000, payload, len));
}

START_TEST(truncated_packet_then_valid_ones)
{
	uint8_t		b[2000], payload[100];
	struct kt_log	log;
	size_t		n, i, plen;

	memset(payload, 'p', sizeof(payload));
	plen = data(b, KD_TYPE_STATE_MANIPULATE, payload, 100);
	/* Cut after 40 payload bytes: the sender died mid-packet. */
	n = KD_HEADER_SIZE + 40;
	for (i = 0; i < 10; i++)
		n += ack(b + n, 0x80800000 + i);
	parse_all(&log, b, n);
	/*
	 * The parser cannot know: it takes the next 61 bytes as the rest of
	 * the packet (three ACKs and 13 bytes of the fourth), fails on the
	 * trailer, counts the fourth ACK's last 3 bytes as garbage and finds
	 * the six ACKs after it.  Four ACKs are lost, nothing crashes.
	 */
	ck_assert_uint_eq(log.n, 1 + 1 + 6);
	ck_assert_int_eq(log.ev[0].kind, KD_EV_PACKET);
	ck_assert_int_eq(log.ev[0].pkt.verdict, KD_BAD_TRAILER);
	ck_assert_uint_eq(log.ev[0].pkt.rawlen, plen);
	ck_assert_int_eq(log.ev[1].kind, KD_EV_GARBAGE);
	ck_assert_uint_eq(log.ev[1].len, 3);
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(log.ev[2 + i].kind, KD_EV_PACKET);
		ck_assert_int_eq(log.ev[2 + i].pkt.verdict, KD_OK);
		ck_assert_uint_eq(log.ev[2 + i].pkt.id, 0x80800000 + 4 + i);
	}
	ck_assert_uint_eq(log.c.bad_trailer, 1);
	ck_assert_uint_eq(log.c.packets[KD_TYPE_ACKNOWLEDGE], 6);
	kt_log_free(&log);

	/* With a reset (the relay's timeout) in between, nothing is lost. */
	{
		struct kd_parser *p = kt_xmalloc(sizeof(*p));

		memset(&log, 0, sizeof(log));
		kd_parser_init(p, kt_log_cb, &log);
		kd_parser_feed(p, b, KD_HEADER_SIZE + 40);
		ck_assert_int_eq(kd_parser_busy(p), 1);
		ck_assert_uint_eq(kd_parser_want(p), 61);
		kd_parser_reset(p);
		ck_assert_int_eq(kd_parser_busy(p), 0);
		kd_parser_feed(p, b + KD_HEADER_SIZE + 40,
		    n - KD_HEADER_SIZE - 40);
		ck_assert_uint_eq(log.n, 11);
		ck_assert_int_eq(log.ev[0].kind, KD_EV_GARBAGE);
		ck_assert_uint_eq(log.ev[0].len, KD_HEADER_SIZE + 40);
		ck_assert_uint_eq(log.c.packets[KD_TYPE_ACKNOWLEDGE], 10);
		kt_log_free(&log);
		free(p);
	}
}
END_TEST

START_TEST(oversize_then_resync)
{
	uint8_t		b[3 * KD_MAX_PACKET], payload[KD_MAX_PAYLOAD];
	struct kt_log	log;
	size_t		n = 0;

	memset(payload, 0x0a, sizeof(payload));
	n += kt_header(b + n, KD_LEADER_DATA, KD_TYPE_STATE_MANIPULATE, 65535,
	    0x80800000, 0);
	n += ack(b + n, 1);
	n += kt_header(b + n, KD_LEADER_DATA, KD_TYPE_STATE_MANIPULATE, 4001,
	    0x80800000, 0);
	/* The largest valid payload. */
	n += data(b + n, KD_TYPE_FILE_IO, payload, KD_MAX_PAYLOAD);
	parse_all(&log, b, n);
	ck_assert_uint_eq(log.n, 4);
	ck_assert_int_eq(log.ev[0].pkt.verdict, KD_OVERSIZE);
	ck_assert_uint_eq(log.ev[0].pkt.len, 65535);
	ck_assert_uint_eq(log.ev[0].pkt.rawlen, KD_HEADER_SIZE);
	ck_assert_ptr_null(log.ev[0].pkt.payload);
	ck_assert_int_eq(log.ev[1].pkt.verdict, KD_OK);
	ck_assert_int_eq(log.ev[1].pkt.type, KD_TYPE_ACKNOWLEDGE);
	ck_assert_int_eq(log.ev[2].pkt.verdict, KD_OVERSIZE);
	ck_assert_uint_eq(log.ev[2].pkt.len, 4001);
	ck_assert_int_eq(log.ev[3].pkt.verdict, KD_OK);
	ck_assert_uint_eq(log.ev[3].pkt.rawlen, KD_MAX_PACKET);
	ck_assert_uint_eq(log.c.oversize, 2);
	ck_assert_uint_eq(kd_build(b, KD_TYPE_FILE_IO, 0, payload, 4001), 0);
	kt_log_free(&log);
}
END_TEST

START_TEST(breakins)
{
	uint8_t		b[512], payload[8] = "bbbbbbbb";
	struct kt_log	log;
	size_t		n = 0;

	b[n++] = KD_BREAKIN;
	n += ack(b + n, 0x80800000);
	b[n++] = KD_BREAKIN;
	n += data(b + n, KD_TYPE_DEBUG_IO, payload, sizeof(payload));
	b[n++] = 'x';
	b[n++] = KD_BREAKIN;
	memcpy(b + n, "00", 2);
	n += 2;
	b[n++] = KD_BREAKIN;
	n += ack(b + n, 0x80800001);
	parse_all(&log, b, n);
	ck_assert_uint_eq(log.n, 9);
	ck_assert_int_eq(log.ev[0].kind, KD_EV_BREAKIN);
	ck_assert_int_eq(log.ev[1].kind, KD_EV_PACKET);
	ck_assert_int_eq(log.ev[2].kind, KD_EV_BREAKIN);
	/* 0x62 inside a payload is data, not a break-in. */
	ck_assert_int_eq(log.ev[3].kind, KD_EV_PACKET);
	ck_assert_int_eq(log.ev[3].pkt.verdict, KD_OK);
	ck_assert_mem_eq(log.ev[3].pkt.payload, "bbbbbbbb", 8);
	/* Garbage before a break-in is reported first. */
	ck_assert_int_eq(log.ev[4].kind, KD_EV_GARBAGE);
	ck_assert_uint_eq(log.ev[4].len, 1);
	ck_assert_int_eq(log.ev[5].kind, KD_EV_BREAKIN);
	/* A partial leader cut by a break-in is garbage. */
	ck_assert_int_eq(log.ev[6].kind, KD_EV_GARBAGE);
	ck_assert_uint_eq(log.ev[6].len, 2);
	/* ...and the break-in is seen. */
	ck_assert_int_eq(log.ev[7].kind, KD_EV_BREAKIN);
	ck_assert_int_eq(log.ev[8].kind, KD_EV_PACKET);
	ck_assert_uint_eq(log.c.breakins, 4);
	ck_assert_uint_eq(log.c.garbage, 3);
	ck_assert_uint_eq(log.c.data + log.c.control, 3);
	kt_log_free(&log);
}
END_TEST

START_TEST(breakin_in_session_traffic)
{
	struct kd_parser *p = kt_xmalloc(sizeof(*p));
	struct kt_log	 log;
	uint8_t		*b, *with;
	size_t		 n, npkt, i, k, at, pos = 0, m = 0, nb = 0;

	b = kt_direction(&kt_trace, KDTRACE_DEBUGGER, &n, &npkt);
	with = kt_xmalloc(n + npkt);
	/* A break-in after every seventh packet. */
	for (i = 0, k = 0; i < kt_trace.n; i++) {
		if (kt_trace.recs[i].dir != KDTRACE_DEBUGGER)
			continue;
		memcpy(with + m, b + pos, kt_trace.recs[i].len);
		m += kt_trace.recs[i].len;
		pos += kt_trace.recs[i].len;
		if (++k % 7 == 0) {
			with[m++] = KD_BREAKIN;
			nb++;
		}
	}
	memset(&log, 0, sizeof(log));
	kd_parser_init(p, kt_log_cb, &log);
	feed_random(p, with, m, 9);
	ck_assert_uint_eq(log.c.breakins, nb);
	ck_assert_uint_eq(log.c.data + log.c.control, npkt);
	ck_assert_uint_eq(log.c.garbage, 0);
	for (i = 0, k = 0, at = 0; i < log.n; i++) {
		if (log.ev[i].kind == KD_EV_PACKET)
			k++;
		else {
			ck_assert_int_eq(log.ev[i].kind, KD_EV_BREAKIN);
			ck_assert_uint_eq(k % 7, 0);
			at++;
		}
	}
	ck_assert_uint_eq(at, nb);
	kt_log_free(&log);
	free(with);
	free(b);
	free(p);
}
END_TEST

START_TEST(bad_packets)
{
	uint8_t		b[1024], payload[40];
	struct kt_log	log;
	size_t		n = 0, len;
	int		i;

	for (i = 0; i < 40; i++)
		payload[i] = i * 7;
	/* Bad checksum: a payload byte changed on the way. */
	len = data(b + n, KD_TYPE_STATE_MANIPULATE, payload, 40);
	b[n + KD_HEADER_SIZE + 5] ^= 1;
	n += len;
	/* Bad trailer. */
	len = data(b + n, KD_TYPE_STATE_MANIPULATE, payload, 40);
	b[n + len - 1] = 0xab;
	n += len;
	/* Types that are never on the wire, then kind/leader mismatches. */
	n += kt_header(b + n, KD_LEADER_DATA, 0, 0, 0, 0);
	n += kt_header(b + n, KD_LEADER_DATA, KD_TYPE_POLL_BREAKIN, 0, 0, 0);
	n += kt_header(b + n, KD_LEADER_DATA, 12, 0, 0, 0);
	n += kt_header(b + n, KD_LEADER_DATA, KD_TYPE_ACKNOWLEDGE, 0, 0, 0);
	n += kt_header(b + n, KD_LEADER_CONTROL, KD_TYPE_STATE_MANIPULATE, 0, 0,
	    0);
	n += kt_header(b + n, KD_LEADER_CONTROL, 0xffff, 0, 0, 0);
	n += ack(b + n, 3);
	parse_all(&log, b, n);
	ck_assert_uint_eq(log.n, 9);
	ck_assert_int_eq(log.ev[0].pkt.verdict, KD_BAD_CHECKSUM);
	ck_assert_int_eq(log.ev[1].pkt.verdict, KD_BAD_TRAILER);
	for (i = 2; i < 8; i++) {
		ck_assert_int_eq(log.ev[i].pkt.verdict, KD_BAD_TYPE);
		ck_assert_uint_eq(log.ev[i].pkt.rawlen, KD_HEADER_SIZE);
	}
	ck_assert_int_eq(log.ev[8].pkt.verdict, KD_OK);
	ck_assert_uint_eq(log.c.bad_checksum, 1);
	ck_assert_uint_eq(log.c.bad_trailer, 1);
	ck_assert_uint_eq(log.c.bad_type, 6);
	ck_assert_uint_eq(log.c.control, 1);
	ck_assert_uint_eq(log.c.data, 0);
	ck_assert_uint_eq(log.c.packets[KD_TYPE_STATE_MANIPULATE], 0);
	kt_log_free(&log);
}
END_TEST

START_TEST(partial_leaders)
{
	struct kd_parser *p = kt_xmalloc(sizeof(*p));
	struct kt_log	 log;
	uint8_t		 b[64];
	size_t		 n;

	/* "000" and a different leader: three bytes of garbage. */
	memset(&log, 0, sizeof(log));
	kd_parser_init(p, kt_log_cb, &log);
	kd_parser_feed(p, (const uint8_t *)"000", 3);
	ck_assert_uint_eq(log.n, 0);
	ck_assert_int_eq(kd_parser_busy(p), 0);
	n = ack(b, 5);
	kd_parser_feed(p, b, n);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_uint_eq(log.ev[0].len, 3);
	ck_assert_int_eq(log.ev[1].pkt.verdict, KD_OK);
	kt_log_free(&log);

	/* "000" then any other byte, then "0000...": four bytes. */
	memset(&log, 0, sizeof(log));
	kd_parser_init(p, kt_log_cb, &log);
	kd_parser_feed(p, (const uint8_t *)"000\r", 4);
	n = data(b, KD_TYPE_DEBUG_IO, "hi", 2);
	kd_parser_feed(p, b, n);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_uint_eq(log.ev[0].len, 4);
	ck_assert_int_eq(log.ev[1].pkt.verdict, KD_OK);
	kt_log_free(&log);

	/* A leader cut across feeds. */
	memset(&log, 0, sizeof(log));
	kd_parser_init(p, kt_log_cb, &log);
	kd_parser_feed(p, b, 2);
	kd_parser_feed(p, b + 2, 1);
	kd_parser_feed(p, b + 3, n - 3);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_int_eq(log.ev[0].pkt.verdict, KD_OK);
	kt_log_free(&log);

	/*
	 * "000" right before "0000": seven in a row.  kdcom takes the first
	 * four as the leader, so the header is misread (type 0x3030): this
	 * is what a real receiver sees too.  The next packet is found.
	 */
	memset(&log, 0, sizeof(log));
	kd_parser_init(p, kt_log_cb, &log);
	kd_parser_feed(p, (const uint8_t *)"000", 3);
	kd_parser_feed(p, b, n);
	kd_parser_feed(p, b, n);
	ck_assert_int_eq(log.ev[0].kind, KD_EV_PACKET);
	ck_assert_int_eq(log.ev[0].pkt.verdict, KD_BAD_TYPE);
	ck_assert_uint_eq(log.ev[0].pkt.type, 0x3030);
	ck_assert_int_eq(log.ev[log.n - 1].kind, KD_EV_PACKET);
	ck_assert_int_eq(log.ev[log.n - 1].pkt.verdict, KD_OK);
	ck_assert_uint_eq(log.c.data, 1);
	kt_log_free(&log);
	free(p);
}
END_TEST

START_TEST(reset_reports_pending)
{
	struct kd_parser *p = kt_xmalloc(sizeof(*p));
	struct kt_log	 log;
	uint8_t		 b[64];

	memset(&log, 0, sizeof(log));
	kd_parser_init(p, kt_log_cb, &log);
	kd_parser_reset(p);
	ck_assert_uint_eq(log.n, 0);
	kd_parser_feed(p, (const uint8_t *)"xyz00", 5);
	ck_assert_uint_eq(log.n, 0);
	kd_parser_reset(p);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_uint_eq(log.ev[0].len, 5);
	ack(b, 1);
	kd_parser_feed(p, b, 10);
	ck_assert_int_eq(kd_parser_busy(p), 1);
	ck_assert_uint_eq(kd_parser_want(p), 6);
	kd_parser_reset(p);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_uint_eq(log.ev[1].len, 10);
	ck_assert_uint_eq(log.c.garbage, 15);
	kt_log_free(&log);
	free(p);
}
END_TEST


/* What a packet cut short here may still take, at each byte. */
START_TEST(left_in_packet)
{
	struct kd_parser *p = kt_xmalloc(sizeof(*p));
	uint8_t		 b[KD_MAX_PACKET], pay[300];
	size_t		 n, i;

	memset(pay, 'p', sizeof(pay));
	kd_parser_init(p, NULL, NULL);
	ck_assert_uint_eq(kd_parser_left(p), 0);
	kd_parser_feed(p, (const uint8_t *)"xy", 2);
	ck_assert_uint_eq(kd_parser_left(p), 0);
	/* Data: the largest packet until ByteCount is in, then its own. */
	n = kd_build(b, KD_TYPE_STATE_MANIPULATE, KD_ID_INITIAL, pay, 300);
	for (i = 0; i < n; i++) {
		kd_parser_feed(p, b + i, 1);
		if (i == n - 1)
			ck_assert_uint_eq(kd_parser_left(p), 0);
		else if (i < 7)
			ck_assert_uint_eq(kd_parser_left(p), KD_MAX_PACKET -
			    i - 1);
		else
			ck_assert_uint_eq(kd_parser_left(p), n - i - 1);
	}
	/* Control: the header only. */
	n = kd_build(b, KD_TYPE_ACKNOWLEDGE, KD_ID_INITIAL, NULL, 0);
	for (i = 0; i < n; i++) {
		kd_parser_feed(p, b + i, 1);
		ck_assert_uint_eq(kd_parser_left(p), i < 3 ?
		    KD_MAX_PACKET - i - 1 : n - i - 1);
	}
	/* Oversize: the header, then resync. */
	n = kd_build(b, KD_TYPE_STATE_MANIPULATE, KD_ID_INITIAL, pay, 300);
	le16_put(b + 6, KD_MAX_PAYLOAD + 1);
	kd_parser_feed(p, b, 8);
	ck_assert_uint_eq(kd_parser_left(p), 8);
	kd_parser_feed(p, b + 8, 8);
	ck_assert_uint_eq(kd_parser_busy(p), 0);
	ck_assert_uint_eq(kd_parser_left(p), 0);
	free(p);
}
END_TEST
/*
 * The resync rule, byte by byte, as the protocol doc states it: up to the
 * first completed leader, the garbage and break-ins it reports.  Returns
 * the offset just past that leader, or n.
 */
static size_t
resync_model(const uint8_t *b, size_t n, struct kt_log *want, int *found)
{
	struct kd_event	ev = { KD_EV_GARBAGE, 0, NULL };
	struct kd_event	brk = { KD_EV_BREAKIN, 0, NULL };
	size_t		i, garbage = 0;
	unsigned	count = 0;
	uint8_t		leader = 0;

	memset(want, 0, sizeof(*want));
	*found = 0;
	for (i = 0; i < n; i++) {
		if (b[i] == 0x30 || b[i] == 0x69) {
			if (count > 0 && b[i] == leader)
				count++;
			else {
				garbage += count;
				leader = b[i];
				count = 1;
			}
			if (count < 4)
				continue;
			if (garbage > 0) {
				ev.len = garbage;
				kt_log_cb(want, &ev);
			}
			*found = 1;
			return (i + 1);
		}
		garbage += count;
		count = 0;
		if (b[i] == KD_BREAKIN) {
			if (garbage > 0) {
				ev.len = garbage;
				kt_log_cb(want, &ev);
			}
			kt_log_cb(want, &brk);
			garbage = 0;
		} else
			garbage++;
	}
	/* Pending garbage, and a partial leader, come out at the reset. */
	if (garbage + count > 0) {
		ev.len = garbage + count;
		kt_log_cb(want, &ev);
	}
	return (n);
}

START_TEST(resync_matches_the_rule)
{
	struct kd_parser *p = kt_xmalloc(sizeof(*p));
	struct kt_log	 want, got;
	uint8_t		 b[200];
	size_t		 n, i, end;
	uint64_t	 r = 1000 + _i;
	unsigned	 round;
	int		 found;

	for (round = 0; round < 20000; round++) {
		n = kt_below(&r, sizeof(b) + 1);
		for (i = 0; i < n; i++) {
			/* Mostly plain bytes: long runs for the fast path. */
			switch (kt_below(&r, 12)) {
			case 0:
				b[i] = 0x30;
				break;
			case 1:
				b[i] = 0x69;
				break;
			case 2:
				b[i] = KD_BREAKIN;
				break;
			default:
				b[i] = "x\0\xff\x31\x68\x61\x63"[kt_below(&r, 7)];
				break;
			}
			/* Runs of one leader byte, to complete leaders. */
			if (i > 0 && kt_below(&r, 3) == 0 &&
			    (b[i - 1] == 0x30 || b[i - 1] == 0x69))
				b[i] = b[i - 1];
		}
		end = resync_model(b, n, &want, &found);
		memset(&got, 0, sizeof(got));
		kd_parser_init(p, kt_log_cb, &got);
		/* The span stops exactly where the leader completes. */
		KT_CHECK(kd_parser_span(p, b, n) == end, "round %u: span",
		    round);
		feed_random(p, b, end, round);
		KT_CHECK(kd_parser_busy(p) == found, "round %u: busy", round);
		if (!found)
			kd_parser_reset(p);
		KT_CHECK(got.n == want.n, "round %u: %zu events, want %zu",
		    round, got.n, want.n);
		for (i = 0; i < want.n; i++) {
			KT_CHECK(got.ev[i].kind == want.ev[i].kind &&
			    got.ev[i].len == want.ev[i].len,
			    "round %u: event %zu differs", round, i);
		}
		kt_log_free(&want);
		kt_log_free(&got);
	}
	free(p);
}
END_TEST

/* Events (and busy changes) happen only on the last byte of a span. */
static struct {
	size_t	events;
} spancount;

static void
count_cb(void *arg, const struct kd_event *ev)
{
	(void)arg;
	if (ev->kind == KD_EV_PACKET)
		spancount.events++;
}

START_TEST(span_ends_where_events_happen)
{
	struct kd_parser *p = kt_xmalloc(sizeof(*p));
	uint8_t		*b, *g;
	size_t		 n, npkt, pos, len, before, m = 0, i;
	int		 busy;
	uint64_t	 r = 5;

	b = kt_direction(&kt_trace, KDTRACE_TARGET, &n, &npkt);
	/* Sprinkle leader-ish garbage in, to exercise the scan. */
	g = kt_xmalloc(2 * n);
	for (i = 0; i < n; i++) {
		if (kt_below(&r, 50) == 0)
			g[m++] = "00i0b"[kt_below(&r, 5)];
		g[m++] = b[i];
	}
	kd_parser_init(p, count_cb, NULL);
	memset(&spancount, 0, sizeof(spancount));
	for (pos = 0; pos < m; pos += len) {
		len = kd_parser_span(p, g + pos, m - pos);
		KT_CHECK(len >= 1 && len <= m - pos, "span %zu", len);
		before = spancount.events;
		busy = kd_parser_busy(p);
		kd_parser_feed(p, g + pos, len - 1);
		KT_CHECK(spancount.events == before &&
		    kd_parser_busy(p) == busy, "event inside a span at %zu",
		    pos);
		kd_parser_feed(p, g + pos + len - 1, 1);
	}
	ck_assert_uint_ge(spancount.events, npkt - npkt / 10);
	free(g);
	free(b);
	free(p);
}
END_TEST

/*
 * Two parsers that stand alike fed at once (kd_parser_feed_twin) get the
 * events they get fed one after the other, garbage counts included (the
 * second starts with garbage of its own), wherever the input is cut and
 * whether or not a chunk ends inside a packet, also when fed apart after.
 */
START_TEST(twin_feed_matches_two)
{
	struct kd_parser *p[4];
	struct kt_log	 log[4];
	uint8_t		*b, *g;
	size_t		 n, npkt, pos, len, m = 0, i;
	uint64_t	 r = 11;
	int		 k;

	b = kt_direction(&kt_trace, KDTRACE_TARGET, &n, &npkt);
	g = kt_xmalloc(2 * n);
	for (i = 0; i < n; i++) {
		if (kt_below(&r, 40) == 0)
			g[m++] = "00i0bx"[kt_below(&r, 6)];
		g[m++] = b[i];
	}
	for (k = 0; k < 4; k++) {
		p[k] = kt_xmalloc(sizeof(*p[k]));
		memset(&log[k], 0, sizeof(log[k]));
		kd_parser_init(p[k], kt_log_cb, &log[k]);
	}
	/* 1 and 3 have garbage of their own: alike, counts apart. */
	kd_parser_feed(p[1], (const uint8_t *)"xyz", 3);
	kd_parser_feed(p[3], (const uint8_t *)"xyz", 3);
	for (pos = 0; pos < m; pos += len) {
		len = kt_piece(&r, m - pos);
		kd_parser_feed(p[0], g + pos, len);
		kd_parser_feed(p[1], g + pos, len);
		ck_assert(kd_parser_alike(p[2], p[3]));
		/* Now and then apart: the twin's buffer must be its own. */
		if (kt_below(&r, 4) == 0) {
			kd_parser_feed(p[2], g + pos, len);
			kd_parser_feed(p[3], g + pos, len);
		} else
			kd_parser_feed_twin(p[2], p[3], g + pos, len);
	}
	for (k = 0; k < 4; k++)
		kd_parser_reset(p[k]);
	kt_log_equal(&log[0], &log[2], "the first, fed as a twin's");
	kt_log_equal(&log[1], &log[3], "the twin");
	ck_assert_uint_ge(log[0].c.data + log[0].c.control +
	    log[0].c.bad_checksum + log[0].c.bad_trailer + log[0].c.bad_type +
	    log[0].c.oversize, npkt - npkt / 10);
	ck_assert_uint_eq(log[3].c.garbage, log[2].c.garbage + 3);
	for (k = 0; k < 4; k++) {
		kt_log_free(&log[k]);
		free(p[k]);
	}
	free(g);
	free(b);
}
END_TEST

/*
 * The resync skip's promise (bytescan.h): before j no byte of a run of
 * 0x30 or 0x69 that is four long or ends the buffer (it may be or become
 * a leader), and no 0x62 unless counting them (then t counts those).
 */
static int
skip_ok(const uint8_t *p, size_t n, size_t j, const struct bs_tally *t)
{
	size_t	k, e, nc = 0, last = 0;

	for (k = 0; k < j; k = e) {
		if (p[k] == 0x62) {
			if (t == NULL)
				return (0);
			nc++;
			last = k;
		}
		for (e = k + 1; e < n && p[e] == p[k] && p[k] != 0x62; e++)
			;
		if ((p[k] == 0x30 || p[k] == 0x69) && (e - k >= 4 || e == n))
			return (0);
	}
	return (t == NULL || (t->n == nc && (nc == 0 || t->last == last)));
}

/*
 * The portable skip's stop: 0x30/0x69 doubled or last, or a 0x62 unless
 * counting them.
 */
static size_t
skip_model(const uint8_t *p, size_t n, int counting)
{
	size_t	k;

	for (k = 0; k < n; k++) {
		if (p[k] == 0x62 && !counting)
			break;
		if ((p[k] == 0x30 || p[k] == 0x69) &&
		    (k + 1 == n || p[k + 1] == p[k]))
			break;
	}
	return (k);
}

/*
 * The parser's scans (bytescan.h), every variant, against byte models:
 * the resync skip over runs of leader bytes and break-ins at every
 * length and alignment up to 200, stopping at break-ins or counting them
 * (the portable one exactly as its model, the SSE2 (below 256 bytes) and
 * AVX2 ones keeping the promise, never before the model's stop), and
 * sums of every length, all-0xff included (the portable one's lanes at
 * their fullest).
 */
START_TEST(scans_match_the_model)
{
	static uint8_t	buf[8192 + 16];
	static const uint8_t hits[] = { 0x30, 0x69, 0x62 };
	struct bs_tally	t;
	uint64_t	r = 0x5ca9;
	size_t		n, at, al, i, want, got, run;
	uint32_t	sum;
	int		fill, round, cnt;

	for (al = 0; al < 16; al++)
	for (n = 0; n <= 200; n++)
	for (round = 0; round < 24; round++) {
		uint8_t *p = buf + al;

		for (i = 0; i < n; i++)	/* never a hit */
			p[i] = (uint8_t)(0x70 + kt_below(&r, 0x80));
		/* A few hits, leader bytes in runs of 1 to 5. */
		for (at = kt_below(&r, 4); at > 0 && n > 0; at--) {
			i = kt_below(&r, n);
			run = 1 + kt_below(&r, 5);
			for (; run > 0 && i < n; run--)
				p[i++] = hits[round % 3];
			if (kt_below(&r, 2))
				p[kt_below(&r, n)] = hits[kt_below(&r, 3)];
		}
		for (cnt = 0; cnt < 2; cnt++) {
			want = skip_model(p, n, cnt);
			got = bs_find_run_p(p, n, 0x30, 0x69, 0x62,
			    cnt ? &t : NULL);
			KT_CHECK(got == want && skip_ok(p, n, got, cnt ? &t :
			    NULL), "portable skip: n %zu align %zu count %d",
			    n, al, cnt);
			got = bs_find_run(p, n, 0x30, 0x69, 0x62,
			    cnt ? &t : NULL);
			KT_CHECK(got <= n && got >= want && skip_ok(p, n, got,
			    cnt ? &t : NULL), "skip: n %zu align %zu count %d: "
			    "%zu, model %zu", n, al, cnt, got, want);
#ifdef BS_AVX2
			if (!bs_avx2())
				continue;
			got = bs_find_run_avx2(p, n, 0x30, 0x69, 0x62,
			    cnt ? &t : NULL);
			KT_CHECK(got <= n && got >= want && skip_ok(p, n, got,
			    cnt ? &t : NULL), "AVX2 skip: n %zu align %zu count "
			    "%d: %zu, model %zu", n, al, cnt, got, want);
#endif
		}
	}
	for (fill = 0; fill < 2; fill++)
	for (al = 0; al < 16; al += 5)
	for (n = 0; n <= 8192; n += n < 300 ? 1 : 97) {
		uint8_t *p = buf + al;

		for (i = 0; i < n; i++)
			p[i] = fill ? 0xff : (uint8_t)kt_rand(&r);
		for (sum = 0, i = 0; i < n; i++)
			sum += p[i];
		KT_CHECK(bs_sum_p(p, n) == sum, "portable sum of %zu", n);
		KT_CHECK(bs_sum(p, n) == sum, "sum of %zu", n);
#ifdef BS_SSE2
		KT_CHECK(bs_sum_sse2(p, n) == sum, "SSE2 sum of %zu", n);
#endif
#ifdef BS_AVX2
		/* Each variant this machine runs is tested here. */
		ck_assert(bs_avx2() || !__builtin_cpu_supports("avx2"));
		if (bs_avx2())
			KT_CHECK(bs_sum_avx2(p, n) == sum, "AVX2 sum of %zu", n);
#endif
		KT_CHECK(kd_checksum(p, n) == sum, "kd_checksum of %zu", n);
	}
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(kd_type_name(KD_TYPE_STATE_MANIPULATE),
	    "STATE_MANIPULATE");
	ck_assert_str_eq(kd_type_name(KD_TYPE_ACKNOWLEDGE), "ACKNOWLEDGE");
	ck_assert_str_eq(kd_type_name(KD_TYPE_FILE_IO), "FILE_IO");
	ck_assert_str_eq(kd_type_name(KD_TYPE_STATE_CHANGE64),
	    "STATE_CHANGE64");
	ck_assert_str_eq(kd_type_name(99), "UNKNOWN");
	ck_assert_str_eq(kd_api_name(KD_TYPE_STATE_MANIPULATE, 0x3130),
	    "ReadVirtualMemory");
	ck_assert_str_eq(kd_api_name(KD_TYPE_STATE_MANIPULATE, 0x3146),
	    "GetVersion");
	ck_assert_str_eq(kd_api_name(KD_TYPE_STATE_MANIPULATE, 0x313c),
	    "Continue2");
	ck_assert_str_eq(kd_api_name(KD_TYPE_STATE_MANIPULATE, 0x315f),
	    "GetContextEx");
	ck_assert_str_eq(kd_api_name(KD_TYPE_STATE_CHANGE64, 0x3030),
	    "Exception");
	ck_assert_str_eq(kd_api_name(KD_TYPE_STATE_CHANGE32, 0x3031),
	    "LoadSymbols");
	ck_assert_str_eq(kd_api_name(KD_TYPE_DEBUG_IO, 0x3230),
	    "PrintString");
	ck_assert_ptr_null(kd_api_name(KD_TYPE_DEBUG_IO, 0x3130));
	ck_assert_ptr_null(kd_api_name(KD_TYPE_STATE_MANIPULATE, 0x3030));
	ck_assert_ptr_null(kd_api_name(KD_TYPE_FILE_IO, 0x3130));
	ck_assert_str_eq(kd_verdict_name(KD_OK), "ok");
	ck_assert_str_eq(kd_verdict_name(KD_BAD_CHECKSUM), "bad-checksum");
	ck_assert_str_eq(kd_verdict_name(KD_OVERSIZE), "oversize");
	ck_assert_int_eq(kd_type_is_control(KD_TYPE_RESET), 1);
	ck_assert_int_eq(kd_type_is_control(KD_TYPE_DEBUG_IO), 0);
	ck_assert_uint_eq(kd_checksum((const uint8_t *)"\xff\xff\x01", 3),
	    0x1ff);
}
END_TEST

/*
 * kd_check (the judge stream.c's detection uses before the parser sees the
 * bytes) gives the parser's verdict, at the parser's byte, on data packets
 * damaged every way: random bytes after a data leader, some a valid packet
 * with one byte changed, cut or corrupted by the CRLF line.
 */
START_TEST(check_agrees_with_parser)
{
	uint64_t		 rnd = 77;
	uint8_t			 b[2 * KD_MAX_PACKET], pay[KD_MAX_PAYLOAD];
	uint8_t			 o[KD_MAX_PACKET];
	size_t			 n, len, i, took;
	struct kd_check		 k;
	struct kd_parser	*p = kt_xmalloc(sizeof(*p));
	struct kt_log		 log;
	int			 round;

	for (round = 0; round < 20000; round++) {
		len = kt_below(&rnd, round % 3 == 0 ? 5000 : 300);
		if (len > KD_MAX_PAYLOAD)
			len = KD_MAX_PAYLOAD;
		for (i = 0; i < len; i++)
			pay[i] = kt_rand(&rnd);
		n = kd_build(b, 1 + kt_below(&rnd, 11), KD_ID_INITIAL, pay,
		    len);
		if (n == KD_HEADER_SIZE)	/* a control type: make it data */
			memcpy(b, "0000", 4);
		switch (round % 4) {
		case 1:
			b[4 + kt_below(&rnd, n - 4)] ^= 1 + kt_below(&rnd, 255);
			break;
		case 2:
			memcpy(o, b, n);
			n = crlf_corrupt(o, n, b);
			break;
		case 3:
			for (i = 4; i < 20; i++)
				b[i] = kt_below(&rnd, 2) ? kt_rand(&rnd) : 0;
			break;
		}
		kd_check_init(&k);
		took = kd_check_feed(&k, b + 4, n - 4);
		memset(&log, 0, sizeof(log));
		kd_parser_init(p, kt_log_cb, &log);
		kd_parser_feed(p, b, 4 + took);
		if (k.verdict == -1) {
			KT_CHECK(took == n - 4 && kd_parser_busy(p),
			    "round %d: the parser finished what kd_check did "
			    "not", round);
		} else {
			KT_CHECK(log.n >= 1 && log.ev[log.n - 1].kind ==
			    KD_EV_PACKET && (int)log.ev[log.n - 1].pkt.verdict ==
			    k.verdict && !kd_parser_busy(p), "round %d: "
			    "kd_check %d, the parser otherwise", round,
			    k.verdict);
		}
		kt_log_free(&log);
	}
	free(p);
}
END_TEST

/* The cases that run over a whole session (kt_trace). */
static void
session_cases(TCase *tc)
{
	tcase_add_test(tc, session_every_packet_validates);
	tcase_add_loop_test(tc, session_stream_any_chunking, 0, 2);
	tcase_add_loop_test(tc, session_corrupt_then_repair, 0, 2);
	tcase_add_test(tc, garbage_between_packets_counted);
	tcase_add_test(tc, parser_counts_its_events);
	tcase_add_test(tc, briefs_match_events);
	tcase_add_test(tc, breakin_in_session_traffic);
	tcase_add_test(tc, span_ends_where_events_happen);
	tcase_add_test(tc, twin_feed_matches_two);
}

static Suite *
suite(void)
{
	Suite	*s = suite_create("kdcom");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, truncated_packet_then_valid_ones);
	tcase_add_test(tc, oversize_then_resync);
	tcase_add_test(tc, breakins);
	tcase_add_test(tc, bad_packets);
	tcase_add_test(tc, partial_leaders);
	tcase_add_test(tc, reset_reports_pending);
	tcase_add_test(tc, left_in_packet);
	tcase_add_loop_test(tc, resync_matches_the_rule, 0, 4);
	tcase_add_test(tc, scans_match_the_model);
	tcase_add_test(tc, names);
	tcase_add_test(tc, check_agrees_with_parser);
	suite_add_tcase(s, tc);
	kt_session_tcases(s, session_cases);
	return (s);
}

int
main(void)
{
	return (kt_run(suite()));
}
