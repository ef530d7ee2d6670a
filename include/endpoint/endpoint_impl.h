/*
 * endpoint_impl.h - the inside of endpoint.c, for eptcp.c (the tcp
 * connect with asynchronous DNS), which drives the same machinery.
 *
 * Backends (eplisten.c, ep_xen.c, ep_pve.c) use endpoint_backend.h and
 * never see this.
 */
#ifndef KDRELAY_ENDPOINT_IMPL_H
#define KDRELAY_ENDPOINT_IMPL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <event2/util.h>

#include "endpoint.h"
#include "endpoint_backend.h"
#include "pathwatch.h"

#define STATUS_MAX		256
#define NAME_MAX_LEN		(64 + 16 + EP_TEXT_MAX)

struct event;
struct evdns_base;
struct evdns_getaddrinfo_request;

enum ep_state {
	EPS_IDLE,		/* not started */
	EPS_WAITING,		/* down: watch and/or timer armed */
	EPS_CONNECTING,		/* resolving or connecting (tcp) */
	EPS_UP,			/* fd handed to the relay */
	EPS_OTHER,		/* the backend's (e.g. listening) */
};

struct endpoint {
	struct event_base	*base;
	struct ep_spec		 spec;
	char			 name[NAME_MAX_LEN];	/* "pair/side: spec" */
	char			 label[EP_TEXT_MAX];	/* spec sans options */
	endpoint_up_cb		 up;
	endpoint_down_cb	 down;
	void			*arg;
	const struct ep_backend	*be;
	void			*be_data;

	enum ep_state		 state;
	int			 fd;		/* the relay's, -1 when down */
	int			 is_tty;
	int			 crlf_guess;
	struct timespec		 up_since;

	/* What to (re)open. */
	enum ep_kind		 tkind;		/* EP_TTY, EP_UNIX, EP_TCP */
	char			 tpath[PATH_MAX];
	int			 tflags;
	int			 last_err;	/* last reported, 0 none */
	char			 why[160];	/* tty_open's reason, "" none */
	struct tty_claim	 claim;		/* the tty held, if any */
	/* A pty lost: not reopened by number (see endpoint_lost). */
	unsigned long long	 pty_rdev;	/* of the tty up, 0 not a pty */
	int			 bare_pty;	/* named by no link: spent */
	int			 spent;		/* lost for good (locked) */
	struct timespec		 link_ctime;	/* the link to the lost pty */
	unsigned long long	 link_ino;	/* 0: none to avoid */
	char			 lost_why[128];	/* loss not yet logged */
	unsigned		 backoff_ms;
	unsigned		 quick_ms;	/* next quick retry, 0 none */
	struct event		*ev_retry;

	/* Wakes us when a missing tpath appears. */
	struct pathwatch	 watch;

	/* tcp (eptcp.c) */
	struct evdns_base	*dns;
	struct evdns_getaddrinfo_request *dnsreq;
	int			 resolving;
	struct evutil_addrinfo	*ai, *ai_next;
	int			 cfd;
	int			 cerr;
	struct event		*ev_conn;

	/* Read by other threads (systemd STATUS, stats). */
	pthread_mutex_t		 lock;
	char			 status[STATUS_MAX];
	struct event		*watcher;	/* told of status changes */
	uint64_t		 opens;
};

/* endpoint.c */
void	endpoint_arm_timer(struct endpoint *, unsigned ms);
/* fd opened: check it, log, hand it to the relay. */
void	endpoint_conn_up(struct endpoint *, int fd);
/* An attempt failed with err (reason NULL: strerror); retry or wait. */
void	endpoint_conn_failed(struct endpoint *, int err, const char *reason,
	    int watching);

/* eptcp.c */
/* Connect to the spec's host:port: the next resolved address, else
 * resolve (numerically at once, a name without blocking the loop). */
void	eptcp_attempt(struct endpoint *);
/* Abandon an attempt in progress: socket, DNS request, addresses. */
void	eptcp_cleanup(struct endpoint *);
/* Free the resolver (nameserver probes keep timers armed). */
void	eptcp_free_resolver(struct endpoint *);

#endif
