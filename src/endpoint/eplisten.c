/*
 * eplisten.c - unix-listen and tcp-listen endpoints: one client at a time.
 *
 * The listening socket (sock.c's, by the daemon's rules) stays open for
 * the endpoint's whole life; the relay gets each client's fd through the
 * up callback.  A second client while one is connected is accepted and
 * closed at once: KDCOM is point to point and a second debugger on the
 * line would corrupt both sessions.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "endpoint_backend.h"
#include "errbuf.h"
#include "log.h"
#include "sock.h"

#define PAUSE_S		1	/* after EMFILE: let fds free up */

struct eplisten {
	struct endpoint		*ep;
	struct sock_listener	 sl;
	struct event		*ev_accept;
	struct event		*ev_pause;
	uint64_t		 refused;	/* during the current client */
	int			 warned;
};

static void
pause_cb(evutil_socket_t fd, short what, void *arg)
{
	struct eplisten	*l = arg;

	(void)fd;
	(void)what;
	event_add(l->ev_accept, NULL);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct eplisten		*l = arg;
	struct endpoint		*ep = l->ep;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct timeval		 tv = { PAUSE_S, 0 };
	char			 peer[NI_MAXHOST + NI_MAXSERV + 8];
	int			 s;

	(void)what;
	for (;;) {
		len = sizeof ss;
		s = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* EMFILE and friends: level-triggered, would spin. */
			if (!l->warned)
				log_warn("%s: accept: %s; pausing", endpoint_name(ep),
				    strerror(errno));
			l->warned = 1;
			event_del(l->ev_accept);
			evtimer_add(l->ev_pause, &tv);
			return;
		}
		l->warned = 0;
		sock_peer_text(s, &ss, len, peer, sizeof peer);
		if (endpoint_fd(ep) != -1) {
			close(s);
			if (l->refused++ == 0)
				log_notice("%s: refused a second client (%s): "
				    "one client at a time", endpoint_name(ep),
				    peer);
			continue;
		}
		if (ss.ss_family != AF_UNIX)
			sock_nodelay(s);
		l->refused = 0;
		log_notice("%s: client connected (%s)", endpoint_name(ep), peer);
		endpoint_set_status(ep, EP_UP, l->sl.where,
		    "client connected on %s", l->sl.where);
		endpoint_attach(ep, s);
		return;			/* a backlog comes on the next call */
	}
}

void
eplisten_free(struct eplisten *l)
{
	if (l == NULL)
		return;
	if (l->ev_accept != NULL)
		event_free(l->ev_accept);
	if (l->ev_pause != NULL)
		event_free(l->ev_pause);
	sock_listener_close(&l->sl);
	free(l);
}

struct eplisten *
eplisten_new(struct endpoint *ep, enum ep_kind kind, const char *where,
    const char *port, int allow_remote, char *err, size_t errlen)
{
	struct eplisten	*l;
	int		 r;

	if ((l = calloc(1, sizeof *l)) == NULL) {
		errf(err, errlen, "%s: out of memory", endpoint_name(ep));
		return NULL;
	}
	l->ep = ep;
	l->sl.fd = -1;
	if (kind == EP_UNIX_LISTEN)
		r = sock_listen_unix(&l->sl, where, 0600, endpoint_name(ep),
		    err, errlen);
	else
		r = sock_listen_tcp(&l->sl, where, port, allow_remote,
		    endpoint_name(ep), err, errlen);
	if (r == 0) {
		l->ev_accept = event_new(endpoint_base(ep), l->sl.fd,
		    EV_READ | EV_PERSIST, accept_cb, l);
		l->ev_pause = evtimer_new(endpoint_base(ep), pause_cb, l);
		if (l->ev_accept == NULL || l->ev_pause == NULL ||
		    event_add(l->ev_accept, NULL) == -1)
			r = errf(err, errlen, "%s: cannot add events",
			    endpoint_name(ep));
	}
	if (r == -1) {
		eplisten_free(l);
		return NULL;
	}
	log_notice("%s: listening on %s", endpoint_name(ep), l->sl.where);
	endpoint_set_status(ep, EP_LISTENING, l->sl.where, "listening on %s",
	    l->sl.where);
	return l;
}

void
eplisten_lost(struct eplisten *l, const char *why)
{
	struct endpoint	*ep = l->ep;

	if (l->refused > 1)
		log_notice("%s: client left (%s); %llu more clients were "
		    "refused meanwhile; listening", endpoint_name(ep), why,
		    (unsigned long long)(l->refused - 1));
	else
		log_notice("%s: client left (%s); listening",
		    endpoint_name(ep), why);
	l->refused = 0;
	endpoint_set_status(ep, EP_LISTENING, l->sl.where, "listening on %s",
	    l->sl.where);
}

/* ---- unix-listen:PATH, tcp-listen:HOST:PORT ---- */

static void
listen_stop(struct endpoint *ep)
{
	eplisten_free(endpoint_data(ep));
	endpoint_set_data(ep, NULL);
}

static int
listen_start(struct endpoint *ep, char *err, size_t errlen)
{
	const struct ep_spec	*sp = endpoint_spec(ep);
	struct eplisten		*l;

	l = eplisten_new(ep, sp->kind, sp->kind == EP_UNIX_LISTEN ? sp->path :
	    sp->host, sp->port, sp->allow_remote, err, errlen);
	if (l == NULL)
		return -1;
	endpoint_set_data(ep, l);
	return 0;
}

static void
listen_lost(struct endpoint *ep, const char *why, int stable)
{
	(void)stable;
	eplisten_lost(endpoint_data(ep), why);
}

const struct ep_backend ep_backend_listen = {
	.start = listen_start,
	.lost = listen_lost,
	.stop = listen_stop,
};
