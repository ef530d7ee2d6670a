/*
 * ctlreq.c - what each control request does: the pairs' state as data
 * lines, break, capture, reopen, reload, watch.  A request for a pair
 * becomes relay_reqs for the pair's thread; their answers come back to
 * this loop (ctlreq_done_cb) and the reply goes out when the last is in.
 */
#include <sys/stat.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "control_impl.h"
#include "crlf.h"
#include "ctlproto.h"
#include "endpoint.h"
#include "kdcom.h"
#include "linering.h"
#include "relay.h"

#define RING_SIZE	(256 * 1024)	/* per watcher */
#define WATCH_OUT_MAX	(64 * 1024)	/* queued to a watcher's socket */

/* ---- data lines ---- */

/* A data line whose value is a string. */
static void
put_str(struct client *cl, const char *key, const char *v)
{
	char	q[2 * CTL_WORD_MAX];

	ctl_json_string(v, q, sizeof q);
	client_reply(cl, ". %s %s\n", key, q);
}

static void
put_u64(struct client *cl, const char *key, uint64_t v)
{
	client_reply(cl, ". %s %llu\n", key, (unsigned long long)v);
}

/* A wall-clock time in seconds, null when never. */
static void
put_time(struct client *cl, const char *key, double t)
{
	if (t > 0)
		client_reply(cl, ". %s %.3f\n", key, t);
	else
		client_reply(cl, ". %s null\n", key);
}

static void
put_bool(struct client *cl, const char *key, int v)
{
	client_reply(cl, ". %s %s\n", key, v ? "true" : "false");
}

/* ---- the pairs ---- */

static struct relay *
find_pair(struct control *c, const char *name)
{
	struct relay	**all;
	size_t		  n, i;

	all = c->ops->pairs(c->arg, &n);
	for (i = 0; i < n; i++) {
		if (strcmp(relay_get_opts(all[i])->name, name) == 0)
			return all[i];
	}
	return NULL;
}

int
ctlreq_is_running(struct control *c, struct relay *r)
{
	struct relay	**all;
	size_t		  n, i;

	all = c->ops->pairs(c->arg, &n);
	for (i = 0; i < n; i++) {
		if (all[i] == r)
			return 1;
	}
	return 0;
}

/* From any thread: hand q back to the main loop. */
void
ctlreq_done(struct relay_req *q)
{
	struct control	*c = ((struct client *)q->arg)->c;

	pthread_mutex_lock(&c->lock);
	q->next = c->done_q;
	c->done_q = q;
	pthread_mutex_unlock(&c->lock);
	event_active(c->done_ev, 0, 0);
}

/* Everything the pairs have handed back so far (a list, newest first). */
struct relay_req *
ctlreq_done_take(struct control *c)
{
	struct relay_req	*q;

	pthread_mutex_lock(&c->lock);
	q = c->done_q;
	c->done_q = NULL;
	pthread_mutex_unlock(&c->lock);
	return q;
}

static int
submit(struct client *cl, struct relay *r, enum relay_req_kind kind,
    const char *path)
{
	struct relay_req	*q;

	if ((q = calloc(1, sizeof *q)) == NULL)
		return -1;
	q->kind = kind;
	if (path != NULL)
		snprintf(q->path, sizeof q->path, "%s", path);
	q->ring = cl->ring;
	q->done = ctlreq_done;
	q->arg = cl;
	cl->pending++;
	relay_submit(r, q);
	return 0;
}

static void
put_side(struct client *cl, struct relay *r, int i)
{
	static const char	*side[2] = { "host", "target" };
	struct endpoint_state	 st;
	char			 k[256];
	const char		*name = relay_get_opts(r)->name;

	relay_side_state(r, i, &st);
	snprintf(k, sizeof k, "%s/%s/endpoint", name, side[i]);
	put_str(cl, k, relay_get_opts(r)->side[i].text);
	snprintf(k, sizeof k, "%s/%s/state", name, side[i]);
	put_str(cl, k, ep_state_name(st.state));
	snprintf(k, sizeof k, "%s/%s/what", name, side[i]);
	put_str(cl, k, st.what);
	snprintf(k, sizeof k, "%s/%s/status", name, side[i]);
	put_str(cl, k, st.text);
	snprintf(k, sizeof k, "%s/%s/since", name, side[i]);
	put_time(cl, k, (double)st.since);
	snprintf(k, sizeof k, "%s/%s/backoff_ms", name, side[i]);
	put_u64(cl, k, st.backoff_ms);
}

