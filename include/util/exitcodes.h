/* exitcodes.h - sysexits-style codes shared by the programs. */
#ifndef KDRELAY_EXITCODES_H
#define KDRELAY_EXITCODES_H

#define EXIT_OK		0
#define EXIT_USAGE	64	/* EX_USAGE: bad command line */
#define EXIT_DATAERR	65	/* EX_DATAERR: bad input data */
#define EXIT_NOINPUT	66	/* EX_NOINPUT: input file unreadable */
#define EXIT_UNAVAIL	69	/* EX_UNAVAILABLE: endpoint/service down */
#define EXIT_SOFTWARE	70	/* EX_SOFTWARE: internal error */
#define EXIT_OSERR	71	/* EX_OSERR: system error */
#define EXIT_CANTCREAT	73	/* EX_CANTCREAT: output file not made */
#define EXIT_TEMPFAIL	75	/* EX_TEMPFAIL: timed out, try again */
#define EXIT_CONFIG	78	/* EX_CONFIG: bad configuration */

#endif
