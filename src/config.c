/*
 * config.c - parse kdrelay.conf into a struct config.
 *
 * Lines are checked (length, control bytes) before they are parsed, so
 * binary junk is an error with a line number, never a crash.  Pair values
 * are collected raw and turned into relay_opts at the end of the file: a
 * [global] default or allow-remote may come after the pairs it affects.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

enum { SEC_NONE = 0, SEC_GLOBAL = 1, SEC_PAIR = 2, SEC_AUTO = 4 };

/* A pair as written; -1 (or NULL) for a key not given. */
struct pair_src {
	char		 name[RELAY_NAME_MAX];
	unsigned	 line;
	char		*spec[2];
	unsigned	 spec_line[2];
	int		 crlf[2];
	char		*packet_log, *capture;
	unsigned	 packet_log_line, capture_line;
	long		 hold_ms;
	long long	 bufsize;
	int		 validate, allow_remote;
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

typedef int (*setter)(struct parser *, const char *, char *, size_t);

struct keydef {
	const char	*name;
	int		 sections;
	int		 repeat;
	setter		 set;
};

static int
perr(struct parser *p, unsigned line, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%u: %s", p->file, line, msg);
	return (-1);
}

static int
why(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return (-1);
}

/* Value parsers: 0, or -1 with the expected form in w. */

static int
parse_uint(const char *v, unsigned long long lo, unsigned long long hi,
    unsigned long long *out)
{
	unsigned long long	n = 0;

	if (*v == '\0')
		return (-1);
	for (; *v != '\0'; v++) {
		if (!isdigit((unsigned char)*v))
			return (-1);
		n = n * 10 + (unsigned)(*v - '0');
		if (n > hi)
			return (-1);
	}
	if (n < lo)
		return (-1);
	*out = n;
	return (0);
}

static int
parse_bool(const char *v, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t	i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return (*out = 1, 0);
		if (strcasecmp(v, no[i]) == 0)
			return (*out = 0, 0);
	}
	return (-1);
}

static int
bool_value(const char *v, int *out, char *w, size_t wl)
{
	if (parse_bool(v, out) == -1)
		return (why(w, wl, "expected yes or no, not '%s'", v));
	return (0);
}

static int
crlf_value(const char *v, int *out, char *w, size_t wl)
{
	if (strcasecmp(v, "on") == 0)
		*out = CRLF_ON;
	else if (strcasecmp(v, "off") == 0)
		*out = CRLF_OFF;
	else if (strcasecmp(v, "auto") == 0)
		*out = CRLF_AUTO;
	else
		return (why(w, wl, "expected on, off or auto, not '%s'", v));
	return (0);
}

static int
hold_value(const char *v, long *out, char *w, size_t wl)
{
	unsigned long long	n;

	if (parse_uint(v, CONFIG_HOLD_MIN, CONFIG_HOLD_MAX, &n) == -1)
		return (why(w, wl, "expected milliseconds from %d to %d, "
		    "not '%s'", CONFIG_HOLD_MIN, CONFIG_HOLD_MAX, v));
	*out = (long)n;
	return (0);
}

static int
size_value(const char *v, long long *out, char *w, size_t wl)
{
	char			 num[32];
	size_t			 n = strlen(v);
	unsigned long long	 mult = 1, x;

	if (n > 0 && n < sizeof num && (v[n - 1] == 'k' || v[n - 1] == 'K'))
		mult = 1024;
	else if (n > 0 && n < sizeof num && v[n - 1] == 'M')
		mult = 1024 * 1024;
	if (mult != 1)
		n--;
	if (n == 0 || n >= sizeof num)
		goto bad;
	memcpy(num, v, n);
	num[n] = '\0';
	if (parse_uint(num, 1, CONFIG_BUFSIZE_MAX, &x) == -1)
		goto bad;
	x *= mult;
	if (x < CONFIG_BUFSIZE_MIN || x > CONFIG_BUFSIZE_MAX)
		goto bad;
	*out = (long long)x;
	return (0);
bad:
	return (why(w, wl, "expected bytes from 4096 to 16M (suffix k or M), "
	    "not '%s'", v));
}

