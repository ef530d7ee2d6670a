/*
 * control.c - the control socket: one client at a time per connection,
 * one request at a time per client, served from the main loop.
 *
 * A request for a pair becomes relay_reqs handed to the pair's thread;
 * their answers come back through done_q and done_ev, and the reply is
 * written when the last one is in.  A client that goes away meanwhile is
 * kept (gone) until then.  Watchers get the pair's packet-log lines
 * through a linering the pair fills without waiting: when this client's
 * output is full we stop taking, the ring fills, and the pair drops lines
 * and counts them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "control.h"
#include "crlf.h"
#include "ctlproto.h"
#include "endpoint.h"
#include "kdcom.h"
#include "linering.h"
#include "log.h"
#include "relay.h"
#include "sock.h"

#define RING_SIZE	(256 * 1024)	/* per watcher */
#define WATCH_OUT_MAX	(64 * 1024)	/* queued to a watcher's socket */
#define OUT_LOW		(16 * 1024)
#define CONTROL_BACKLOG	64

struct client {
	struct control		*c;
	struct bufferevent	*bev;
	uid_t			 uid;
	int			 gone;		/* closed, answers still out */
	int			 busy;		/* a request is in progress */
	int			 eof;		/* no more requests will come */
	struct client		*next;

	/* The request in progress. */
	struct ctl_req		*req;
	int			 pending;	/* relay_reqs out */
	int			 nfail;
	int			 nfiles;
	char			 msg[PATH_MAX + 256];

	/* watch */
	struct relay		*wrelay;
	struct linering		*ring;
	struct event		*ring_ev;
	uint64_t		 wdropped;
	int			 watching;
};

struct control {
	struct event_base	*base;
	const struct control_ops *ops;
	void			*arg;
	struct sock_listener	 ls;
	int			 has_group;
	gid_t			 gid;
	struct event		*accept_ev;
	struct client		*clients;

	pthread_mutex_t		 lock;		/* done_q */
	struct relay_req	*done_q;
	struct event		*done_ev;
};

static void	client_next(struct client *);
static void	client_close(struct client *);

/* ---- replies ---- */

static void
reply(struct client *cl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply(struct client *cl, const char *fmt, ...)
{
	va_list	ap;

	if (cl->bev == NULL)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(cl->bev), fmt, ap);
	va_end(ap);
}

/* A data line whose value is a string. */
static void
put_str(struct client *cl, const char *key, const char *v)
{
	char	q[2 * CTL_WORD_MAX];

	ctl_json_string(v, q, sizeof q);
	reply(cl, ". %s %s\n", key, q);
}

static void
put_u64(struct client *cl, const char *key, uint64_t v)
{
	reply(cl, ". %s %llu\n", key, (unsigned long long)v);
}

/* A wall-clock time in seconds, null when never. */
static void
put_time(struct client *cl, const char *key, double t)
{
	if (t > 0)
		reply(cl, ". %s %.3f\n", key, t);
	else
		reply(cl, ". %s null\n", key);
}

static void
put_bool(struct client *cl, const char *key, int v)
{
	reply(cl, ". %s %s\n", key, v ? "true" : "false");
}

