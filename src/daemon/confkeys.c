/*
 * confkeys.c - the keys of kdrelay.conf: the sections each belongs in and
 * what it sets.  Pair values are kept as written (struct pair_src) for
 * confpairs.c to finish at the end of the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

typedef int (*setter)(struct parser *, const char *, char *, size_t);

struct keydef {
	const char	*name;
	int		 sections;
	int		 repeat;
	setter		 set;
};

/* Key setters.  p->sec tells [global] from [pair NAME]. */

static struct pair_src *
cur(struct parser *p)
{
	return (&p->src[p->nsrc - 1]);
}

static int
set_log_level(struct parser *p, const char *v, char *w, size_t wl)
{
	if (log_level_parse(v, &p->cf->log_level) == 0)
		return (0);
	return (conf_why(w, wl, "expected err, warning, notice, info or debug, "
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
		return (conf_why(w, wl, "expected stderr or syslog, not '%s'",
		    v));
	return (0);
}

static int
set_stats(struct parser *p, const char *v, char *w, size_t wl)
{
	unsigned long long	n;

	if (conf_parse_uint(v, 0, CONFIG_STATS_MAX, &n) == -1)
		return (conf_why(w, wl, "expected seconds from 0 (off) to %d, "
		    "not '%s'", CONFIG_STATS_MAX, v));
	p->cf->stats_interval = (unsigned)n;
	return (0);
}

static int
set_packet_log_dir(struct parser *p, const char *v, char *w, size_t wl)
{
	return (conf_dir_value(v, p->cf->packet_log_dir, w, wl));
}

static int
set_capture_dir(struct parser *p, const char *v, char *w, size_t wl)
{
	return (conf_dir_value(v, p->cf->capture_dir, w, wl));
}

static int
set_control_socket(struct parser *p, const char *v, char *w, size_t wl)
{
	if (strcmp(v, "none") == 0) {
		p->cf->control_path[0] = '\0';
		return (0);
	}
	if (*v != '/')
		return (conf_why(w, wl, "expected an absolute path or none, "
		    "not '%s'", v));
	if (strlen(v) >= sizeof p->cf->control_path)
		return (conf_why(w, wl, "path longer than %zu bytes (a unix "
		    "socket's limit)", sizeof p->cf->control_path - 1));
	strcpy(p->cf->control_path, v);
	return (0);
}

static int
set_control_group(struct parser *p, const char *v, char *w, size_t wl)
{
	size_t	n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
		    "vwxyz0123456789_.-");

	if (*v == '\0' || *v == '-' || v[n] != '\0' ||
	    n >= sizeof p->cf->control_group)
		return (conf_why(w, wl, "expected a group name, not '%s'", v));
	strcpy(p->cf->control_group, v);
	return (0);
}

static int
set_hold(struct parser *p, const char *v, char *w, size_t wl)
{
	long	n = 0;

	if (conf_hold_value(v, &n, w, wl) == -1)
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

	if (conf_size_value(v, &n, w, wl) == -1)
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

	return (conf_bool_value(v, dst, w, wl));
}

static int
set_target_shutdown(struct parser *p, const char *v, char *w, size_t wl)
{
	int	*dst = p->sec == SEC_PAIR ? &cur(p)->target_shutdown :
		    &p->cf->target_shutdown;

	return (conf_bool_value(v, dst, w, wl));
}

static int
set_allow_remote(struct parser *p, const char *v, char *w, size_t wl)
{
	int	*dst = p->sec == SEC_PAIR ? &cur(p)->allow_remote :
		    &p->cf->allow_remote;

	return (conf_bool_value(v, dst, w, wl));
}

static int
set_spec(struct parser *p, int side, const char *v, char *w, size_t wl)
{
	cur(p)->spec_line[side] = p->line;
	return (conf_dup_str(&cur(p)->spec[side], v, w, wl));
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
	return (conf_crlf_value(v, &cur(p)->crlf[SIDE_HOST], w, wl));
}

static int
set_target_crlf(struct parser *p, const char *v, char *w, size_t wl)
{
	return (conf_crlf_value(v, &cur(p)->crlf[SIDE_TARGET], w, wl));
}

static int
set_packet_log(struct parser *p, const char *v, char *w, size_t wl)
{
	cur(p)->packet_log_line = p->line;
	return (conf_dup_str(&cur(p)->packet_log, v, w, wl));
}

static int
set_capture(struct parser *p, const char *v, char *w, size_t wl)
{
	cur(p)->capture_line = p->line;
	return (conf_dup_str(&cur(p)->capture, v, w, wl));
}

static int
set_enable(struct parser *p, const char *v, char *w, size_t wl)
{
	return (conf_bool_value(v, &p->cf->discover.enable, w, wl));
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
				return (conf_why(w, wl, "%s", strerror(errno)));
			a->match = m;
			if ((m[a->nmatch] = strndup(s, n)) == NULL)
				return (conf_why(w, wl, "%s", strerror(errno)));
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
	return (conf_template_value(v, p->cf->discover.endpoint,
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
	if (conf_parse_uint(buf, 1, 65535, &lo) == -1 ||
	    conf_parse_uint(dash + 1, lo, 65535, &hi) == -1)
		goto bad;
	p->cf->discover.port_lo = (unsigned)lo;
	p->cf->discover.port_hi = (unsigned)hi;
	p->ports_line = p->line;
	return (0);
bad:
	return (conf_why(w, wl, "expected LOW-HIGH, ports from 1 to 65535, "
	    "not '%s'", v));
}

static int
set_pair_with(struct parser *p, const char *v, char *w, size_t wl)
{
	p->pair_with_line = p->line;
	return (conf_template_value(v, p->cf->discover.pair_with,
	    sizeof p->cf->discover.pair_with, w, wl));
}

static int
set_auto_crlf(struct parser *p, const char *v, char *w, size_t wl)
{
	int	m = 0;

	if (conf_crlf_value(v, &m, w, wl) == -1)
		return (-1);
	p->cf->discover.crlf = (enum crlf_mode)m;
	return (0);
}

static int
set_auto_source(struct parser *p, const char *v, char *w, size_t wl)
{
	if (auto_source_parse(v, &p->cf->discover.source) == -1)
		return (conf_why(w, wl, "source: expected auto, xen, pve or "
		    "libvirt, not '%s'", v));
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
	{ "control-socket",	G,	0, set_control_socket },
	{ "control-group",	G,	0, set_control_group },
	{ "hold-ms",		G | P,	0, set_hold },
	{ "buffer-size",	G | P,	0, set_bufsize },
	{ "validate",		G | P,	0, set_validate },
	{ "allow-remote",	G | P,	0, set_allow_remote },
	{ "target-shutdown",	G | P,	0, set_target_shutdown },
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
	{ "source",		A,	0, set_auto_source },
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

int
conf_do_key(struct parser *p, const char *key, const char *value)
{
	const struct keydef	*k = NULL;
	char			 w[384], sn[PAIR_NAME_MAX + 8];
	size_t			 i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, key) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (p->sec == SEC_NONE)
		return (conf_perr(p, p->line, "'%s' outside any section (put "
		    "it under [global] or [pair NAME])", key));
	sec_name(p, sn, sizeof sn);
	if (k == NULL)
		return (conf_perr(p, p->line, "unknown key '%s' in %s", key,
		    sn));
	if (!(k->sections & p->sec))
		return (conf_perr(p, p->line, "key '%s' does not belong in %s "
		    "(it goes in %s)", key, sn, (k->sections & SEC_PAIR) ?
		    "[pair NAME]" : (k->sections & SEC_AUTO) ? "[auto]" :
		    "[global]"));
	if (p->seen[i] != 0 && !k->repeat)
		return (conf_perr(p, p->line, "duplicate key '%s' in %s (first "
		    "at line %u)", key, sn, p->seen[i]));
	p->seen[i] = p->line;
	if (k->set(p, value, w, sizeof w) == -1)
		return (conf_perr(p, p->line, "%s: %s", key, w));
	return (0);
}