static int
dir_value(const char *v, char *out, char *w, size_t wl)
{
	if (*v != '/')
		return (why(w, wl, "expected an absolute directory, not '%s'",
		    v));
	if (strlen(v) >= PATH_MAX)
		return (why(w, wl, "path too long"));
	strcpy(out, v);
	return (0);
}

static int
dup_str(char **dst, const char *v, char *w, size_t wl)
{
	if ((*dst = strdup(v)) == NULL)
		return (why(w, wl, "%s", strerror(errno)));
	return (0);
}

/* A template: %n and %% only, and %n at least once. */
static int
template_value(const char *v, char *out, size_t len, char *w, size_t wl)
{
	const char	*s;
	int		 has_n = 0;

	for (s = v; (s = strchr(s, '%')) != NULL; s += 2) {
		if (s[1] == 'n')
			has_n = 1;
		else if (s[1] != '%')
			return (why(w, wl, "only %%n and %%%% may follow %% "
			    "in '%s'", v));
	}
	if (!has_n)
		return (why(w, wl, "expected a template with %%n (the VM "
		    "name), not '%s'", v));
	if (strlen(v) >= len)
		return (why(w, wl, "template too long"));
	strcpy(out, v);
	return (0);
}

/* Key setters.  p->sec tells [global] from [pair NAME]. */

static struct pair_src *
cur(struct parser *p)
{
	return (&p->src[p->nsrc - 1]);
}

static int
set_log_level(struct parser *p, const char *v, char *w, size_t wl)
{
	static const struct { const char *s; enum log_level l; } t[] = {
		{ "err", LOG_LVL_ERR }, { "error", LOG_LVL_ERR },
		{ "warning", LOG_LVL_WARN }, { "warn", LOG_LVL_WARN },
		{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO },
		{ "debug", LOG_LVL_DEBUG },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (strcasecmp(v, t[i].s) == 0) {
			p->cf->log_level = t[i].l;
			return (0);
		}
	}
	return (why(w, wl, "expected err, warning, notice, info or debug, "
	    "not '%s'", v));
}

static int
set_log(struct parser *p, const char *v, char *w, size_t wl)
{
	if (strcmp(v, "stderr") == 0)
		p->cf->use_syslog = 0;
	else if (strcmp(v, "syslog") == 0)
		p->cf->use_syslog = 1;
	else
		return (why(w, wl, "expected stderr or syslog, not '%s'", v));
	return (0);
}

static int
set_stats(struct parser *p, const char *v, char *w, size_t wl)
{
	unsigned long long	n;

	if (parse_uint(v, 0, CONFIG_STATS_MAX, &n) == -1)
		return (why(w, wl, "expected seconds from 0 (off) to %d, "
		    "not '%s'", CONFIG_STATS_MAX, v));
	p->cf->stats_interval = (unsigned)n;
	return (0);
}

static int
set_packet_log_dir(struct parser *p, const char *v, char *w, size_t wl)
{
	return (dir_value(v, p->cf->packet_log_dir, w, wl));
}

static int
set_capture_dir(struct parser *p, const char *v, char *w, size_t wl)
{
	return (dir_value(v, p->cf->capture_dir, w, wl));
}

static int
set_hold(struct parser *p, const char *v, char *w, size_t wl)
{
	long	n = 0;

	if (hold_value(v, &n, w, wl) == -1)
		return (-1);
	if (p->sec == SEC_PAIR)
		cur(p)->hold_ms = n;
	else
		p->cf->hold_ms = (unsigned)n;
	return (0);
}

static int
set_bufsize(struct parser *p, const char *v, char *w, size_t wl)
{
	long long	n = 0;

	if (size_value(v, &n, w, wl) == -1)
		return (-1);
	if (p->sec == SEC_PAIR)
		cur(p)->bufsize = n;
	else
		p->cf->bufsize = (size_t)n;
	return (0);
}

static int
set_validate(struct parser *p, const char *v, char *w, size_t wl)
{
	int	*dst = p->sec == SEC_PAIR ? &cur(p)->validate :
		    &p->cf->validate;

	return (bool_value(v, dst, w, wl));
}

static int
set_allow_remote(struct parser *p, const char *v, char *w, size_t wl)
{
	int	*dst = p->sec == SEC_PAIR ? &cur(p)->allow_remote :
		    &p->cf->allow_remote;

	return (bool_value(v, dst, w, wl));
}

