/*
 * ctlformat.c - how kdrelayctl shows a reply's records: text (status,
 * stats), JSON (--json) and the Prometheus text format (metrics).  The
 * daemon sends facts as ". KEY VALUE" lines; their looks are decided here.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ctlformat.h"
#include "ctlproto.h"
#include "exitcodes.h"

static const char *
get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value of a key, NULL if absent. */
static const char *
get(const char *fmt, ...)
{
	char	key[512];
	va_list	ap;
	size_t	i;

	va_start(ap, fmt);
	vsnprintf(key, sizeof key, fmt, ap);
	va_end(ap);
	for (i = 0; i < nrecs; i++) {
		if (strcmp(recs[i].key, key) == 0)
			return recs[i].val;
	}
	return NULL;
}

/* A value as text: strings unquoted. */
const char *
text(const char *v)
{
	static char	buf[4][2048];
	static int	k;

	if (v == NULL)
		return "-";
	k = (k + 1) % 4;
	if (*v == '"' && ctl_json_unquote(v, buf[k], sizeof buf[k]) == 0)
		return buf[k];
	return v;
}

/* The pair names in reply order (first key component). */
static size_t
pair_names(char ***out)
{
	char	**names = NULL;
	size_t	  n = 0, i, j, len;

	for (i = 0; i < nrecs; i++) {
		len = strcspn(recs[i].key, "/");
		for (j = 0; j < n; j++) {
			if (strlen(names[j]) == len &&
			    strncmp(names[j], recs[i].key, len) == 0)
				break;
		}
		if (j < n)
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL || (names[n] = strndup(recs[i].key, len)) ==
		    NULL)
			die(EXIT_OSERR, "out of memory");
		n++;
	}
	*out = names;
	return n;
}

/* ---- JSON: the records as nested objects, in order ---- */

static void
indent(int d)
{
	while (d-- > 0)
		fputs("  ", stdout);
}

/*
 * Print records [lo, hi), which share the first depth path components,
 * as the members of one object.
 */
static void
json_members(size_t lo, size_t hi, size_t skip, int depth)
{
	size_t	i = lo, j, n;
	int	first = 1;
	char	q[1024];

	while (i < hi) {
		const char	*k = recs[i].key + skip;
		const char	*slash = strchr(k, '/');

		n = slash != NULL ? (size_t)(slash - k) : strlen(k);
		/* Records whose next component is the same, together. */
		for (j = i + 1; j < hi && slash != NULL; j++) {
			const char	*k2 = recs[j].key + skip;

			if (strncmp(k2, k, n) != 0 || k2[n] != '/')
				break;
		}
		fputs(first ? "\n" : ",\n", stdout);
		first = 0;
		indent(depth);
		{
			char	name[512];

			snprintf(name, sizeof name, "%.*s", (int)n, k);
			ctl_json_string(name, q, sizeof q);
		}
		if (slash == NULL) {
			printf("%s: %s", q, recs[i].val);
			i++;
			continue;
		}
		printf("%s: {", q);
		json_members(i, j, skip + n + 1, depth + 1);
		putchar('\n');
		indent(depth);
		putchar('}');
		i = j;
	}
}

void
json(void)
{
	putchar('{');
	json_members(0, nrecs, 0, 1);
	puts("\n}");
}

/* ---- text ---- */

static void
when(double t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		s = (time_t)t;
	long		ago = (long)(time(NULL) - s);
	char		d[64];

	localtime_r(&s, &tm);
	strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S", &tm);
	if (ago < 0)
		ago = 0;
	if (ago < 120)
		snprintf(buf, len, "%s (%lds ago)", d, ago);
	else if (ago < 7200)
		snprintf(buf, len, "%s (%ldm ago)", d, ago / 60);
	else
		snprintf(buf, len, "%s (%ldh ago)", d, ago / 3600);
}

void
print_status(void)
{
	static const char	*side[2] = { "host", "target" };
	static const char	*dir[2] = { "host->target", "target->host" };
	char			**names, t[128];
	const char		*v, *mode;
	size_t			  n, i;
	int			  s;

	n = pair_names(&names);
	for (i = 0; i < n; i++) {
		const char	*p = names[i];

		printf("%s\n", p);
		for (s = 0; s < 2; s++) {
			v = get("%s/%s/since", p, side[s]);
			when(v != NULL && strcmp(v, "null") != 0 ? atof(v) : 0,
			    t, sizeof t);
			printf("  %-7s %s\n", side[s],
			    text(get("%s/%s/endpoint", p, side[s])));
			v = text(get("%s/%s/state", p, side[s]));
			printf("          %s since %s: %s", strcmp(v, "up") == 0 ?
			    "connected" : v, t, text(get("%s/%s/status", p,
			    side[s])));
			v = get("%s/%s/backoff_ms", p, side[s]);
			if (v != NULL && strcmp(v, "0") != 0)
				printf(", backoff %s ms", v);
			putchar('\n');
		}
		for (s = 0; s < 2; s++) {
			const char	*on;

			mode = text(get("%s/%s/repair", p, dir[s]));
			on = strcmp(text(get("%s/%s/repairing", p, dir[s])),
			    "true") == 0 ? "on" : "off";
			printf("  %-13s repair ", dir[s]);
			if (strcmp(mode, "auto") == 0)
				printf("auto: %s, %s", on, strcmp(text(get(
				    "%s/%s/detected", p, dir[s])), "true") ==
				    0 ? "detected" : "not yet detected");
			else
				printf("%s", mode);
			printf("; %s packets, %s bytes", text(get(
			    "%s/%s/packets", p, dir[s])), text(get(
			    "%s/%s/bytes_in", p, dir[s])));
			v = get("%s/%s/last_rx", p, dir[s]);
			if (v != NULL && strcmp(v, "null") != 0) {
				when(atof(v), t, sizeof t);
				printf("; last %s", t);
			} else
				printf("; nothing yet");
			putchar('\n');
		}
		free(names[i]);
	}
	free(names);
}

