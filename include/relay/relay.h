/*
 * relay.h - one pair: two endpoints, two streams, one event loop, one thread.
 *
 * host is the debugger side (WinDbg's VM), target the debuggee.  Each
 * direction has a fixed buffer; when the writer falls behind the reader
 * stops (backpressure), so memory never grows with traffic.  While one side
 * is absent, what the other sends is counted and discarded, never queued
 * across a reconnect.
 */
#ifndef KDRELAY_RELAY_H
#define KDRELAY_RELAY_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "epspec.h"
#include "stream.h"

#define RELAY_NAME_MAX		64
#define RELAY_BUFSIZE		65536
#define RELAY_HOLD_MS		5
/* Inside a KDCOM packet the rest is sure to come: hold a 0x0d this long. */
#define RELAY_HOLD_PACKET_MS	250

enum relay_side { SIDE_HOST = 0, SIDE_TARGET = 1 };

struct relay_opts {
	char		name[RELAY_NAME_MAX];
	struct ep_spec	side[2];		/* SIDE_HOST, SIDE_TARGET */
	unsigned	hold_ms;		/* trailing 0x0d hold time */
	size_t		bufsize;		/* per direction */
	int		validate;		/* run the KDCOM validator */
	char		packet_log[PATH_MAX];	/* "" for none */
	char		capture[PATH_MAX];	/* "" for none */
};

void	relay_opts_init(struct relay_opts *);
int	relay_opts_equal(const struct relay_opts *, const struct relay_opts *);

/* A snapshot of one direction (from side -> to the other). */
struct relay_dir_stats {
	struct stream_counters	s;
	uint64_t		written;	/* delivered to the peer */
	uint64_t		dropped;	/* discarded, peer absent */
	uint64_t		reconnects;	/* of the source endpoint */
	int			repairing;
};

struct relay;
struct event;

/* Make libevent thread-safe; before any event_base that pairs signal. */
void	relay_global_init(void);
struct relay *relay_new(const struct relay_opts *, char *err, size_t errlen);
/* Start the pair's thread and loop; -1 with err on a setup error. */
int	relay_start(struct relay *, char *err, size_t errlen);
/* Before start: ev (another loop's) is activated on each state change. */
void	relay_set_watcher(struct relay *, struct event *ev);
/* Ask the loop to stop (any thread) and join it. */
void	relay_stop(struct relay *);
void	relay_free(struct relay *);

/* Ask the pair's thread to log its counters (any thread, signal-safe no). */
void	relay_request_report(struct relay *);
/* The counters as of the last report, state change or stop. */
void	relay_get_stats(struct relay *, struct relay_dir_stats out[2]);
/* "host connected, target waiting for /dev/pts/9" (any thread). */
void	relay_status(struct relay *, char *buf, size_t len);
/* Both sides served by a peer (any thread). */
int	relay_is_up(struct relay *);
const struct relay_opts *relay_get_opts(const struct relay *);
/* One log line of a direction's counters (idx: SIDE_HOST = host->target). */
void	relay_format_stats(const char *pair, int idx,
	    const struct relay_dir_stats *, int validate, char *buf, size_t len);

#endif