static int
set_spec(struct parser *p, int side, const char *v, char *w, size_t wl)
{
	cur(p)->spec_line[side] = p->line;
	return (dup_str(&cur(p)->spec[side], v, w, wl));
}

static int
set_host(struct parser *p, const char *v, char *w, size_t wl)
{
	return (set_spec(p, SIDE_HOST, v, w, wl));
}

static int
set_target(struct parser *p, const char *v, char *w, size_t wl)
{
	return (set_spec(p, SIDE_TARGET, v, w, wl));
}

static int
set_host_crlf(struct parser *p, const char *v, char *w, size_t wl)
{
	return (crlf_value(v, &cur(p)->crlf[SIDE_HOST], w, wl));
}

static int
set_target_crlf(struct parser *p, const char *v, char *w, size_t wl)
{
	return (crlf_value(v, &cur(p)->crlf[SIDE_TARGET], w, wl));
}

static int
set_packet_log(struct parser *p, const char *v, char *w, size_t wl)
{
	cur(p)->packet_log_line = p->line;
	return (dup_str(&cur(p)->packet_log, v, w, wl));
}

static int
set_capture(struct parser *p, const char *v, char *w, size_t wl)
{
	cur(p)->capture_line = p->line;
	return (dup_str(&cur(p)->capture, v, w, wl));
}

static int
set_enable(struct parser *p, const char *v, char *w, size_t wl)
{
	return (bool_value(v, &p->cf->discover.enable, w, wl));
}

static int
set_match(struct parser *p, const char *v, char *w, size_t wl)
{
	struct config_auto	*a = &p->cf->discover;
	const char		*s = v;
	char			**m;
	size_t			 n;

	while (*s != '\0') {
		n = strcspn(s, " \t");
		if (n > 0) {
			m = reallocarray(a->match, a->nmatch + 1, sizeof *m);
			if (m == NULL)
				return (why(w, wl, "%s", strerror(errno)));
			a->match = m;
			if ((m[a->nmatch] = strndup(s, n)) == NULL)
				return (why(w, wl, "%s", strerror(errno)));
			a->nmatch++;
		}
		s += n;
		s += strspn(s, " \t");
	}
	return (0);
}

static int
set_endpoint(struct parser *p, const char *v, char *w, size_t wl)
{
	p->endpoint_line = p->line;
	return (template_value(v, p->cf->discover.endpoint,
	    sizeof p->cf->discover.endpoint, w, wl));
}

static int
set_ports(struct parser *p, const char *v, char *w, size_t wl)
{
	unsigned long long	 lo, hi;
	char			 buf[16];
	const char		*dash = strchr(v, '-');

	if (dash == NULL || (size_t)(dash - v) >= sizeof buf)
		goto bad;
	memcpy(buf, v, (size_t)(dash - v));
	buf[dash - v] = '\0';
	if (parse_uint(buf, 1, 65535, &lo) == -1 ||
	    parse_uint(dash + 1, lo, 65535, &hi) == -1)
		goto bad;
	p->cf->discover.port_lo = (unsigned)lo;
	p->cf->discover.port_hi = (unsigned)hi;
	p->ports_line = p->line;
	return (0);
bad:
	return (why(w, wl, "expected LOW-HIGH, ports from 1 to 65535, "
	    "not '%s'", v));
}

static int
set_pair_with(struct parser *p, const char *v, char *w, size_t wl)
{
	p->pair_with_line = p->line;
	return (template_value(v, p->cf->discover.pair_with,
	    sizeof p->cf->discover.pair_with, w, wl));
}

static int
set_auto_crlf(struct parser *p, const char *v, char *w, size_t wl)
{
	int	m = 0;

	if (crlf_value(v, &m, w, wl) == -1)
		return (-1);
	p->cf->discover.crlf = (enum crlf_mode)m;
	return (0);
}

