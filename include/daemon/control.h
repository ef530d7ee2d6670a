/*
 * control.h - the control socket kdrelayctl(8) talks to.
 *
 * A unix stream socket served from the daemon's main loop.  Requests that
 * concern a pair (a fresh counter snapshot, break, capture, reopen, watch)
 * go to that pair's thread as a relay_req and come back through a queue
 * and an event of this loop; a pair's thread never waits for a client,
 * and a watcher that reads slowly loses lines (counted) instead.  Only
 * root, the daemon's own user, or members of the configured group may
 * connect (SO_PEERCRED).  The protocol is ctlproto.h's.
 */
#ifndef KDRELAY_CONTROL_H
#define KDRELAY_CONTROL_H

#include <stddef.h>

struct event_base;
struct relay;
struct control;

struct control_ops {
	/* The running pairs, in order. */
	struct relay	**(*pairs)(void *arg, size_t *n);
	/* Reload the configuration: 0 with what changed in msg, or -1 with
	 * the reason (FILE:LINE: ...). */
	int		 (*reload)(void *arg, char *msg, size_t len);
	/* capture FILE from a client that is not root goes here. */
	const char	*(*capture_dir)(void *arg);
};

/*
 * Listen on path (mode 0600, 0660 with a group).  A stale socket there is
 * replaced, a live one (another daemon's) or anything else left alone:
 * NULL, logged.
 */
struct control *control_new(struct event_base *, const char *path,
	    const char *group, const struct control_ops *, void *arg);
/* Close every client, remove the socket.  After the pairs have stopped. */
void	control_free(struct control *);

#endif
