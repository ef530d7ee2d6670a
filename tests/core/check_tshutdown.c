/*
 * check_tshutdown.c - the synthesized target shutdown: the packet byte for
 * byte, the id the target would have used next, at most two copies, and
 * the exchange with the debugger after (kdcom-protocol.md).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crlf.h"
#include "kdcom.h"
#include "stream.h"
#include "tshutdown.h"
#include "kdtest.h"

#define ID0	0x80800000u
#define ID1	0x80800001u

/* A packet as a parser tells it in brief (verdict ok), built from fields. */
struct pk {
	uint8_t			 b[KD_MAX_PACKET];
	struct kd_brief		 p;
	int			 told;
};

static void
grab(void *arg, const struct kd_brief *b)
{
	struct pk	*k = arg;

	k->p = *b;
	k->told++;
}

static const struct kd_brief *
pk(struct pk *k, uint16_t type, uint32_t id, const uint8_t *pay, uint16_t len)
{
	struct kd_parser	*p = kt_xmalloc(sizeof(*p));
	size_t			 n = kd_build(k->b, type, id, pay, len);

	k->told = 0;
	kd_parser_init(p, NULL, NULL);
	kd_parser_brief(p, grab, k);
	kd_parser_feed(p, k->b, n);
	free(p);
	ck_assert_int_eq(k->told, 1);
	ck_assert_int_eq(k->p.verdict, KD_OK);
	ck_assert_ptr_eq(k->p.raw, k->b);
	return (&k->p);
}

static const struct kd_brief *
req(struct pk *k, uint32_t id, uint32_t api)
{
	uint8_t	pay[56];

	memset(pay, 0, sizeof(pay));
	pay[0] = api;
	pay[1] = api >> 8;
	pay[8] = 0x03;			/* ReturnStatus STATUS_PENDING */
	pay[9] = 0x01;
	pay[20] = 0x5a;
	return (pk(k, KD_TYPE_STATE_MANIPULATE, id, pay, sizeof(pay)));
}

/* What the machine has for the debugger, parsed. */
static void
take(struct tsd *t, struct kt_log *log)
{
	uint8_t			 out[TSD_OUT_MAX];
	size_t			 n = tsd_take(t, out);
	struct kd_parser	*p = kt_xmalloc(sizeof(*p));

	memset(log, 0, sizeof(*log));
	kd_parser_init(p, kt_log_cb, log);
	kd_parser_feed(p, out, n);
	ck_assert_int_eq(kd_parser_pending(p), 0);
	free(p);
	ck_assert_uint_eq(tsd_take(t, out), 0);
}

static void
is_shutdown(const struct kt_ev *e, uint32_t id)
{
	ck_assert_int_eq(e->kind, KD_EV_PACKET);
	ck_assert_int_eq(e->pkt.verdict, KD_OK);
	ck_assert_uint_eq(e->pkt.type, KD_TYPE_STATE_CHANGE64);
	ck_assert_uint_eq(e->pkt.id, id);
	ck_assert_uint_eq(e->pkt.len, TSD_PAYLOAD);
}

/* The documented layout, every byte of it. */
START_TEST(packet_layout)
{
	uint8_t		b[KD_MAX_PACKET], want[TSD_PAYLOAD];
	size_t		n = tsd_build(b, 0x80800001), i;
	static const struct { size_t off; uint8_t v[4]; size_t len; } f[] = {
		{ 0, { 0x31, 0x30, 0, 0 }, 4 }, { 4, { 6, 0 }, 2 },
		{ 6, { 0, 0 }, 2 }, { 8, { 1, 0, 0, 0 }, 4 },
		{ 32, { 0, 0, 0, 0 }, 4 }, { 36, { 0, 0, 0, 0 }, 4 },
		{ 48, { 0, 0, 0, 0 }, 4 }, { 52, { 0, 0, 0, 0 }, 4 },
		{ 56, { 0, 0, 0, 0 }, 4 }, { 60, { 0, 0, 0, 0 }, 4 },
		{ 64, { 1 }, 1 },
	};

	ck_assert_uint_eq(n, KD_HEADER_SIZE + TSD_PAYLOAD + 1);
	memset(want, 0xff, sizeof(want));
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		memcpy(want + f[i].off, f[i].v, f[i].len);
	ck_assert_mem_eq(b, "0000\x07\x00\xf0\x00\x01\x00\x80\x80", 12);
	ck_assert_uint_eq(b[12] | b[13] << 8 | b[14] << 16 |
	    (uint32_t)b[15] << 24, kd_checksum(want, sizeof(want)));
	ck_assert_mem_eq(b + KD_HEADER_SIZE, want, sizeof(want));
	ck_assert_int_eq(b[n - 1], KD_TRAILER);
	/* BaseOfDll all ones at 40. */
	for (i = 40; i < 48; i++)
		ck_assert_int_eq(b[KD_HEADER_SIZE + i], 0xff);
}
END_TEST

