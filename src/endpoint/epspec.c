/*
 * epspec.c - parse socat-like endpoint specifications.
 *
 * Pure: no I/O.  Every rejection says exactly what is wrong, since the text
 * comes from a command line or a config file a person wrote.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "epspec.h"
#include "errbuf.h"

#define XEN_NAME_MAX	64
#define XEN_SERIAL_MAX	255
#define PVE_SERIAL_MAX	3
#define LIBVIRT_SERIAL_MAX 255	/* <target port=> */
#define SUN_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path))

static const struct {
	const char	*prefix;
	enum ep_kind	 kind;
} ep_prefixes[] = {
	{ "pty",		EP_TTY },
	{ "tty",		EP_TTY },
	{ "unix",		EP_UNIX },
	{ "unix-listen",	EP_UNIX_LISTEN },
	{ "tcp",		EP_TCP },
	{ "tcp-listen",		EP_TCP_LISTEN },
	{ "xen",		EP_XEN },
	{ "pve",		EP_PVE },
	{ "libvirt",		EP_LIBVIRT },
};

const char *
ep_kind_name(enum ep_kind kind)
{
	switch (kind) {
	case EP_TTY:		return "tty";
	case EP_UNIX:		return "unix";
	case EP_UNIX_LISTEN:	return "unix-listen";
	case EP_TCP:		return "tcp";
	case EP_TCP_LISTEN:	return "tcp-listen";
	case EP_XEN:		return "xen";
	case EP_PVE:		return "pve";
	case EP_LIBVIRT:	return "libvirt";
	}
	return "unknown";
}

int
ep_is_listen(enum ep_kind kind)
{
	return kind == EP_UNIX_LISTEN || kind == EP_TCP_LISTEN;
}

/* A decimal port 1..65535, stored without leading zeros. */
static int
parse_port(const char *spec, const char *s, struct ep_spec *sp, char *err,
    size_t errlen)
{
	unsigned long	v = 0;
	const char	*p;

	if (*s == '\0')
		return errf(err, errlen, "%s: missing port", spec);
	for (p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return errf(err, errlen,
			    "%s: bad port \"%s\": not a number", spec, s);
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			break;
	}
	if (v == 0 || v > 65535)
		return errf(err, errlen,
		    "%s: bad port \"%s\": must be 1 to 65535", spec, s);
	snprintf(sp->port, sizeof sp->port, "%lu", v);
	return 0;
}

/* An absolute path; a unix socket's must fit sun_path with its NUL. */
static int
parse_path(const char *spec, const char *s, struct ep_spec *sp, char *err,
    size_t errlen)
{
	size_t	len = strlen(s);

	if (len == 0)
		return errf(err, errlen, "%s: empty path", spec);
	if (s[0] != '/')
		return errf(err, errlen,
		    "%s: relative path \"%s\": use an absolute path", spec, s);
	if ((sp->kind == EP_UNIX || sp->kind == EP_UNIX_LISTEN) &&
	    len >= SUN_PATH_MAX)
		return errf(err, errlen, "%s: socket path is %zu bytes long, "
		    "more than a unix socket allows (%zu)", spec, len,
		    SUN_PATH_MAX - 1);
	if (len >= sizeof sp->path)
		return errf(err, errlen, "%s: path too long", spec);
	memcpy(sp->path, s, len + 1);
	return 0;
}

/*
 * HOST:PORT where HOST may be [v6]; with allow_bare, a lone PORT (host
 * left as it is).  s is modified.
 */
