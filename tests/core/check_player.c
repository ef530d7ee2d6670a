/*
 * check_player.c - two players, one per side, joined by an in-memory line
 * that can lose, repeat, damage or cut packets: the session completes with
 * exactly the recovery a KDCOM peer does, or fails for the right reason.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crlf.h"
#include "kdcom.h"
#include "kdtrace.h"
#include "player.h"
#include "kdtest.h"

#define QMAX	256		/* packets in flight on one direction */
#define BUFMAX	(1 << 20)

/* What the line does to the n-th packet a side sends. */
enum fault {
	F_NONE,
	F_DROP,		/* lost */
	F_DUP,		/* delivered twice */
	F_FLIP,		/* one payload byte changed */
	F_CUT,		/* only the first half arrives */
	F_ONLCR,	/* each 0x0a becomes 0x0d 0x0a */
};

struct side {
	struct player		 p;
	struct kd_parser	 kp;	/* parses what the peer sends us */
	enum player_status	 st;
	uint8_t			 buf[BUFMAX];	/* our packets, not yet on */
	size_t			 off[QMAX], len[QMAX];
	size_t			 n, used;
	unsigned		 sent;	/* packets put on the line */
	enum fault		 (*fault)(unsigned n, const uint8_t *, size_t);
};

static struct side	dbg, tgt;
static uint8_t		tbuf[BUFMAX];
static size_t		tlen;
static struct kdtrace	trace;

static void
to_queue(void *arg, const uint8_t *pkt, size_t len)
{
	struct side *s = arg;

	ck_assert_uint_lt(s->n, QMAX);
	ck_assert_uint_le(s->used + len, BUFMAX);
	memcpy(s->buf + s->used, pkt, len);
	s->off[s->n] = s->used;
	s->len[s->n++] = len;
	s->used += len;
}

static void
on_event(void *arg, const struct kd_event *ev)
{
	struct side *s = arg;

	if (s->st == PLAYER_OK)
		s->st = player_event(&s->p, ev);
}

/* The trace under test, built record by record. */
static void
t_begin(void)
{
	memcpy(tbuf, KDTRACE_MAGIC, 8);
	tlen = 8;
}

static void
t_add(char dir, const uint8_t *pkt, size_t len)
{
	tbuf[tlen] = (uint8_t)dir;
	tbuf[tlen + 1] = 0;
	tbuf[tlen + 2] = len & 0xff;
	tbuf[tlen + 3] = (uint8_t)(len >> 8);
	memcpy(tbuf + tlen + 4, pkt, len);
	tlen += 4 + len;
}

static void
t_data(char dir, uint16_t type, uint32_t id, const char *text)
{
	uint8_t	pkt[KD_MAX_PACKET];

	t_add(dir, pkt, kd_build(pkt, type, id, (const uint8_t *)text,
	    (uint16_t)strlen(text)));
}

static void
t_ctl(char dir, uint16_t type, uint32_t id)
{
	uint8_t	pkt[KD_HEADER_SIZE];

	t_add(dir, pkt, kd_build(pkt, type, id, NULL, 0));
}

static void
t_end(void)
{
	char	err[256];

	ck_assert_msg(kdtrace_parse(tbuf, tlen, &trace, err, sizeof err) == 0,
	    "%s", err);
	ck_assert_msg(player_check_trace(&trace, err, sizeof err) == 0, "%s",
	    err);
}

/*
 * A little session: the target's state change, a request and its reply
 * with the nasty bytes in it, a DbgPrint, a continue.
 */
