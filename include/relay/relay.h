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

#include "pairopts.h"
#include "stream.h"

/* A snapshot of one direction (from side -> to the other). */
struct relay_dir_stats {
	struct stream_counters	s;
	uint64_t		written;	/* delivered to the peer */
	uint64_t		dropped;	/* discarded, peer absent */
	uint64_t		reconnects;	/* of the source endpoint */
	uint64_t		shutdowns;	/* target shutdowns sent (target) */
	uint64_t		injected;	/* their packets to the debugger */
	uint64_t		breaks_sent;	/* break-ins sent by request */
	double			last_rx;	/* wall clock of the last read */
	int			repairing;
	int			decided;	/* auto: detection settled */
};

/*
 * A request run in the pair's own thread (break, capture, reopen, watch,
 * a fresh counter snapshot).  done is called from that thread once it ran
 * (or from relay_stop() with rc -1 when the pair stopped first): it must
 * only hand q back to its owner's loop.
 */
enum relay_req_kind {
	RELAY_REQ_SNAPSHOT,
	RELAY_REQ_BREAK,		/* one 0x62 to the target */
	RELAY_REQ_CAPTURE,		/* start capturing to path */
	RELAY_REQ_CAPTURE_STOP,
	RELAY_REQ_REOPEN,		/* packet log and capture, same paths */
	RELAY_REQ_WATCH,		/* packet-log lines into ring too */
	RELAY_REQ_UNWATCH,		/* no more; ring may be freed after */
};

struct linering;

struct relay_req {
	enum relay_req_kind	 kind;
	char			 path[PATH_MAX];
	struct linering		*ring;
	int			 rc;		/* 0 done, -1 refused/failed */
	char			 msg[PATH_MAX + 256];	/* what happened, or why not */
	void			(*done)(struct relay_req *);
	void			*arg;
	struct relay_req	*next;
};

struct relay;
struct event;

/*
 * Bytes of buffer all pairs hold past their first 16 KiB a direction
 * (grown while both ways stayed full), from a pool shared by the process;
 * given back once drained.  Any thread.
 */
size_t	relay_pool_used(void);
/* Make libevent thread-safe; before any event_base that pairs signal. */
void	relay_global_init(void);
struct relay *relay_new(const struct pair_opts *, char *err, size_t errlen);
/*
 * Start the pair's thread and loop; 0, or a sysexits code with err:
 * EXIT_CANTCREAT when its packet log or capture cannot be made.
 */
int	relay_start(struct relay *, char *err, size_t errlen);
/* Before start: ev (another loop's) is activated on each state change. */
void	relay_set_watcher(struct relay *, struct event *ev);
/* Ask the loop to stop (any thread) and join it. */
void	relay_stop(struct relay *);
void	relay_free(struct relay *);

/* Ask the pair's thread to log its counters (any thread, signal-safe no);
 * asked (SIGUSR1): whatever the log level. */
void	relay_request_report(struct relay *, int asked);
/* The counters as of the last report, state change or stop. */
void	relay_get_stats(struct relay *, struct relay_dir_stats out[2]);
/* "host connected, target waiting for /dev/pts/9" (any thread). */
void	relay_status(struct relay *, char *buf, size_t len);
/* Queue q for the pair's thread (main thread). */
void	relay_submit(struct relay *, struct relay_req *q);
/* One side's endpoint state (any thread). */
struct endpoint_state;
void	relay_side_state(struct relay *, int side, struct endpoint_state *);
/* A side lost for good (a bare pty): a reload starts the pair anew (any
 * thread). */
int	relay_is_spent(struct relay *);
/* Both sides served by a peer (any thread). */
int	relay_is_up(struct relay *);
const struct pair_opts *relay_get_opts(const struct relay *);
/* One log line of a direction's counters (idx: SIDE_HOST = host->target). */
void	relay_format_stats(const char *pair, int idx,
	    const struct relay_dir_stats *, int validate, char *buf, size_t len);

#endif
