/*
 * relay_impl.h - the inside of struct relay, for the files of one pair:
 * relay.c (the data path), relaybuf.c (a direction's buffer), relaylife.c
 * (made, started, stopped, freed), relayreq.c (requests from other
 * threads), relaytsd.c (the
 * target-shutdown wiring) and relaystats.c (its counters and their
 * formatting).  Everything else uses relay.h.
 */
#ifndef KDRELAY_RELAY_IMPL_H
#define KDRELAY_RELAY_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "relay.h"
#include "tshutdown.h"

struct relay;

struct side {
	struct relay	*r;
	int		 idx;
	const char	*label;		/* "host", "target" */
	struct endpoint	*ep;
	int		 fd;		/* -1 while absent */
	struct event	*rd;
	struct event	*wr;
	int		 reading;	/* rd is added */
	int		 writing;	/* wr is added */
};

/* Bytes flowing from side[idx] to side[!idx]. */
struct dir {
	struct relay	*r;
	int		 idx;
	char		 tag;		/* kdtrace direction, 'D' or 'T' */
	const char	*name;		/* "host->target" */
	struct stream	 st;
	uint8_t		*buf;		/* mapped, cap bytes */
	size_t		 cap, lim;	/* used up to lim */
	size_t		 off, len;	/* the older run */
	size_t		 wrap;		/* the newer run, at the front */
	int		 front;		/* new bytes go to the front run */
	int		 touched;	/* pages in use: idle timer on */
	int		 active;	/* read since the idle timer */
	int		 give_back;	/* shrink to the base when it can */
	uint64_t	 given_back;	/* times it did */
	struct event	*idle;
	struct event	*hold;
	struct event	*quiet;		/* silence with bytes unreported */
	int		 hold_on, quiet_on;	/* those two are added */
	uint64_t	 quiet_from;	/* tick_ms() silence is counted from */
	uint64_t	 written;	/* to the peer */
	uint64_t	 dropped;
	uint64_t	 breaks_sent;	/* break-ins sent by request */
	uint64_t	 rx_ms;		/* monotonic ms of the last read, or 0 */
};

struct relay {
	struct pair_opts	 o;
	struct event_base	*base;
	pthread_t		 thread;
	int			 started;
	uintptr_t		 stack_lo;	/* its thread's stack, or 0 */
	struct event		*stop_ev;
	struct event		*report_ev;
	_Atomic int		 report_asked;	/* SIGUSR1: answer even -q */
	struct event		*stuck;		/* both ways full */
	uint64_t		 stuck_mark;	/* bytes written when armed */
	unsigned		 stuck_wait;	/* ms, while the pool refuses */
	struct side		 side[2];
	struct dir		 dir[2];
	struct pktlog		*pktlog;
	struct capture		*capture;
	struct tsd		*tsd;		/* target-shutdown, when on */
	struct event		*tsd_ev;	/* its deadlines */

	struct linering		**watch;	/* `kdrelayctl watch` clients */
	size_t			 nwatch;

	struct event		*watcher;	/* told of state changes */
	pthread_mutex_t		 lock;		/* guards snap, reqs */
	struct relay_dir_stats	 snap[2];
	struct event		*req_ev;
	struct relay_req	*reqs, **reqs_tail;
	struct tsd		 tsd_mem;	/* tsd points here when on */
};

/* "host->target", "target->host", by the side bytes come from. */
extern const char *relay_dir_name[2];
extern const char *relay_side_label[2];	/* "host", "target" */

/* Buffer limit to start from (and again after idling). */
#define BUF_START	16384

/* Bytes waiting for the peer, in both runs of the ring. */
static inline size_t
relay_dir_queued(const struct dir *d)
{
	return d->len + d->wrap;
}

/* relaybuf.c: a direction's buffer. */
int	relay_dir_alloc(struct dir *, size_t cap);
void	relay_dir_free(struct dir *);
int	relay_dir_grow(struct dir *);
void	relay_dir_shrink(struct dir *);
void	relay_dir_release(struct dir *);
size_t	relay_dir_room(struct dir *);
uint8_t	*relay_dir_end(struct dir *);

/* relay.c: the data path. */
uint64_t relay_now_ms(void);
void	relay_note(struct relay *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
double	relay_dir_last_rx(const struct dir *);
void	relay_dir_commit(struct dir *, size_t);
/* The callbacks relaylife.c wires to the loop, endpoints and streams. */
void	relay_side_up(void *, int);
void	relay_side_down(void *);
void	relay_idle_cb(evutil_socket_t, short, void *);
void	relay_hold_cb(evutil_socket_t, short, void *);
void	relay_quiet_cb(evutil_socket_t, short, void *);
void	relay_stuck_cb(evutil_socket_t, short, void *);
struct kd_event;
void	relay_stream_event(void *, const struct kd_event *);
void	relay_stream_switch(void *, int);
void	relay_listen(struct relay *);

/* relaylife.c */
void	relay_stack_trim(struct relay *);

/* relayreq.c */
void	relay_req_cb(evutil_socket_t, short, void *);
void	relay_req_abandon(struct relay *);

/* relaytsd.c */
void	relay_tsd_pump(struct relay *);
void	relay_tsd_cb(evutil_socket_t, short, void *);
void	relay_target_gone(struct relay *);

/* relaystats.c */
void	relay_publish(struct relay *);
void	relay_report_cb(evutil_socket_t, short, void *);

#endif
