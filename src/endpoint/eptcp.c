/*
 * eptcp.c - tcp:HOST:PORT, a connect with asynchronous DNS.
 *
 * A numeric address is used at once; a name is resolved with evdns so the
 * pair's loop never blocks.  The addresses are tried in order, each
 * connect nonblocking with a timeout; success or the last failure goes
 * to the lifecycle (endpoint_opened, endpoint_failed), which retries.
 * The resolver is freed while connected: its nameserver probes would keep
 * timers armed in an idle relay.  The connector (eptcp_new) is also
 * used by backends that learn the address elsewhere (libvirt:).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "endpoint_backend.h"
#include "errbuf.h"
#include "sock.h"

#define CONNECT_TIMEOUT_S	10

struct eptcp {
	struct endpoint			*ep;
	char				 host[EP_HOST_MAX];
	char				 port[EP_PORT_MAX];
	char				 what[EP_TEXT_MAX];
	struct evdns_base		*dns;
	struct evdns_getaddrinfo_request *dnsreq;
	int				 resolving;
	struct evutil_addrinfo		*ai, *ai_next;
	int				 cfd;
	int				 cerr;
	struct event			*ev_conn;
};

/* Abandon an attempt in progress: socket, DNS request, addresses. */
static void
tcp_cleanup(struct eptcp *t)
{
	if (t->ev_conn != NULL) {
		event_free(t->ev_conn);
		t->ev_conn = NULL;
	}
	if (t->cfd != -1) {
		close(t->cfd);
		t->cfd = -1;
	}
	if (t->dnsreq != NULL) {
		evdns_getaddrinfo_cancel(t->dnsreq);
		t->dnsreq = NULL;
	}
	t->resolving = 0;
	if (t->ai != NULL) {
		evutil_freeaddrinfo(t->ai);
		t->ai = t->ai_next = NULL;
	}
}

static void
tcp_free_resolver(struct eptcp *t)
{
	if (t->dns != NULL) {
		evdns_base_free(t->dns, 0);
		t->dns = NULL;
	}
}

static void
tcp_up(struct eptcp *t, int s)
{
	tcp_cleanup(t);
	tcp_free_resolver(t);	/* no nameserver probes while connected */
	sock_nodelay(s);
	endpoint_opened(t->ep, s, t->what);
}

static void
tcp_failed(struct eptcp *t, int err, const char *reason)
{
	tcp_cleanup(t);
	endpoint_failed(t->ep, t->what, err, reason);
}

static void	tcp_try_next(struct eptcp *);

static void
tcp_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct eptcp	*t = arg;
	socklen_t	 len = sizeof t->cerr;
	int		 s;

	if (what & EV_TIMEOUT)
		t->cerr = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &t->cerr, &len) == -1)
		t->cerr = errno;
	event_free(t->ev_conn);
	t->ev_conn = NULL;
	s = t->cfd;
	t->cfd = -1;
	if (t->cerr == 0) {
		tcp_up(t, s);
		return;
	}
	close(s);
	tcp_try_next(t);
}

/* Try the resolved addresses in order; report the last error. */
static void
tcp_try_next(struct eptcp *t)
{
	struct evutil_addrinfo	*a;
	struct timeval		 tv = { CONNECT_TIMEOUT_S, 0 };
	int			 s;

	while ((a = t->ai_next) != NULL) {
		t->ai_next = a->ai_next;
		s = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (s == -1) {
			t->cerr = errno;
			continue;
		}
		if (connect(s, a->ai_addr, a->ai_addrlen) == 0) {
			tcp_up(t, s);
			return;
		}
		if (errno == EINPROGRESS) {
			t->ev_conn = event_new(endpoint_base(t->ep), s,
			    EV_WRITE, tcp_connected_cb, t);
			if (t->ev_conn != NULL &&
			    event_add(t->ev_conn, &tv) == 0) {
				t->cfd = s;
				return;
			}
			if (t->ev_conn != NULL)
				event_free(t->ev_conn);
			t->ev_conn = NULL;
			errno = ENOMEM;
		}
		t->cerr = errno;
		close(s);
	}
	tcp_failed(t, t->cerr != 0 ? t->cerr : ECONNREFUSED, NULL);
}

