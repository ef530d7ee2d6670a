/*
 * relaytsd.c - a pair's target-shutdown wiring: when the target goes, the
 * synthesized exchange (src/core/tshutdown.c) talks to the debugger over
 * the target->host direction, timed in the pair's loop.
 */
#include <stdint.h>

#include <event2/event.h>

#include "log.h"
#include "relay_impl.h"
#include "tshutdown.h"

/*
 * Hand what the target-shutdown exchange has for the debugger to the
 * target->host direction (the target is gone: nothing else uses it), and
 * time its next step.
 */
void
relay_tsd_pump(struct relay *r)
{
	struct dir	*d = &r->dir[SIDE_TARGET];
	struct timeval	 tv;
	uint64_t	 when, t;

	if (r->tsd == NULL)
		return;
	if (r->tsd->outlen > 0) {
		if (r->side[SIDE_HOST].fd == -1 ||
		    relay_dir_room(d) < r->tsd->outlen)
			r->tsd->outlen = 0;	/* nobody to tell, or no room */
		else
			relay_dir_commit(d, tsd_take(r->tsd, relay_dir_end(d)));
	}
	if (tsd_deadline(r->tsd, &when)) {
		t = relay_now_ms();
		t = when > t ? when - t : 0;
		tv.tv_sec = t / 1000;
		tv.tv_usec = (t % 1000) * 1000;
		event_add(r->tsd_ev, &tv);
	} else if (evtimer_pending(r->tsd_ev, NULL))
		event_del(r->tsd_ev);
}

void
relay_tsd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay	*r = arg;

	(void)fd;
	(void)what;
	tsd_timer(r->tsd, relay_now_ms());
	relay_tsd_pump(r);
}

/* The target is gone: tell an attached debugger, once per session. */
void
relay_target_gone(struct relay *r)
{
	if (r->tsd == NULL || r->side[SIDE_HOST].fd == -1 ||
	    !tsd_target_lost(r->tsd, relay_now_ms()))
		return;
	log_notice("%s: target gone: sending the debugger a target shutdown "
	    "(id %#x)", r->o.name, (unsigned)r->tsd->wait_id);
	relay_note(r, "target shutdown sent to the debugger, id 0x%08x",
	    (unsigned)r->tsd->wait_id);
	relay_tsd_pump(r);
	relay_publish(r);
}