/* Nothing from the target this session: nothing to say. */
START_TEST(silent_target)
{
	struct tsd	t;
	struct pk	k;

	tsd_init(&t);
	ck_assert_int_eq(tsd_target_lost(&t, 0), 0);
	tsd_from_target(&t, pk(&k, KD_TYPE_DEBUG_IO, ID0, (uint8_t *)"0200",
	    4));
	tsd_target_up(&t);		/* a new session */
	ck_assert_int_eq(tsd_target_lost(&t, 0), 0);
	ck_assert_int_eq(tsd_active(&t), 0);
	ck_assert_uint_eq(t.outlen, 0);
}
END_TEST

/*
 * Running (last a DbgPrint the debugger ACKed): id toggled; resent once
 * when unanswered, never a third time; over after the linger time.
 */
START_TEST(unanswered_at_most_twice)
{
	struct tsd	t;
	struct pk	k;
	struct kt_log	log;
	uint64_t	when;

	tsd_init(&t);
	tsd_from_target(&t, pk(&k, KD_TYPE_DEBUG_IO, ID0, (uint8_t *)"0200",
	    4));
	tsd_from_debugger(&t, pk(&k, KD_TYPE_ACKNOWLEDGE, ID0, NULL, 0), 5);
	ck_assert_uint_eq(tsd_next_target_id(&t), ID1);
	ck_assert_int_eq(tsd_target_lost(&t, 1000), 1);
	ck_assert_int_eq(tsd_target_lost(&t, 1000), 0);
	take(&t, &log);
	ck_assert_uint_eq(log.n, 1);
	is_shutdown(&log.ev[0], ID1);
	kt_log_free(&log);
	ck_assert_int_eq(tsd_deadline(&t, &when), 1);
	ck_assert_uint_eq(when, 1000 + TSD_RESEND_MS);
	tsd_timer(&t, when);
	take(&t, &log);
	ck_assert_uint_eq(log.n, 1);
	is_shutdown(&log.ev[0], ID1);
	kt_log_free(&log);
	/* A RESEND now gets nothing: two copies went. */
	tsd_from_debugger(&t, pk(&k, KD_TYPE_RESEND, 0, NULL, 0), when + 1);
	ck_assert_int_eq(tsd_deadline(&t, &when), 1);
	ck_assert_uint_eq(when, 1000 + TSD_LINGER_MS);
	tsd_timer(&t, when - 1);
	ck_assert_uint_eq(t.outlen, 0);
	tsd_timer(&t, when);
	ck_assert_int_eq(tsd_active(&t), 0);
	ck_assert_int_eq(tsd_deadline(&t, &when), 0);
	ck_assert_uint_eq(t.copies, 2);
	ck_assert_uint_eq(t.injected, 2);
	ck_assert_uint_eq(t.started, 1);
	/* Lost again without a new session: nothing more. */
	ck_assert_int_eq(tsd_target_lost(&t, 5000), 0);
}
END_TEST

/*
 * Running, the debugger answers: ACK, a request echoed with ReturnStatus
 * 0, a repeat only ACKed, a Continue ACKed and the end (one copy only).
 */
