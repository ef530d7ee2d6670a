/*
 * errbuf.h - the caller's error buffer: one message, formatted once.
 */
#ifndef KDRELAY_ERRBUF_H
#define KDRELAY_ERRBUF_H

#include <stddef.h>

/* Format the reason into err; -1, so that `return errf(...)` fails. */
int	errf(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
