/*
 * retry.c - a capped exponential backoff and the timer it arms.
 */
#include <limits.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "retry.h"

unsigned
ms_since(const struct timespec *t)
{
	struct timespec	now;
	long long	ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > UINT_MAX ? UINT_MAX : (unsigned)ms;
}

void
timer_add_ms(struct event *ev, unsigned ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

int
retry_init(struct retry *r, struct event_base *base, unsigned min_ms,
    unsigned max_ms, void (*cb)(evutil_socket_t, short, void *), void *arg)
{
	memset(r, 0, sizeof *r);
	r->min_ms = r->next_ms = min_ms;
	r->max_ms = max_ms;
	r->ev = evtimer_new(base, cb, arg);
	return r->ev == NULL ? -1 : 0;
}

void
retry_free(struct retry *r)
{
	if (r->ev != NULL)
		event_free(r->ev);
	r->ev = NULL;
}

void
retry_in(struct retry *r, unsigned ms)
{
	r->armed_ms = ms;
	timer_add_ms(r->ev, ms);
}

void
retry_backoff(struct retry *r)
{
	unsigned	ms = r->next_ms;

	r->next_ms = ms >= r->max_ms / 2 ? r->max_ms : ms * 2;
	retry_in(r, ms);
}

void
retry_cancel(struct retry *r)
{
	r->armed_ms = 0;
	if (r->ev != NULL)
		evtimer_del(r->ev);
}

void
retry_reset(struct retry *r)
{
	r->next_ms = r->min_ms;
}

int
retry_pending(const struct retry *r)
{
	return r->ev != NULL && evtimer_pending(r->ev, NULL);
}