START_TEST(running_exchange)
{
	struct tsd	t;
	struct pk	k, q;
	struct kt_log	log;
	const struct kd_brief *r;

	tsd_init(&t);
	/* Not yet ACKed: the debugger still expects this id. */
	tsd_from_target(&t, pk(&k, KD_TYPE_DEBUG_IO, ID1, (uint8_t *)"0200",
	    4));
	ck_assert_int_eq(tsd_target_lost(&t, 0), 1);
	take(&t, &log);
	is_shutdown(&log.ev[0], ID1);
	kt_log_free(&log);
	tsd_from_debugger(&t, pk(&k, KD_TYPE_ACKNOWLEDGE, ID0, NULL, 0), 10);
	ck_assert_int_eq(t.state, TSD_WAIT_ACK);	/* not its id */
	tsd_from_debugger(&t, pk(&k, KD_TYPE_ACKNOWLEDGE, ID1, NULL, 0), 10);
	ck_assert_int_eq(t.state, TSD_ANSWER);
	r = req(&q, ID0, KD_API_GET_VERSION);
	tsd_from_debugger(&t, r, 20);
	take(&t, &log);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_uint_eq(log.ev[0].pkt.type, KD_TYPE_ACKNOWLEDGE);
	ck_assert_uint_eq(log.ev[0].pkt.id, ID0);
	ck_assert_uint_eq(log.ev[1].pkt.type, KD_TYPE_STATE_MANIPULATE);
	ck_assert_int_eq(log.ev[1].pkt.verdict, KD_OK);
	ck_assert_uint_eq(log.ev[1].pkt.id, ID0);
	ck_assert_uint_eq(log.ev[1].pkt.len, 56);
	ck_assert_mem_eq(log.ev[1].pkt.payload, r->raw + KD_HEADER_SIZE, 8);
	ck_assert_mem_eq(log.ev[1].pkt.payload + 8, "\0\0\0\0", 4);
	ck_assert_mem_eq(log.ev[1].pkt.payload + 12, r->raw + KD_HEADER_SIZE +
	    12, 44);
	kt_log_free(&log);
	/* The same request again (our ACK lost): ACKed, not answered. */
	tsd_from_debugger(&t, r, 30);
	take(&t, &log);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_uint_eq(log.ev[0].pkt.type, KD_TYPE_ACKNOWLEDGE);
	kt_log_free(&log);
	tsd_from_debugger(&t, pk(&k, KD_TYPE_ACKNOWLEDGE, ID0, NULL, 0), 40);
	tsd_from_debugger(&t, req(&q, ID1, KD_API_CONTINUE2), 50);
	take(&t, &log);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_uint_eq(log.ev[0].pkt.type, KD_TYPE_ACKNOWLEDGE);
	ck_assert_uint_eq(log.ev[0].pkt.id, ID1);
	kt_log_free(&log);
	ck_assert_int_eq(tsd_active(&t), 0);
	ck_assert_uint_eq(t.copies, 1);
}
END_TEST

/*
 * Stopped at a state change the debugger ACKed: WinDbg did not expect a
 * state change, so after its Continue the second copy goes, and that is
 * the end.  A RESET from the debugger first resets the ids.
 */