static void
tcp_resolved_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct eptcp	*t = arg;
	char		 why[EP_HOST_MAX + 128];

	if (result == EVUTIL_EAI_CANCEL) {	/* endpoint going away */
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	t->dnsreq = NULL;
	t->resolving = 0;
	if (result != 0) {
		snprintf(why, sizeof why, "cannot resolve %s: %s", t->host, evutil_gai_strerror(result));
		tcp_failed(t, 0, why);
		return;
	}
	t->ai = t->ai_next = res;
	t->cerr = 0;
	/* Connect from the loop, not from here. */
	endpoint_retry_in(t->ep, 0);
}

/* Connect to the next resolved address, else resolve (numerically at
 * once, a name without blocking the loop). */
void
eptcp_attempt(struct eptcp *t)
{
	struct endpoint			*ep = t->ep;
	struct evutil_addrinfo		 hints;
	struct evdns_getaddrinfo_request *req;
	int				 r;

	if (endpoint_fd(ep) != -1 || t->ev_conn != NULL || t->resolving)
		return;
	if (t->ai_next != NULL) {
		tcp_try_next(t);
		return;
	}
	tcp_cleanup(t);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	r = evutil_getaddrinfo(t->host, t->port, &hints, &t->ai);
	if (r == 0) {
		t->ai_next = t->ai;
		t->cerr = 0;
		tcp_try_next(t);
		return;
	}
	/* A name: resolve without blocking the pair's loop. */
	if (t->dns == NULL)
		t->dns = evdns_base_new(endpoint_base(ep),
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (t->dns == NULL) {
		tcp_resolved_cb(EVUTIL_EAI_FAIL, NULL, t);
		return;
	}
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	endpoint_set_status(ep, EP_CONNECTING, t->host, "resolving %s",
	    t->host);
	t->resolving = 1;
	req = evdns_getaddrinfo(t->dns, t->host, t->port, &hints,
	    tcp_resolved_cb, t);
	if (t->resolving)		/* else answered already */
		t->dnsreq = req;
}

void
eptcp_free(struct eptcp *t)
{
	if (t == NULL)
		return;
	tcp_cleanup(t);
	tcp_free_resolver(t);
	free(t);
}

struct eptcp *
eptcp_new(struct endpoint *ep, const char *host, const char *port,
    const char *what)
{
	struct eptcp	*t;

	if (strlen(host) >= sizeof t->host || strlen(port) >= sizeof t->port) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	t->ep = ep;
	t->cfd = -1;
	snprintf(t->host, sizeof t->host, "%s", host);
	snprintf(t->port, sizeof t->port, "%s", port);
	if (what != NULL)
		snprintf(t->what, sizeof t->what, "%s", what);
	else
		snprintf(t->what, sizeof t->what, strchr(host, ':') != NULL ?
		    "[%s]:%s" : "%s:%s", host, port);
	endpoint_set_status(ep, EP_CONNECTING, t->what, "connecting to %s",
	    t->what);
	endpoint_retry_in(ep, 0);
	return t;
}

/* ---- tcp:HOST:PORT ---- */

static void
tcp_attempt(struct endpoint *ep)
{
	eptcp_attempt(endpoint_data(ep));
}

static void
tcp_stop(struct endpoint *ep)
{
	eptcp_free(endpoint_data(ep));
	endpoint_set_data(ep, NULL);
}

static int
tcp_start(struct endpoint *ep, char *err, size_t errlen)
{
	const struct ep_spec	*sp = endpoint_spec(ep);
	struct eptcp		*t;

	if ((t = eptcp_new(ep, sp->host, sp->port,
	    endpoint_label(ep))) == NULL)
		return errf(err, errlen, "%s: %s", endpoint_name(ep),
		    strerror(errno));
	endpoint_set_data(ep, t);
	return 0;
}

const struct ep_backend ep_backend_tcp = {
	.start = tcp_start,
	.retry = tcp_attempt,
	.stop = tcp_stop,
};