#define G SEC_GLOBAL
#define P SEC_PAIR
#define A SEC_AUTO
static const struct keydef keys[] = {
	{ "log-level",		G,	0, set_log_level },
	{ "log",		G,	0, set_log },
	{ "stats-interval",	G,	0, set_stats },
	{ "packet-log-dir",	G,	0, set_packet_log_dir },
	{ "capture-dir",	G,	0, set_capture_dir },
	{ "hold-ms",		G | P,	0, set_hold },
	{ "buffer-size",	G | P,	0, set_bufsize },
	{ "validate",		G | P,	0, set_validate },
	{ "allow-remote",	G | P,	0, set_allow_remote },
	{ "host",		P,	0, set_host },
	{ "target",		P,	0, set_target },
	{ "host-crlf",		P,	0, set_host_crlf },
	{ "target-crlf",	P,	0, set_target_crlf },
	{ "packet-log",		P,	0, set_packet_log },
	{ "capture",		P,	0, set_capture },
	{ "enable",		A,	0, set_enable },
	{ "match",		A,	1, set_match },
	{ "endpoint",		A,	0, set_endpoint },
	{ "tcp-ports",		A,	0, set_ports },
	{ "pair-with",		A,	0, set_pair_with },
	{ "crlf",		A,	0, set_auto_crlf },
};
#undef G
#undef P
#undef A
#define NKEYS	(sizeof keys / sizeof keys[0])
_Static_assert(NKEYS <= sizeof ((struct parser *)0)->seen /
    sizeof ((struct parser *)0)->seen[0], "parser.seen too small");

static const char *
sec_name(struct parser *p, char *buf, size_t len)
{
	if (p->sec == SEC_PAIR)
		snprintf(buf, len, "[pair %s]", cur(p)->name);
	else
		snprintf(buf, len, "%s", p->sec == SEC_GLOBAL ? "[global]" :
		    "[auto]");
	return (buf);
}

static int
do_key(struct parser *p, const char *key, const char *value)
{
	const struct keydef	*k = NULL;
	char			 w[384], sn[RELAY_NAME_MAX + 8];
	size_t			 i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, key) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (p->sec == SEC_NONE)
		return (perr(p, p->line, "'%s' outside any section (put it "
		    "under [global] or [pair NAME])", key));
	sec_name(p, sn, sizeof sn);
	if (k == NULL)
		return (perr(p, p->line, "unknown key '%s' in %s", key, sn));
	if (!(k->sections & p->sec))
		return (perr(p, p->line, "key '%s' does not belong in %s "
		    "(it goes in %s)", key, sn, (k->sections & SEC_PAIR) ?
		    "[pair NAME]" : (k->sections & SEC_AUTO) ? "[auto]" :
		    "[global]"));
	if (p->seen[i] != 0 && !k->repeat)
		return (perr(p, p->line, "duplicate key '%s' in %s (first "
		    "at line %u)", key, sn, p->seen[i]));
	p->seen[i] = p->line;
	if (k->set(p, value, w, sizeof w) == -1)
		return (perr(p, p->line, "%s: %s", key, w));
	return (0);
}

static int
new_pair(struct parser *p, const char *name)
{
	struct pair_src	*s;
	size_t		 i;

	if (!config_valid_name(name))
		return (perr(p, p->line, "bad pair name '%s' (expected "
		    "[A-Za-z0-9_.-], at most %d characters)", name,
		    RELAY_NAME_MAX - 1));
	for (i = 0; i < p->nsrc; i++) {
		if (strcmp(p->src[i].name, name) == 0)
			return (perr(p, p->line, "duplicate pair '%s' (first "
			    "at line %u)", name, p->src[i].line));
	}
	if (p->nsrc == p->capsrc) {
		size_t	n = p->capsrc ? p->capsrc * 2 : 8;

		s = reallocarray(p->src, n, sizeof *s);
		if (s == NULL)
			return (perr(p, p->line, "%s", strerror(errno)));
		p->src = s;
		p->capsrc = n;
	}
	s = &p->src[p->nsrc++];
	memset(s, 0, sizeof *s);
	strcpy(s->name, name);
	s->line = p->line;
	s->crlf[0] = s->crlf[1] = -1;
	s->hold_ms = -1;
	s->bufsize = -1;
	s->validate = s->allow_remote = -1;
	return (0);
}