START_TEST(stopped_exchange)
{
	struct tsd	t;
	struct pk	k;
	struct kt_log	log;
	uint8_t		sc[240] = { 0x30, 0x30 };

	tsd_init(&t);
	tsd_from_target(&t, pk(&k, KD_TYPE_DEBUG_IO, ID0, (uint8_t *)"0200",
	    4));
	tsd_from_debugger(&t, pk(&k, KD_TYPE_RESET, 0, NULL, 0), 1);
	ck_assert_uint_eq(tsd_next_target_id(&t), KD_ID_INITIAL);
	tsd_from_target(&t, pk(&k, KD_TYPE_STATE_CHANGE64, ID0, sc,
	    sizeof(sc)));
	tsd_from_debugger(&t, pk(&k, KD_TYPE_ACKNOWLEDGE, ID0, NULL, 0), 2);
	ck_assert_int_eq(tsd_target_lost(&t, 100), 1);
	take(&t, &log);
	is_shutdown(&log.ev[0], ID1);
	kt_log_free(&log);
	/* A RESEND before the ACK: the second copy, the same id. */
	tsd_from_debugger(&t, pk(&k, KD_TYPE_RESEND, 0, NULL, 0), 110);
	take(&t, &log);
	ck_assert_uint_eq(log.n, 1);
	is_shutdown(&log.ev[0], ID1);
	kt_log_free(&log);
	tsd_from_debugger(&t, pk(&k, KD_TYPE_ACKNOWLEDGE, ID1, NULL, 0), 120);
	tsd_from_debugger(&t, req(&k, ID0, KD_API_CONTINUE), 130);
	take(&t, &log);
	/* Two copies went already: only the ACK. */
	ck_assert_uint_eq(log.n, 1);
	ck_assert_uint_eq(log.ev[0].pkt.type, KD_TYPE_ACKNOWLEDGE);
	kt_log_free(&log);
	ck_assert_int_eq(tsd_active(&t), 0);

	/* Again, one copy ACKed at once: the Continue brings the second. */
	tsd_target_up(&t);
	tsd_from_target(&t, pk(&k, KD_TYPE_STATE_CHANGE64, ID1, sc,
	    sizeof(sc)));
	tsd_from_debugger(&t, pk(&k, KD_TYPE_ACKNOWLEDGE, ID1, NULL, 0), 2);
	ck_assert_int_eq(tsd_target_lost(&t, 200), 1);
	take(&t, &log);
	is_shutdown(&log.ev[0], ID0);
	kt_log_free(&log);
	tsd_from_debugger(&t, pk(&k, KD_TYPE_ACKNOWLEDGE, ID0, NULL, 0), 210);
	tsd_from_debugger(&t, req(&k, ID0, KD_API_CONTINUE), 220);
	take(&t, &log);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_uint_eq(log.ev[0].pkt.type, KD_TYPE_ACKNOWLEDGE);
	is_shutdown(&log.ev[1], ID1);
	kt_log_free(&log);
	ck_assert_int_eq(tsd_active(&t), 1);
	tsd_from_debugger(&t, pk(&k, KD_TYPE_ACKNOWLEDGE, ID1, NULL, 0), 230);
	ck_assert_int_eq(tsd_active(&t), 0);
	ck_assert_uint_eq(t.copies, 2);
	ck_assert_uint_eq(t.started, 2);
}
END_TEST

/* The target coming back ends it at once; so does the debugger leaving. */
START_TEST(target_back)
{
	struct tsd	t;
	struct pk	k;

	tsd_init(&t);
	tsd_from_target(&t, pk(&k, KD_TYPE_RESET, 0, NULL, 0));
	ck_assert_int_eq(tsd_target_lost(&t, 0), 1);
	ck_assert_uint_eq(t.wait_id, KD_ID_INITIAL);
	tsd_target_up(&t);
	ck_assert_int_eq(tsd_active(&t), 0);
	tsd_from_target(&t, pk(&k, KD_TYPE_RESET, 0, NULL, 0));
	ck_assert_int_eq(tsd_target_lost(&t, 0), 1);
	tsd_host_down(&t);
	ck_assert_int_eq(tsd_active(&t), 0);
}
END_TEST

/*
 * The watch as kdrelayd runs it, told of packets in brief (the light path:
 * stream_brief), and as it was, fed from each decoded event (the full
 * path: kd_brief_of the event's packet), side by side over a whole
 * session, each direction through a stream of its own (crlf=on with the
 * lines corrupting, or auto from the wrong guess, read in random pieces):
 * after every record the two watches stand alike, and a target lost there
 * makes the same bytes for the debugger.
 */
struct watch {
	struct tsd	t;
	struct stream	s[2];		/* from the target, from the debugger */
};

static void
light_target(void *arg, const struct kd_brief *b)
{
	tsd_from_target(arg, b);
}

static void
light_debugger(void *arg, const struct kd_brief *b)
{
	tsd_from_debugger(arg, b, 7);
}

static void
full_target(void *arg, const struct kd_event *ev)
{
	struct kd_brief	b;

	if (ev->kind == KD_EV_PACKET) {
		kd_brief_of(ev->pkt, &b);
		tsd_from_target(arg, &b);
	}
}