void
print_stats(void)
{
	size_t	i;

	for (i = 0; i < nrecs; i++)
		printf("%-48s %s\n", recs[i].key, text(recs[i].val));
}

/* ---- Prometheus ---- */

struct metric {
	const char	*name, *help, *type;
};

static int
numeric(const char *v)
{
	return *v != '\0' && strspn(v, "0123456789.") == strlen(v);
}

/*
 * One family at a time: HELP and TYPE once, then a sample per pair and
 * direction (or side).  Counter names from the daemon's keys.
 */
void
print_metrics(void)
{
	char	**names, fam[128], lab[256], pair[PAIR_NAME_MAX], part[64];
	char	  leaf[64], **done = NULL;
	size_t	  n, i, j, ndone = 0, k;

	n = pair_names(&names);
	for (i = 0; i < nrecs; i++) {
		const char	*key = recs[i].key, *v = recs[i].val;
		int		 is_side, is_type;

		if (sscanf(key, "%63[^/]/%63[^/]/%63s", pair, part, leaf) != 3)
			continue;
		is_side = strcmp(part, "host") == 0 ||
		    strcmp(part, "target") == 0;
		is_type = strncmp(leaf, "type/", 5) == 0;
		if (is_side && strcmp(leaf, "state") == 0)
			snprintf(fam, sizeof fam, "kdrelay_side_up");
		else if (!numeric(v) && strcmp(v, "true") != 0 &&
		    strcmp(v, "false") != 0)
			continue;
		else if (is_type)
			snprintf(fam, sizeof fam, "kdrelay_packets_by_type_total");
		else if (strcmp(leaf, "since") == 0 ||
		    strcmp(leaf, "last_rx") == 0)
			snprintf(fam, sizeof fam, "kdrelay_%s_seconds", leaf);
		else if (strcmp(leaf, "repairing") == 0 ||
		    strcmp(leaf, "detected") == 0 ||
		    strcmp(leaf, "backoff_ms") == 0)
			snprintf(fam, sizeof fam, "kdrelay_%s", leaf);
		else if (is_side)
			continue;
		else
			snprintf(fam, sizeof fam, "kdrelay_%s_total", leaf);
		for (k = 0; k < ndone; k++) {
			if (strcmp(done[k], fam) == 0)
				break;
		}
		if (k < ndone)
			continue;
		done = realloc(done, (ndone + 1) * sizeof *done);
		if (done == NULL || (done[ndone++] = strdup(fam)) == NULL)
			die(EXIT_OSERR, "out of memory");
		printf("# HELP %s kdrelayd: %s per %s\n", fam,
		    is_type ? "packets of each KD type" : leaf,
		    is_side ? "side" : "direction");
		printf("# TYPE %s %s\n", fam, strstr(fam, "_total") != NULL ?
		    "counter" : "gauge");
		/* Every sample of this family, in pair order. */
		for (j = 0; j < nrecs; j++) {
			char	p2[PAIR_NAME_MAX], pt2[64], lf2[64];
			const char *v2 = recs[j].val;

			if (sscanf(recs[j].key, "%63[^/]/%63[^/]/%63s", p2,
			    pt2, lf2) != 3)
				continue;
			if (is_type ? strncmp(lf2, "type/", 5) != 0 :
			    strcmp(lf2, leaf) != 0)
				continue;
			if ((strcmp(pt2, "host") == 0 || strcmp(pt2, "target")
			    == 0) != is_side)
				continue;
			snprintf(lab, sizeof lab, "pair=\"%s\",%s=\"%s\"%s%s%s",
			    p2, is_side ? "side" : "dir", pt2,
			    is_type ? ",type=\"" : "", is_type ? lf2 + 5 : "",
			    is_type ? "\"" : "");
			if (strcmp(fam, "kdrelay_side_up") == 0)
				v2 = strcmp(text(v2), "up") == 0 ? "1" : "0";
			else if (strcmp(v2, "true") == 0)
				v2 = "1";
			else if (strcmp(v2, "false") == 0 ||
			    strcmp(v2, "null") == 0)
				v2 = "0";
			printf("%s{%s} %s\n", fam, lab, v2);
		}
	}
	for (k = 0; k < ndone; k++)
		free(done[k]);
	free(done);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