/* s points just after '['. */
static int
do_section(struct parser *p, char *s)
{
	char	*end = strchr(s, ']'), *word, *arg, *t;
	int	 sec;

	if (end == NULL)
		return (perr(p, p->line, "unterminated section header "
		    "(missing ']')"));
	t = end + 1 + strspn(end + 1, " \t");
	if (*t != '\0' && *t != '#' && *t != ';')
		return (perr(p, p->line, "junk after section header: '%s'",
		    t));
	*end = '\0';
	word = s + strspn(s, " \t");
	arg = word + strcspn(word, " \t");
	if (*arg != '\0')
		*arg++ = '\0';
	arg += strspn(arg, " \t");
	for (t = arg + strlen(arg); t > arg && (t[-1] == ' ' ||
	    t[-1] == '\t'); t--)
		t[-1] = '\0';

	if (strcmp(word, "global") == 0)
		sec = SEC_GLOBAL;
	else if (strcmp(word, "auto") == 0)
		sec = SEC_AUTO;
	else if (strcmp(word, "pair") == 0)
		sec = SEC_PAIR;
	else
		return (perr(p, p->line, "unknown section [%s] (expected "
		    "[global], [pair NAME] or [auto])", word));
	if (sec != SEC_PAIR && *arg != '\0')
		return (perr(p, p->line, "section [%s] takes no name", word));
	if (sec == SEC_PAIR && *arg == '\0')
		return (perr(p, p->line, "section [pair] needs a name: "
		    "[pair NAME]"));
	if (sec == SEC_GLOBAL && p->global_line != 0)
		return (perr(p, p->line, "duplicate section [global] (first "
		    "at line %u)", p->global_line));
	if (sec == SEC_AUTO && p->auto_line != 0)
		return (perr(p, p->line, "duplicate section [auto] (first "
		    "at line %u)", p->auto_line));
	if (sec == SEC_PAIR && new_pair(p, arg) == -1)
		return (-1);
	if (sec == SEC_GLOBAL)
		p->global_line = p->line;
	if (sec == SEC_AUTO)
		p->auto_line = p->line;
	p->sec = sec;
	memset(p->seen, 0, sizeof p->seen);
	return (0);
}

/* Unquote in place; v points at the opening quote. */
static int
unquote(struct parser *p, char *v)
{
	char	*r = v + 1, *o = v;

	for (;; r++) {
		if (*r == '\0')
			return (perr(p, p->line, "unterminated quoted value"));
		if (*r == '"')
			break;
		if (*r == '\\') {
			r++;
			if (*r == '\0')
				return (perr(p, p->line, "unterminated quoted "
				    "value"));
			if (*r != '"' && *r != '\\')
				return (perr(p, p->line, "bad escape '\\%c' in "
				    "quoted value (only \\\" and \\\\)", *r));
		}
		*o++ = *r;
	}
	*o = '\0';
	r++;
	r += strspn(r, " \t");
	if (*r != '\0' && *r != '#' && *r != ';')
		return (perr(p, p->line, "junk after quoted value: '%s'", r));
	return (0);
}

/*
 * Cut a trailing comment (# or ; after whitespace) and whitespace.  v[-1]
 * is in the line ('=' or the whitespace after it).
 */
static void
trim_value(char *v)
{
	char	*s, *e;

	for (s = v; *s != '\0'; s++) {
		if ((*s == '#' || *s == ';') && (s[-1] == ' ' ||
		    s[-1] == '\t')) {
			*s = '\0';
			break;
		}
	}
	for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = '\0';
}

static int
do_line(struct parser *p, char *s)
{
	char	*key, *eq, *v, *e;

	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#' || *s == ';')
		return (0);
	if (*s == '[')
		return (do_section(p, s + 1));

	key = s;
	s += strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
	e = s;
	s += strspn(s, " \t");
	if (e == key || *s != '=')
		return (perr(p, p->line, "syntax error: expected "
		    "'key = value', '[section]' or a comment"));
	eq = s;
	*e = '\0';
	v = eq + 1 + strspn(eq + 1, " \t");
	if (*v == '"') {
		if (unquote(p, v) == -1)
			return (-1);
	} else {
		trim_value(v);
		if (*v == '\0')
			return (perr(p, p->line, "'%s' has no value (use \"\" "
			    "for an empty one)", key));
	}
	return (do_key(p, key, v));
}

/* Reject what a text file does not hold, before parsing. */
static int
check_bytes(struct parser *p, const char *s, size_t n)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\0')
			return (perr(p, p->line, "NUL byte in line (not a "
			    "text file?)"));
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return (perr(p, p->line, "invalid control character "
			    "0x%02x", c));
	}
	return (0);
}

