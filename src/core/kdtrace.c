/*
 * kdtrace.c - read and write kdtrace captures (version 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "le.h"
#include "kdtrace.h"

#define MAGIC_LEN	8
#define REC_HDR		4

/* Walk the records; fill recs when it is not NULL.  Returns the count. */
static long
walk(const uint8_t *b, size_t size, struct kdtrace_rec *recs, char *err,
    size_t errlen)
{
	size_t	off = MAGIC_LEN, len;
	long	n = 0;

	while (off < size) {
		if (size - off < REC_HDR) {
			snprintf(err, errlen, "offset %zu: truncated record "
			    "header (%zu of %d bytes)", off, size - off,
			    REC_HDR);
			return (-1);
		}
		if (b[off] != KDTRACE_DEBUGGER && b[off] != KDTRACE_TARGET) {
			snprintf(err, errlen, "offset %zu: direction 0x%02x is "
			    "not 'D' or 'T'", off, b[off]);
			return (-1);
		}
		if (b[off + 1] != 0) {
			snprintf(err, errlen, "offset %zu: flags 0x%02x, "
			    "expected 0", off, b[off + 1]);
			return (-1);
		}
		len = le16_get(b + off + 2);
		if (len > size - off - REC_HDR) {
			snprintf(err, errlen, "offset %zu: record of %zu bytes "
			    "runs past the end (%zu bytes left)", off, len,
			    size - off - REC_HDR);
			return (-1);
		}
		if (recs != NULL) {
			recs[n].dir = b[off];
			recs[n].len = len;
			recs[n].pkt = b + off + REC_HDR;
		}
		n++;
		off += REC_HDR + len;
	}
	return (n);
}

int
kdtrace_parse(const uint8_t *b, size_t size, struct kdtrace *t, char *err,
    size_t errlen)
{
	long	n;

	memset(t, 0, sizeof(*t));
	if (size < MAGIC_LEN || memcmp(b, KDTRACE_MAGIC, MAGIC_LEN) != 0) {
		snprintf(err, errlen, "offset 0: no %s magic", KDTRACE_MAGIC);
		return (-1);
	}
	if ((n = walk(b, size, NULL, err, errlen)) < 0)
		return (-1);
	if (n > 0 && (t->recs = calloc(n, sizeof(*t->recs))) == NULL) {
		snprintf(err, errlen, "out of memory for %ld records", n);
		return (-1);
	}
	walk(b, size, t->recs, err, errlen);
	t->n = n;
	t->size = size;
	return (0);
}

int
kdtrace_load(const char *path, struct kdtrace *t, char *err, size_t errlen)
{
	FILE		*f;
	struct stat	 st;
	uint8_t		*data = NULL;
	char		 why[256];

	memset(t, 0, sizeof(*t));
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fileno(f), &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if ((data = malloc(st.st_size > 0 ? st.st_size : 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (fread(data, 1, st.st_size, f) != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: short read", path);
		goto fail;
	}
	fclose(f);
	f = NULL;
	if (kdtrace_parse(data, st.st_size, t, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	t->data = data;
	t->size = st.st_size;
	return (0);

fail:
	if (f != NULL)
		fclose(f);
	free(data);
	return (-1);
}

void
kdtrace_free(struct kdtrace *t)
{
	free(t->recs);
	free(t->data);
	memset(t, 0, sizeof(*t));
}

int
kdtrace_write_header(FILE *f)
{
	if (fwrite(KDTRACE_MAGIC, 1, MAGIC_LEN, f) != MAGIC_LEN)
		return (-1);
	return (0);
}

int
kdtrace_write(FILE *f, char dir, const uint8_t *pkt, uint16_t len)
{
	uint8_t	hdr[REC_HDR];

	hdr[0] = dir;
	hdr[1] = 0;
	hdr[2] = len;
	hdr[3] = len >> 8;
	if (fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr))
		return (-1);
	if (len != 0 && fwrite(pkt, 1, len, f) != len)
		return (-1);
	return (0);
}