static void
t_session(void)
{
	t_begin();
	t_data('T', KD_TYPE_STATE_CHANGE64, 0x80800800, "00 state \r\n change");
	t_ctl('D', KD_TYPE_ACKNOWLEDGE, 0x80800800);
	t_ctl('D', KD_TYPE_RESET, 0);
	t_ctl('T', KD_TYPE_RESET, 0);
	t_data('T', KD_TYPE_STATE_CHANGE64, 0x80800000, "00 state \r\n change");
	t_ctl('D', KD_TYPE_ACKNOWLEDGE, 0x80800000);
	t_data('D', KD_TYPE_STATE_MANIPULATE, 0x80800000, "01 read 0x1000");
	t_ctl('T', KD_TYPE_ACKNOWLEDGE, 0x80800000);
	t_data('T', KD_TYPE_STATE_MANIPULATE, 0x80800001,
	    "01 read \n\n 0000iiii b \r\r\n memory");
	t_ctl('D', KD_TYPE_ACKNOWLEDGE, 0x80800001);
	t_data('T', KD_TYPE_DEBUG_IO, 0x80800000, "02 hello\r\n");
	t_ctl('D', KD_TYPE_ACKNOWLEDGE, 0x80800000);
	t_data('D', KD_TYPE_STATE_MANIPULATE, 0x80800001, "<1 continue");
	t_ctl('T', KD_TYPE_ACKNOWLEDGE, 0x80800001);
	t_end();
}

static void
sides(void)
{
	memset(&dbg, 0, sizeof dbg);
	memset(&tgt, 0, sizeof tgt);
	player_init(&dbg.p, &trace, KDTRACE_DEBUGGER, 3, to_queue, &dbg);
	player_init(&tgt.p, &trace, KDTRACE_TARGET, 3, to_queue, &tgt);
	kd_parser_init(&dbg.kp, on_event, &dbg);
	kd_parser_init(&tgt.kp, on_event, &tgt);
}

/* Put what from has queued on the line to to; 1 if anything moved. */
static int
deliver(struct side *from, struct side *to)
{
	static uint8_t	q[BUFMAX], bad[2 * KD_MAX_PACKET];
	size_t		off[QMAX], len[QMAX], n = from->n, i, l;
	enum fault	f;

	if (n == 0)
		return 0;
	memcpy(q, from->buf, from->used);
	memcpy(off, from->off, sizeof off);
	memcpy(len, from->len, sizeof len);
	from->n = from->used = 0;
	for (i = 0; i < n; i++) {
		f = from->fault ? from->fault(from->sent, q + off[i], len[i]) :
		    F_NONE;
		from->sent++;
		switch (f) {
		case F_DROP:
			break;
		case F_DUP:
			kd_parser_feed(&to->kp, q + off[i], len[i]);
			kd_parser_feed(&to->kp, q + off[i], len[i]);
			break;
		case F_FLIP:
			memcpy(bad, q + off[i], len[i]);
			bad[len[i] - 2] ^= 0x01;
			kd_parser_feed(&to->kp, bad, len[i]);
			break;
		case F_CUT:
			kd_parser_feed(&to->kp, q + off[i], len[i] / 2);
			break;
		case F_ONLCR:
			l = crlf_corrupt(q + off[i], len[i], bad);
			kd_parser_feed(&to->kp, bad, l);
			break;
		case F_NONE:
			kd_parser_feed(&to->kp, q + off[i], len[i]);
			break;
		}
	}
	return 1;
}

/* Run until both are done or stuck; then let time pass, up to n times. */
static void
run(unsigned timeouts)
{
	int	busy;

	player_pump(&dbg.p);
	player_pump(&tgt.p);
	for (;;) {
		while (dbg.st == PLAYER_OK && tgt.st == PLAYER_OK &&
		    (deliver(&dbg, &tgt) | deliver(&tgt, &dbg)))
			;
		if (dbg.st != PLAYER_OK || tgt.st != PLAYER_OK)
			return;
		if (player_done(&dbg.p) && player_done(&tgt.p))
			return;
		if (timeouts-- == 0)
			return;
		/* Nothing moves: each waiting side's timer fires. */
		if (!player_done(&dbg.p)) {
			busy = kd_parser_busy(&dbg.kp);
			if (busy)
				kd_parser_reset(&dbg.kp);
			dbg.st = player_timeout(&dbg.p, busy);
		}
		if (!player_done(&tgt.p) && dbg.st == PLAYER_OK) {
			busy = kd_parser_busy(&tgt.kp);
			if (busy)
				kd_parser_reset(&tgt.kp);
			tgt.st = player_timeout(&tgt.p, busy);
		}
	}
}

static void
assert_done(void)
{
	ck_assert_msg(dbg.st == PLAYER_OK, "debugger: %s", dbg.p.err);
	ck_assert_msg(tgt.st == PLAYER_OK, "target: %s", tgt.p.err);
	ck_assert(player_done(&dbg.p));
	ck_assert(player_done(&tgt.p));
}