static void
full_debugger(void *arg, const struct kd_event *ev)
{
	struct kd_brief	b;

	if (ev->kind == KD_EV_PACKET) {
		kd_brief_of(ev->pkt, &b);
		tsd_from_debugger(arg, &b, 7);
	}
}

static void
watch_init(struct watch *w, enum crlf_mode mode, int light)
{
	int	i;

	tsd_init(&w->t);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(stream_init(&w->s[i], mode, 0, 1, light ?
		    NULL : i == 0 ? full_target : full_debugger, NULL, &w->t),
		    0);
		if (light)
			stream_brief(&w->s[i], i == 0 ? light_target :
			    light_debugger);
	}
}

/* What a target lost now makes for the debugger (a copy of the watch). */
static size_t
lost_now(const struct tsd *t, uint8_t *out)
{
	struct tsd	*c = kt_xmalloc(sizeof(*c));
	size_t		 n;

	memcpy(c, t, sizeof(*c));
	tsd_target_lost(c, 100);
	n = tsd_take(c, out);
	free(c);
	return (n);
}

START_TEST(light_watch_is_the_full_one)
{
	struct watch	*w[2];
	uint8_t		 line[2 * KD_MAX_PACKET + 2], buf[2 * KD_MAX_PACKET + 2 +
			    STREAM_SLACK], out[2][TSD_OUT_MAX];
	size_t		 i, n, pos, len, k, lost = 0;
	uint64_t	 r = 5 + _i;
	int		 j, d;
	enum crlf_mode	 mode = _i ? CRLF_AUTO : CRLF_ON;

	for (j = 0; j < 2; j++) {
		w[j] = kt_xmalloc(sizeof(*w[j]));
		watch_init(w[j], mode, j);
	}
	for (i = 0; i < kt_trace.n; i++) {
		d = kt_trace.recs[i].dir == KDTRACE_TARGET ? 0 : 1;
		n = crlf_corrupt(kt_trace.recs[i].pkt, kt_trace.recs[i].len,
		    line);
		for (j = 0; j < 2; j++) {
			for (pos = 0; pos < n; pos += len) {
				len = 1 + kt_below(&r, 300);
				if (len > n - pos)
					len = n - pos;
				k = stream_slack(&w[j]->s[d]);
				memcpy(buf + k, line + pos, len);
				stream_process(&w[j]->s[d], buf + k, len, buf);
			}
			stream_release(&w[j]->s[d], buf);
		}
		KT_CHECK(memcmp(&w[0]->t, &w[1]->t, offsetof(struct tsd,
		    out)) == 0, "the watches differ after record %zu", i);
		if (kt_below(&r, 16) == 0) {
			n = lost_now(&w[0]->t, out[0]);
			KT_CHECK(lost_now(&w[1]->t, out[1]) == n &&
			    memcmp(out[0], out[1], n) == 0, "a target lost "
			    "after record %zu: other bytes", i);
			lost += n > 0;
		}
	}
	ck_assert(w[0]->t.target_sent && w[0]->t.have_id);
	ck_assert_uint_gt(lost, 0);
	for (j = 0; j < 2; j++) {
		stream_free(&w[j]->s[0]);
		stream_free(&w[j]->s[1]);
		free(w[j]);
	}
}
END_TEST

/* The cases that run over a whole session (kt_trace). */
static void
session_cases(TCase *tc)
{
	tcase_add_loop_test(tc, light_watch_is_the_full_one, 0, 2);
}

static Suite *
suite(void)
{
	Suite	*s = suite_create("tshutdown");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, packet_layout);
	tcase_add_test(tc, silent_target);
	tcase_add_test(tc, unanswered_at_most_twice);
	tcase_add_test(tc, running_exchange);
	tcase_add_test(tc, stopped_exchange);
	tcase_add_test(tc, target_back);
	suite_add_tcase(s, tc);
	kt_session_tcases(s, session_cases);
	return (s);
}

int
main(void)
{
	return (kt_run(suite()));
}
