/*
 * ctlproto.h - the control socket's line protocol (pure: no I/O).
 *
 * A request is one line of at most CTL_LINE_MAX bytes: a command and its
 * arguments, separated by blanks; a word may be double-quoted, with \" and
 * \\ inside.  Control characters are refused.  The reply is zero or more
 * data lines ". KEY VALUE" (KEY a '/'-separated path, VALUE a JSON
 * scalar), then one line "OK [text]" or "ERR CODE text".  kdrelayctl(8)
 * documents it.
 */
#ifndef KDRELAY_CTLPROTO_H
#define KDRELAY_CTLPROTO_H

#include <stddef.h>

#define CTL_LINE_MAX	4096
#define CTL_WORDS_MAX	64
#define CTL_WORD_MAX	1024

enum ctl_cmd {
	CTL_HELP,
	CTL_PAIRS,		/* pairs */
	CTL_STATUS,		/* status [PAIR...] */
	CTL_WATCH,		/* watch PAIR */
	CTL_BREAK,		/* break PAIR */
	CTL_RELOAD,		/* reload */
	CTL_REOPEN,		/* reopen */
	CTL_CAPTURE,		/* capture PAIR FILE */
	CTL_CAPTURE_STOP,	/* capture-stop PAIR */
	CTL_NCMDS
};

struct ctl_req {
	enum ctl_cmd	 cmd;
	size_t		 nargs;
	char		 args[CTL_WORDS_MAX][CTL_WORD_MAX];
};

/*
 * Parse one request line (without its newline; need not be terminated).
 * -1 with a one-line reason in err: ERR's code goes first ("usage ...").
 */
int	ctl_parse(const char *line, size_t len, struct ctl_req *, char *err,
	    size_t errlen);
const char *ctl_cmd_name(enum ctl_cmd);
/* "status [PAIR...]": the command's synopsis. */
const char *ctl_cmd_usage(enum ctl_cmd);
/* Write the request back as a line (every word quoted); -1 if too long. */
int	ctl_format(const struct ctl_req *, char *buf, size_t len);

/* s as a JSON string (quotes included; bytes >= 0x80 as \u00XX). */
size_t	ctl_json_string(const char *s, char *buf, size_t len);
/* A JSON string scalar back to text; -1 if it is not one. */
int	ctl_json_unquote(const char *s, char *buf, size_t len);

#endif
