/*
 * relaybuf.c - a direction's buffer: its pages, the limit it is used up to,
 * growth from the process's pool and giving it back, the ring's free room.
 *
 * The buffer is mapped at buffer-size but used up to a limit that starts
 * at BUF_START.  Growth past it is drawn from one pool for the process: a
 * loaded machine stalls every pair's peers at once, and a thousand pairs
 * each growing to buffer-size would hold 128 KiB apiece (the stuck rule
 * cannot tell that stall from peers that write before they read).  The
 * pool holds one pair's full growth both ways, and at least POOL_MIN.
 */
#include <sys/mman.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "relay.h"
#include "relay_impl.h"

#define POOL_MIN	(1024 * 1024)

static _Atomic size_t	pool_size = POOL_MIN, pool_used;

/* Pairs with buffers of cap bytes may be made: the pool fits one's growth. */
static void
pool_fit(size_t cap)
{
	size_t	want = cap > BUF_START ? 2 * (cap - BUF_START) : 0;
	size_t	cur = atomic_load(&pool_size);

	while (want > cur &&
	    !atomic_compare_exchange_weak(&pool_size, &cur, want))
		;
}

/* Bytes of buffer grown past the base, all pairs together. */
size_t
relay_pool_used(void)
{
	return atomic_load(&pool_used);
}

static int
pool_take(size_t n)
{
	size_t	used = atomic_load(&pool_used);

	do {
		if (used + n > atomic_load(&pool_size))
			return -1;
	} while (!atomic_compare_exchange_weak(&pool_used, &used, used + n));
	return 0;
}

static size_t
dir_base(const struct dir *d)
{
	return d->cap < BUF_START ? d->cap : BUF_START;
}

/* Map cap bytes, used up to the base: 0, or -1 out of memory. */
int
relay_dir_alloc(struct dir *d, size_t cap)
{
	d->cap = cap;
	d->lim = dir_base(d);
	pool_fit(cap);
	d->buf = mmap(NULL, cap, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->buf == MAP_FAILED) {
		d->buf = NULL;
		return -1;
	}
	return 0;
}

/* The pair is freed: its buffer and its share of the pool. */
void
relay_dir_free(struct dir *d)
{
	if (d->buf == NULL)
		return;
	atomic_fetch_sub(&pool_used, d->lim - dir_base(d));
	munmap(d->buf, d->cap);
	d->buf = NULL;
}

/* Double the limit from the pool: 1, or 0 at buffer-size, -1 pool empty. */
int
relay_dir_grow(struct dir *d)
{
	size_t	lim = d->lim * 2 < d->cap ? d->lim * 2 : d->cap;

	if (lim == d->lim)
		return 0;
	if (pool_take(lim - d->lim) != 0)
		return -1;
	d->lim = lim;
	d->give_back = 0;
	return 1;
}

/*
 * Back to the base, the pages above it to the system and the bytes to the
 * pool, if no queued byte lies above it; else relay_dir_room() does it
 * once the queue has moved below.
 */
void
relay_dir_shrink(struct dir *d)
{
	size_t	base = dir_base(d);

	d->give_back = d->lim > base;
	if (!d->give_back)
		return;
	if (relay_dir_queued(d) == 0) {
		d->off = 0;
		d->front = 0;
	} else if (d->off + d->len > base)
		return;
	madvise(d->buf + base, d->lim - base, MADV_DONTNEED);
	atomic_fetch_sub(&pool_used, d->lim - base);
	d->lim = base;
	d->give_back = 0;
	d->given_back++;
}

/* An idle direction's pages back (zeroed on the next read); empty. */
void
relay_dir_release(struct dir *d)
{
	madvise(d->buf, d->lim, MADV_DONTNEED);
	d->off = 0;
	d->front = 0;
}

/*
 * Room to put processed bytes in, at relay_dir_end().  The ring wraps to the
 * front when the tail is short and the front is longer: no byte is moved.
 */
size_t
relay_dir_room(struct dir *d)
{
	size_t	end;

	if (d->give_back)
		relay_dir_shrink(d);
	if (d->front)
		return d->off - d->wrap;
	if (d->len == 0)
		d->off = 0;
	end = d->off + d->len;
	if (d->len > 0 && d->lim - end < d->lim / 4 && d->off > d->lim - end) {
		d->front = 1;
		return d->off;
	}
	return d->lim - end;
}

uint8_t *
relay_dir_end(struct dir *d)
{
	return d->front ? d->buf + d->wrap : d->buf + d->off + d->len;
}
