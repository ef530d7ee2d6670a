/*
 * config.c - parse kdrelay.conf into a struct config.
 *
 * Lines are checked (length, control bytes) before they are parsed, so
 * binary junk is an error with a line number, never a crash.  Pair values
 * are collected raw and turned into pair_opts at the end of the file
 * (confpairs.c): a [global] default or allow-remote may come after the
 * pairs it affects.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_impl.h"

int
conf_perr(struct parser *p, unsigned line, const char *fmt, ...)
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
new_pair(struct parser *p, const char *name)
{
	struct pair_src	*s;
	size_t		 i;

	if (!pair_name_valid(name))
		return (conf_perr(p, p->line, "bad pair name '%s' (expected "
		    "[A-Za-z0-9_.-], at most %d characters)", name,
		    PAIR_NAME_MAX - 1));
	for (i = 0; i < p->nsrc; i++) {
		if (strcmp(p->src[i].name, name) == 0)
			return (conf_perr(p, p->line, "duplicate pair '%s' "
			    "(first at line %u)", name, p->src[i].line));
	}
	if (p->nsrc == p->capsrc) {
		size_t	n = p->capsrc ? p->capsrc * 2 : 8;

		s = reallocarray(p->src, n, sizeof *s);
		if (s == NULL)
			return (conf_perr(p, p->line, "%s", strerror(errno)));
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
	s->validate = s->allow_remote = s->target_shutdown = -1;
	return (0);
}

/* s points just after '['. */
static int
do_section(struct parser *p, char *s)
{
	char	*end = strchr(s, ']'), *word, *arg, *t;
	int	 sec;

	if (end == NULL)
		return (conf_perr(p, p->line, "unterminated section header "
		    "(missing ']')"));
	t = end + 1 + strspn(end + 1, " \t");
	if (*t != '\0' && *t != '#' && *t != ';')
		return (conf_perr(p, p->line, "junk after section header: '%s'",
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
		return (conf_perr(p, p->line, "unknown section [%s] (expected "
		    "[global], [pair NAME] or [auto])", word));
	if (sec != SEC_PAIR && *arg != '\0')
		return (conf_perr(p, p->line, "section [%s] takes no name",
		    word));
	if (sec == SEC_PAIR && *arg == '\0')
		return (conf_perr(p, p->line, "section [pair] needs a name: "
		    "[pair NAME]"));
	if (sec == SEC_GLOBAL && p->global_line != 0)
		return (conf_perr(p, p->line, "duplicate section [global] "
		    "(first at line %u)", p->global_line));
	if (sec == SEC_AUTO && p->auto_line != 0)
		return (conf_perr(p, p->line, "duplicate section [auto] (first "
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
			return (conf_perr(p, p->line, "unterminated quoted "
			    "value"));
		if (*r == '"')
			break;
		if (*r == '\\') {
			r++;
			if (*r == '\0')
				return (conf_perr(p, p->line, "unterminated "
				    "quoted value"));
			if (*r != '"' && *r != '\\')
				return (conf_perr(p, p->line, "bad escape "
				    "'\\%c' in quoted value (only \\\" and "
				    "\\\\)", *r));
		}
		*o++ = *r;
	}
	*o = '\0';
	r++;
	r += strspn(r, " \t");
	if (*r != '\0' && *r != '#' && *r != ';')
		return (conf_perr(p, p->line, "junk after quoted value: '%s'",
		    r));
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
		return (conf_perr(p, p->line, "syntax error: expected "
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
			return (conf_perr(p, p->line, "'%s' has no value (use "
			    "\"\" for an empty one)", key));
	}
	return (conf_do_key(p, key, v));
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
			return (conf_perr(p, p->line, "NUL byte in line (not a "
			    "text file?)"));
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return (conf_perr(p, p->line, "invalid control "
			    "character 0x%02x", c));
	}
	return (0);
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
			return (conf_perr(p, p->line, "line too long (more "
			    "than %d characters)", CONFIG_LINE_MAX));
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
	struct pair_opts	o;

	memset(cf, 0, sizeof *cf);
	pair_opts_init(&o);
	cf->log_level = LOG_LVL_INFO;
	strcpy(cf->packet_log_dir, CONFIG_LOG_DIR);
	strcpy(cf->capture_dir, CONFIG_LOG_DIR);
	strcpy(cf->control_path, CONFIG_CONTROL_PATH);
	cf->hold_ms = o.hold_ms;
	cf->bufsize = o.bufsize;
	cf->validate = o.validate;
	cf->target_shutdown = o.target_shutdown;
	strcpy(cf->discover.endpoint, CONFIG_AUTO_ENDPOINT);
	cf->discover.crlf = CRLF_AUTO;
}

void
config_free(struct config *cf)
{
	config_auto_free(&cf->discover);
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
		rc = conf_finish(&p);
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

const struct pair_opts *
config_find_pair(const struct config *cf, const char *name)
{
	size_t	i;

	for (i = 0; i < cf->npairs; i++) {
		if (strcmp(cf->pairs[i].name, name) == 0)
			return (&cf->pairs[i]);
	}
	return (NULL);
}

struct pair_opts *
config_take_pairs(struct config *cf, size_t *n)
{
	struct pair_opts	*pairs = cf->pairs;

	*n = cf->npairs;
	cf->pairs = NULL;
	cf->npairs = 0;
	return (pairs);
}