static void
teardown(void)
{
	kdtrace_free(&trace);
}

START_TEST(test_clean)
{
	t_session();
	sides();
	run(0);
	assert_done();
	ck_assert_uint_eq(dbg.p.st.sent, player_count(&trace, 'D'));
	ck_assert_uint_eq(tgt.p.st.sent, player_count(&trace, 'T'));
	ck_assert_uint_eq(dbg.p.st.received, player_count(&trace, 'T'));
	ck_assert_uint_eq(tgt.p.st.received, player_count(&trace, 'D'));
	ck_assert_uint_eq(dbg.p.st.resends_sent + tgt.p.st.resends_sent +
	    dbg.p.st.retransmits + tgt.p.st.retransmits +
	    dbg.p.st.duplicates + tgt.p.st.duplicates + dbg.p.st.bad, 0);
	/* The target spoke last: it stays to answer a retransmission. */
	ck_assert(player_linger(&tgt.p));
	ck_assert(!player_linger(&dbg.p));
}
END_TEST

static enum fault
drop_third(unsigned n, const uint8_t *p, size_t len)
{
	(void)p;
	(void)len;
	/* The target's third packet: its state change after the reset. */
	return n == 2 ? F_DROP : F_NONE;
}

START_TEST(test_lost_data_retransmitted)
{
	t_session();
	sides();
	tgt.fault = drop_third;
	run(1);
	assert_done();
	ck_assert_uint_eq(tgt.p.st.retransmits, 1);
	ck_assert_uint_eq(dbg.p.st.resends_sent, 0);
}
END_TEST

static enum fault
drop_ack(unsigned n, const uint8_t *p, size_t len)
{
	(void)p;
	(void)len;
	/* The debugger's fifth packet: its ACK of the read reply. */
	return n == 4 ? F_DROP : F_NONE;
}

START_TEST(test_lost_ack_acked_again)
{
	t_session();
	sides();
	dbg.fault = drop_ack;
	run(1);
	assert_done();
	/* The target sends the reply again; the debugger repeats its ACK. */
	ck_assert_uint_eq(tgt.p.st.retransmits, 1);
	ck_assert_uint_eq(dbg.p.st.duplicates, 1);
	ck_assert_uint_eq(dbg.p.st.sent, player_count(&trace, 'D') + 1);
}
END_TEST

/* Every data packet twice, as an early retransmission would do. */
static enum fault
dup_data(unsigned n, const uint8_t *p, size_t len)
{
	(void)n;
	return len > KD_HEADER_SIZE && p[0] == '0' ? F_DUP : F_NONE;
}

START_TEST(test_duplicates_tolerated)
{
	t_session();
	sides();
	tgt.fault = dup_data;
	run(0);
	assert_done();
	/* Each one ACKed again, each second ACK ignored. */
	ck_assert_uint_eq(dbg.p.st.duplicates, 4);
	ck_assert_uint_eq(tgt.p.st.duplicates, 4);
	ck_assert_uint_eq(dbg.p.st.sent, player_count(&trace, 'D') + 4);
}
END_TEST

static enum fault
flip_once(unsigned n, const uint8_t *p, size_t len)
{
	(void)len;
	return n == 2 && p[0] == '0' ? F_FLIP : F_NONE;
}

START_TEST(test_damaged_packet_resent)
{
	t_session();
	sides();
	tgt.fault = flip_once;
	run(0);
	assert_done();
	ck_assert_uint_eq(dbg.p.st.bad, 1);
	ck_assert_uint_eq(dbg.p.st.resends_sent, 1);
	ck_assert_uint_eq(tgt.p.st.resends_received, 1);
	ck_assert_uint_eq(tgt.p.st.retransmits, 1);
}
END_TEST

static enum fault
cut_once(unsigned n, const uint8_t *p, size_t len)
{
	(void)p;
	(void)len;
	return n == 2 ? F_CUT : F_NONE;
}

START_TEST(test_cut_packet_resend_on_timeout)
{
	t_session();
	sides();
	tgt.fault = cut_once;
	run(1);
	assert_done();
	/* The debugger's timer finds its parser mid-packet and asks again. */
	ck_assert_uint_eq(dbg.p.st.resends_sent, 1);
	ck_assert_uint_ge(tgt.p.st.retransmits, 1);
}
END_TEST

