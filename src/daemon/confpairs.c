/*
 * confpairs.c - the end of kdrelay.conf: pairs as written become
 * pair_opts, with the [global] defaults that may have come after them,
 * and are checked against each other (no endpoint or log file used twice);
 * [auto] is checked as a whole.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"
#include "tty.h"

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
		return (conf_perr(p, line, "%s: path too long", key));
	return (0);
}

/*
 * A log file's missing directories are made at start (0700): what is
 * there on the way must be directories, and the file no directory, so
 * that a check that passes means a start that does.
 */
int
config_file_creatable(const char *path, char *why, size_t len)
{
	char		dir[PATH_MAX], *s;
	struct stat	st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is a directory", path);
		return (-1);
	}
	snprintf(dir, sizeof dir, "%s", path);
	while ((s = strrchr(dir, '/')) != NULL && s != dir) {
		*s = '\0';
		if (stat(dir, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				return (0);
			snprintf(why, len, "%s is not a directory", dir);
			return (-1);
		}
	}
	return (0);
}

static int
creatable(struct parser *p, unsigned line, const char *path, const char *key)
{
	char	w[PATH_MAX + 32];

	if (config_file_creatable(path, w, sizeof w) == -1)
		return (conf_perr(p, line, "%s: %s", key, w));
	return (0);
}

static int
finish_spec(struct parser *p, const struct pair_src *s, int side,
    int remote, struct ep_spec *ep)
{
	const char	*key = side == SIDE_HOST ? "host" : "target";
	char		 w[384];

	if (ep_spec_parse(s->spec[side], ep, w, sizeof w) == -1 ||
	    ep_path_check(ep, w, sizeof w) == -1)
		return (conf_perr(p, s->spec_line[side], "%s: %s", key, w));
	if ((ep->kind == EP_TCP_LISTEN || ep->kind == EP_LIBVIRT) && remote)
		ep->allow_remote = 1;
	if (ep_spec_exposed(ep))
		return (conf_perr(p, s->spec_line[side], "%s: %s listens on "
		    "%s, reachable from the network: set allow-remote = yes "
		    "to mean it", key, ep->text, ep->host));
	if (s->crlf[side] != -1) {
		ep->crlf = (enum crlf_mode)s->crlf[side];
		ep->crlf_set = 1;
	}
	return (0);
}

static int
finish_pair(struct parser *p, const struct pair_src *s, struct pair_opts *o)
{
	const struct config	*cf = p->cf;
	int			 side, remote;

	pair_opts_init(o);
	strcpy(o->name, s->name);
	for (side = 0; side < 2; side++) {
		if (s->spec[side] == NULL)
			return (conf_perr(p, s->line, "pair '%s' has no '%s'",
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
	o->target_shutdown = s->target_shutdown != -1 ? s->target_shutdown :
	    cf->target_shutdown;
	if (s->packet_log != NULL && (resolve(p, s->packet_log_line,
	    cf->packet_log_dir, s->packet_log, o->packet_log,
	    "packet-log") == -1 || creatable(p, s->packet_log_line,
	    o->packet_log, "packet-log") == -1))
		return (-1);
	if (s->capture != NULL && (resolve(p, s->capture_line, cf->capture_dir,
	    s->capture, o->capture, "capture") == -1 || creatable(p,
	    s->capture_line, o->capture, "capture") == -1))
		return (-1);
	return (0);
}

static int
check_conflicts(struct parser *p, size_t i)
{
	const struct pair_opts	*o = &p->cf->pairs[i], *q;
	const struct pair_src	*s = &p->src[i];
	size_t			 j;
	int			 a, b;

	if (ep_spec_same_resource(&o->side[SIDE_HOST], &o->side[SIDE_TARGET]))
		return (conf_perr(p, s->spec_line[SIDE_TARGET], "target: same "
		    "endpoint as host"));
	for (j = 0; j < i; j++) {
		q = &p->cf->pairs[j];
		for (a = 0; a < 2; a++) {
			for (b = 0; b < 2; b++) {
				if (ep_spec_same_resource(&o->side[a], &q->side[b]))
					return (conf_perr(p, s->spec_line[a],
					    "%s: '%s' is already used by pair "
					    "'%s'", a ? "target" : "host",
					    o->side[a].text, q->name));
			}
		}
		if (*o->packet_log != '\0' && (strcmp(o->packet_log,
		    q->packet_log) == 0 || strcmp(o->packet_log,
		    q->capture) == 0))
			return (conf_perr(p, s->packet_log_line, "packet-log: "
			    "%s is already written by pair '%s'",
			    o->packet_log, q->name));
		if (*o->capture != '\0' && (strcmp(o->capture,
		    q->packet_log) == 0 || strcmp(o->capture, q->capture) == 0))
			return (conf_perr(p, s->capture_line, "capture: %s is "
			    "already written by pair '%s'", o->capture,
			    q->name));
	}
	if (*o->capture != '\0' && strcmp(o->capture, o->packet_log) == 0)
		return (conf_perr(p, s->capture_line, "capture: same file as "
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
		return (conf_perr(p, last, "endpoint and tcp-ports exclude "
		    "each other"));
	}
	if (p->pair_with_line != 0 && (p->endpoint_line | p->ports_line)) {
		return (conf_perr(p, p->pair_with_line, "pair-with excludes "
		    "endpoint and tcp-ports"));
	}
	if (a->enable && a->nmatch == 0)
		return (conf_perr(p, p->auto_line, "[auto] enabled without a "
		    "'match' (which VMs?)"));
	if (p->ports_line != 0 || p->pair_with_line != 0)
		return (0);
	/* Check the template the way it will be used, with a sample name. */
	line = p->endpoint_line ? p->endpoint_line : p->auto_line;
	if (wanted_expand(a->endpoint, "vm", text, sizeof text) == -1)
		return (conf_perr(p, line, "endpoint: template too long"));
	if (ep_spec_parse(text, &ep, w, sizeof w) == -1)
		return (conf_perr(p, line, "endpoint: %s", w));
	return (0);
}

int
conf_finish(struct parser *p)
{
	struct config	*cf = p->cf;
	size_t		 i;

	if (p->nsrc > 0) {
		cf->pairs = calloc(p->nsrc, sizeof *cf->pairs);
		if (cf->pairs == NULL)
			return (conf_perr(p, p->line, "%s", strerror(errno)));
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
