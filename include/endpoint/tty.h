/*
 * tty.h - opening a tty for the relay: checks and raw mode.
 */
#ifndef KDRELAY_TTY_H
#define KDRELAY_TTY_H

/*
 * Open a tty path raw (cfmakeraw, TCSANOW), nonblocking and close-on-exec,
 * with extra_flags (O_NOFOLLOW, say); -1 with errno.  Shared with tests
 * and tools.
 */
int	tty_open_raw(const char *path, int extra_flags);

#endif
