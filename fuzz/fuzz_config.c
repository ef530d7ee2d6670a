/*
 * fuzz_config - kdrelay.conf as a hostile or careless file could be.
 *
 * Rejected: the reason is "NAME:LINE: ..." on one line.  Accepted:
 * - every pair has a valid, unique name, and each endpoint's text parses
 *   again to the same spec (apart from what the file may add to it: its
 *   crlf from host-crlf/target-crlf, allow-remote on a tcp-listen);
 *   the numbers are within their documented ranges;
 * - parsing is deterministic;
 * - the configuration written out canonically (every value explicit and
 *   quoted) parses to an equal configuration: what a file says, it says
 *   the same way every time;
 * - every pair packed as the daemon keeps it unpacks to the same pair.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define NAME	"fuzz.conf"

struct out {
	char	*buf;
	size_t	 len, cap;
	int	 toolong;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = 2 * (o->len + n + 1);
		if ((o->buf = realloc(o->buf, o->cap)) == NULL)
			abort();
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
line(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
line(struct out *o, const char *fmt, ...)
{
	char	b[256];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	CHECK(n > 0 && (size_t)n < sizeof b, "line too long for the writer");
	put(o, b, (size_t)n);
	put(o, "\n", 1);
}

/* key = "value", escaped; flags a line the parser would refuse. */
static void
quoted(struct out *o, const char *key, const char *v)
{
	size_t	start = o->len;

	put(o, key, strlen(key));
	put(o, " = \"", 4);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			put(o, "\\", 1);
		put(o, v, 1);
	}
	put(o, "\"", 1);
	if (o->len - start > CONFIG_LINE_MAX)
		o->toolong = 1;
	put(o, "\n", 1);
}

static const char *
yn(int v)
{
	return v ? "yes" : "no";
}

static const char *
level_name(enum log_level l)
{
	static const char *const names[] = { "err", "warning", "notice",
	    "info", "debug" };

	CHECK((unsigned)l < 5, "log level %d", (int)l);
	return names[l];
}

/*
 * The text of a side parsed alone, as the file did before adding to it.
 * Returns 1 when the file (not the text) turned allow-remote on.
 */
static int
check_side(const struct pair_opts *o, int side)
{
	const struct ep_spec	*sp = &o->side[side];
	struct ep_spec		 alone0, *alone = &alone0;
	char			 err[256];
	int			 added;

	CHECK(ep_spec_parse(sp->text, alone, err, sizeof err) == 0,
	    "pair %s: '%s' does not parse again: %s", o->name, sp->text, err);
	CHECK(alone->crlf == sp->crlf || sp->crlf_set, "pair %s: crlf",
	    o->name);
	CHECK(alone->allow_remote == sp->allow_remote || (sp->allow_remote &&
	    sp->kind == EP_TCP_LISTEN), "pair %s: allow-remote", o->name);
	added = sp->allow_remote && !alone->allow_remote;
	alone->crlf = sp->crlf;
	alone->allow_remote = sp->allow_remote;
	CHECK(ep_spec_equal(alone, sp), "pair %s: '%s' parses differently "
	    "alone", o->name, sp->text);
	return added;
}

/* What the daemon keeps of a pair (packed) gives the same pair back. */
static void
check_packed(const struct pair_opts *o)
{
	static struct pair_opts	 back;
	struct pair_packed	*p;
	int			 side;

	CHECK((p = pair_opts_pack(o)) != NULL, "pack: out of memory");
	CHECK(strcmp(pair_packed_name(p), o->name) == 0, "packed name");
	pair_opts_unpack(p, &back);
	free(p);
	CHECK(pair_opts_equal(&back, o), "pair %s: unpacked differs",
	    o->name);
	for (side = 0; side < 2; side++)
		CHECK(strcmp(back.side[side].text, o->side[side].text) == 0 &&
		    back.side[side].crlf_set == o->side[side].crlf_set,
		    "pair %s: unpacked side %d differs", o->name, side);
}

static void
write_pair(struct out *w, const struct pair_opts *o)
{
	int	side, remote = 0;

	check_packed(o);
	for (side = 0; side < 2; side++)
		remote |= check_side(o, side);
	CHECK(pair_name_valid(o->name), "pair name '%s'", o->name);
	CHECK(o->hold_ms >= CONFIG_HOLD_MIN && o->hold_ms <= CONFIG_HOLD_MAX,
	    "hold %u", o->hold_ms);
	CHECK(o->bufsize >= CONFIG_BUFSIZE_MIN &&
	    o->bufsize <= CONFIG_BUFSIZE_MAX, "bufsize %zu", o->bufsize);
	CHECK(o->packet_log[0] == '\0' || o->packet_log[0] == '/',
	    "packet log '%s'", o->packet_log);
	CHECK(o->capture[0] == '\0' || o->capture[0] == '/', "capture '%s'",
	    o->capture);
	line(w, "[pair %s]", o->name);
	quoted(w, "host", o->side[0].text);
	quoted(w, "target", o->side[1].text);
	line(w, "host-crlf = %s", crlf_mode_name(o->side[0].crlf));
	line(w, "target-crlf = %s", crlf_mode_name(o->side[1].crlf));
	line(w, "hold-ms = %u", o->hold_ms);
	line(w, "buffer-size = %zu", o->bufsize);
	line(w, "validate = %s", yn(o->validate));
	line(w, "target-shutdown = %s", yn(o->target_shutdown));
	line(w, "allow-remote = %s", yn(remote));
	if (o->packet_log[0] != '\0')
		quoted(w, "packet-log", o->packet_log);
	if (o->capture[0] != '\0')
		quoted(w, "capture", o->capture);
}