/* The request is answered: OK or ERR, then the next one, if any. */
static void
finish(struct client *cl, int ok, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
finish(struct client *cl, int ok, const char *code, const char *fmt, ...)
{
	char	text[PATH_MAX + 512];
	va_list	ap;
	size_t	i;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	for (i = 0; text[i] != '\0'; i++) {	/* one line, whatever it quotes */
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '?';
	}
	if (ok)
		reply(cl, "OK%s%s\n", *text != '\0' ? " " : "", text);
	else
		reply(cl, "ERR %s %s\n", code, text);
	cl->busy = 0;
	if (cl->gone == 1)
		client_close(cl);
	else if (cl->gone == 0)
		client_next(cl);
	/* gone == 2: closed once the reply is flushed (client_write_cb) */
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

static int
is_running(struct control *c, struct relay *r)
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
static void
req_done(struct relay_req *q)
{
	struct control	*c = ((struct client *)q->arg)->c;

	pthread_mutex_lock(&c->lock);
	q->next = c->done_q;
	c->done_q = q;
	pthread_mutex_unlock(&c->lock);
	event_active(c->done_ev, 0, 0);
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
	q->done = req_done;
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
		finish(cl, 1, NULL, "%zu pair%s", n, n == 1 ? "" : "s");
		return;
	}
	for (i = 0; i < cl->req->nargs; i++) {
		if ((r = find_pair(cl->c, cl->req->args[i])) == NULL) {
			finish(cl, 0, "nopair", "pair %s stopped meanwhile",
			    cl->req->args[i]);
			return;
		}
		put_pair(cl, r);
	}
	finish(cl, 1, NULL, "%zu pair%s", cl->req->nargs,
	    cl->req->nargs == 1 ? "" : "s");
}

/* ---- watch ---- */

static void
watch_pump(struct client *cl)
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
		watch_pump(cl);
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
			finish(cl, 0, "denied", "only root may name a path; "
			    "give a file name (it goes in %s)", dir);
			return -1;
		}
		if (snprintf(path, len, "%s/%s", dir, file) >= (int)len)
			goto toolong;
	} else if (file[0] != '/') {
		finish(cl, 0, "usage", "capture: an absolute path, please");
		return -1;
	} else if (snprintf(path, len, "%s", file) >= (int)len)
		goto toolong;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		finish(cl, 0, "failed", "%s: exists and is not a regular "
		    "file", path);
		return -1;
	}
	return 0;
toolong:
	finish(cl, 0, "usage", "capture: path too long");
	return -1;
}

