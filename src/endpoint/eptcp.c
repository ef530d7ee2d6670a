/*
 * eptcp.c - the tcp connect of an endpoint, with asynchronous DNS.
 *
 * A numeric address is used at once; a name is resolved with evdns so the
 * pair's loop never blocks.  The addresses are tried in order, each
 * connect nonblocking with a timeout; success or the last failure goes
 * back to endpoint.c's machinery (endpoint_conn_up, endpoint_conn_failed).
 * The resolver is freed while connected: its nameserver probes would keep
 * timers armed in an idle relay.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "endpoint_impl.h"

#define CONNECT_TIMEOUT_S	10

void
eptcp_cleanup(struct endpoint *ep)
{
	if (ep->ev_conn != NULL) {
		event_free(ep->ev_conn);
		ep->ev_conn = NULL;
	}
	if (ep->cfd != -1) {
		close(ep->cfd);
		ep->cfd = -1;
	}
	if (ep->dnsreq != NULL) {
		evdns_getaddrinfo_cancel(ep->dnsreq);
		ep->dnsreq = NULL;
	}
	ep->resolving = 0;
	if (ep->ai != NULL) {
		evutil_freeaddrinfo(ep->ai);
		ep->ai = ep->ai_next = NULL;
	}
}

static void	tcp_try_next(struct endpoint *);

static void
tcp_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct endpoint	*ep = arg;
	socklen_t	 len = sizeof ep->cerr;
	int		 s;

	if (what & EV_TIMEOUT)
		ep->cerr = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &ep->cerr, &len) == -1)
		ep->cerr = errno;
	event_free(ep->ev_conn);
	ep->ev_conn = NULL;
	s = ep->cfd;
	ep->cfd = -1;
	if (ep->cerr == 0) {
		endpoint_conn_up(ep, s);
		return;
	}
	close(s);
	tcp_try_next(ep);
}

/* Try the resolved addresses in order; report the last error. */
static void
tcp_try_next(struct endpoint *ep)
{
	struct evutil_addrinfo	*a;
	struct timeval		 tv = { CONNECT_TIMEOUT_S, 0 };
	int			 s;

	while ((a = ep->ai_next) != NULL) {
		ep->ai_next = a->ai_next;
		s = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (s == -1) {
			ep->cerr = errno;
			continue;
		}
		if (connect(s, a->ai_addr, a->ai_addrlen) == 0) {
			endpoint_conn_up(ep, s);
			return;
		}
		if (errno == EINPROGRESS) {
			ep->ev_conn = event_new(ep->base, s, EV_WRITE,
			    tcp_connected_cb, ep);
			if (ep->ev_conn != NULL &&
			    event_add(ep->ev_conn, &tv) == 0) {
				ep->cfd = s;
				ep->state = EPS_CONNECTING;
				return;
			}
			if (ep->ev_conn != NULL)
				event_free(ep->ev_conn);
			ep->ev_conn = NULL;
			errno = ENOMEM;
		}
		ep->cerr = errno;
		close(s);
	}
	endpoint_conn_failed(ep, ep->cerr != 0 ? ep->cerr : ECONNREFUSED, NULL,
	    0);
}

static void
tcp_resolved_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct endpoint	*ep = arg;
	char		 why[EP_HOST_MAX + 128];

	if (result == EVUTIL_EAI_CANCEL) {	/* endpoint going away */
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	ep->dnsreq = NULL;
	ep->resolving = 0;
	if (result != 0) {
		snprintf(why, sizeof why, "cannot resolve %s: %s",
		    ep->spec.host, evutil_gai_strerror(result));
		endpoint_conn_failed(ep, 100000 + result, why, 0);
		return;
	}
	ep->ai = ep->ai_next = res;
	ep->cerr = 0;
	ep->state = EPS_WAITING;
	/* Connect from the loop, not from here. */
	endpoint_arm_timer(ep, 0);
}

void
eptcp_attempt(struct endpoint *ep)
{
	struct evutil_addrinfo		 hints;
	struct evdns_getaddrinfo_request *req;
	int				 r;

	if (ep->ai_next != NULL) {
		tcp_try_next(ep);
		return;
	}
	eptcp_cleanup(ep);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	r = evutil_getaddrinfo(ep->spec.host, ep->spec.port, &hints, &ep->ai);
	if (r == 0) {
		ep->ai_next = ep->ai;
		ep->cerr = 0;
		tcp_try_next(ep);
		return;
	}
	/* A name: resolve without blocking the pair's loop. */
	if (ep->dns == NULL)
		ep->dns = evdns_base_new(ep->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (ep->dns == NULL) {
		tcp_resolved_cb(EVUTIL_EAI_FAIL, NULL, ep);
		return;
	}
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	ep->state = EPS_CONNECTING;
	endpoint_set_status(ep, "resolving %s", ep->spec.host);
	ep->resolving = 1;
	req = evdns_getaddrinfo(ep->dns, ep->spec.host, ep->spec.port, &hints,
	    tcp_resolved_cb, ep);
	if (ep->resolving)		/* else answered already */
		ep->dnsreq = req;
}

void
eptcp_free_resolver(struct endpoint *ep)
{
	if (ep->dns != NULL) {
		evdns_base_free(ep->dns, 0);
		ep->dns = NULL;
	}
}