static enum fault
onlcr(unsigned n, const uint8_t *p, size_t len)
{
	(void)n;
	(void)p;
	(void)len;
	return F_ONLCR;
}

START_TEST(test_onlcr_line_fails)
{
	t_session();
	sides();
	tgt.fault = onlcr;
	run(10);
	ck_assert_int_eq(dbg.st, PLAYER_FAILED);
	ck_assert_ptr_nonnull(strstr(dbg.p.err, "damaged packet 4 times"));
	ck_assert_uint_eq(dbg.p.st.resends_sent, 4);
}
END_TEST

START_TEST(test_mismatch_valid_packet)
{
	static uint8_t	mine[BUFMAX];
	struct kdtrace	other;
	char		err[256];

	/* Both valid sessions, the target's read reply differs at byte 27. */
	t_session();
	memcpy(mine, tbuf, tlen);
	kdtrace_free(&trace);
	t_begin();
	t_data('T', KD_TYPE_STATE_CHANGE64, 0x80800800, "00 state \r\n change");
	t_ctl('D', KD_TYPE_ACKNOWLEDGE, 0x80800800);
	t_ctl('D', KD_TYPE_RESET, 0);
	t_ctl('T', KD_TYPE_RESET, 0);
	t_data('T', KD_TYPE_STATE_CHANGE64, 0x80800000, "00 state \r\n change");
	t_ctl('D', KD_TYPE_ACKNOWLEDGE, 0x80800000);
	t_data('D', KD_TYPE_STATE_MANIPULATE, 0x80800000, "01 read 0x1000");
	t_ctl('T', KD_TYPE_ACKNOWLEDGE, 0x80800000);
	t_data('T', KD_TYPE_STATE_MANIPULATE, 0x80800001,
	    "01 read \n\n 0000iiiX b \r\r\n memory");
	t_end();
	ck_assert_int_eq(kdtrace_parse(mine, tlen, &other, err, sizeof err),
	    0);
	memset(&dbg, 0, sizeof dbg);
	memset(&tgt, 0, sizeof tgt);
	player_init(&dbg.p, &other, KDTRACE_DEBUGGER, 3, to_queue, &dbg);
	player_init(&tgt.p, &trace, KDTRACE_TARGET, 3, to_queue, &tgt);
	kd_parser_init(&dbg.kp, on_event, &dbg);
	kd_parser_init(&tgt.kp, on_event, &tgt);
	run(0);
	ck_assert_int_eq(dbg.st, PLAYER_FAILED);
	ck_assert_ptr_nonnull(strstr(dbg.p.err, "record 8 mismatch"));
	ck_assert_ptr_nonnull(strstr(dbg.p.err,
	    "expected T STATE_MANIPULATE"));
	ck_assert_ptr_nonnull(strstr(dbg.p.err, "id 0x80800001 len 32"));
	ck_assert_ptr_nonnull(strstr(dbg.p.err, "offset 12"));
	kdtrace_free(&other);
}
END_TEST

START_TEST(test_silence_times_out)
{
	t_session();
	sides();
	/* Only the debugger plays: it waits for a target that never talks. */
	player_pump(&dbg.p);
	ck_assert_int_eq(player_timeout(&dbg.p, 0), PLAYER_OK);
	ck_assert_int_eq(player_timeout(&dbg.p, 0), PLAYER_OK);
	ck_assert_int_eq(player_timeout(&dbg.p, 0), PLAYER_OK);
	ck_assert_int_eq(player_timeout(&dbg.p, 0), PLAYER_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(dbg.p.err, "record 0"));
	ck_assert_uint_eq(dbg.p.st.sent, 0);
	/* The target retransmits its unanswered state change each time. */
	player_pump(&tgt.p);
	ck_assert_int_eq(player_timeout(&tgt.p, 0), PLAYER_OK);
	ck_assert_uint_eq(tgt.p.st.retransmits, 1);
	ck_assert_uint_eq(tgt.p.st.sent, 2);
}
END_TEST

