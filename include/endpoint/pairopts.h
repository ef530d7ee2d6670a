/*
 * pairopts.h - what a pair is: a name, two endpoint specs and the relay's
 * settings.  Pure data, so that the config parser, discovery and their
 * fuzzers describe pairs without linking the relay that runs them.
 */
#ifndef KDRELAY_PAIROPTS_H
#define KDRELAY_PAIROPTS_H

#include <limits.h>
#include <stddef.h>

#include "epspec.h"

#define PAIR_NAME_MAX		64
#define PAIR_BUFSIZE		65536	/* per direction, default */
#define PAIR_HOLD_MS		5	/* trailing 0x0d hold, default */

enum pair_side { SIDE_HOST = 0, SIDE_TARGET = 1 };

struct pair_opts {
	char		name[PAIR_NAME_MAX];
	struct ep_spec	side[2];		/* SIDE_HOST, SIDE_TARGET */
	unsigned	hold_ms;		/* trailing 0x0d hold time */
	size_t		bufsize;		/* per direction */
	int		validate;		/* run the KDCOM validator */
	int		target_shutdown;	/* tell the debugger it is gone */
	char		packet_log[PATH_MAX];	/* "" for none */
	char		capture[PATH_MAX];	/* "" for none */
};

/* Name "kd", the defaults above, validation and target shutdown on,
 * no specs. */
void	pair_opts_init(struct pair_opts *);
int	pair_opts_equal(const struct pair_opts *, const struct pair_opts *);
/* A pair name: [A-Za-z0-9_.-]+, at most PAIR_NAME_MAX - 1 characters. */
int	pair_name_valid(const char *);

/*
 * A pair_opts packed into the bytes it uses, its strings sized to fit (a
 * few hundred bytes, not 18 KiB): for the sets of pairs a daemon keeps
 * while only the relays need the whole struct.  Malloc'd (free() it),
 * NULL when out of memory; unpacking gives an equal pair_opts back.
 */
struct pair_packed;
struct pair_packed *pair_opts_pack(const struct pair_opts *);
void	pair_opts_unpack(const struct pair_packed *, struct pair_opts *);
const char *pair_packed_name(const struct pair_packed *);
/*
 * Copy src into dst, which is zeroed, writing only the bytes its strings
 * use: the pages of the unused path buffers stay untouched where dst is
 * fresh memory (a thousand relays' worth).
 */
void	pair_opts_copy_fresh(struct pair_opts *dst, const struct pair_opts *src);

#endif