static int
parse_hostport(const char *spec, char *s, int allow_bare, struct ep_spec *sp,
    char *err, size_t errlen)
{
	char	*host, *port, *end;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return errf(err, errlen,
			    "%s: missing ']' after IPv6 address", spec);
		*end = '\0';
		host = s + 1;
		if (end[1] != ':')
			return errf(err, errlen, "%s: missing port after "
			    "[%s]", spec, host);
		port = end + 2;
		if (*host == '\0')
			return errf(err, errlen, "%s: empty host", spec);
	} else if ((port = strrchr(s, ':')) != NULL) {
		*port++ = '\0';
		host = s;
		if (*host == '\0')
			return errf(err, errlen, "%s: empty host", spec);
		if (strchr(host, ':') != NULL)
			return errf(err, errlen, "%s: an IPv6 address must be "
			    "in brackets, as [%s]", spec, host);
	} else if (allow_bare) {
		host = NULL;
		port = s;
	} else {
		if (*s == '\0')
			return errf(err, errlen, "%s: missing host and port",
			    spec);
		return errf(err, errlen, "%s: missing port (HOST:PORT)",
		    spec);
	}
	if (host != NULL) {
		if (strlen(host) >= sizeof sp->host)
			return errf(err, errlen, "%s: host name too long",
			    spec);
		strcpy(sp->host, host);
	}
	return parse_port(spec, port, sp, err, errlen);
}

static int
parse_name(const char *spec, const char *s, struct ep_spec *sp, char *err,
    size_t errlen)
{
	size_t		 len = strlen(s), max;
	const char	*p;
	int		 xen = sp->kind == EP_XEN || sp->kind == EP_LIBVIRT;

	max = xen ? XEN_NAME_MAX : sizeof sp->name - 1;
	if (len == 0)
		return errf(err, errlen, "%s: empty %s", spec,
		    xen ? "domain name" : "VM id or name");
	if (len > max)
		return errf(err, errlen, "%s: name is %zu characters long, "
		    "more than %zu", spec, len, max);
	for (p = s; *p != '\0'; p++) {
		if (isalnum((unsigned char)*p) || *p == '-')
			continue;
		if (xen && (*p == '_' || *p == '.'))
			continue;
		return errf(err, errlen, "%s: bad character '%c' in %s "
		    "(allowed: %s)", spec, *p, xen ? "domain name" : "VM name",
		    xen ? "A-Z a-z 0-9 _ . -" : "A-Z a-z 0-9 -");
	}
	memcpy(sp->name, s, len + 1);
	return 0;
}

static int
parse_crlf(const char *spec, const char *v, struct ep_spec *sp, char *err,
    size_t errlen)
{
	if (crlf_mode_parse(v, &sp->crlf) == -1)
		return errf(err, errlen, "%s: bad crlf value \"%s\" (on, off "
		    "or auto)", spec, v);
	sp->crlf_set = 1;
	return 0;
}

static int
parse_serial(const char *spec, const char *v, struct ep_spec *sp, char *err,
    size_t errlen)
{
	int		 max = sp->kind == EP_PVE ? PVE_SERIAL_MAX :
			    sp->kind == EP_LIBVIRT ? LIBVIRT_SERIAL_MAX :
			    XEN_SERIAL_MAX;
	long		 n = 0;
	const char	*p;

	if (*v == '\0')
		return errf(err, errlen, "%s: serial= needs a number", spec);
	for (p = v; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return errf(err, errlen, "%s: bad serial \"%s\": not "
			    "a number", spec, v);
		if ((n = n * 10 + (*p - '0')) > max)
			break;
	}
	if (n > max)
		return errf(err, errlen, "%s: bad serial \"%s\": must be 0 to "
		    "%d for %s", spec, v, max, ep_kind_name(sp->kind));
	sp->serial = (int)n;
	return 0;
}

enum ep_opt { OPT_CRLF, OPT_SERIAL, OPT_CONSOLE, OPT_ALLOW_REMOTE, OPT_N };

static const struct {
	const char	*name;
	int		 has_value;
	unsigned	 kinds;		/* bit per enum ep_kind, 0 = all */
} ep_opts[OPT_N] = {
	[OPT_CRLF]	  = { "crlf", 1, 0 },
	[OPT_SERIAL]	  = { "serial", 1,
			      1u << EP_XEN | 1u << EP_PVE | 1u << EP_LIBVIRT },
	[OPT_CONSOLE]	  = { "console", 0, 1u << EP_XEN },
	[OPT_ALLOW_REMOTE] = { "allow-remote", 0, 1u << EP_TCP_LISTEN |
			       1u << EP_LIBVIRT },
};

