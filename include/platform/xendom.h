/*
 * xendom.h - the pure parts of following Xen domains through xenstore.
 *
 * A table of domains by domid (names are read from
 * /local/domain/<domid>/name; xenstore has no index by name), the sorting
 * of watch events into the few that matter, and the checks that guest-
 * writable values must pass before anything is opened.  No I/O here.
 */
#ifndef KDRELAY_XENDOM_H
#define KDRELAY_XENDOM_H

#include <stddef.h>

#define XENDOM_NAME_MAX		64	/* longer names are kept truncated */
#define XENDOM_DOMID_MAX	0x7fef	/* DOMID_FIRST_RESERVED - 1 */
#define XENDOM_STUB_SUFFIX	"-dm"
#define XENDOM_STUB_CONSOLE	3	/* a stubdomain's console for COM1 */
#define XENDOM_PATH_MAX		128	/* every xenstore path we build */
#define XENDOM_TTY_MAX		16	/* "/dev/pts/" and at most 7 digits */

struct xendom {
	unsigned	domid;
	char		name[XENDOM_NAME_MAX + 1];
	int		truncated;	/* the name was longer: matches nothing */
};

/* Sorted by domid. */
struct xendoms {
	struct xendom	*v;
	size_t		 n, cap;
};

void	xendoms_init(struct xendoms *);
void	xendoms_clear(struct xendoms *);
/* Insert or rename; name need not be NUL-terminated.  -1 on ENOMEM. */
int	xendoms_set(struct xendoms *, unsigned domid, const char *name,
	    size_t len);
void	xendoms_remove(struct xendoms *, unsigned domid);
const struct xendom *xendoms_get(const struct xendoms *, unsigned domid);
/*
 * The domains called name: how many, and the first max of their domids in
 * ids (ascending).  Truncated names never match.
 */
size_t	xendoms_find(const struct xendoms *, const char *name, unsigned *ids,
	    size_t max);
/* Nonzero if two tables hold the same domains with the same names. */
int	xendoms_equal(const struct xendoms *, const struct xendoms *);

/* A domid as xenstore lists it: decimal digits, no sign, <= DOMID_MAX. */
int	xendom_parse_domid(const char *, unsigned *);

/* What a watch event on path means for a domain table. */
enum xendom_event {
	XENDOM_EV_OTHER,	/* not about names: the caller may care */
	XENDOM_EV_RESCAN,	/* @introduceDomain, @releaseDomain, the list */
	XENDOM_EV_DOMAIN,	/* /local/domain/<id> or .../<id>/name */
};
enum xendom_event xendom_classify(const char *path, unsigned *domid);
/* Nonzero if path is node itself or one of its ancestors (a removal). */
int	xendom_path_covers(const char *path, const char *node);

/* Nonzero if name is never a relay target: Domain-0, a stubdomain. */
int	xendom_is_infra(const char *name);

/*
 * A tty value read from xenstore (len bytes, maybe not NUL-terminated):
 * 0 if it is exactly "/dev/pts/<digits>" (no leading zero, at most 7
 * digits), else -1 and *why says what is wrong with it.
 */
int	xendom_tty_valid(const char *value, size_t len, const char **why);
/* A log-safe rendering of an untrusted value: C escapes, truncated. */
void	xendom_quote(const char *value, size_t len, char *out, size_t outlen);

#endif
