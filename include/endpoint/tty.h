/*
 * tty.h - opening a tty for the relay: checks and raw mode.
 */
#ifndef KDRELAY_TTY_H
#define KDRELAY_TTY_H

#include <limits.h>
#include <stddef.h>
#include <termios.h>

#include "epspec.h"

/*
 * Open a tty path raw (cfmakeraw, TCSANOW), nonblocking and close-on-exec,
 * with extra_flags (O_NOFOLLOW, say); -1 with errno.  Refuses what is not
 * a tty (ENOTTY) or is a session's controlling terminal (EBUSY); why (may
 * be NULL) says which in words; orig (may be NULL) gets the settings
 * found, for a tool to put back.  tty_open_raw: the same, no words.  Shared
 * with tests and tools.
 */
int	tty_open(const char *path, int extra_flags, struct termios *orig,
	    char *why, size_t len);
int	tty_open_raw(const char *path, int extra_flags);

/*
 * One reader per tty: refuse (EBUSY, why names the holder) a tty another
 * process has open, other than its pty master's holder, or whose UUCP lock
 * (uucp_lock: $KDRELAY_LOCK_DIR or /run/lock, LCK..NAME) is held; else
 * take that lock and TIOCEXCL.  tty_release undoes it; call it before
 * closing the fd.
 */
struct tty_claim {
	int	fd;			/* -1: nothing claimed */
	char	*lockpath;		/* malloc'd, NULL none */
};
void	tty_claim_init(struct tty_claim *);
int	tty_claim(struct tty_claim *, int fd, int uucp_lock, char *why,
	    size_t len);
void	tty_release(struct tty_claim *);

#include <sys/types.h>
/*
 * A UUCP (HDB) lock file at path holding our pid ("%10d\n"): 0 taken, or
 * -1 with errno (EBUSY and *holder: a live process holds it; a stale or
 * unreadable one is removed and taken).  Release removes it if ours.
 * tty_claim's LCK..NAME, and libvirt's console lock (ep_libvirt.c).
 */
int	uucp_lock_take(const char *path, pid_t *holder);
void	uucp_lock_release(const char *path);

/*
 * A tty or unix spec's path, if it exists, is a character device or a
 * socket: -1 with a reason in err (the fd is checked again on open).
 */
int	ep_path_check(const struct ep_spec *, char *err, size_t errlen);
/* "a regular file", "a directory"... for messages. */
const char *tty_mode_name(unsigned mode);
/* A UNIX98 pty slave (pty numbers are reused); its index, -1 if none. */
int	tty_is_pty(unsigned long long rdev);
long	tty_pty_index(unsigned long long rdev);

/*
 * Who else has tty rdev (ttywho.c): with TTY_WHO_CTTY, a process whose
 * controlling terminal it is (ctty, its session sid); with TTY_WHO_OPEN,
 * another process that has it open other than the holder of its pty
 * master (reader).  0: none.  Callers asking at once share one walk of
 * /proc.  tty_who_counts: questions asked and walks made, so far.
 */
#define TTY_WHO_CTTY	1
#define TTY_WHO_OPEN	2
struct tty_who {
	pid_t	ctty, sid;
	pid_t	reader;
};
void	tty_who(unsigned long long rdev, int what, struct tty_who *);
void	tty_who_counts(unsigned long *asks, unsigned long *walks);

#endif
