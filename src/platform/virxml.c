/*
 * virxml.c - a libvirt domain's serial port from its XML (see virxml.h).
 *
 * A small reader for the XML libvirt writes: elements, attributes in
 * single or double quotes, the five named entities and character
 * references, comments and processing instructions skipped.  It tracks
 * the element path only as deep as it needs: domain > devices > serial >
 * source|target.  Anything it does not understand ends the scan with an
 * error rather than a guess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virxml.h"

#define NAME_MAX_LEN	32
#define VALUE_MAX	PATH_MAX
#define DEPTH_MAX	64

struct rd {
	const char	*p, *end;
	const char	*why;
};

enum where {
	W_OTHER, W_DOMAIN, W_DEVICES, W_SERIAL, W_SOURCE, W_TARGET,
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_name(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':' ||
	    c == '.';
}

static void
skip_space(struct rd *r)
{
	while (r->p < r->end && is_space(*r->p))
		r->p++;
}

/* Skip past the string s; -1 if it never comes. */
static int
skip_past(struct rd *r, const char *s)
{
	size_t	n = strlen(s);
	const char *q = memmem(r->p, (size_t)(r->end - r->p), s, n);

	if (q == NULL)
		return -1;
	r->p = q + n;
	return 0;
}

static int
read_name(struct rd *r, char *out, size_t outlen)
{
	size_t	n = 0;

	while (r->p < r->end && is_name(*r->p)) {
		if (n + 1 < outlen)
			out[n] = *r->p;
		n++;
		r->p++;
	}
	if (n == 0)
		return -1;
	out[n + 1 < outlen ? n : outlen - 1] = '\0';
	return 0;
}

/* Append one code point (UTF-8). */
static int
put_cp(char *out, size_t *n, size_t cap, unsigned long cp)
{
	unsigned char	b[4];
	size_t		k, i;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3f);
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		k = 3;
	} else if (cp < 0x110000) {
		b[0] = 0xf0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		k = 4;
	} else
		return -1;
	for (i = 0; i < k; i++) {
		if (*n + 1 >= cap)
			return -2;
		out[(*n)++] = (char)b[i];
	}
	return 0;
}

/*
 * A quoted attribute value, decoded.  -1: malformed XML.  *toolong or
 * *ctrl are set when the value does not fit or has a control character
 * (the XML is fine, the value is not usable).
 */
static int
read_value(struct rd *r, char *out, size_t cap, int *toolong, int *ctrl)
{
	char		q;
	size_t		n = 0;
	unsigned long	cp;
	int		rc;

	*toolong = *ctrl = 0;
	if (r->p >= r->end || (*r->p != '\'' && *r->p != '"'))
		return -1;
	q = *r->p++;
	while (r->p < r->end && *r->p != q) {
		if (*r->p == '<')
			return -1;
		if (*r->p == '&') {
			const char	*semi = memchr(r->p, ';',
			    (size_t)(r->end - r->p));
			size_t		 len;
			char		 ent[16], *e;

			if (semi == NULL || (len = (size_t)(semi - r->p - 1)) ==
			    0 || len >= sizeof ent)
				return -1;
			memcpy(ent, r->p + 1, len);
			ent[len] = '\0';
			if (strcmp(ent, "lt") == 0)
				cp = '<';
			else if (strcmp(ent, "gt") == 0)
				cp = '>';
			else if (strcmp(ent, "amp") == 0)
				cp = '&';
			else if (strcmp(ent, "apos") == 0)
				cp = '\'';
			else if (strcmp(ent, "quot") == 0)
				cp = '"';
			else if (ent[0] == '#') {
				cp = ent[1] == 'x' ? strtoul(ent + 2, &e, 16) :
				    strtoul(ent + 1, &e, 10);
				if (*e != '\0' || e == ent + 1 ||
				    (ent[1] == 'x' && e == ent + 2))
					return -1;
			} else
				return -1;
			r->p = semi + 1;
		} else
			cp = (unsigned char)*r->p++;
		if (cp < 0x20 || cp == 0x7f)
			*ctrl = 1;
		if (cp >= 0x80 && cp < 0x100 && r->p[-1] != ';') {
			/* a raw UTF-8 byte: copy as is */
			if (n + 1 >= cap)
				*toolong = 1;
			else
				out[n++] = (char)cp;
			continue;
		}
		if ((rc = put_cp(out, &n, cap, cp)) == -1)
			return -1;
		if (rc == -2)
			*toolong = 1;
	}
	if (r->p >= r->end)
		return -1;
	r->p++;
	out[n] = '\0';
	return 0;
}

static void
keep(struct virserial *s, char *dst, size_t cap, const char *v, int toolong,
    int ctrl, const char *what)
{
	if (ctrl) {
		s->bad = what[0] == 'p' ? "the path has a control character" :
		    "a value has a control character";
		return;
	}
	if (toolong || strlen(v) >= cap) {
		s->bad = "a value is too long";
		return;
	}
	strcpy(dst, v);
}

