/*
 * tshutdown.c - the synthesized "target shutdown" and the exchange after.
 *
 * The exchange (kdcom-protocol.md): send the state change with the id the
 * target would have used next; send it again when the debugger asks
 * (RESEND) or says nothing for TSD_RESEND_MS, TSD_COPIES times in all.
 * Once it is ACKed, for TSD_LINGER_MS, ACK every data packet the debugger
 * sends and answer each new STATE_MANIPULATE request by echoing it with
 * ReturnStatus 0, except a Continue: that ends it, and when the target was
 * stopped (its last data packet a state change the debugger had not yet
 * continued from: WinDbg did not expect one then) and only one copy went
 * out, the state change goes once more first.
 */
#include <stddef.h>
#include <string.h>

#include "le.h"
#include "tshutdown.h"

#define RETURN_STATUS	8	/* u32 in a STATE_MANIPULATE payload */
#define MANIP_MIN	16

size_t
tsd_build(uint8_t *out, uint32_t id)
{
	uint8_t	sc[TSD_PAYLOAD];

	memset(sc, 0xff, sizeof(sc));
	le32_put(sc + 0, KD_API_LOAD_SYMBOLS);	/* NewState */
	le16_put(sc + 4, 6);			/* ProcessorLevel */
	le16_put(sc + 6, 0);			/* Processor */
	le32_put(sc + 8, 1);			/* NumberProcessors */
	/* DBGKD_LOAD_SYMBOLS64 at 32; BaseOfDll stays all ones. */
	le32_put(sc + 32, 0);			/* PathNameLength */
	le32_put(sc + 36, 0);			/* padding */
	memset(sc + 48, 0, 8);			/* ProcessId */
	le32_put(sc + 56, 0);			/* CheckSum */
	le32_put(sc + 60, 0);			/* SizeOfImage */
	sc[64] = 1;				/* UnloadSymbols */
	return (kd_build(out, KD_TYPE_STATE_CHANGE64, id, sc, sizeof(sc)));
}

void
tsd_init(struct tsd *t)
{
	/* Not the packet buffer: untouched until an exchange writes it. */
	memset(t, 0, offsetof(struct tsd, out));
}

static void
stop(struct tsd *t)
{
	t->state = TSD_IDLE;
	t->waiting = 0;
	t->resend_at = 0;
}

void
tsd_target_up(struct tsd *t)
{
	stop(t);
	t->target_sent = 0;
	t->have_id = 0;
	t->acked = 0;
	t->stopped = 0;
}

void
tsd_host_down(struct tsd *t)
{
	stop(t);
	t->acked = 0;
}

uint32_t
tsd_next_target_id(const struct tsd *t)
{
	uint32_t	id = t->last_id & ~KD_ID_SYNC;

	if (!t->have_id)
		return (KD_ID_INITIAL);
	return (t->acked ? id ^ 1 : id);
}

void
tsd_from_target(struct tsd *t, const struct kd_brief *p)
{
	if (p->verdict != KD_OK)
		return;
	t->target_sent = 1;
	if (p->type == KD_TYPE_STATE_CHANGE32 ||
	    p->type == KD_TYPE_STATE_CHANGE64)
		t->stopped = 1;
	if (p->type == KD_TYPE_RESET)
		t->have_id = 0;
	else if (!p->control) {
		t->have_id = 1;
		t->last_id = kd_raw_id(p->raw);
		t->acked = 0;
	}
}

/* Queue bytes for the debugger; what does not fit is not sent at all. */
static void
emit(struct tsd *t, const uint8_t *b, size_t len)
{
	if (len > sizeof(t->out) - t->outlen)
		return;
	memcpy(t->out + t->outlen, b, len);
	t->outlen += len;
}

static void
send_control(struct tsd *t, uint16_t type, uint32_t id)
{
	uint8_t	b[KD_HEADER_SIZE];

	emit(t, b, kd_build(b, type, id, NULL, 0));
}

static void
send_sc(struct tsd *t, uint64_t now)
{
	uint8_t	b[KD_MAX_PACKET];

	emit(t, b, tsd_build(b, t->next_id));
	t->copies++;
	t->injected++;
	t->waiting = t->wait_sc = 1;
	t->wait_id = t->next_id;
	t->resend_at = t->copies < TSD_COPIES ? now + TSD_RESEND_MS : 0;
}

int
tsd_target_lost(struct tsd *t, uint64_t now)
{
	if (!t->target_sent || tsd_active(t))
		return (0);
	t->next_id = tsd_next_target_id(t);
	t->copies = 0;
	t->have_req = 0;
	t->state = TSD_WAIT_ACK;
	t->end_at = now + TSD_LINGER_MS;
	t->started++;
	t->target_sent = 0;
	send_sc(t, now);
	return (1);
}