static int
resolve(struct parser *p, unsigned line, const char *dir, const char *f,
    char *out, const char *key)
{
	int	n;

	if (*f == '\0')
		return (0);
	if (*f == '/')
		n = snprintf(out, PATH_MAX, "%s", f);
	else
		n = snprintf(out, PATH_MAX, "%s%s%s", dir,
		    dir[strlen(dir) - 1] == '/' ? "" : "/", f);
	if (n < 0 || n >= PATH_MAX)
		return (perr(p, line, "%s: path too long", key));
	return (0);
}

static int
is_loopback(const char *host)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (strcasecmp(host, "localhost") == 0)
		return (1);
	if (inet_pton(AF_INET, host, &a4) == 1)
		return ((ntohl(a4.s_addr) >> 24) == 127);
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return (IN6_IS_ADDR_LOOPBACK(&a6));
	return (0);
}

static int
finish_spec(struct parser *p, const struct pair_src *s, int side,
    int remote, struct ep_spec *ep)
{
	const char	*key = side == SIDE_HOST ? "host" : "target";
	char		 w[384];

	if (ep_spec_parse(s->spec[side], ep, w, sizeof w) == -1)
		return (perr(p, s->spec_line[side], "%s: %s", key, w));
	if (ep->kind == EP_TCP_LISTEN && remote)
		ep->allow_remote = 1;
	if (ep->kind == EP_TCP_LISTEN && !ep->allow_remote &&
	    !is_loopback(ep->host))
		return (perr(p, s->spec_line[side], "%s: %s listens on %s, "
		    "reachable from the network: set allow-remote = yes to "
		    "mean it", key, ep->text, ep->host));
	if (s->crlf[side] != -1) {
		ep->crlf = (enum crlf_mode)s->crlf[side];
		ep->crlf_set = 1;
	}
	return (0);
}

static int
finish_pair(struct parser *p, const struct pair_src *s, struct relay_opts *o)
{
	const struct config	*cf = p->cf;
	int			 side, remote;

	relay_opts_init(o);
	strcpy(o->name, s->name);
	for (side = 0; side < 2; side++) {
		if (s->spec[side] == NULL)
			return (perr(p, s->line, "pair '%s' has no '%s'",
			    s->name, side == SIDE_HOST ? "host" : "target"));
	}
	remote = s->allow_remote != -1 ? s->allow_remote : cf->allow_remote;
	for (side = 0; side < 2; side++) {
		if (finish_spec(p, s, side, remote, &o->side[side]) == -1)
			return (-1);
	}
	o->hold_ms = s->hold_ms != -1 ? (unsigned)s->hold_ms : cf->hold_ms;
	o->bufsize = s->bufsize != -1 ? (size_t)s->bufsize : cf->bufsize;
	o->validate = s->validate != -1 ? s->validate : cf->validate;
	if (s->packet_log != NULL && resolve(p, s->packet_log_line,
	    cf->packet_log_dir, s->packet_log, o->packet_log,
	    "packet-log") == -1)
		return (-1);
	if (s->capture != NULL && resolve(p, s->capture_line, cf->capture_dir,
	    s->capture, o->capture, "capture") == -1)
		return (-1);
	return (0);
}

/* The same serial port or socket in two pairs would split its bytes. */
static int
same_resource(const struct ep_spec *a, const struct ep_spec *b)
{
	if (a->kind != b->kind)
		return (0);
	switch (a->kind) {
	case EP_TTY:
	case EP_UNIX:
	case EP_UNIX_LISTEN:
		return (strcmp(a->path, b->path) == 0);
	case EP_TCP:
		return (0);	/* a remote server may take many clients */
	case EP_TCP_LISTEN:
		return (strcmp(a->host, b->host) == 0 &&
		    strcmp(a->port, b->port) == 0);
	case EP_XEN:
	case EP_PVE:
		return (strcmp(a->name, b->name) == 0 &&
		    a->serial == b->serial && a->console == b->console);
	}
	return (0);
}

