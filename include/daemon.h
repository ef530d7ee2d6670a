/*
 * daemon.h - the running set of pairs, signals, reload, periodic stats.
 *
 * The main thread owns an event_base for signals and timers only; every
 * pair runs in its own thread.  SIGHUP asks the loader for a new set of
 * pairs and applies the difference: unchanged pairs keep relaying, removed
 * ones stop, new ones start, changed ones restart.
 */
#ifndef KDRELAY_DAEMON_H
#define KDRELAY_DAEMON_H

#include <stddef.h>

#include "relay.h"

/* Fill *pairs (malloc'd array) and *n; -1 with err on a bad config. */
typedef int (*daemon_load_fn)(void *arg, struct relay_opts **pairs, size_t *n,
	    unsigned *stats_interval, char *err, size_t errlen);

struct daemon_opts {
	unsigned	 stats_interval;	/* seconds, 0 for none */
	daemon_load_fn	 reload;		/* NULL: SIGHUP only logs */
	void		*reload_arg;
};

/* Run until SIGTERM/SIGINT; returns a sysexits code. */
int	daemon_run(const struct daemon_opts *, const struct relay_opts *pairs,
	    size_t n);

#endif
