/*
 * fuzz_ctlproto - control socket requests as a hostile local client could
 * send them (the daemon answers only root or its group, but a script's
 * mistake must not hurt either).
 *
 * Rejected: the reason is one printable line whose first word is an ERR
 * code the client knows ("usage").  Accepted:
 * - the command is known and its argument count within its synopsis;
 * - every argument is non-control text within CTL_WORD_MAX;
 * - written back canonically (every word quoted) it parses to the same
 *   request: what a script means, it can say the one way too;
 * - parsing is deterministic.
 * And any string through ctl_json_string comes back by ctl_json_unquote.
 */
#include <string.h>

#include "ctlproto.h"
#include "fuzz.h"

static void
check_err(const char *err)
{
	const char	*p;

	CHECK(strncmp(err, "usage: ", 7) == 0, "reason without code: %s", err);
	for (p = err; *p != '\0'; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f,
		    "control character 0x%02x in the reason",
		    (unsigned char)*p);
}

static void
same_req(const struct ctl_req *a, const struct ctl_req *b, const char *what)
{
	size_t	i;

	CHECK(a->cmd == b->cmd && a->nargs == b->nargs, "%s: %s/%zu then "
	    "%s/%zu", what, ctl_cmd_name(a->cmd), a->nargs,
	    ctl_cmd_name(b->cmd), b->nargs);
	for (i = 0; i < a->nargs; i++)
		CHECK(strcmp(a->args[i], b->args[i]) == 0, "%s: arg %zu", what,
		    i);
}

static void
json_round_trip(const uint8_t *data, size_t size)
{
	char	s[256], q[256 * 6 + 3], back[256];
	size_t	n = size < sizeof s - 1 ? size : sizeof s - 1;

	memcpy(s, data, n);
	s[n] = '\0';
	ctl_json_string(s, q, sizeof q);
	CHECK(ctl_json_unquote(q, back, sizeof back) == 0, "unquote of %s", q);
	CHECK(strcmp(s, back) == 0, "json round trip of %s", q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_req	a, b;
	char			err[256], err2[256], *line, canon[CTL_LINE_MAX * 3];
	size_t			i;
	int			rc;

	json_round_trip(data, size);
	/* An exact-size copy: the parser must not read past len. */
	if ((line = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(line, data, size);
	rc = ctl_parse(line, size, &a, err, sizeof err);
	CHECK(ctl_parse(line, size, &b, err2, sizeof err2) == rc,
	    "not deterministic");
	if (rc != 0) {
		check_err(err);
		CHECK(strcmp(err, err2) == 0, "two reasons");
		free(line);
		return 0;
	}
	same_req(&a, &b, "twice");
	CHECK((unsigned)a.cmd < CTL_NCMDS, "command %d", (int)a.cmd);
	for (i = 0; i < a.nargs; i++) {
		const char	*p;

		CHECK(strlen(a.args[i]) < CTL_WORD_MAX, "arg %zu too long", i);
		for (p = a.args[i]; *p != '\0'; p++)
			CHECK(((unsigned char)*p >= 0x20 || *p == '\t') &&
			    *p != 0x7f, "control character in arg %zu", i);
	}
	if (ctl_format(&a, canon, sizeof canon) == 0) {
		CHECK(ctl_parse(canon, strlen(canon), &b, err, sizeof err) ==
		    0, "canonical '%s' refused: %s", canon, err);
		same_req(&a, &b, "canonical");
	}
	free(line);
	return 0;
}