static void
do_request(struct client *cl)
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
			finish(cl, 0, "nopair", "no pair named %s",
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
		finish(cl, 1, NULL, "%s", "");
		return;
	case CTL_PAIRS:
		all = c->ops->pairs(c->arg, &n);
		for (i = 0; i < n; i++) {
			char	key[PAIR_NAME_MAX + 8];

			snprintf(key, sizeof key, "pair/%zu", i);
			put_str(cl, key, relay_get_opts(all[i])->name);
		}
		finish(cl, 1, NULL, "%zu pair%s", n, n == 1 ? "" : "s");
		return;
	case CTL_STATUS:
		for (i = 0; i < q->nargs; i++) {
			if (find_pair(c, q->args[i]) == NULL) {
				finish(cl, 0, "nopair", "no pair named %s",
				    q->args[i]);
				return;
			}
		}
		all = c->ops->pairs(c->arg, &n);
		for (i = 0; i < n; i++)
			submit(cl, all[i], RELAY_REQ_SNAPSHOT, NULL);
		break;
	case CTL_RELOAD:
		if (c->ops->reload(c->arg, cl->msg, sizeof cl->msg) == 0)
			finish(cl, 1, NULL, "%s", cl->msg);
		else
			finish(cl, 0, "failed", "%s", cl->msg);
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
			finish(cl, 0, "failed", "out of memory");
			return;
		}
		cl->wrelay = r;
		submit(cl, r, RELAY_REQ_WATCH, NULL);
		break;
	case CTL_NCMDS:
		break;
	}
	if (cl->pending == 0)		/* no pairs to ask */
		finish(cl, 1, NULL, "0 pairs");
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
			finish(cl, 0, "failed", "%s", cl->msg);
		else
			finish(cl, 1, NULL, "%d file%s reopened", cl->nfiles,
			    cl->nfiles == 1 ? "" : "s");
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
			finish(cl, 0, "failed", "%s", cl->msg);
			break;
		}
		cl->watching = 1;
		reply(cl, "OK watching %s\n", cl->req->args[0]);
		watch_pump(cl);
		break;
	default:
		if (cl->nfail > 0)
			finish(cl, 0, cl->req->cmd == CTL_BREAK ? "refused" :
			    "failed", "%s", cl->msg);
		else
			finish(cl, 1, NULL, "%s", cl->msg);
	}
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control		*c = arg;
	struct relay_req	*q, *next;
	struct client		*cl;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&c->lock);
	q = c->done_q;
	c->done_q = NULL;
	pthread_mutex_unlock(&c->lock);
	for (; q != NULL; q = next) {
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

/* ---- clients ---- */

/* Free a client whose requests are all back; stop watching first. */
static void
client_close(struct client *cl)
{
	struct control	*c = cl->c;
	struct client	**pp;
	struct relay_req *q;

	cl->gone = 1;
	if (cl->ring != NULL) {		/* drops it was not told of yet */
		uint64_t	dropped;
		int		closed;
		char		none;

		linering_take(cl->ring, &none, 0, &dropped, &closed);
		cl->wdropped += dropped;
	}
	if (cl->bev != NULL) {
		bufferevent_free(cl->bev);
		cl->bev = NULL;
	}
	if (cl->pending > 0)
		return;			/* done_cb comes back */
	if (cl->ring != NULL && cl->wrelay != NULL &&
	    is_running(c, cl->wrelay) && (q = calloc(1, sizeof *q)) != NULL) {
		/* The pair writes into the ring until it has read this. */
		q->kind = RELAY_REQ_UNWATCH;
		q->ring = cl->ring;
		q->done = req_done;
		q->arg = cl;
		cl->ring = NULL;
		cl->pending++;
		relay_submit(cl->wrelay, q);
		cl->wrelay = NULL;
		return;
	}
	if (cl->watching || cl->wdropped > 0)
		log_info("control: a watcher left; %llu lines dropped for it",
		    (unsigned long long)cl->wdropped);
	linering_free(cl->ring);
	if (cl->ring_ev != NULL)
		event_free(cl->ring_ev);
	for (pp = &c->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	free(cl->req);
	free(cl);
}

/* Serve the next request line, if one is there. */
static void
client_next(struct client *cl)
{
	struct evbuffer	*in = bufferevent_get_input(cl->bev);
	char		*line, err[256];
	size_t		 len;

	while (!cl->busy && !cl->watching && !cl->gone) {
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL && cl->eof && evbuffer_get_length(in) > 0 &&
		    evbuffer_get_length(in) <= CTL_LINE_MAX) {
			/* The last request may end without a newline. */
			len = evbuffer_get_length(in);
			if ((line = malloc(len + 1)) != NULL) {
				evbuffer_remove(in, line, len);
				line[len] = '\0';
			}
		}
		if (line == NULL) {
			if (evbuffer_get_length(in) > CTL_LINE_MAX) {
				reply(cl, "ERR usage request longer than %d "
				    "bytes\n", CTL_LINE_MAX);
				cl->gone = 2;
			} else if (cl->eof)
				cl->gone = 2;
			if (cl->gone == 2 && evbuffer_get_length(
			    bufferevent_get_output(cl->bev)) == 0)
				client_close(cl);
			return;
		}
		if (len > 0 && line[len - 1] == '\r')
			len--;
		cl->busy = 1;
		if (ctl_parse(line, len, cl->req, err, sizeof err) != 0) {
			free(line);
			finish(cl, 0, "usage", "%s", err + (strncmp(err,
			    "usage: ", 7) == 0 ? 7 : 0));
			continue;
		}
		free(line);
		do_request(cl);
	}
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client	*cl = arg;

	if (cl->watching) {		/* nothing more to ask */
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	client_next(cl);
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client	*cl = arg;

	if (cl->watching)
		watch_pump(cl);
	if (cl->gone == 2 && evbuffer_get_length(bufferevent_get_output(bev))
	    == 0)
		client_close(cl);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client	*cl = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		/* EOF: answer what was asked, then close. */
		if ((what & BEV_EVENT_EOF) && !cl->watching && !cl->gone) {
			bufferevent_disable(bev, EV_READ);
			cl->eof = 1;
			if (!cl->busy)
				client_next(cl);
			return;
		}
		client_close(cl);
	}
}

/* Root, our own user, or the socket's group. */
static int
allowed(struct control *c, const struct ucred *cr)
{
	struct group	*g;
	struct passwd	*pw;
	size_t		 i;

	if (cr->uid == 0 || cr->uid == geteuid())
		return 1;
	if (!c->has_group)
		return 0;
	if (cr->gid == c->gid)
		return 1;
	/* A supplementary member: the group file's list (local, no NSS
	 * round trip for the usual /etc/group). */
	if ((g = getgrgid(c->gid)) == NULL || g->gr_mem == NULL ||
	    (pw = getpwuid(cr->uid)) == NULL)
		return 0;
	for (i = 0; g->gr_mem[i] != NULL; i++) {
		if (strcmp(g->gr_mem[i], pw->pw_name) == 0)
			return 1;
	}
	return 0;
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct control	*c = arg;
	struct client	*cl;
	struct ucred	 cr;
	socklen_t	 len = sizeof cr;
	int		 fd;
	static const char denied[] = "ERR denied only root or the control "
	    "socket's group may use it\n";

	(void)what;
	memset(&cr, 0, sizeof cr);
	cr.uid = (uid_t)-1;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    !allowed(c, &cr)) {
		log_notice("control: refused uid %u (pid %d): not root%s",
		    (unsigned)cr.uid, (int)cr.pid, c->has_group ?
		    " nor in the socket's group" : "");
		/* It may have gone already: nothing to do about that. */
		(void)!write(fd, denied, sizeof denied - 1);
		close(fd);
		return;
	}
	if ((cl = calloc(1, sizeof *cl)) == NULL ||
	    (cl->req = malloc(sizeof *cl->req)) == NULL ||
	    (cl->bev = bufferevent_socket_new(c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warn("control: out of memory for a client");
		if (cl != NULL)
			free(cl->req);
		free(cl);
		close(fd);
		return;
	}
	cl->c = c;
	cl->uid = cr.uid;
	cl->next = c->clients;
	c->clients = cl;
	bufferevent_setcb(cl->bev, client_read_cb, client_write_cb,
	    client_event_cb, cl);
	bufferevent_setwatermark(cl->bev, EV_WRITE, OUT_LOW, 0);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	log_debug("control: client uid %u (pid %d)", (unsigned)cr.uid,
	    (int)cr.pid);
}

/* ---- the socket ---- */

struct control *
control_new(struct event_base *base, const char *path, const char *group,
    const struct control_ops *ops, void *arg)
{
	struct control	*c;
	struct group	*g = NULL;
	char		 err[PATH_MAX + 128];

	if (group != NULL && *group != '\0' && (g = getgrnam(group)) == NULL)
		log_err("control: group %s: no such group; the socket stays "
		    "root's", group);
	if (sock_make_dir(path) == -1) {
		log_err("control: the directory of %s: %s; no control socket",
		    path, strerror(errno));
		return NULL;
	}
	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->base = base;
	c->ops = ops;
	c->arg = arg;
	pthread_mutex_init(&c->lock, NULL);
	/* Made 0600 (0660): no moment where others could connect. */
	if (sock_listen_unix(&c->ls, path, g != NULL ? 0660 : 0600, "control",
	    err, sizeof err) == -1) {
		log_err("%s; no control socket (see --control)", err);
		goto fail;
	}
	/* Room for a burst of scripts (kdrelayctl waits in the queue). */
	listen(c->ls.fd, CONTROL_BACKLOG);
	if (g != NULL) {
		if (chown(path, (uid_t)-1, g->gr_gid) == -1) {
			log_err("control: %s: %s", path, strerror(errno));
			goto fail;
		}
		c->has_group = 1;
		c->gid = g->gr_gid;
	}
	c->accept_ev = event_new(base, c->ls.fd, EV_READ | EV_PERSIST,
	    accept_cb, c);
	c->done_ev = event_new(base, -1, 0, done_cb, c);
	if (c->accept_ev == NULL || c->done_ev == NULL) {
		log_err("control: out of memory");
		goto fail;
	}
	event_add(c->accept_ev, NULL);
	log_info("control: listening on %s", path);
	return c;
fail:
	control_free(c);
	return NULL;
}

void
control_free(struct control *c)
{
	struct relay_req	*q, *next;

	if (c == NULL)
		return;
	/* The pairs have stopped: whatever they answered is here. */
	pthread_mutex_lock(&c->lock);
	q = c->done_q;
	c->done_q = NULL;
	pthread_mutex_unlock(&c->lock);
	for (; q != NULL; q = next) {
		next = q->next;
		((struct client *)q->arg)->pending--;
		if (q->kind == RELAY_REQ_UNWATCH)
			linering_free(q->ring);
		free(q);
	}
	while (c->clients != NULL) {
		c->clients->pending = 0;
		c->clients->wrelay = NULL;
		client_close(c->clients);
	}
	if (c->accept_ev != NULL)
		event_free(c->accept_ev);
	if (c->done_ev != NULL)
		event_free(c->done_ev);
	sock_listener_close(&c->ls);	/* unlinks it if still ours */
	pthread_mutex_destroy(&c->lock);
	free(c);
}
