/*
 * relayreq.c - requests from other threads (the control socket) run in
 * the pair's own thread: break-in, capture, reopen, watch, a fresh
 * snapshot.  Queued under the pair's lock, run from its loop, answered
 * through the request's done callback.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "endpoint.h"
#include "kdcom.h"
#include "linering.h"
#include "log.h"
#include "pktlog.h"
#include "relay_impl.h"

/* One break-in byte to the target, queued behind what the host sent. */
static void
req_break(struct relay *r, struct relay_req *q)
{
	struct dir	*d = &r->dir[SIDE_HOST];
	char		 st[96];

	if (r->side[SIDE_TARGET].fd == -1) {
		endpoint_status(r->side[SIDE_TARGET].ep, st, sizeof st);
		snprintf(q->msg, sizeof q->msg, "the target side is not "
		    "connected (%s)", st);
		q->rc = -1;
		return;
	}
	if (stream_in_packet(&d->st)) {
		snprintf(q->msg, sizeof q->msg, "the debugger is in the middle "
		    "of sending a packet; try again");
		q->rc = -1;
		return;
	}
	if (relay_dir_room(d) < 1) {
		snprintf(q->msg, sizeof q->msg, "the target is not reading "
		    "(host->target buffer full)");
		q->rc = -1;
		return;
	}
	*relay_dir_end(d) = KD_BREAKIN;
	d->breaks_sent++;
	relay_note(r, "D>T BREAKIN sent by request");
	log_notice("%s: break-in sent to the target (by request)", r->o.name);
	relay_dir_commit(d, 1);
	snprintf(q->msg, sizeof q->msg, "break-in sent to the target");
}

static void
req_capture(struct relay *r, struct relay_req *q)
{
	if (r->capture != NULL) {
		snprintf(q->msg, sizeof q->msg, "already capturing to %s",
		    capture_path(r->capture));
		q->rc = -1;
		return;
	}
	if ((r->capture = capture_open(q->path, q->msg, sizeof q->msg)) ==
	    NULL) {
		q->rc = -1;
		return;
	}
	log_notice("%s: capturing to %s (by request)", r->o.name, q->path);
	snprintf(q->msg, sizeof q->msg, "capturing to %s", q->path);
}

static void
req_capture_stop(struct relay *r, struct relay_req *q)
{
	if (r->capture == NULL) {
		snprintf(q->msg, sizeof q->msg, "not capturing");
		q->rc = -1;
		return;
	}
	snprintf(q->msg, sizeof q->msg, "capture to %s stopped",
	    capture_path(r->capture));
	log_notice("%s: %s (by request)", r->o.name, q->msg);
	capture_close(r->capture);
	r->capture = NULL;
}

/* Packet log and capture anew at their paths (logrotate moved them). */
static void
req_reopen(struct relay *r, struct relay_req *q)
{
	struct capture	*c;
	char		 path[PATH_MAX], err[sizeof q->msg];
	int		 n = 0;

	q->msg[0] = '\0';
	if (r->pktlog != NULL) {
		if (pktlog_reopen(r->pktlog, err, sizeof err) != 0) {
			log_warn("%s: reopen: %s", r->o.name, err);
			snprintf(q->msg, sizeof q->msg, "%s", err);
			q->rc = -1;
		} else
			n++;
	}
	if (r->capture != NULL) {
		snprintf(path, sizeof path, "%s", capture_path(r->capture));
		if ((c = capture_open(path, err, sizeof err)) == NULL) {
			log_warn("%s: reopen: %s", r->o.name, err);
			snprintf(q->msg, sizeof q->msg, "%s", err);
			q->rc = -1;
		} else {
			capture_close(r->capture);
			r->capture = c;
			n++;
		}
	}
	if (q->rc == 0)
		snprintf(q->msg, sizeof q->msg, "%d file%s reopened", n,
		    n == 1 ? "" : "s");
}

static void
req_watch(struct relay *r, struct relay_req *q, int add)
{
	struct linering	**w;
	size_t		  i;

	if (!add) {
		for (i = 0; i < r->nwatch; i++) {
			if (r->watch[i] == q->ring) {
				r->watch[i] = r->watch[--r->nwatch];
				break;
			}
		}
		return;
	}
	if ((w = realloc(r->watch, (r->nwatch + 1) * sizeof *w)) == NULL) {
		snprintf(q->msg, sizeof q->msg, "out of memory");
		q->rc = -1;
		return;
	}
	r->watch = w;
	r->watch[r->nwatch++] = q->ring;
}

static void
req_run(struct relay *r, struct relay_req *q)
{
	q->rc = 0;
	q->msg[0] = '\0';
	switch (q->kind) {
	case RELAY_REQ_SNAPSHOT:
		break;
	case RELAY_REQ_BREAK:
		req_break(r, q);
		break;
	case RELAY_REQ_CAPTURE:
		req_capture(r, q);
		break;
	case RELAY_REQ_CAPTURE_STOP:
		req_capture_stop(r, q);
		break;
	case RELAY_REQ_REOPEN:
		req_reopen(r, q);
		break;
	case RELAY_REQ_WATCH:
		req_watch(r, q, 1);
		break;
	case RELAY_REQ_UNWATCH:
		req_watch(r, q, 0);
		break;
	}
	relay_listen(r);
}

static struct relay_req *
req_take_all(struct relay *r)
{
	struct relay_req	*q;

	pthread_mutex_lock(&r->lock);
	q = r->reqs;
	r->reqs = NULL;
	r->reqs_tail = &r->reqs;
	pthread_mutex_unlock(&r->lock);
	return q;
}

void
relay_req_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay		*r = arg;
	struct relay_req	*q, *next;

	(void)fd;
	(void)what;
	for (q = req_take_all(r); q != NULL; q = next) {
		next = q->next;
		req_run(r, q);
		relay_publish(r);
		q->done(q);
	}
}

void
relay_submit(struct relay *r, struct relay_req *q)
{
	q->next = NULL;
	if (!r->started) {
		req_run(r, q);
		relay_publish(r);
		q->done(q);
		return;
	}
	pthread_mutex_lock(&r->lock);
	*r->reqs_tail = q;
	r->reqs_tail = &q->next;
	pthread_mutex_unlock(&r->lock);
	event_active(r->req_ev, 0, 0);
}

/* The thread is gone: what was asked of it is answered, watchers told. */
void
relay_req_abandon(struct relay *r)
{
	struct relay_req	*q, *next;
	size_t			 i;

	for (q = req_take_all(r); q != NULL; q = next) {
		next = q->next;
		q->rc = -1;
		snprintf(q->msg, sizeof q->msg, "pair %s stopped", r->o.name);
		q->done(q);
	}
	for (i = 0; i < r->nwatch; i++)
		linering_close(r->watch[i]);
	r->nwatch = 0;
}
