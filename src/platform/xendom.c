/*
 * xendom.c - a table of Xen domains by name, and the checks on guest-
 * writable xenstore values.  Pure: no I/O, no globals.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xendom.h"

#define LOCAL_DOMAIN	"/local/domain"
#define PTS_PREFIX	"/dev/pts/"
#define PTS_DIGITS_MAX	7

void
xendoms_init(struct xendoms *t)
{
	memset(t, 0, sizeof *t);
}

void
xendoms_clear(struct xendoms *t)
{
	free(t->v);
	xendoms_init(t);
}

/* The index of domid, or of where it would go. */
static size_t
find_slot(const struct xendoms *t, unsigned domid)
{
	size_t	lo = 0, hi = t->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->v[mid].domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
xendoms_set(struct xendoms *t, unsigned domid, const char *name, size_t len)
{
	struct xendom	*d, *nv;
	size_t		 i = find_slot(t, domid), cap;

	if (i == t->n || t->v[i].domid != domid) {
		if (t->n == t->cap) {
			cap = t->cap == 0 ? 16 : t->cap * 2;
			if ((nv = reallocarray(t->v, cap, sizeof *nv)) == NULL)
				return -1;
			t->v = nv;
			t->cap = cap;
		}
		memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof *t->v);
		t->n++;
	}
	d = &t->v[i];
	memset(d, 0, sizeof *d);
	d->domid = domid;
	len = strnlen(name, len);
	if (len > XENDOM_NAME_MAX) {
		len = XENDOM_NAME_MAX;
		d->truncated = 1;
	}
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	return 0;
}

void
xendoms_remove(struct xendoms *t, unsigned domid)
{
	size_t	i = find_slot(t, domid);

	if (i == t->n || t->v[i].domid != domid)
		return;
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof *t->v);
	t->n--;
}

const struct xendom *
xendoms_get(const struct xendoms *t, unsigned domid)
{
	size_t	i = find_slot(t, domid);

	if (i == t->n || t->v[i].domid != domid)
		return NULL;
	return &t->v[i];
}

size_t
xendoms_find(const struct xendoms *t, const char *name, unsigned *ids,
    size_t max)
{
	size_t	i, n = 0;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].truncated || strcmp(t->v[i].name, name) != 0)
			continue;
		if (n < max)
			ids[n] = t->v[i].domid;
		n++;
	}
	return n;
}

int
xendoms_equal(const struct xendoms *a, const struct xendoms *b)
{
	size_t	i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->v[i].domid != b->v[i].domid ||
		    a->v[i].truncated != b->v[i].truncated ||
		    strcmp(a->v[i].name, b->v[i].name) != 0)
			return 0;
	}
	return 1;
}

int
xendom_parse_domid(const char *s, unsigned *out)
{
	unsigned long	v = 0;
	const char	*p;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
		if (v > XENDOM_DOMID_MAX)
			return -1;
	}
	*out = (unsigned)v;
	return 0;
}

enum xendom_event
xendom_classify(const char *path, unsigned *domid)
{
	const size_t	 plen = sizeof LOCAL_DOMAIN - 1;
	char		 id[16];
	const char	*rest, *slash;
	size_t		 len;

	if (strcmp(path, "@introduceDomain") == 0 ||
	    strcmp(path, "@releaseDomain") == 0 ||
	    strcmp(path, LOCAL_DOMAIN) == 0)
		return XENDOM_EV_RESCAN;
	if (strncmp(path, LOCAL_DOMAIN "/", plen + 1) != 0)
		return XENDOM_EV_OTHER;
	rest = path + plen + 1;
	slash = strchr(rest, '/');
	len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (len == 0 || len >= sizeof id)
		return XENDOM_EV_OTHER;
	memcpy(id, rest, len);
	id[len] = '\0';
	if (xendom_parse_domid(id, domid) == -1)
		return XENDOM_EV_OTHER;
	if (slash == NULL || strcmp(slash, "/name") == 0)
		return XENDOM_EV_DOMAIN;
	return XENDOM_EV_OTHER;
}

int
xendom_path_covers(const char *path, const char *node)
{
	size_t	len = strlen(path);

	if (*node == '\0' || strncmp(path, node, len) != 0)
		return 0;
	return node[len] == '\0' || node[len] == '/';
}

int
xendom_is_infra(const char *name)
{
	size_t	len = strlen(name), slen = sizeof XENDOM_STUB_SUFFIX - 1;

	if (strcmp(name, "Domain-0") == 0)
		return 1;
	return len > slen && strcmp(name + len - slen, XENDOM_STUB_SUFFIX) == 0;
}

int
xendom_tty_valid(const char *v, size_t len, const char **why)
{
	const size_t	plen = sizeof PTS_PREFIX - 1;
	size_t		i;

	if (len == 0) {
		*why = "empty";
		return -1;
	}
	if (memchr(v, '\0', len) != NULL) {
		*why = "has a NUL byte";
		return -1;
	}
	if (len <= plen || memcmp(v, PTS_PREFIX, plen) != 0) {
		*why = "not /dev/pts/<number>";
		return -1;
	}
	for (i = plen; i < len; i++) {
		if (v[i] < '0' || v[i] > '9') {
			*why = "not /dev/pts/<number>";
			return -1;
		}
	}
	if (len > plen + PTS_DIGITS_MAX) {
		*why = "too long for /dev/pts/<number>";
		return -1;
	}
	if (v[plen] == '0' && len > plen + 1) {
		*why = "a pty number with a leading zero";
		return -1;
	}
	return 0;
}

void
xendom_quote(const char *v, size_t len, char *out, size_t outlen)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, o = 0;
	unsigned char		c;
	char			esc[5];
	size_t			elen;

	if (outlen == 0)
		return;
	for (i = 0; i < len; i++) {
		c = (unsigned char)v[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			elen = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			esc[0] = (char)c;
			elen = 1;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			elen = 4;
		}
		/* Room for this, "...", and the NUL. */
		if (o + elen + 4 > outlen) {
			if (o + 4 <= outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, esc, elen);
		o += elen;
	}
	out[o] = '\0';
}
