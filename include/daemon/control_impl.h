/*
 * control_impl.h - the inside of struct control and its clients, for the
 * two files of the control socket: control.c (the socket, its clients,
 * framing their replies) and ctlreq.c (what each request does).
 */
#ifndef KDRELAY_CONTROL_IMPL_H
#define KDRELAY_CONTROL_IMPL_H

#include <sys/types.h>

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include <event2/util.h>

#include "control.h"
#include "sock.h"

struct bufferevent;
struct ctl_req;
struct linering;
struct relay_req;

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

/* control.c */
void	client_reply(struct client *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The request is answered: OK or ERR, then the next one, if any. */
void	client_finish(struct client *, int ok, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	client_close(struct client *);
void	client_next(struct client *);

/* ctlreq.c */
void	ctlreq_run(struct client *);
void	ctlreq_watch_pump(struct client *);
int	ctlreq_is_running(struct control *, struct relay *);
void	ctlreq_done(struct relay_req *);
struct relay_req *ctlreq_done_take(struct control *);
void	ctlreq_done_cb(evutil_socket_t, short, void *);

#endif