static int
check_conflicts(struct parser *p, size_t i)
{
	const struct relay_opts	*o = &p->cf->pairs[i], *q;
	const struct pair_src	*s = &p->src[i];
	size_t			 j;
	int			 a, b;

	if (same_resource(&o->side[SIDE_HOST], &o->side[SIDE_TARGET]))
		return (perr(p, s->spec_line[SIDE_TARGET], "target: same "
		    "endpoint as host"));
	for (j = 0; j < i; j++) {
		q = &p->cf->pairs[j];
		for (a = 0; a < 2; a++) {
			for (b = 0; b < 2; b++) {
				if (same_resource(&o->side[a], &q->side[b]))
					return (perr(p, s->spec_line[a],
					    "%s: '%s' is already used by pair "
					    "'%s'", a ? "target" : "host",
					    o->side[a].text, q->name));
			}
		}
		if (*o->packet_log != '\0' && (strcmp(o->packet_log,
		    q->packet_log) == 0 || strcmp(o->packet_log,
		    q->capture) == 0))
			return (perr(p, s->packet_log_line, "packet-log: %s is "
			    "already written by pair '%s'", o->packet_log,
			    q->name));
		if (*o->capture != '\0' && (strcmp(o->capture,
		    q->packet_log) == 0 || strcmp(o->capture, q->capture) == 0))
			return (perr(p, s->capture_line, "capture: %s is "
			    "already written by pair '%s'", o->capture,
			    q->name));
	}
	if (*o->capture != '\0' && strcmp(o->capture, o->packet_log) == 0)
		return (perr(p, s->capture_line, "capture: same file as "
		    "packet-log"));
	return (0);
}

static int
finish_auto(struct parser *p)
{
	struct config_auto	*a = &p->cf->discover;
	struct ep_spec		 ep;
	char			 text[EP_TEXT_MAX], w[256];
	unsigned		 last, line;

	if (p->endpoint_line != 0 && p->ports_line != 0) {
		last = p->endpoint_line > p->ports_line ? p->endpoint_line :
		    p->ports_line;
		return (perr(p, last, "endpoint and tcp-ports exclude each "
		    "other"));
	}
	if (p->pair_with_line != 0 && (p->endpoint_line | p->ports_line)) {
		return (perr(p, p->pair_with_line, "pair-with excludes "
		    "endpoint and tcp-ports"));
	}
	if (a->enable && a->nmatch == 0)
		return (perr(p, p->auto_line, "[auto] enabled without a "
		    "'match' (which VMs?)"));
	if (p->ports_line != 0 || p->pair_with_line != 0)
		return (0);
	/* Check the template the way it will be used, with a sample name. */
	line = p->endpoint_line ? p->endpoint_line : p->auto_line;
	if (config_expand(a->endpoint, "vm", text, sizeof text) == -1)
		return (perr(p, line, "endpoint: template too long"));
	if (ep_spec_parse(text, &ep, w, sizeof w) == -1)
		return (perr(p, line, "endpoint: %s", w));
	return (0);
}

static int
finish(struct parser *p)
{
	struct config	*cf = p->cf;
	size_t		 i;

	if (p->nsrc > 0) {
		cf->pairs = calloc(p->nsrc, sizeof *cf->pairs);
		if (cf->pairs == NULL)
			return (perr(p, p->line, "%s", strerror(errno)));
	}
	for (i = 0; i < p->nsrc; i++) {
		if (finish_pair(p, &p->src[i], &cf->pairs[i]) == -1)
			return (-1);
		cf->npairs = i + 1;
		if (check_conflicts(p, i) == -1)
			return (-1);
	}
	return (finish_auto(p));
}

static void
free_src(struct parser *p)
{
	size_t	i;
	int	side;

	for (i = 0; i < p->nsrc; i++) {
		for (side = 0; side < 2; side++)
			free(p->src[i].spec[side]);
		free(p->src[i].packet_log);
		free(p->src[i].capture);
	}
	free(p->src);
}

