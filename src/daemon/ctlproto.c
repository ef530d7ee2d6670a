/*
 * ctlproto.c - the control socket's request parser and reply quoting.
 *
 * Pure: the control server (control.c), kdrelayctl and the fuzzer share
 * it, so what a script may send is decided in one place.
 */
#include <stdio.h>
#include <string.h>

#include "ctlproto.h"

static const struct {
	const char	*name;
	const char	*usage;
	size_t		 min, max;
} cmds[CTL_NCMDS] = {
	[CTL_HELP]		= { "help", "help", 0, 0 },
	[CTL_PAIRS]		= { "pairs", "pairs", 0, 0 },
	[CTL_STATUS]		= { "status", "status [PAIR...]", 0,
				    CTL_WORDS_MAX },
	[CTL_WATCH]		= { "watch", "watch PAIR", 1, 1 },
	[CTL_BREAK]		= { "break", "break PAIR", 1, 1 },
	[CTL_RELOAD]		= { "reload", "reload", 0, 0 },
	[CTL_REOPEN]		= { "reopen", "reopen", 0, 0 },
	[CTL_CAPTURE]		= { "capture", "capture PAIR FILE", 2, 2 },
	[CTL_CAPTURE_STOP]	= { "capture-stop", "capture-stop PAIR", 1, 1 },
};

const char *
ctl_cmd_name(enum ctl_cmd c)
{
	return (unsigned)c < CTL_NCMDS ? cmds[c].name : "?";
}

const char *
ctl_cmd_usage(enum ctl_cmd c)
{
	return (unsigned)c < CTL_NCMDS ? cmds[c].usage : "?";
}

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One word from s[*i..len) into w; -1 with err. */
static int
word(const char *s, size_t len, size_t *i, char *w, char *err, size_t errlen)
{
	size_t	o = 0, k = *i;
	int	quoted = s[k] == '"';

	if (quoted)
		k++;
	for (; k < len; k++) {
		char	c = s[k];

		if (!quoted && blank(c))
			break;
		if (quoted && c == '"') {
			k++;
			if (k < len && !blank(s[k])) {
				snprintf(err, errlen, "usage: a quoted word "
				    "must end at a blank");
				return -1;
			}
			quoted = 2;
			break;
		}
		if (quoted && c == '\\') {
			if (++k == len) {
				break;
			}
			c = s[k];
			if (c != '"' && c != '\\') {
				snprintf(err, errlen, "usage: only \\\" and "
				    "\\\\ may be escaped");
				return -1;
			}
		}
		if (o + 1 >= CTL_WORD_MAX) {
			snprintf(err, errlen, "usage: a word longer than %d "
			    "bytes", CTL_WORD_MAX - 1);
			return -1;
		}
		w[o++] = c;
	}
	if (quoted == 1) {
		snprintf(err, errlen, "usage: unterminated quote");
		return -1;
	}
	if (o == 0 && !quoted) {
		snprintf(err, errlen, "usage: empty word");
		return -1;
	}
	w[o] = '\0';
	*i = k;
	return 0;
}

int
ctl_parse(const char *s, size_t len, struct ctl_req *req, char *err,
    size_t errlen)
{
	char	 name[CTL_WORD_MAX];
	size_t	 i, n = 0;
	int	 c, have_cmd = 0;

	req->nargs = 0;
	if (len > CTL_LINE_MAX) {
		snprintf(err, errlen, "usage: request longer than %d bytes",
		    CTL_LINE_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char	u = (unsigned char)s[i];

		if ((u < 0x20 && u != '\t') || u == 0x7f) {
			snprintf(err, errlen, "usage: control character 0x%02x "
			    "at byte %zu", u, i + 1);
			return -1;
		}
	}
	for (i = 0; ; ) {
		while (i < len && blank(s[i]))
			i++;
		if (i == len)
			break;
		if (!have_cmd) {
			if (word(s, len, &i, name, err, errlen) != 0)
				return -1;
			have_cmd = 1;
			continue;
		}
		if (n == CTL_WORDS_MAX) {
			snprintf(err, errlen, "usage: more than %d arguments",
			    CTL_WORDS_MAX);
			return -1;
		}
		if (word(s, len, &i, req->args[n], err, errlen) != 0)
			return -1;
		n++;
	}
	if (!have_cmd) {
		snprintf(err, errlen, "usage: empty request (try help)");
		return -1;
	}
	for (c = 0; c < CTL_NCMDS; c++) {
		if (strcmp(name, cmds[c].name) == 0)
			break;
	}
	if (c == CTL_NCMDS) {
		snprintf(err, errlen, "usage: unknown command (try help)");
		return -1;
	}
	if (n < cmds[c].min || n > cmds[c].max) {
		snprintf(err, errlen, "usage: %s", cmds[c].usage);
		return -1;
	}
	req->cmd = (enum ctl_cmd)c;
	req->nargs = n;
	return 0;
}

static int
put_quoted(const char *w, char *buf, size_t len, size_t *o)
{
	if (*o + 1 >= len)
		return -1;
	buf[(*o)++] = '"';
	for (; *w != '\0'; w++) {
		if (*o + 3 >= len)
			return -1;
		if (*w == '"' || *w == '\\')
			buf[(*o)++] = '\\';
		buf[(*o)++] = *w;
	}
	buf[(*o)++] = '"';
	return 0;
}

int
ctl_format(const struct ctl_req *req, char *buf, size_t len)
{
	size_t	o, i;
	int	n;

	n = snprintf(buf, len, "%s", ctl_cmd_name(req->cmd));
	if (n < 0 || (size_t)n >= len)
		return -1;
	o = (size_t)n;
	for (i = 0; i < req->nargs; i++) {
		if (o + 2 >= len)
			return -1;
		buf[o++] = ' ';
		if (put_quoted(req->args[i], buf, len, &o) != 0)
			return -1;
	}
	buf[o] = '\0';
	return o > CTL_LINE_MAX ? -1 : 0;
}

size_t
ctl_json_string(const char *s, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			 t[8];
	size_t			 o = 0, k;

	if (len < 3) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	buf[o++] = '"';
	for (; *p != '\0'; p++) {
		k = 0;
		if (*p == '"' || *p == '\\') {
			t[k++] = '\\';
			t[k++] = (char)*p;
		} else if (*p >= 0x20 && *p < 0x7f)
			t[k++] = (char)*p;
		else {
			memcpy(t, "\\u00", 4);
			k = 4;
			t[k++] = hex[*p >> 4];
			t[k++] = hex[*p & 15];
		}
		if (o + k + 2 > len)	/* room for the closing quote, NUL */
			break;
		memcpy(buf + o, t, k);
		o += k;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return o;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ctl_json_unquote(const char *s, char *buf, size_t len)
{
	size_t	o = 0;
	int	h[4], i, v;
	char	c;

	if (len == 0 || *s++ != '"')
		return -1;
	for (; *s != '"'; s++) {
		if (*s == '\0' || o + 1 >= len)
			return -1;
		c = *s;
		if (c == '\\') {
			switch (*++s) {
			case '"': case '\\': case '/': c = *s; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'u':
				for (i = 0; i < 4; i++) {
					if ((h[i] = hexval(s[1 + i])) < 0)
						return -1;
				}
				v = h[0] << 12 | h[1] << 8 | h[2] << 4 | h[3];
				if (v > 0xff)
					return -1;	/* not ours */
				c = (char)v;
				s += 4;
				break;
			default:
				return -1;
			}
		}
		buf[o++] = c;
	}
	if (s[1] != '\0')
		return -1;
	buf[o] = '\0';
	return 0;
}
