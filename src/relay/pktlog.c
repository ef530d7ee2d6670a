/*
 * pktlog.c - packet log lines and kdtrace capture for one pair.
 *
 * Both are written from the pair's own thread only, and flushed per line:
 * KDCOM is a ping-pong of small packets, and a log that stops short of the
 * packet that hung the session is no use.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"
#include "kdcom.h"
#include "kdtrace.h"
#include "log.h"
#include "pktlog.h"
#include "sock.h"

/* DBGKD_DEBUG_IO: ApiNumber, ProcessorLevel, Processor, LengthOfString. */
#define DEBUG_IO_HEADER		16
#define DEBUG_IO_LENGTH_OFF	8

struct pktlog {
	FILE	*f;
	char	 path[4096];
};

struct capture {
	FILE	*f;
	char	 path[4096];
	int	 failed;
};

static FILE *
open_file(const char *path, const char *mode, char *err, size_t errlen)
{
	FILE	*f;

	/* The directory is made (0700) as --check-config promised. */
	if (sock_make_dir(path) == -1) {
		snprintf(err, errlen, "%s: cannot make its directory: %s",
		    path, strerror(errno));
		return NULL;
	}
	if ((f = fopen(path, mode)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return f;
}

struct pktlog *
pktlog_open(const char *path, char *err, size_t errlen)
{
	struct pktlog	*pl;
	FILE		*f;

	if ((f = open_file(path, "ae", err, errlen)) == NULL)
		return NULL;
	if ((pl = calloc(1, sizeof *pl)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	pl->f = f;
	snprintf(pl->path, sizeof pl->path, "%s", path);
	return pl;
}

void
pktlog_close(struct pktlog *pl)
{
	if (pl == NULL)
		return;
	fclose(pl->f);
	free(pl);
}

/* Escape text so that a log line stays one line of printable ASCII. */
static size_t
escape(const uint8_t *s, size_t n, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  o = 0, i;
	char		  tmp[4];
	size_t		  k;

	if (len == 0)
		return 0;
	for (i = 0; i < n; i++) {
		k = 0;
		switch (s[i]) {
		case '\n': tmp[k++] = '\\'; tmp[k++] = 'n'; break;
		case '\r': tmp[k++] = '\\'; tmp[k++] = 'r'; break;
		case '\t': tmp[k++] = '\\'; tmp[k++] = 't'; break;
		case '"': tmp[k++] = '\\'; tmp[k++] = '"'; break;
		case '\\': tmp[k++] = '\\'; tmp[k++] = '\\'; break;
		default:
			if (s[i] >= 0x20 && s[i] < 0x7f)
				tmp[k++] = (char)s[i];
			else {
				tmp[k++] = '\\';
				tmp[k++] = 'x';
				tmp[k++] = hex[s[i] >> 4];
				tmp[k++] = hex[s[i] & 15];
			}
		}
		if (o + k >= len)
			break;
		memcpy(buf + o, tmp, k);
		o += k;
	}
	buf[o] = '\0';
	return o;
}

size_t
pktlog_dbgprint(const struct kd_packet *pkt, char *buf, size_t len)
{
	uint32_t	n;

	if (pkt->type != KD_TYPE_DEBUG_IO || pkt->verdict != KD_OK ||
	    !pkt->has_api || pkt->api != KD_API_PRINT_STRING ||
	    pkt->len < DEBUG_IO_HEADER)
		return 0;
	n = le32_get(pkt->payload + DEBUG_IO_LENGTH_OFF);
	/* The guest says how long; believe it only within the packet. */
	if (n > (uint32_t)pkt->len - DEBUG_IO_HEADER)
		n = pkt->len - DEBUG_IO_HEADER;
	return escape(pkt->payload + DEBUG_IO_HEADER, n, buf, len);
}

/* snprintf that keeps o within len (truncating the line). */
static void
app(char *buf, size_t len, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
app(char *buf, size_t len, size_t *o, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (*o >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *o, len - *o, fmt, ap);
	va_end(ap);
	if (n > 0)
		*o = *o + (size_t)n < len ? *o + (size_t)n : len - 1;
}

size_t
pktlog_format(char dir, const struct kd_event *ev, char *buf, size_t len)
{
	const struct kd_packet	*p = ev->pkt;
	const char		*api, *arrow;
	char			 text[1024], t[64];
	size_t			 o = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	arrow = dir == KDTRACE_DEBUGGER ? "D>T" : "T>D";
	log_timestamp(t, sizeof t);
	switch (ev->kind) {
	case KD_EV_BREAKIN:
		app(buf, len, &o, "%s %s BREAKIN", t, arrow);
		break;
	case KD_EV_GARBAGE:
		app(buf, len, &o, "%s %s GARBAGE %zu bytes", t, arrow,
		    ev->len);
		break;
	case KD_EV_PACKET:
		api = p->has_api ? kd_api_name(p->type, p->api) : NULL;
		app(buf, len, &o, "%s %s %s id=0x%08x len=%u %s", t, arrow,
		    kd_type_name(p->type), p->id, p->len,
		    p->verdict == KD_OK ? "ok" : kd_verdict_name(p->verdict));
		if (api != NULL)
			app(buf, len, &o, " %s", api);
		else if (p->has_api)
			app(buf, len, &o, " api=0x%04x", p->api);
		if (pktlog_dbgprint(p, text, sizeof text) > 0)
			app(buf, len, &o, " \"%s\"", text);
		break;
	}
	return o;
}

size_t
pktlog_format_note(const char *note, char *buf, size_t len)
{
	size_t	o = 0;
	char	t[64];

	if (len == 0)
		return 0;
	buf[0] = '\0';
	log_timestamp(t, sizeof t);
	app(buf, len, &o, "%s %s", t, note);
	return o;
}

void
pktlog_write(struct pktlog *pl, const char *line, size_t len)
{
	fwrite(line, 1, len, pl->f);
	fputc('\n', pl->f);
	fflush(pl->f);
}

int
pktlog_reopen(struct pktlog *pl, char *err, size_t errlen)
{
	FILE	*f;

	if ((f = open_file(pl->path, "ae", err, errlen)) == NULL)
		return -1;
	fclose(pl->f);
	pl->f = f;
	return 0;
}

struct capture *
capture_open(const char *path, char *err, size_t errlen)
{
	struct capture	*c;
	FILE		*f;

	if ((f = open_file(path, "we", err, errlen)) == NULL)
		return NULL;
	if (kdtrace_write_header(f) != 0 || fflush(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	c->f = f;
	snprintf(c->path, sizeof c->path, "%s", path);
	return c;
}

const char *
capture_path(const struct capture *c)
{
	return c->path;
}

void
capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	fclose(c->f);
	free(c);
}

void
capture_event(struct capture *c, char dir, const struct kd_event *ev)
{
	static const uint8_t	 breakin = KD_BREAKIN;
	const uint8_t		*raw;
	size_t			 len;

	if (c->failed)
		return;
	switch (ev->kind) {
	case KD_EV_PACKET:
		if (ev->pkt->verdict != KD_OK)
			return;
		raw = ev->pkt->raw;
		len = ev->pkt->rawlen;
		break;
	case KD_EV_BREAKIN:
		/* Part of the session: a replay must send it too. */
		raw = &breakin;
		len = 1;
		break;
	default:
		return;
	}
	if (kdtrace_write(c->f, dir, raw, (uint16_t)len) != 0 ||
	    fflush(c->f) != 0) {
		/* A full disk must not stop the relay: say so once, stop. */
		log_warn("%s: capture write failed: %s; capture stopped",
		    c->path, strerror(errno));
		c->failed = 1;
	}
}
