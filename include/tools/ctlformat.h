/*
 * ctlformat.h - kdrelayctl's two halves: the client (kdrelayctl.c: the
 * connection, the request, reading the reply's records) and the output
 * formatting of those records (ctlformat.c).
 */
#ifndef KDRELAY_CTLFORMAT_H
#define KDRELAY_CTLFORMAT_H

#include <stddef.h>

/* The reply's data lines, in order (kdrelayctl.c: read_reply). */
struct rec {
	char	*key, *val;
};

extern struct rec	*recs;
extern size_t		 nrecs;

/* kdrelayctl.c */
void	die(int code, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));

/* ctlformat.c */
/* A value as text: strings unquoted. */
const char *text(const char *v);
void	json(void);
void	print_status(void);
void	print_stats(void);
void	print_metrics(void);

#endif
