/*
 * daemon.h - the running set of pairs, signals, reload, periodic stats.
 *
 * The main thread owns an event_base for signals, timers and discovery;
 * every pair runs in its own thread.  The set of pairs wanted is the
 * configured pairs plus those auto-discovery proposes; whenever either
 * changes (SIGHUP, a VM appearing) the difference is applied: unchanged
 * pairs keep relaying, removed ones stop, new ones start, changed ones
 * restart.
 */
#ifndef KDRELAY_DAEMON_H
#define KDRELAY_DAEMON_H

#include <stddef.h>

#include "config.h"
#include "relay.h"

/* Load the configuration afresh into *cf; -1 with err (file:line). */
typedef int (*daemon_load_fn)(void *arg, struct config *cf, char *err,
	    size_t errlen);

struct daemon_opts {
	daemon_load_fn	 load;		/* NULL: the pairs never change */
	void		*load_arg;
	int		 log_fixed;	/* command line set the log level */
};

/*
 * Run the pairs and auto-discovery of cf until SIGTERM/SIGINT; returns a
 * sysexits code.  Takes cf's pairs; the caller still frees cf.
 */
int	daemon_run(const struct daemon_opts *, struct config *cf);

#endif
