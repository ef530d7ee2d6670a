/*
 * fuzz_epspec - endpoint specifications, as a user or a config file could
 * write them.
 *
 * Rejected: a one-line reason (not empty, no control character, cut to
 * the buffer).  Accepted: ep_spec_equal() is reflexive; parsing spec->text
 * again gives an equal spec; the fields obey the kind (absolute paths,
 * ports 1-65535 without leading zeros, options only where they belong);
 * and a canonical spelling built from the fields parses to an equal spec.
 */
#include <ctype.h>
#include <string.h>

#include "epspec.h"
#include "fuzz.h"

static void
check_err(const char *err, size_t errlen)
{
	size_t	i, n = strlen(err);

	CHECK(n > 0 && n < errlen, "rejected without a reason");
	for (i = 0; i < n; i++)
		CHECK(!iscntrl((unsigned char)err[i]), "control character "
		    "0x%02x in the reason", (unsigned char)err[i]);
}

static void
check_fields(const struct ep_spec *sp)
{
	const char	*p;

	switch (sp->kind) {
	case EP_TTY:
	case EP_UNIX:
	case EP_UNIX_LISTEN:
		CHECK(sp->path[0] == '/', "relative path '%s'", sp->path);
		break;
	case EP_TCP:
	case EP_TCP_LISTEN:
		CHECK(sp->host[0] != '\0', "empty host");
		CHECK(sp->port[0] >= '1' && sp->port[0] <= '9', "port '%s'",
		    sp->port);
		for (p = sp->port; *p != '\0'; p++)
			CHECK(isdigit((unsigned char)*p), "port '%s'", sp->port);
		CHECK(atol(sp->port) <= 65535, "port '%s'", sp->port);
		break;
	case EP_XEN:
	case EP_PVE:
	case EP_LIBVIRT:
		CHECK(sp->name[0] != '\0', "empty name");
		CHECK(sp->serial >= 0 && sp->serial <= (sp->kind == EP_PVE ?
		    3 : 255), "serial %d", sp->serial);
		break;
	default:
		CHECK(0, "kind %d", (int)sp->kind);
	}
	CHECK(!sp->console || sp->kind == EP_XEN, "console on %s",
	    ep_kind_name(sp->kind));
	CHECK(!sp->allow_remote || sp->kind == EP_TCP_LISTEN ||
	    sp->kind == EP_LIBVIRT,
	    "allow-remote on %s", ep_kind_name(sp->kind));
	CHECK(sp->serial == 0 || sp->kind == EP_XEN || sp->kind == EP_PVE ||
	    sp->kind == EP_LIBVIRT,
	    "serial on %s", ep_kind_name(sp->kind));
	CHECK(sp->crlf == CRLF_ON || sp->crlf == CRLF_OFF ||
	    sp->crlf == CRLF_AUTO, "crlf %d", (int)sp->crlf);
}

/* The fields spelled canonically; 0 if that would not fit. */
static int
canonical(const struct ep_spec *sp, char *buf, size_t len)
{
	int	n;

	switch (sp->kind) {
	case EP_TTY:
	case EP_UNIX:
	case EP_UNIX_LISTEN:
		n = snprintf(buf, len, "%s:%s", sp->kind == EP_TTY ? "pty" :
		    ep_kind_name(sp->kind), sp->path);
		break;
	case EP_TCP:
	case EP_TCP_LISTEN:
		if (strchr(sp->host, ':') != NULL || sp->host[0] == '[')
			n = snprintf(buf, len, "%s:[%s]:%s",
			    ep_kind_name(sp->kind), sp->host, sp->port);
		else
			n = snprintf(buf, len, "%s:%s:%s",
			    ep_kind_name(sp->kind), sp->host, sp->port);
		break;
	default:
		n = snprintf(buf, len, "%s:%s", ep_kind_name(sp->kind),
		    sp->name);
	}
	if (n < 0 || (size_t)n >= len)
		return 0;
	n += snprintf(buf + n, len - n, ",crlf=%s", crlf_mode_name(sp->crlf));
	if ((size_t)n < len && (sp->kind == EP_XEN || sp->kind == EP_PVE ||
	    sp->kind == EP_LIBVIRT) && !sp->console)
		n += snprintf(buf + n, len - n, ",serial=%d", sp->serial);
	if ((size_t)n < len && sp->console)
		n += snprintf(buf + n, len - n, ",console");
	if ((size_t)n < len && sp->allow_remote)
		n += snprintf(buf + n, len - n, ",allow-remote");
	return (size_t)n < len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ep_spec	*a, *b;
	char		*s, err[256], canon[EP_TEXT_MAX + 64];

	s = malloc(size + 1);
	a = malloc(sizeof *a);
	b = malloc(sizeof *b);
	if (s == NULL || a == NULL || b == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	if (ep_spec_parse(s, a, err, sizeof err) != 0) {
		check_err(err, sizeof err);
		/* A tiny buffer only cuts the reason. */
		CHECK(ep_spec_parse(s, b, err, 8) == -1, "errlen changes it");
		CHECK(strlen(err) < 8, "reason overflows errlen");
		CHECK(ep_spec_parse(s, b, NULL, 0) == -1, "err NULL");
		goto out;
	}
	CHECK(strcmp(a->text, s) == 0, "text is not the spec as given");
	CHECK(ep_spec_equal(a, a), "not equal to itself");
	check_fields(a);
	CHECK(ep_spec_parse(a->text, b, err, sizeof err) == 0,
	    "text does not parse again: %s", err);
	CHECK(ep_spec_equal(a, b), "'%s' parses differently again", a->text);
	CHECK(ep_spec_parse(s, b, NULL, 0) == 0 && ep_spec_equal(a, b),
	    "err NULL changes the result");
	if (canonical(a, canon, sizeof canon) && strlen(canon) < EP_TEXT_MAX) {
		CHECK(ep_spec_parse(canon, b, err, sizeof err) == 0,
		    "canonical '%s' of '%s' rejected: %s", canon, s, err);
		CHECK(ep_spec_equal(a, b), "canonical '%s' of '%s' differs",
		    canon, s);
	}
out:
	free(s);
	free(a);
	free(b);
	return 0;
}
