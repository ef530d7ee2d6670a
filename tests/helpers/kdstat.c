/*
 * kdstat - what a kdtrace holds, for tests to compute expected numbers.
 *
 *	kdstat TRACE		per-direction counts, key=value
 *	kdstat -l TRACE		the packet log lines the relay should write
 *				for it, without the time stamps
 *	kdstat -p TRACE		the DbgPrint texts, escaped, one per line
 *	kdstat -w D|T TRACE	that direction's packets back to back, raw
 *	kdstat -r N TRACE	record N's packet, raw
 *	kdstat -s N TRACE	record N's offset in the file (to splice)
 *
 * Counts are taken from the records' headers directly (a record is one
 * packet, or one 0x62 break-in), not through the library's parser, so
 * that a test compares the relay against an independent reading.  Keys,
 * X being D or T: X.records X.bytes X.lf (0x0a bytes) X.data X.control
 * X.breakins X.resends X.resets and X.<TYPE> for each type 1..11.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "le.h"
#include "kdcom.h"
#include "kdtrace.h"

struct count {
	unsigned long	records, bytes, lf, data, control, breakins;
	unsigned long	type[KD_TYPE_MAX];
};

static void
count(const struct kdtrace *t)
{
	struct count	 c[2];
	const uint8_t	*p;
	unsigned	 ty, i, k;
	size_t		 r;
	int		 d;

	memset(c, 0, sizeof c);
	for (r = 0; r < t->n; r++) {
		d = t->recs[r].dir == KDTRACE_TARGET;
		p = t->recs[r].pkt;
		c[d].records++;
		c[d].bytes += t->recs[r].len;
		for (i = 0; i < t->recs[r].len; i++)
			c[d].lf += p[i] == 0x0a;
		if (t->recs[r].len == 1 && p[0] == KD_BREAKIN) {
			c[d].breakins++;
			continue;
		}
		ty = le16_get(p + 4);
		if (ty < KD_TYPE_MAX)
			c[d].type[ty]++;
		if (le32_get(p) == KD_LEADER_CONTROL)
			c[d].control++;
		else
			c[d].data++;
	}
	for (d = 0; d < 2; d++) {
		k = d ? 'T' : 'D';
		printf("%c.records=%lu\n%c.bytes=%lu\n%c.lf=%lu\n"
		    "%c.data=%lu\n%c.control=%lu\n%c.breakins=%lu\n"
		    "%c.resends=%lu\n%c.resets=%lu\n", k, c[d].records, k,
		    c[d].bytes, k, c[d].lf, k, c[d].data, k, c[d].control, k,
		    c[d].breakins, k, c[d].type[KD_TYPE_RESEND], k,
		    c[d].type[KD_TYPE_RESET]);
		for (ty = 1; ty < KD_TYPE_MAX; ty++)
			printf("%c.%s=%lu\n", k, kd_type_name(ty), c[d].type[ty]);
	}
}

/* The DbgPrint text of a record, escaped like a log line; 0 if none. */
static int
dbgprint(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	uint32_t	n, i;
	size_t		o = 0;
	uint8_t		b;

	if (len < KD_HEADER_SIZE + 16 + 1 || le32_get(p) != KD_LEADER_DATA ||
	    le16_get(p + 4) != KD_TYPE_DEBUG_IO ||
	    le32_get(p + KD_HEADER_SIZE) != KD_API_PRINT_STRING)
		return 0;
	n = le32_get(p + KD_HEADER_SIZE + 8);
	if (n > le16_get(p + 6) - 16u)
		n = le16_get(p + 6) - 16;
	p += KD_HEADER_SIZE + 16;
	for (i = 0; i < n && o + 5 < outlen; i++) {
		b = p[i];
		if (b == '\n' || b == '\r' || b == '\t' || b == '"' ||
		    b == '\\') {
			out[o++] = '\\';
			out[o++] = b == '\n' ? 'n' : b == '\r' ? 'r' :
			    b == '\t' ? 't' : b;
		} else if (b >= 0x20 && b < 0x7f)
			out[o++] = b;
		else
			o += snprintf(out + o, outlen - o, "\\x%02x", b);
	}
	out[o] = '\0';
	return 1;
}

