/*
 * linering.c - a bounded line queue between two threads; the writer (a
 * pair's thread) never waits for the reader.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "linering.h"

struct linering {
	pthread_mutex_t	 lock;
	char		*buf;
	size_t		 cap, head, len;	/* bytes at [head, head + len) */
	uint64_t	 dropped;
	int		 closed;
	struct event	*ev;
};

struct linering *
linering_new(size_t cap, struct event *ev)
{
	struct linering	*r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	if ((r->buf = malloc(cap)) == NULL) {
		free(r);
		return NULL;
	}
	r->cap = cap;
	r->ev = ev;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void
linering_free(struct linering *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->buf);
	free(r);
}

static void
put(struct linering *r, const char *p, size_t n)
{
	size_t	at = (r->head + r->len) % r->cap, k;

	k = r->cap - at < n ? r->cap - at : n;
	memcpy(r->buf + at, p, k);
	memcpy(r->buf, p + k, n - k);
	r->len += n;
}

void
linering_push(struct linering *r, const char *line, size_t len)
{
	int	wake = 0;

	pthread_mutex_lock(&r->lock);
	if (r->closed)
		;
	else if (r->cap - r->len < len + 1)
		r->dropped++;
	else {
		wake = r->len == 0;
		put(r, line, len);
		put(r, "\n", 1);
	}
	pthread_mutex_unlock(&r->lock);
	if (wake)
		event_active(r->ev, 0, 0);
}

void
linering_close(struct linering *r)
{
	pthread_mutex_lock(&r->lock);
	r->closed = 1;
	pthread_mutex_unlock(&r->lock);
	event_active(r->ev, 0, 0);
}

size_t
linering_take(struct linering *r, char *buf, size_t len, uint64_t *dropped,
    int *closed)
{
	size_t	 n, k;
	char	*nl;

	pthread_mutex_lock(&r->lock);
	/* Whole lines only: up to the last newline that fits. */
	n = r->len < len ? r->len : len;
	k = r->cap - r->head < n ? r->cap - r->head : n;
	memcpy(buf, r->buf + r->head, k);
	memcpy(buf + k, r->buf, n - k);
	nl = n > 0 ? memrchr(buf, '\n', n) : NULL;
	n = nl != NULL ? (size_t)(nl - buf) + 1 : 0;
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	if (r->len == 0)
		r->head = 0;
	*dropped = r->dropped;
	r->dropped = 0;
	*closed = r->closed && r->len == 0;
	pthread_mutex_unlock(&r->lock);
	return n;
}