static int
parse_option(const char *spec, char *opt, unsigned *seen, struct ep_spec *sp,
    char *err, size_t errlen)
{
	char	*value;
	int	 i;

	if (*opt == '\0')
		return errf(err, errlen, "%s: empty option", spec);
	if ((value = strchr(opt, '=')) != NULL)
		*value++ = '\0';
	for (i = 0; i < OPT_N; i++) {
		if (strcasecmp(opt, ep_opts[i].name) == 0)
			break;
	}
	if (i == OPT_N)
		return errf(err, errlen, "%s: unknown option \"%s\"", spec, opt);
	if (*seen & 1u << i)
		return errf(err, errlen, "%s: option \"%s\" given twice", spec,
		    ep_opts[i].name);
	*seen |= 1u << i;
	if (ep_opts[i].kinds != 0 && !(ep_opts[i].kinds & 1u << sp->kind))
		return errf(err, errlen, "%s: option \"%s\" is not valid for "
		    "a %s endpoint", spec, ep_opts[i].name,
		    ep_kind_name(sp->kind));
	if (ep_opts[i].has_value && value == NULL)
		return errf(err, errlen, "%s: option \"%s\" needs a value "
		    "(%s=...)", spec, ep_opts[i].name, ep_opts[i].name);
	if (!ep_opts[i].has_value && value != NULL)
		return errf(err, errlen, "%s: option \"%s\" takes no value",
		    spec, ep_opts[i].name);
	switch (i) {
	case OPT_CRLF:
		return parse_crlf(spec, value, sp, err, errlen);
	case OPT_SERIAL:
		return parse_serial(spec, value, sp, err, errlen);
	case OPT_CONSOLE:
		sp->console = 1;
		break;
	case OPT_ALLOW_REMOTE:
		sp->allow_remote = 1;
		break;
	}
	return 0;
}

/* Split "kind:rest"; a bare path or name has no kind prefix. */
static int
parse_kind(const char *spec, char *main, char **rest, struct ep_spec *sp,
    char *err, size_t errlen)
{
	char	*colon;
	size_t	 i;

	if (*main == '/') {
		sp->kind = EP_TTY;
		*rest = main;
		return 0;
	}
	if (*main == '.')
		return errf(err, errlen, "%s: relative path: use an absolute "
		    "path (/dev/..., pty:/..., unix:/...)", spec);
	if ((colon = strchr(main, ':')) == NULL) {
		if (strchr(main, '/') != NULL)
			return errf(err, errlen, "%s: relative path: use an "
			    "absolute path (/dev/..., pty:/..., unix:/...)",
			    spec);
		sp->kind = EP_XEN;		/* a bare domain name */
		*rest = main;
		return 0;
	}
	*colon = '\0';
	for (i = 0; i < sizeof ep_prefixes / sizeof ep_prefixes[0]; i++) {
		if (strcasecmp(main, ep_prefixes[i].prefix) == 0) {
			sp->kind = ep_prefixes[i].kind;
			*rest = colon + 1;
			return 0;
		}
	}
	if (*main == '\0')
		return errf(err, errlen, "%s: missing endpoint kind before ':'",
		    spec);
	return errf(err, errlen, "%s: unknown endpoint kind \"%s:\" (known: "
	    "pty, unix, unix-listen, tcp, tcp-listen, xen, pve, libvirt, or "
	    "a /dev path)", spec, main);
}