START_TEST(test_unexpected_after_end)
{
	t_session();
	sides();
	run(0);
	assert_done();
	/* A data packet nobody has seen before arrives afterwards. */
	{
		uint8_t	pkt[KD_MAX_PACKET];
		size_t	n = kd_build(pkt, KD_TYPE_DEBUG_IO, 0x80800001,
		    (const uint8_t *)"02 late", 7);

		kd_parser_feed(&tgt.kp, pkt, n);
	}
	ck_assert_int_eq(tgt.st, PLAYER_FAILED);
	ck_assert_ptr_nonnull(strstr(tgt.p.err, "after the end"));
}
END_TEST

START_TEST(test_check_trace_rejects)
{
	uint8_t	pkt[KD_MAX_PACKET];
	size_t	n;
	char	err[256];

	t_begin();
	n = kd_build(pkt, KD_TYPE_DEBUG_IO, 0x80800000,
	    (const uint8_t *)"02 hi", 5);
	pkt[n - 2] ^= 1;
	t_add('T', pkt, n);
	ck_assert_int_eq(kdtrace_parse(tbuf, tlen, &trace, err, sizeof err), 0);
	ck_assert_int_eq(player_check_trace(&trace, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "record 0"));
	kdtrace_free(&trace);

	t_begin();
	t_ctl('D', KD_TYPE_ACKNOWLEDGE, 0x80800000);
	t_add('T', (const uint8_t *)"junk", 4);
	ck_assert_int_eq(kdtrace_parse(tbuf, tlen, &trace, err, sizeof err), 0);
	ck_assert_int_eq(player_check_trace(&trace, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "record 1"));
}
END_TEST

/* A whole session, _i: 0 the generated one, 1 the real one. */
START_TEST(test_session)
{
	char	err[512];

	if (_i == 0)
		kt_generated(&trace);
	else
		kt_fixture(&trace);
	ck_assert_msg(player_check_trace(&trace, err, sizeof err) == 0, "%s",
	    err);
	sides();
	run(0);
	assert_done();
	/* Its RESENDs and RESETs are part of the script, not recovery. */
	ck_assert_uint_eq(dbg.p.st.resends_sent + tgt.p.st.resends_sent +
	    dbg.p.st.resends_received + tgt.p.st.resends_received +
	    dbg.p.st.retransmits + tgt.p.st.retransmits, 0);
	ck_assert_uint_eq(dbg.p.st.sent + tgt.p.st.sent, trace.n);
}
END_TEST

START_TEST(test_describe)
{
	uint8_t	pkt[KD_MAX_PACKET];
	char	buf[128];
	uint8_t	api[4] = { 0x30, 0x31, 0, 0 };
	size_t	n;

	n = kd_build(pkt, KD_TYPE_STATE_MANIPULATE, 0x80800001, api, 4);
	player_describe(pkt, n, buf, sizeof buf);
	ck_assert_str_eq(buf,
	    "STATE_MANIPULATE(ReadVirtualMemory) id 0x80800001 len 4");
	n = kd_build(pkt, KD_TYPE_ACKNOWLEDGE, 0x80800000, NULL, 0);
	player_describe(pkt, n, buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf, "id 0x80800000 len 0"));
	pkt[0] = KD_BREAKIN;
	ck_assert_str_eq(player_describe(pkt, 1, buf, sizeof buf), "break-in");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("player");
	TCase	*tc = tcase_create("player");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_lost_data_retransmitted);
	tcase_add_test(tc, test_lost_ack_acked_again);
	tcase_add_test(tc, test_duplicates_tolerated);
	tcase_add_test(tc, test_damaged_packet_resent);
	tcase_add_test(tc, test_cut_packet_resend_on_timeout);
	tcase_add_test(tc, test_onlcr_line_fails);
	tcase_add_test(tc, test_mismatch_valid_packet);
	tcase_add_test(tc, test_silence_times_out);
	tcase_add_test(tc, test_unexpected_after_end);
	tcase_add_test(tc, test_check_trace_rejects);
	tcase_add_loop_test(tc, test_session, 0, 1 + kt_have_fixture(
	    "the real WinDbg session played by both sides"));
	tcase_add_test(tc, test_describe);
	suite_add_tcase(s, tc);
	return (kt_run(s));
}