static void
put_dir(struct client *cl, struct relay *r, int i,
    const struct relay_dir_stats *st)
{
	static const char		*dir[2] = { "host->target",
					    "target->host" };
	const struct kd_counters	*kd = &st->s.kd;
	const char			*name = relay_get_opts(r)->name;
	enum crlf_mode			 mode = relay_get_opts(r)->side[i].crlf;
	const char			*p = dir[i];
	char				 k[256];
	int				 t;
	const struct { const char *n; uint64_t v; } c[] = {
		{ "bytes_in", st->s.bytes_in },
		{ "bytes_out", st->written },
		{ "packets", kd->data + kd->control },
		{ "cr_removed", st->s.cr_removed },
		{ "dropped", st->dropped },
		{ "reconnects", st->reconnects },
		{ "breakins_injected", st->breaks_sent },
		{ "target_shutdowns", st->shutdowns },
		{ "shutdown_packets_injected", st->injected },
		{ "data", kd->data },
		{ "control", kd->control },
		{ "breakins", kd->breakins },
		{ "resends", kd->resends },
		{ "resets", kd->resets },
		{ "bad_checksum", kd->bad_checksum },
		{ "bad_trailer", kd->bad_trailer },
		{ "bad_type", kd->bad_type },
		{ "oversize", kd->oversize },
		{ "garbage_bytes", kd->garbage },
	};
	size_t				 j;

	snprintf(k, sizeof k, "%s/%s/repair", name, p);
	put_str(cl, k, crlf_mode_name(mode));
	snprintf(k, sizeof k, "%s/%s/repairing", name, p);
	put_bool(cl, k, st->repairing);
	snprintf(k, sizeof k, "%s/%s/detected", name, p);
	put_bool(cl, k, mode == CRLF_AUTO && st->decided);
	snprintf(k, sizeof k, "%s/%s/last_rx", name, p);
	put_time(cl, k, st->last_rx);
	for (j = 0; j < sizeof c / sizeof c[0]; j++) {
		snprintf(k, sizeof k, "%s/%s/%s", name, p, c[j].n);
		put_u64(cl, k, c[j].v);
	}
	for (t = 1; t < KD_TYPE_MAX; t++) {
		snprintf(k, sizeof k, "%s/%s/type/%s", name, p,
		    kd_type_name(t));
		put_u64(cl, k, kd->packets[t]);
	}
}

static void
put_pair(struct client *cl, struct relay *r)
{
	struct relay_dir_stats	st[2];
	char			k[PAIR_NAME_MAX + 64];
	int			i;

	relay_get_stats(r, st);
	snprintf(k, sizeof k, "%s/validate", relay_get_opts(r)->name);
	put_bool(cl, k, relay_get_opts(r)->validate);
	for (i = 0; i < 2; i++)
		put_side(cl, r, i);
	for (i = 0; i < 2; i++)
		put_dir(cl, r, i, &st[i]);
}

/* All snapshots are in: the pairs asked for that still run. */
static void
status_reply(struct client *cl)
{
	struct relay	**all, *r;
	size_t		  n, i;

	if (cl->req->nargs == 0) {
		all = cl->c->ops->pairs(cl->c->arg, &n);
		for (i = 0; i < n; i++)
			put_pair(cl, all[i]);
		client_finish(cl, 1, NULL, "%zu pair%s", n, n == 1 ? "" : "s");
		return;
	}
	for (i = 0; i < cl->req->nargs; i++) {
		if ((r = find_pair(cl->c, cl->req->args[i])) == NULL) {
			client_finish(cl, 0, "nopair", "pair %s stopped "
			    "meanwhile", cl->req->args[i]);
			return;
		}
		put_pair(cl, r);
	}
	client_finish(cl, 1, NULL, "%zu pair%s", cl->req->nargs,
	    cl->req->nargs == 1 ? "" : "s");
}

/* ---- watch ---- */