static int
parse_address(const char *spec, char *rest, struct ep_spec *sp, char *err,
    size_t errlen)
{
	switch (sp->kind) {
	case EP_TTY:
	case EP_UNIX:
	case EP_UNIX_LISTEN:
		return parse_path(spec, rest, sp, err, errlen);
	case EP_TCP:
		return parse_hostport(spec, rest, 0, sp, err, errlen);
	case EP_TCP_LISTEN:
		strcpy(sp->host, "127.0.0.1");
		return parse_hostport(spec, rest, 1, sp, err, errlen);
	case EP_XEN:
	case EP_PVE:
	case EP_LIBVIRT:
		return parse_name(spec, rest, sp, err, errlen);
	}
	return errf(err, errlen, "%s: unknown endpoint kind", spec);
}

int
ep_spec_parse(const char *s, struct ep_spec *sp, char *err, size_t errlen)
{
	char		 buf[EP_TEXT_MAX], *main, *rest = NULL, *opt, *next;
	const char	*p;
	unsigned	 seen = 0;
	size_t		 len;

	memset(sp, 0, sizeof *sp);
	sp->crlf = CRLF_AUTO;
	if (err != NULL && errlen > 0)
		*err = '\0';
	if (s == NULL || *s == '\0')
		return errf(err, errlen, "empty endpoint spec");
	for (p = s; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p))
			return errf(err, errlen, "endpoint spec has a control "
			    "character (0x%02x) at offset %zu",
			    (unsigned char)*p, (size_t)(p - s));
	}
	if ((len = strlen(s)) >= sizeof sp->text)
		return errf(err, errlen, "endpoint spec is %zu bytes long, "
		    "more than %zu", len, sizeof sp->text - 1);
	memcpy(sp->text, s, len + 1);
	memcpy(buf, s, len + 1);

	main = buf;
	if ((next = strchr(buf, ',')) != NULL)
		*next++ = '\0';
	if (*main == '\0')
		return errf(err, errlen, "%s: empty endpoint before ','", s);
	if (parse_kind(s, main, &rest, sp, err, errlen) == -1 ||
	    parse_address(s, rest, sp, err, errlen) == -1)
		return -1;
	while ((opt = next) != NULL) {
		if ((next = strchr(opt, ',')) != NULL)
			*next++ = '\0';
		if (parse_option(s, opt, &seen, sp, err, errlen) == -1)
			return -1;
	}
	if (sp->console && (seen & 1u << OPT_SERIAL))
		return errf(err, errlen, "%s: console and serial= exclude each "
		    "other (console is PV console 0)", s);
	return 0;
}

int
ep_spec_same_resource(const struct ep_spec *a, const struct ep_spec *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case EP_TTY:
	case EP_UNIX:
	case EP_UNIX_LISTEN:
		return strcmp(a->path, b->path) == 0;
	case EP_TCP:
		return 0;	/* a remote server may take many clients */
	case EP_TCP_LISTEN:
		return strcmp(a->host, b->host) == 0 &&
		    strcmp(a->port, b->port) == 0;
	case EP_XEN:
	case EP_PVE:
	case EP_LIBVIRT:
		return strcmp(a->name, b->name) == 0 &&
		    a->serial == b->serial && a->console == b->console;
	}
	return 0;
}

int
ep_spec_exposed(const struct ep_spec *sp)
{
	struct in_addr	a4;
	struct in6_addr	a6;
	const char	*h = sp->host;

	if (sp->kind != EP_TCP_LISTEN || sp->allow_remote ||
	    strcasecmp(h, "localhost") == 0)
		return 0;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) != 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return !IN6_IS_ADDR_LOOPBACK(&a6);
	return 1;
}

int
ep_spec_equal(const struct ep_spec *a, const struct ep_spec *b)
{
	return a->kind == b->kind &&
	    strcmp(a->path, b->path) == 0 &&
	    strcasecmp(a->host, b->host) == 0 &&
	    strcmp(a->port, b->port) == 0 &&
	    strcmp(a->name, b->name) == 0 &&
	    a->crlf == b->crlf &&
	    a->serial == b->serial &&
	    a->console == b->console &&
	    a->allow_remote == b->allow_remote;
}
