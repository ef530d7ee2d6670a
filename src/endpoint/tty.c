/*
 * tty.c - open a tty raw without losing what is already queued on it.
 *
 * TCSANOW, never TCSAFLUSH: a guest may have written a KDCOM packet to its
 * serial port before the relay opened the pty, and flushing would eat it.
 */
#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "tty.h"

int
tty_open_raw(const char *path, int extra_flags)
{
	struct termios	t;
	int		fd, saved;

	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC |
	    extra_flags);
	if (fd == -1)
		return -1;
	if (!isatty(fd))
		return fd;		/* a fifo or a file: nothing to set */
	if (tcgetattr(fd, &t) == -1)
		goto fail;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;	/* a real port: ignore modem lines */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