static void
write_config(struct out *w, const struct config *cf)
{
	const struct config_auto	*a = &cf->discover;
	size_t				 i;

	line(w, "[global]");
	line(w, "log-level = %s", level_name(cf->log_level));
	line(w, "log = %s", cf->use_syslog ? "syslog" : "stderr");
	line(w, "stats-interval = %u", cf->stats_interval);
	quoted(w, "packet-log-dir", cf->packet_log_dir);
	quoted(w, "capture-dir", cf->capture_dir);
	CHECK(cf->control_path[0] == '\0' || cf->control_path[0] == '/',
	    "control socket '%s'", cf->control_path);
	if (cf->control_path[0] == '\0')
		line(w, "control-socket = none");
	else
		quoted(w, "control-socket", cf->control_path);
	if (cf->control_group[0] != '\0')
		quoted(w, "control-group", cf->control_group);
	line(w, "hold-ms = %u", cf->hold_ms);
	line(w, "buffer-size = %zu", cf->bufsize);
	line(w, "validate = %s", yn(cf->validate));
	line(w, "target-shutdown = %s", yn(cf->target_shutdown));
	line(w, "allow-remote = %s", yn(cf->allow_remote));
	for (i = 0; i < cf->npairs; i++)
		write_pair(w, &cf->pairs[i]);
	line(w, "[auto]");
	line(w, "enable = %s", yn(a->enable));
	for (i = 0; i < a->nmatch; i++) {
		CHECK(a->match[i][0] != '\0' && strpbrk(a->match[i], " \t") ==
		    NULL, "match glob '%s'", a->match[i]);
		quoted(w, "match", a->match[i]);
	}
	line(w, "crlf = %s", crlf_mode_name(a->crlf));
	if (a->port_lo != 0)
		line(w, "tcp-ports = %u-%u", a->port_lo, a->port_hi);
	else if (a->pair_with[0] != '\0')
		quoted(w, "pair-with", a->pair_with);
	else
		quoted(w, "endpoint", a->endpoint);
}

static void
same_config(const struct config *a, const struct config *b, const char *what)
{
	const struct config_auto	*x = &a->discover, *y = &b->discover;
	size_t				 i;

	CHECK(a->log_level == b->log_level && a->use_syslog == b->use_syslog &&
	    a->stats_interval == b->stats_interval &&
	    strcmp(a->packet_log_dir, b->packet_log_dir) == 0 &&
	    strcmp(a->capture_dir, b->capture_dir) == 0 &&
	    strcmp(a->control_path, b->control_path) == 0 &&
	    strcmp(a->control_group, b->control_group) == 0 &&
	    a->hold_ms == b->hold_ms && a->bufsize == b->bufsize &&
	    a->validate == b->validate && a->allow_remote == b->allow_remote &&
	    a->target_shutdown == b->target_shutdown,
	    "%s: [global] differs", what);
	CHECK(x->enable == y->enable && x->nmatch == y->nmatch &&
	    strcmp(x->endpoint, y->endpoint) == 0 &&
	    x->port_lo == y->port_lo && x->port_hi == y->port_hi &&
	    strcmp(x->pair_with, y->pair_with) == 0 && x->crlf == y->crlf,
	    "%s: [auto] differs", what);
	for (i = 0; i < x->nmatch; i++)
		CHECK(strcmp(x->match[i], y->match[i]) == 0,
		    "%s: match %zu differs", what, i);
	CHECK(a->npairs == b->npairs, "%s: %zu pairs, then %zu", what,
	    a->npairs, b->npairs);
	for (i = 0; i < a->npairs; i++)
		CHECK(pair_opts_equal(&a->pairs[i], &b->pairs[i]),
		    "%s: pair %s differs", what, a->pairs[i].name);
}

static void
check_err(const char *err)
{
	const char	*p = err + strlen(NAME);

	CHECK(strncmp(err, NAME ":", strlen(NAME) + 1) == 0 &&
	    isdigit((unsigned char)p[1]), "reason without file:line: %s", err);
	for (p = err; *p != '\0'; p++)
		CHECK(((unsigned char)*p >= 0x20 || *p == '\t') && *p != 0x7f,
		    "control character 0x%02x in the reason",
		    (unsigned char)*p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	a, b;
	struct out	w;
	char		err[1024];
	size_t		i, j;

	/* An exact-size copy: the parser must not read past len. */
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	memset(&w, 0, sizeof w);
	config_init(&a);
	if (config_parse_buffer(NAME, buf, size, &a, err, sizeof err) != 0) {
		check_err(err);
		CHECK(a.npairs == 0 && a.pairs == NULL, "pairs kept on error");
		goto out;
	}
	for (i = 0; i < a.npairs; i++) {
		for (j = 0; j < i; j++)
			CHECK(strcmp(a.pairs[i].name, a.pairs[j].name) != 0,
			    "pair '%s' twice", a.pairs[i].name);
		CHECK(config_find_pair(&a, a.pairs[i].name) == &a.pairs[i],
		    "config_find_pair");
	}
	CHECK(config_parse_buffer(NAME, buf, size, &b, err, sizeof err) == 0,
	    "second parse fails: %s", err);
	same_config(&a, &b, "second parse");
	config_free(&b);

	write_config(&w, &a);
	if (!w.toolong) {
		CHECK(config_parse_buffer(NAME, w.buf, w.len, &b, err,
		    sizeof err) == 0, "canonical form rejected: %s\n%s", err,
		    w.buf);
		same_config(&a, &b, "canonical form");
		config_free(&b);
	}
out:
	config_free(&a);
	config_free(&a);	/* documented as safe twice */
	free(w.buf);
	free(buf);
	return 0;
}
