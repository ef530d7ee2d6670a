/*
 * retry.h - a capped exponential backoff and the timer it arms.
 *
 * Everything that tries again (an endpoint, a backend waiting for a lock,
 * the xenstore connection) waits min_ms, then twice as long each time up
 * to max_ms, and starts from min_ms again once something worked.  The
 * timer is the owner's: one event, on the owner's loop.
 */
#ifndef KDRELAY_RETRY_H
#define KDRELAY_RETRY_H

#include <time.h>

#include <event2/util.h>

struct event;
struct event_base;

struct retry {
	struct event	*ev;
	unsigned	 min_ms, max_ms;
	unsigned	 next_ms;	/* the delay the next backoff takes */
	unsigned	 armed_ms;	/* the delay armed now, 0 none */
};

/* -1 on ENOMEM.  cb runs from the loop when the timer fires. */
int	retry_init(struct retry *, struct event_base *, unsigned min_ms,
	    unsigned max_ms, void (*cb)(evutil_socket_t, short, void *),
	    void *arg);
void	retry_free(struct retry *);
/* Arm after the next backoff delay, and double it (up to max_ms). */
void	retry_backoff(struct retry *);
/* Arm after ms (0: from the loop, at once); the backoff is unchanged. */
void	retry_in(struct retry *, unsigned ms);
void	retry_cancel(struct retry *);
/* Something worked: the next backoff is min_ms again. */
void	retry_reset(struct retry *);
int	retry_pending(const struct retry *);

/* Milliseconds on CLOCK_MONOTONIC since t (0 if t is ahead). */
unsigned ms_since(const struct timespec *t);
/* Add ms to ev (a timer), as a timeval. */
void	timer_add_ms(struct event *ev, unsigned ms);

#endif