static int
parse_lines(struct parser *p, const char *buf, size_t len)
{
	char		 line[CONFIG_LINE_MAX + 2];
	const char	*s = buf, *end = buf + len, *nl;
	size_t		 n;

	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;			/* a UTF-8 BOM from a Windows editor */
	for (p->line = 1; s < end; p->line++) {
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (nl != NULL ? nl : end) - s;
		if (n > 0 && s[n - 1] == '\r')
			n--;		/* CRLF line ends */
		if (n > CONFIG_LINE_MAX)
			return (perr(p, p->line, "line too long (more than "
			    "%d characters)", CONFIG_LINE_MAX));
		if (check_bytes(p, s, n) == -1)
			return (-1);
		memcpy(line, s, n);
		line[n] = '\0';
		if (do_line(p, line) == -1)
			return (-1);
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	return (0);
}

void
config_init(struct config *cf)
{
	struct relay_opts	o;

	memset(cf, 0, sizeof *cf);
	relay_opts_init(&o);
	cf->log_level = LOG_LVL_INFO;
	strcpy(cf->packet_log_dir, CONFIG_LOG_DIR);
	strcpy(cf->capture_dir, CONFIG_LOG_DIR);
	cf->hold_ms = o.hold_ms;
	cf->bufsize = o.bufsize;
	cf->validate = o.validate;
	strcpy(cf->discover.endpoint, CONFIG_AUTO_ENDPOINT);
	cf->discover.crlf = CRLF_AUTO;
}

void
config_free(struct config *cf)
{
	size_t	i;

	for (i = 0; i < cf->discover.nmatch; i++)
		free(cf->discover.match[i]);
	free(cf->discover.match);
	free(cf->pairs);
	config_init(cf);
}

int
config_parse_buffer(const char *name, const char *buf, size_t len,
    struct config *cf, char *err, size_t errlen)
{
	struct parser	p;
	int		rc;

	config_init(cf);
	memset(&p, 0, sizeof p);
	p.file = name;
	p.cf = cf;
	p.err = err;
	p.errlen = errlen;
	rc = parse_lines(&p, buf, len);
	if (rc == 0)
		rc = finish(&p);
	free_src(&p);
	if (rc == -1)
		config_free(cf);
	return (rc);
}

int
config_load(const char *path, struct config *cf, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL, *nb;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 fd, rc;

	config_init(cf);
	/* Non-blocking open: a FIFO with no writer must not hang a reload. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1)
		goto fail_errno;
	if (S_ISFIFO(st.st_mode)) {
		snprintf(err, errlen, "%s: a FIFO, not a file", path);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) == -1)	/* blocking reads, as before */
		goto fail_errno;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > CONFIG_FILE_MAX + 1)
				cap = CONFIG_FILE_MAX + 1;
			if (len == cap) {
				snprintf(err, errlen, "%s: file too large "
				    "(more than %d bytes)", path,
				    CONFIG_FILE_MAX);
				goto fail;
			}
			if ((nb = realloc(buf, cap)) == NULL)
				goto fail_errno;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail_errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = config_parse_buffer(path, buf, len, cf, err, errlen);
	free(buf);
	return (rc);

fail_errno:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
fail:
	close(fd);
	free(buf);
	return (-1);
}

const struct relay_opts *
config_find_pair(const struct config *cf, const char *name)
{
	size_t	i;

	for (i = 0; i < cf->npairs; i++) {
		if (strcmp(cf->pairs[i].name, name) == 0)
			return (&cf->pairs[i]);
	}
	return (NULL);
}

struct relay_opts *
config_take_pairs(struct config *cf, size_t *n)
{
	struct relay_opts	*pairs = cf->pairs;

	*n = cf->npairs;
	cf->pairs = NULL;
	cf->npairs = 0;
	return (pairs);
}

int
config_auto_match(const struct config *cf, const char *name)
{
	size_t	i;

	for (i = 0; i < cf->discover.nmatch; i++) {
		if (fnmatch(cf->discover.match[i], name, 0) == 0)
			return (1);
	}
	return (0);
}

int
config_expand(const char *tmpl, const char *name, char *out, size_t len)
{
	size_t		 o = 0, n;
	const char	*add;

	for (; *tmpl != '\0'; tmpl++) {
		add = tmpl;
		n = 1;
		if (*tmpl == '%') {
			tmpl++;
			if (*tmpl == 'n') {
				add = name;
				n = strlen(name);
			} else if (*tmpl != '%')
				return (-1);
		}
		if (o + n >= len)
			return (-1);
		memcpy(out + o, add, n);
		o += n;
	}
	if (o >= len)
		return (-1);
	out[o] = '\0';
	return (0);
}

int
config_valid_name(const char *s)
{
	size_t	n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	return (n > 0 && s[n] == '\0' && n < RELAY_NAME_MAX);
}