/* Echo a request (len bytes) with ReturnStatus 0, as the target's answer. */
static void
echo(struct tsd *t, const struct kd_brief *p, unsigned len)
{
	uint8_t	pay[KD_MAX_PAYLOAD], b[KD_MAX_PACKET];

	memcpy(pay, p->raw + KD_HEADER_SIZE, len);
	le32_put(pay + RETURN_STATUS, 0);
	emit(t, b, kd_build(b, KD_TYPE_STATE_MANIPULATE, t->next_id, pay,
	    len));
	t->injected++;
	t->waiting = 1;
	t->wait_sc = 0;
	t->wait_id = t->next_id;
	t->resend_at = 0;
}

static void
acked(struct tsd *t, uint32_t id, uint64_t now)
{
	if (!t->waiting || id != t->wait_id)
		return;
	t->waiting = 0;
	t->resend_at = 0;
	t->next_id ^= 1;
	if (!t->wait_sc)
		return;
	if (t->state == TSD_LAST) {
		stop(t);
		return;
	}
	t->state = TSD_ANSWER;
	t->end_at = now + TSD_LINGER_MS;
}

static void
request(struct tsd *t, const struct kd_brief *p, uint64_t now)
{
	uint32_t	id = kd_raw_id(p->raw), api;
	unsigned	len = kd_raw_len(p->raw);

	send_control(t, KD_TYPE_ACKNOWLEDGE, id);
	if (p->type != KD_TYPE_STATE_MANIPULATE || !kd_brief_api(p, &api) ||
	    len < MANIP_MIN || (t->have_req && id == t->req_id))
		return;			/* not a request, or seen */
	t->have_req = 1;
	t->req_id = id;
	if (api == KD_API_CONTINUE || api == KD_API_CONTINUE2) {
		if (t->stopped && t->copies < TSD_COPIES &&
		    t->state == TSD_ANSWER) {
			t->state = TSD_LAST;
			send_sc(t, now);
		} else
			stop(t);
		return;
	}
	if (!t->waiting)
		echo(t, p, len);
}

/*
 * The debugger's packet during an exchange: apart, so that the usual case
 * (the target there) saves no registers for it.
 */
static __attribute__((noinline)) void
exchange(struct tsd *t, const struct kd_brief *p, uint64_t now)
{
	switch (p->type) {
	case KD_TYPE_ACKNOWLEDGE:
		acked(t, kd_raw_id(p->raw), now);
		break;
	case KD_TYPE_RESEND:
		if (t->waiting && t->wait_sc && t->copies < TSD_COPIES) {
			t->next_id = t->wait_id;
			send_sc(t, now);
		}
		break;
	case KD_TYPE_RESET:
		break;
	default:
		request(t, p, now);
	}
}

void
tsd_from_debugger(struct tsd *t, const struct kd_brief *p, uint64_t now)
{
	uint32_t	api;

	if (p->verdict != KD_OK)
		return;
	if (tsd_active(t)) {
		exchange(t, p, now);
		return;
	}
	/* The target is there: note what the debugger ACKed. */
	if (p->type == KD_TYPE_ACKNOWLEDGE && t->have_id &&
	    kd_raw_id(p->raw) == t->last_id)
		t->acked = 1;
	else if (p->type == KD_TYPE_RESET)
		t->have_id = 0;
	else if (p->type == KD_TYPE_STATE_MANIPULATE &&
	    kd_brief_api(p, &api) &&
	    (api == KD_API_CONTINUE || api == KD_API_CONTINUE2))
		t->stopped = 0;
}

void
tsd_timer(struct tsd *t, uint64_t now)
{
	if (!tsd_active(t))
		return;
	if (now >= t->end_at) {
		stop(t);
		return;
	}
	if (t->resend_at != 0 && now >= t->resend_at && t->waiting &&
	    t->wait_sc && t->copies < TSD_COPIES) {
		t->next_id = t->wait_id;
		send_sc(t, now);
	}
}

size_t
tsd_take(struct tsd *t, uint8_t *out)
{
	size_t	len = t->outlen;

	memcpy(out, t->out, len);
	t->outlen = 0;
	return (len);
}

int
tsd_deadline(const struct tsd *t, uint64_t *when)
{
	if (!tsd_active(t))
		return (0);
	*when = t->end_at;
	if (t->resend_at != 0 && t->resend_at < *when)
		*when = t->resend_at;
	return (1);
}