static const char *
api_name(unsigned type, const uint8_t *p, size_t len, char *buf, size_t n)
{
	const char	*name;
	uint32_t	 api;

	if (type != KD_TYPE_STATE_CHANGE32 && type != KD_TYPE_STATE_MANIPULATE &&
	    type != KD_TYPE_DEBUG_IO && type != KD_TYPE_STATE_CHANGE64)
		return NULL;
	if (len < KD_HEADER_SIZE + 4 + 1)
		return NULL;
	api = le32_get(p + KD_HEADER_SIZE);
	if ((name = kd_api_name(type, api)) != NULL)
		return name;
	snprintf(buf, n, "api=0x%04x", api);
	return buf;
}

static void
loglines(const struct kdtrace *t)
{
	const uint8_t	*p;
	const char	*api;
	char		 text[16384], abuf[32];
	unsigned	 ty;
	size_t		 r, len;

	for (r = 0; r < t->n; r++) {
		p = t->recs[r].pkt;
		len = t->recs[r].len;
		printf("%s ", t->recs[r].dir == KDTRACE_DEBUGGER ? "D>T" :
		    "T>D");
		if (len == 1 && p[0] == KD_BREAKIN) {
			printf("BREAKIN\n");
			continue;
		}
		ty = le16_get(p + 4);
		printf("%s id=0x%08x len=%u ok", kd_type_name(ty),
		    (unsigned)le32_get(p + 8),
		    le16_get(p + 6));
		if ((api = api_name(ty, p, len, abuf, sizeof abuf)) != NULL)
			printf(" %s", api);
		if (dbgprint(p, len, text, sizeof text))
			printf(" \"%s\"", text);
		printf("\n");
	}
}

static void
prints(const struct kdtrace *t)
{
	char	text[16384];
	size_t	r;

	for (r = 0; r < t->n; r++)
		if (dbgprint(t->recs[r].pkt, t->recs[r].len, text, sizeof text))
			printf("\"%s\"\n", text);
}

static void
put(const uint8_t *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n) {
		perror("kdstat: stdout");
		exit(1);
	}
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: kdstat [-l | -p | -w D|T | -r N | -s N] TRACE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct kdtrace	 t;
	char		 err[256], mode = 'c', dir = 0;
	unsigned long	 rec = 0;
	size_t		 r;
	int		 c;

	while ((c = getopt(argc, argv, "lpw:r:s:")) != -1) {
		switch (c) {
		case 'l':
		case 'p':
			mode = c;
			break;
		case 'w':
			mode = c;
			dir = optarg[0];
			if ((dir != 'D' && dir != 'T') || optarg[1] != '\0')
				usage();
			break;
		case 'r':
		case 's':
			mode = c;
			rec = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (kdtrace_load(argv[optind], &t, err, sizeof err) != 0) {
		fprintf(stderr, "kdstat: %s: %s\n", argv[optind], err);
		return 1;
	}
	switch (mode) {
	case 'c':
		count(&t);
		break;
	case 'l':
		loglines(&t);
		break;
	case 'p':
		prints(&t);
		break;
	case 'w':
		for (r = 0; r < t.n; r++)
			if (t.recs[r].dir == dir)
				put(t.recs[r].pkt, t.recs[r].len);
		break;
	case 's':
		printf("%zu\n", rec < t.n ? (size_t)(t.recs[rec].pkt - 4 -
		    t.data) : t.size);
		break;
	case 'r':
		if (rec >= t.n) {
			fprintf(stderr, "kdstat: %s: no record %lu (%zu)\n",
			    argv[optind], rec, t.n);
			return 1;
		}
		put(t.recs[rec].pkt, t.recs[rec].len);
		break;
	}
	kdtrace_free(&t);
	return fflush(stdout) == 0 ? 0 : 1;
}