int
virxml_serial(const char *xml, size_t len, int port, struct virserial *out,
    const char **why)
{
	struct rd		 r = { xml, xml + len, NULL };
	enum where		 stack[DEPTH_MAX];
	int			 depth = 0, nserial = 0, found = 0, root = 0;
	int			 cur_port = -1, toolong, ctrl;
	struct virserial	 cur;
	char			 name[NAME_MAX_LEN], aname[NAME_MAX_LEN];
	char			*val;

	if ((val = malloc(VALUE_MAX)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	memset(out, 0, sizeof *out);
	memset(&cur, 0, sizeof cur);
	*why = NULL;
	while (r.p < r.end) {
		const char	*lt = memchr(r.p, '<', (size_t)(r.end - r.p));
		enum where	 parent, w;
		int		 selfclose = 0;

		if (lt == NULL)
			break;
		r.p = lt + 1;
		if (r.p >= r.end)
			goto bad;
		if (*r.p == '?') {
			if (skip_past(&r, "?>") == -1)
				goto bad;
			continue;
		}
		if (*r.p == '!') {
			if (r.end - r.p >= 3 && memcmp(r.p, "!--", 3) == 0) {
				if (skip_past(&r, "-->") == -1)
					goto bad;
			} else if (skip_past(&r, ">") == -1)
				goto bad;
			continue;
		}
		if (*r.p == '/') {		/* an end tag */
			r.p++;
			if (read_name(&r, name, sizeof name) == -1 ||
			    depth == 0)
				goto bad;
			skip_space(&r);
			if (r.p >= r.end || *r.p != '>')
				goto bad;
			r.p++;
			w = stack[--depth];
			if (w == W_SERIAL) {
				if (cur_port == -1)
					cur_port = nserial;
				nserial++;
				if (cur_port == port && !found) {
					*out = cur;
					found = 1;
				}
			}
			continue;
		}
		if (read_name(&r, name, sizeof name) == -1)
			goto bad;
		parent = depth > 0 ? stack[depth - 1] : W_OTHER;
		w = W_OTHER;
		if (depth == 0 && strcmp(name, "domain") == 0)
			w = W_DOMAIN;
		else if (parent == W_DOMAIN && strcmp(name, "devices") == 0)
			w = W_DEVICES;
		else if (parent == W_DEVICES && strcmp(name, "serial") == 0) {
			w = W_SERIAL;
			memset(&cur, 0, sizeof cur);
			cur_port = -1;
		} else if (parent == W_SERIAL && strcmp(name, "source") == 0 &&
		    !cur.has_source) {
			w = W_SOURCE;
			cur.has_source = 1;
		} else if (parent == W_SERIAL && strcmp(name, "target") == 0)
			w = W_TARGET;
		if (depth == 0 && (w != W_DOMAIN || root++ > 0)) {
			*why = "the root element is not one <domain>";
			free(val);
			return -1;
		}
		for (;;) {			/* attributes */
			skip_space(&r);
			if (r.p >= r.end)
				goto bad;
			if (*r.p == '>') {
				r.p++;
				break;
			}
			if (*r.p == '/') {
				if (r.end - r.p < 2 || r.p[1] != '>')
					goto bad;
				r.p += 2;
				selfclose = 1;
				break;
			}
			if (read_name(&r, aname, sizeof aname) == -1)
				goto bad;
			skip_space(&r);
			if (r.p >= r.end || *r.p != '=')
				goto bad;
			r.p++;
			skip_space(&r);
			if (read_value(&r, val, VALUE_MAX, &toolong,
			    &ctrl) == -1)
				goto bad;
			if (w == W_SERIAL && strcmp(aname, "type") == 0)
				keep(&cur, cur.type, sizeof cur.type, val,
				    toolong, ctrl, "type");
			else if (w == W_SOURCE && strcmp(aname, "path") == 0)
				keep(&cur, cur.path, sizeof cur.path, val,
				    toolong, ctrl, "path");
			else if (w == W_SOURCE && strcmp(aname, "mode") == 0)
				keep(&cur, cur.mode, sizeof cur.mode, val,
				    toolong, ctrl, "mode");
			else if (w == W_SOURCE && strcmp(aname, "host") == 0)
				keep(&cur, cur.host, sizeof cur.host, val,
				    toolong, ctrl, "host");
			else if (w == W_SOURCE && strcmp(aname, "service") == 0)
				keep(&cur, cur.service, sizeof cur.service, val,
				    toolong, ctrl, "service");
			else if (w == W_TARGET && strcmp(aname, "port") == 0) {
				char	*e;
				long	 v = strtol(val, &e, 10);

				if (*val == '\0' || *e != '\0' || v < 0 ||
				    v > 255)
					cur.bad = "the target port is not a "
					    "number from 0 to 255";
				else
					cur_port = (int)v;
			}
		}
		if (selfclose) {
			if (w == W_SERIAL) {	/* <serial type='null'/> */
				if (cur_port == -1)
					cur_port = nserial;
				nserial++;
				if (cur_port == port && !found) {
					*out = cur;
					found = 1;
				}
			}
			continue;
		}
		if (depth == DEPTH_MAX) {
			*why = "elements nested too deep";
			free(val);
			return -1;
		}
		stack[depth++] = w;
	}
	free(val);
	if (depth != 0) {
		*why = "the XML ends inside an element";
		return -1;
	}
	if (!root) {
		*why = "no <domain> element";
		return -1;
	}
	return found;
bad:
	free(val);
	*why = "malformed XML";
	return -1;
}

int
virxml_path_valid(const char *path, const char **why)
{
	const char	*p;

	if (path[0] != '/') {
		*why = "not an absolute path";
		return -1;
	}
	for (p = path; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "a control character in the path";
			return -1;
		}
	if (strstr(path, "/../") != NULL || (strlen(path) >= 3 &&
	    strcmp(path + strlen(path) - 3, "/..") == 0)) {
		*why = "a \"..\" in the path";
		return -1;
	}
	return 0;
}