void
ctlreq_watch_pump(struct client *cl)
{
	struct evbuffer	*out = bufferevent_get_output(cl->bev);
	char		 buf[32 * 1024];
	uint64_t	 dropped;
	size_t		 n;
	int		 closed = 0;

	while (evbuffer_get_length(out) < WATCH_OUT_MAX) {
		n = linering_take(cl->ring, buf, sizeof buf, &dropped, &closed);
		if (n > 0)
			evbuffer_add(out, buf, n);
		if (dropped > 0) {
			cl->wdropped += dropped;
			evbuffer_add_printf(out, "# %llu lines dropped: this "
			    "watcher reads too slowly (%llu in all)\n",
			    (unsigned long long)dropped,
			    (unsigned long long)cl->wdropped);
		}
		if (closed) {
			evbuffer_add_printf(out, "# the pair stopped\n");
			cl->wrelay = NULL;	/* its thread has let go */
			cl->watching = 0;
			bufferevent_disable(cl->bev, EV_READ);
			cl->gone = 2;		/* close once flushed */
			return;
		}
		if (n == 0)
			return;
	}
}

static void
ring_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*cl = arg;

	(void)fd;
	(void)what;
	/* The client may have left, its ring on the way back from the
	 * pair (client_close): nothing to pump into. */
	if (cl->watching && cl->bev != NULL && cl->ring != NULL)
		ctlreq_watch_pump(cl);
}

/* ---- requests ---- */

/* A capture file must be a new or a regular file, not a link. */
static int
capture_path(struct client *cl, const char *file, char *path, size_t len)
{
	const char	*dir = cl->c->ops->capture_dir(cl->c->arg);
	struct stat	 st;

	if (cl->uid != 0) {
		/* Not root: a plain name in capture-dir, nowhere else. */
		if (strchr(file, '/') != NULL || file[0] == '.' ||
		    file[0] == '\0') {
			client_finish(cl, 0, "denied", "only root may name a "
			    "path; give a file name (it goes in %s)", dir);
			return -1;
		}
		if (snprintf(path, len, "%s/%s", dir, file) >= (int)len)
			goto toolong;
	} else if (file[0] != '/') {
		client_finish(cl, 0, "usage", "capture: an absolute path, "
		    "please");
		return -1;
	} else if (snprintf(path, len, "%s", file) >= (int)len)
		goto toolong;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		client_finish(cl, 0, "failed", "%s: exists and is not a "
		    "regular file", path);
		return -1;
	}
	return 0;
toolong:
	client_finish(cl, 0, "usage", "capture: path too long");
	return -1;
}

