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

/* [auto]: pairs made for VMs found at run time. */
struct config_auto {
	int		 enable;
	char		**match;		/* globs on VM names */
	size_t		 nmatch;
	char		 endpoint[EP_TEXT_MAX];	/* host side template, %n */
	unsigned	 port_lo, port_hi;	/* tcp-ports, 0 when unset */
	char		 pair_with[EP_NAME_MAX];/* partner VM template, "" none */
	enum crlf_mode	 crlf;			/* for the VM's serial port */
};

struct config {
	enum log_level	 log_level;
	int		 use_syslog;
	unsigned	 stats_interval;	/* seconds, 0 = off */
	char		 packet_log_dir[PATH_MAX];
	char		 capture_dir[PATH_MAX];

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

/* Nonzero if name matches one of [auto]'s match globs. */
int	config_auto_match(const struct config *, const char *name);
/* Expand %n (name) and %% in tmpl; -1 if out is too small or bad %. */
int	config_expand(const char *tmpl, const char *name, char *out,
	    size_t len);
/* A pair name: [A-Za-z0-9_.-]+, at most PAIR_NAME_MAX - 1 characters. */
int	config_valid_name(const char *);

#endif
