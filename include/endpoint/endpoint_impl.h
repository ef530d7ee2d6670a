/*
 * endpoint_impl.h - the inside of struct endpoint, for the two files of
 * the lifecycle only: endpoint.c (state, reporting, retries, the relay's
 * side) and eppath.c (keeping a path open).  Backends use
 * endpoint_backend.h and never see this.
 */
#ifndef KDRELAY_ENDPOINT_IMPL_H
#define KDRELAY_ENDPOINT_IMPL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "endpoint_backend.h"
#include "pathwatch.h"
#include "retry.h"
#include "tty.h"

#define NOTE_MAX		1024
#define NAME_MAX_LEN		(64 + 16 + EP_TEXT_MAX)

struct endpoint {
	struct event_base	*base;
	const struct ep_spec	*spec;		/* the owner's (the relay's) */
	char			 name[NAME_MAX_LEN];	/* "pair/side: spec" */
	char			 label[EP_TEXT_MAX];	/* spec sans options */
	endpoint_up_cb		 up;
	endpoint_down_cb	 down;
	void			*arg;
	const struct ep_backend	*be;
	void			*be_data;
	int			 started;

	int			 fd;		/* the relay's, -1 when down */
	int			 slot;		/* fd's number kept (fdslot.h) */
	int			 is_tty;
	int			 crlf_guess;
	struct timespec		 up_since;
	struct retry		 retry;
	char			 note[NOTE_MAX];	/* last logged */
	char			 lost_why[128];		/* not yet logged */

	/* A path to keep open (endpoint_set_target). */
	enum ep_kind		 tkind;		/* EP_TTY, EP_UNIX */
	char			*tpath;		/* malloc'd, NULL none */
	int			 tflags;
	unsigned		 quick_ms;	/* next quick retry, 0 none */
	struct pathwatch	 watch;
	char			 why[160];	/* tty_open's reason, "" none */
	struct tty_claim	 claim;		/* the tty held, if any */
	/* A pty is not reopened by its number (see path_lost). */
	int			 bare_pty;	/* named by no link */
	unsigned long long	 link_ino;	/* the link to the pty up, 0 */
	struct timespec		 link_ctime;

	/* Read by other threads (status, stats). */
	pthread_mutex_t		 lock;
	struct endpoint_state	 st;
	struct event		*watcher;	/* told of status changes */
	uint64_t		 opens;
	int			 spent;		/* a bare pty lost for good */
};

/* eppath.c: the path machinery's part of endpoint_new and _free. */
void	eppath_init(struct endpoint *);
void	eppath_free(struct endpoint *);

#endif
