/*
 * config_impl.h - the inside of the config parser, for its files.
 *
 * config.c reads the text (lines, quoting, sections) and holds the public
 * API; confkeys.c knows each key: where it belongs and what it sets;
 * confvalue.c parses the values; confpairs.c turns the pairs as written
 * into pair_opts at the end of the file and checks them together.
 */
#ifndef KDRELAY_CONFIG_IMPL_H
#define KDRELAY_CONFIG_IMPL_H

#include <stddef.h>

#include "config.h"

enum { SEC_NONE = 0, SEC_GLOBAL = 1, SEC_PAIR = 2, SEC_AUTO = 4 };

/* A pair as written; -1 (or NULL) for a key not given. */
struct pair_src {
	char		 name[PAIR_NAME_MAX];
	unsigned	 line;
	char		*spec[2];
	unsigned	 spec_line[2];
	int		 crlf[2];
	char		*packet_log, *capture;
	unsigned	 packet_log_line, capture_line;
	long		 hold_ms;
	long long	 bufsize;
	int		 validate, allow_remote, target_shutdown;
};

struct parser {
	const char	*file;
	unsigned	 line;
	int		 sec;
	struct config	*cf;
	char		*err;
	size_t		 errlen;

	struct pair_src	*src;
	size_t		 nsrc, capsrc;
	unsigned	 global_line, auto_line;
	unsigned	 endpoint_line, ports_line, pair_with_line;
	unsigned	 seen[32];	/* line of each key in this section */
};

/* "FILE:LINE: reason" in p->err; returns -1. */
int	conf_perr(struct parser *, unsigned line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Value parsers: 0, or -1 with the expected form in w. */
int	conf_why(char *w, size_t wl, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	conf_parse_uint(const char *, unsigned long long lo,
	    unsigned long long hi, unsigned long long *out);
int	conf_bool_value(const char *, int *out, char *w, size_t wl);
int	conf_crlf_value(const char *, int *out, char *w, size_t wl);
int	conf_hold_value(const char *, long *out, char *w, size_t wl);
int	conf_size_value(const char *, long long *out, char *w, size_t wl);
int	conf_dir_value(const char *, char *out, char *w, size_t wl);
int	conf_dup_str(char **dst, const char *, char *w, size_t wl);
/* A template: %n and %% only, and %n at least once. */
int	conf_template_value(const char *, char *out, size_t len, char *w,
	    size_t wl);

/* Apply "key = value" in the current section. */
int	conf_do_key(struct parser *, const char *key, const char *value);
/* At the end of the file: build cf->pairs, check them and [auto]. */
int	conf_finish(struct parser *);

#endif
