/*
 * relaylife.c - a pair's life: made (its loop, endpoints, buffers and
 * timers), its thread started and stopped, freed; and what other threads
 * may ask of it at any time.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "endpoint.h"
#include "exitcodes.h"
#include "kdtrace.h"
#include "pktlog.h"
#include "relay_impl.h"
#include "tshutdown.h"

/* Room to spare over what a pair uses (libevent, the core, logging). */
#define STACK_SIZE	(1024 * 1024)
/* Kept below the trimming frame: its own calls and the red zone. */
#define STACK_KEEP	1024

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay	*r = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(r->base);
}

void
relay_side_state(struct relay *r, int side, struct endpoint_state *out)
{
	endpoint_get_state(r->side[side].ep, out);
}

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

static void
threads_init(void)
{
	evthread_use_pthreads();
}

void
relay_global_init(void)
{
	pthread_once(&threads_once, threads_init);
}

/*
 * libevent ends the process when a new loop finds no fd for its eventfd
 * and signal pipe: see that four are free first (three, and one for the
 * endpoints).
 */
static int
loop_fds_free(void)
{
	int	p[2], q[2], err;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(q, O_CLOEXEC) == -1) {
		err = errno;
		close(p[0]);
		close(p[1]);
		errno = err;
		return -1;
	}
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	return 0;
}

/*
 * poll(2), not epoll: a pair's loop watches three fds, and an epoll
 * instance is one fd more a pair, numbered process-wide, which libevent's
 * fd table (one per loop, sized by the highest fd it watches) pays for in
 * every loop.  Nor does it cost an epoll_ctl() each time an event is
 * added or removed.
 */
static struct event_base *
loop_new(void)
{
	struct event_config	*cfg;
	struct event_base	*base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_avoid_method(cfg, "epoll");
	event_config_avoid_method(cfg, "select");
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

void
relay_set_watcher(struct relay *r, struct event *ev)
{
	r->watcher = ev;
	endpoint_set_watcher(r->side[0].ep, ev);
	endpoint_set_watcher(r->side[1].ep, ev);
}

struct relay *
relay_new(const struct pair_opts *o, char *err, size_t errlen)
{
	struct relay	*r;
	struct dir	*d;
	struct side	*s;
	int		 i;

	relay_global_init();
	if (o->bufsize < 64) {
		snprintf(err, errlen, "%s: buffer size %zu too small", o->name,
		    o->bufsize);
		return NULL;
	}
	if (loop_fds_free() == -1) {
		snprintf(err, errlen, "%s: no file descriptors for its event "
		    "loop: %s (raise ulimit -n, or LimitNOFILE= for the "
		    "service)", o->name, strerror(errno));
		return NULL;
	}
	/*
	 * Fresh pages, not the heap's: what a pair does not use (the other
	 * parser, unused path buffers, the target-shutdown packet) is never
	 * touched and takes no memory, a thousand pairs' worth.
	 */
	if ((r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		r = NULL;
		goto nomem;
	}
	pair_opts_copy_fresh(&r->o, o);
	pthread_mutex_init(&r->lock, NULL);
	if ((r->base = loop_new()) == NULL)
		goto nomem;
	r->stop_ev = event_new(r->base, -1, 0, stop_cb, r);
	r->report_ev = event_new(r->base, -1, 0, relay_report_cb, r);
	r->stuck = evtimer_new(r->base, relay_stuck_cb, r);
	r->req_ev = event_new(r->base, -1, 0, relay_req_cb, r);
	r->reqs_tail = &r->reqs;
	if (r->stop_ev == NULL || r->report_ev == NULL || r->req_ev == NULL ||
	    r->stuck == NULL)
		goto nomem;
	for (i = 0; i < 2; i++) {
		s = &r->side[i];
		s->r = r;
		s->idx = i;
		s->label = relay_side_label[i];
		s->fd = -1;
		/* Kept by the endpoint, not copied. */
		s->ep = endpoint_new(r->base, &r->o.side[i], r->o.name,
		    s->label, relay_side_up, relay_side_down, s);
		if (s->ep == NULL)
			goto nomem;

		d = &r->dir[i];
		d->r = r;
		d->idx = i;
		d->tag = i == SIDE_HOST ? KDTRACE_DEBUGGER : KDTRACE_TARGET;
		d->name = relay_dir_name[i];
		/* Room for a packet held by auto detection, and more. */
		if (relay_dir_alloc(d, o->bufsize > 2 * STREAM_SLACK ?
		    o->bufsize : 2 * STREAM_SLACK) != 0)
			goto nomem;
		if ((d->idle = evtimer_new(r->base, relay_idle_cb, d)) == NULL)
			goto nomem;
		if ((d->hold = evtimer_new(r->base, relay_hold_cb, d)) == NULL)
			goto nomem;
		if ((d->quiet = evtimer_new(r->base, relay_quiet_cb, d)) ==
		    NULL)
			goto nomem;
		if (stream_init(&d->st, o->side[i].crlf, 0, o->validate,
		    relay_stream_event, relay_stream_switch, d) != 0)
			goto nomem;
	}
	if (o->target_shutdown && o->validate) {
		r->tsd = &r->tsd_mem;
		tsd_init(r->tsd);
		if ((r->tsd_ev = evtimer_new(r->base, relay_tsd_cb, r)) == NULL)
			goto nomem;
	}
	relay_publish(r);
	return r;

nomem:
	snprintf(err, errlen, "%s: out of memory", o->name);
	relay_free(r);
	return NULL;
}

static void *
relay_main(void *arg)
{
	struct relay	*r = arg;
	pthread_attr_t	 attr;
	void		*lo;
	size_t		 size;

	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &lo, &size) == 0)
			r->stack_lo = (uintptr_t)lo;
		pthread_attr_destroy(&attr);
	}
	event_base_loop(r->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/*
 * Give back the pair thread's stack pages below the caller's frame.  Its
 * steady work (a read, the repair, the parser's events) stays within two
 * pages; a tty claim's walk of /proc or a log line's formatting goes a
 * page or two deeper now and then, and a thousand threads would each keep
 * those pages for good.  Called from the pair's thread where its stack is
 * shallow: a side come up, the idle timer.
 */
void __attribute__((noinline))
relay_stack_trim(struct relay *r)
{
	uintptr_t	here = (uintptr_t)__builtin_frame_address(0);
	uintptr_t	end = (here - STACK_KEEP) & ~((uintptr_t)getpagesize() - 1);

	/* Only on its own stack: not before it runs, nor from another. */
	if (r->stack_lo == 0 || here < r->stack_lo ||
	    here - r->stack_lo > STACK_SIZE)
		return;
	if (end > r->stack_lo)
		madvise((void *)r->stack_lo, end - r->stack_lo, MADV_DONTNEED);
}

static int
cantcreate(struct relay *r, const char *what, const char *why, char *err,
    size_t errlen)
{
	snprintf(err, errlen, "%s: %s %s", r->o.name, what, why);
	return EXIT_CANTCREAT;
}

int
relay_start(struct relay *r, char *err, size_t errlen)
{
	sigset_t	all, old;
	pthread_attr_t	attr;
	char		why[PATH_MAX + 64];
	int		i, rc;

	if (r->o.packet_log[0] != '\0' &&
	    (r->pktlog = pktlog_open(r->o.packet_log, why, sizeof why)) == NULL)
		return cantcreate(r, "packet log", why, err, errlen);
	if (r->o.capture[0] != '\0' &&
	    (r->capture = capture_open(r->o.capture, why, sizeof why)) == NULL)
		return cantcreate(r, "capture", why, err, errlen);
	relay_listen(r);
	for (i = 0; i < 2; i++) {
		if (endpoint_start(r->side[i].ep, err, errlen) != 0)
			return EXIT_UNAVAIL;
	}
	relay_publish(r);

	/* Signals belong to the main thread, never to a pair's. */
	sigfillset(&all);
	pthread_attr_init(&attr);
	/* Not the default 8 MiB each: a thousand pairs are a thousand. */
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&r->thread, &attr, relay_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot start thread: %s", r->o.name,
		    strerror(rc));
		return EXIT_OSERR;
	}
	r->started = 1;
	return 0;
}

