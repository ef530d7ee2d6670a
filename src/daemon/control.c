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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "control.h"
#include "control_impl.h"
#include "crlf.h"
#include "ctlproto.h"
#include "endpoint.h"
#include "kdcom.h"
#include "linering.h"
#include "log.h"
#include "relay.h"
#include "sock.h"

#define OUT_LOW		(16 * 1024)
#define CONTROL_BACKLOG	64

/* ---- replies ---- */

void
client_reply(struct client *cl, const char *fmt, ...)
{
	va_list	ap;

	if (cl->bev == NULL)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(cl->bev), fmt, ap);
	va_end(ap);
}

/* The request is answered: OK or ERR, then the next one, if any. */
void
client_finish(struct client *cl, int ok, const char *code, const char *fmt, ...)
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
		client_reply(cl, "OK%s%s\n", *text != '\0' ? " " : "", text);
	else
		client_reply(cl, "ERR %s %s\n", code, text);
	cl->busy = 0;
	if (cl->gone == 1)
		client_close(cl);
	else if (cl->gone == 0)
		client_next(cl);
	/* gone == 2: closed once the reply is flushed (client_write_cb) */
}

/* ---- clients ---- */

/* Free a client whose requests are all back; stop watching first. */
void
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
		return;			/* ctlreq_done_cb comes back */
	if (cl->ring != NULL && cl->wrelay != NULL &&
	    ctlreq_is_running(c, cl->wrelay) &&
	    (q = calloc(1, sizeof *q)) != NULL) {
		/* The pair writes into the ring until it has read this. */
		q->kind = RELAY_REQ_UNWATCH;
		q->ring = cl->ring;
		q->done = ctlreq_done;
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
void
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
				client_reply(cl, "ERR usage request "
				    "longer than %d bytes\n", CTL_LINE_MAX);
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
			client_finish(cl, 0, "usage", "%s", err + (strncmp(err,
			    "usage: ", 7) == 0 ? 7 : 0));
			continue;
		}
		free(line);
		ctlreq_run(cl);
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
		ctlreq_watch_pump(cl);
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

/*
 * Root, our own user, or a process in the socket's group: its own groups
 * as the kernel has them (SO_PEERGROUPS), not the group file's members,
 * so that a process that dropped the group is out and one given it is in.
 */
static int
allowed(struct control *c, int fd, const struct ucred *cr)
{
	gid_t		 small[64], *g = small;
	socklen_t	 len = sizeof small;
	size_t		 i;
	int		 ok = 0;

	if (cr->uid == 0 || cr->uid == geteuid())
		return 1;
	if (!c->has_group)
		return 0;
	if (cr->gid == c->gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1 &&
	    (errno != ERANGE || (g = malloc(len)) == NULL ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1))
		len = 0;
	for (i = 0; i < len / sizeof *g && !ok; i++)
		ok = g[i] == c->gid;
	if (g != small)
		free(g);
	return ok;
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
	    !allowed(c, fd, &cr)) {
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

/*
 * Members of gid reach path only if every directory above it lets them
 * search it: say which one does not (kdrelayd makes a missing one 0700; a
 * unit's runtime directory needs RuntimeDirectoryMode=0750 and Group=).
 */
static void
check_reach(const char *path, const char *group, gid_t gid)
{
	char		dir[PATH_MAX], *s;
	struct stat	st;

	snprintf(dir, sizeof dir, "%s", path);
	while ((s = strrchr(dir, '/')) != NULL && s != dir) {
		*s = '\0';
		if (stat(dir, &st) == -1 || (st.st_mode & S_IXOTH) ||
		    (st.st_gid == gid && (st.st_mode & S_IXGRP)))
			continue;
		log_warn("control: group %s cannot reach %s: %s is mode %04o, "
		    "group %u", group, path, dir,
		    (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
		return;
	}
}

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
		check_reach(path, group, g->gr_gid);
	}
	c->accept_ev = event_new(base, c->ls.fd, EV_READ | EV_PERSIST,
	    accept_cb, c);
	c->done_ev = event_new(base, -1, 0, ctlreq_done_cb, c);
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
	for (q = ctlreq_done_take(c); q != NULL; q = next) {
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
