/*
 * config.h - /etc/kdrelay.conf: [global], [pair NAME] and [auto] sections.
 *
 * INI-like: "key = value" lines, '#' and ';' comments, values optionally
 * in double quotes (with \" and \\).  Loading is all-or-nothing: on any
 * error the struct is left empty and the reason is "FILE:LINE: reason"
 * (or "FILE: strerror" when the file cannot be read).  See kdrelay.conf(5).
 * Pure apart from reading the file: no globals, no logging.
 */
#ifndef KDRELAY_CONFIG_H
#define KDRELAY_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "crlf.h"
#include "epspec.h"
#include "log.h"
#include "pairopts.h"
#include "wanted.h"

#define CONFIG_PATH		"/etc/kdrelay.conf"
#define CONFIG_LINE_MAX		4096		/* characters, newline excluded */
#define CONFIG_FILE_MAX		(16 * 1024 * 1024)
#define CONFIG_LOG_DIR		"/var/log/kdrelay"
#define CONFIG_AUTO_ENDPOINT	"unix-listen:/run/kdrelay/%n.sock"
#define CONFIG_HOLD_MIN		1
#define CONFIG_HOLD_MAX		1000
#define CONFIG_BUFSIZE_MIN	4096
#define CONFIG_BUFSIZE_MAX	(16 * 1024 * 1024)
#define CONFIG_STATS_MAX	86400
#define CONFIG_CONTROL_PATH	"/run/kdrelay/control"
#define CONFIG_GROUP_MAX	64

struct config {
	enum log_level	 log_level;
	int		 use_syslog;
	unsigned	 stats_interval;	/* seconds, 0 = off */
	char		 packet_log_dir[PATH_MAX];
	char		 capture_dir[PATH_MAX];
	char		 control_path[108];	/* "" for none (sun_path) */
	char		 control_group[CONFIG_GROUP_MAX]; /* "" for root only */

	/* [global] defaults for every pair, auto pairs included. */
	unsigned	 hold_ms;
	size_t		 bufsize;
	int		 validate;
	int		 allow_remote;
	int		 target_shutdown;

	struct config_auto discover;

	struct pair_opts *pairs;		/* in file order */
	size_t		 npairs;
};

/* Defaults, no pairs.  config_free() undoes nothing it did not allocate. */
void	config_init(struct config *);
int	config_load(const char *path, struct config *, char *err,
	    size_t errlen);
/* name is used in messages only; buf need not be NUL-terminated. */
int	config_parse_buffer(const char *name, const char *buf, size_t len,
	    struct config *, char *err, size_t errlen);
/* Frees and resets to config_init() state; safe to call twice. */
void	config_free(struct config *);

const struct pair_opts *config_find_pair(const struct config *,
	    const char *name);
/* Hand over the pairs array (malloc'd; the caller frees it). */
struct pair_opts *config_take_pairs(struct config *, size_t *n);
/*
 * A packet log or capture at path can be made at start: no directory
 * itself, and no file where its directories are to be made.  -1 with why.
 */
int	config_file_creatable(const char *path, char *why, size_t len);

#endif