void
relay_stop(struct relay *r)
{
	if (r == NULL || !r->started)
		return;
	event_active(r->stop_ev, 0, 0);
	pthread_join(r->thread, NULL);
	r->started = 0;
	relay_publish(r);
	relay_req_abandon(r);
}

void
relay_free(struct relay *r)
{
	int	i;

	if (r == NULL)
		return;
	relay_stop(r);
	for (i = 0; i < 2; i++) {
		if (r->side[i].rd != NULL)
			event_free(r->side[i].rd);
		if (r->side[i].wr != NULL)
			event_free(r->side[i].wr);
		if (r->side[i].ep != NULL)
			endpoint_free(r->side[i].ep);
		if (r->dir[i].hold != NULL)
			event_free(r->dir[i].hold);
		if (r->dir[i].quiet != NULL)
			event_free(r->dir[i].quiet);
		if (r->dir[i].idle != NULL)
			event_free(r->dir[i].idle);
		relay_dir_free(&r->dir[i]);
		stream_free(&r->dir[i].st);
	}
	if (r->stop_ev != NULL)
		event_free(r->stop_ev);
	if (r->report_ev != NULL)
		event_free(r->report_ev);
	if (r->stuck != NULL)
		event_free(r->stuck);
	if (r->req_ev != NULL)
		event_free(r->req_ev);
	relay_req_abandon(r);
	free(r->watch);
	if (r->tsd_ev != NULL)
		event_free(r->tsd_ev);
	if (r->base != NULL)
		event_base_free(r->base);
	pktlog_close(r->pktlog);
	capture_close(r->capture);
	pthread_mutex_destroy(&r->lock);
	munmap(r, sizeof *r);
}

int
relay_is_spent(struct relay *r)
{
	return endpoint_spent(r->side[0].ep) || endpoint_spent(r->side[1].ep);
}

int
relay_is_up(struct relay *r)
{
	return endpoint_is_up(r->side[0].ep) && endpoint_is_up(r->side[1].ep);
}

const struct pair_opts *
relay_get_opts(const struct relay *r)
{
	return &r->o;
}