void
ctlreq_run(struct client *cl)
{
	struct control	*c = cl->c;
	struct ctl_req	*q = cl->req;
	struct relay	**all, *r = NULL;
	char		  path[PATH_MAX];
	size_t		  n, i;
	int		  k;

	cl->pending = cl->nfail = cl->nfiles = 0;
	cl->msg[0] = '\0';
	switch (q->cmd) {
	case CTL_WATCH:
	case CTL_BREAK:
	case CTL_CAPTURE:
	case CTL_CAPTURE_STOP:
		if ((r = find_pair(c, q->args[0])) == NULL) {
			client_finish(cl, 0, "nopair", "no pair named %s",
			    q->args[0]);
			return;
		}
		break;
	default:
		break;
	}
	switch (q->cmd) {
	case CTL_HELP:
		for (k = 0; k < CTL_NCMDS; k++) {
			char	key[64];

			snprintf(key, sizeof key, "help/%s", ctl_cmd_name(k));
			put_str(cl, key, ctl_cmd_usage(k));
		}
		client_finish(cl, 1, NULL, "%s", "");
		return;
	case CTL_PAIRS:
		all = c->ops->pairs(c->arg, &n);
		for (i = 0; i < n; i++) {
			char	key[PAIR_NAME_MAX + 8];

			snprintf(key, sizeof key, "pair/%zu", i);
			put_str(cl, key, relay_get_opts(all[i])->name);
		}
		client_finish(cl, 1, NULL, "%zu pair%s", n, n == 1 ? "" : "s");
		return;
	case CTL_STATUS:
		for (i = 0; i < q->nargs; i++) {
			if (find_pair(c, q->args[i]) == NULL) {
				client_finish(cl, 0, "nopair", "no pair named "
				    "%s", q->args[i]);
				return;
			}
		}
		all = c->ops->pairs(c->arg, &n);
		for (i = 0; i < n; i++)
			submit(cl, all[i], RELAY_REQ_SNAPSHOT, NULL);
		break;
	case CTL_RELOAD:
		if (c->ops->reload(c->arg, cl->msg, sizeof cl->msg) == 0)
			client_finish(cl, 1, NULL, "%s", cl->msg);
		else
			client_finish(cl, 0, "failed", "%s", cl->msg);
		return;
	case CTL_REOPEN:
		all = c->ops->pairs(c->arg, &n);
		for (i = 0; i < n; i++)
			submit(cl, all[i], RELAY_REQ_REOPEN, NULL);
		break;
	case CTL_BREAK:
		submit(cl, r, RELAY_REQ_BREAK, NULL);
		break;
	case CTL_CAPTURE:
		if (capture_path(cl, q->args[1], path, sizeof path) != 0)
			return;
		submit(cl, r, RELAY_REQ_CAPTURE, path);
		break;
	case CTL_CAPTURE_STOP:
		submit(cl, r, RELAY_REQ_CAPTURE_STOP, NULL);
		break;
	case CTL_WATCH:
		cl->ring_ev = event_new(c->base, -1, 0, ring_cb, cl);
		if (cl->ring_ev == NULL || (cl->ring = linering_new(RING_SIZE,
		    cl->ring_ev)) == NULL) {
			client_finish(cl, 0, "failed", "out of memory");
			return;
		}
		cl->wrelay = r;
		submit(cl, r, RELAY_REQ_WATCH, NULL);
		break;
	case CTL_NCMDS:
		break;
	}
	if (cl->pending == 0)		/* no pairs to ask */
		client_finish(cl, 1, NULL, "0 pairs");
}

/* Every relay_req of the request is back. */
static void
answered(struct client *cl)
{
	switch (cl->req->cmd) {
	case CTL_STATUS:
		status_reply(cl);
		break;
	case CTL_REOPEN:
		if (cl->nfail > 0)
			client_finish(cl, 0, "failed", "%s", cl->msg);
		else
			client_finish(cl, 1, NULL, "%d file%s reopened",
			    cl->nfiles, cl->nfiles == 1 ? "" : "s");
		break;
	case CTL_WATCH:
		if (cl->nfail > 0) {
			/* Never attached: the pair stopped first, or had no
			 * memory for it.  The connection may ask again. */
			cl->wrelay = NULL;
			linering_free(cl->ring);
			event_free(cl->ring_ev);
			cl->ring = NULL;
			cl->ring_ev = NULL;
			client_finish(cl, 0, "failed", "%s", cl->msg);
			break;
		}
		cl->watching = 1;
		client_reply(cl, "OK watching %s\n", cl->req->args[0]);
		ctlreq_watch_pump(cl);
		break;
	default:
		if (cl->nfail > 0)
			client_finish(cl, 0, cl->req->cmd == CTL_BREAK ?
			    "refused" : "failed", "%s", cl->msg);
		else
			client_finish(cl, 1, NULL, "%s", cl->msg);
	}
}

void
ctlreq_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control		*c = arg;
	struct relay_req	*q, *next;
	struct client		*cl;

	(void)fd;
	(void)what;
	for (q = ctlreq_done_take(c); q != NULL; q = next) {
		next = q->next;
		cl = q->arg;
		if (q->kind == RELAY_REQ_UNWATCH) {
			/* The pair has let go of the ring. */
			linering_free(q->ring);
			free(q);
			cl->pending--;
			if (cl->pending == 0)
				client_close(cl);
			continue;
		}
		if (q->rc != 0) {
			if (cl->nfail++ == 0)
				snprintf(cl->msg, sizeof cl->msg, "%s", q->msg);
		} else {
			if (q->kind == RELAY_REQ_REOPEN)
				cl->nfiles += atoi(q->msg);
			else if (q->msg[0] != '\0')
				snprintf(cl->msg, sizeof cl->msg, "%s", q->msg);
		}
		free(q);
		if (--cl->pending == 0) {
			if (cl->gone == 1)
				client_close(cl);	/* lets go of a ring */
			else
				answered(cl);
		}
	}
}
