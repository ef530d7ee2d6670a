/*
 * tty.c - open a tty endpoint: check what it is, claim it, set it raw.
 *
 * TCSANOW, never TCSAFLUSH: a guest may have written a KDCOM packet to its
 * serial port before the relay opened the pty, and flushing would eat it.
 *
 * A path given as a tty is checked on the open fd before a byte goes to
 * it: a character device that is a tty, and no session's controlling
 * terminal (pty numbers are reused: /dev/pts/N may now be an admin's
 * shell).  TIOCGSID answers only for the caller's own terminal when asked
 * on a slave, so the sessions are read from /proc/PID/stat instead
 * (ttywho.c, which also finds other openers).
 *
 * A claimed tty has one reader: no other process may have it open except
 * the one holding its pty master (socat, xenconsoled, the VM's backend),
 * the UUCP lock LCK..NAME (screen, minicom, cu) is taken, and TIOCEXCL set
 * so that unprivileged openers get EBUSY.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tty.h"

#define LOCK_DIR_ENV		"KDRELAY_LOCK_DIR"
#define LOCK_DIR_DEFAULT	"/run/lock"
#define PTY_SLAVE_MAJOR_LO	136	/* UNIX98_PTY_SLAVE_MAJOR */
#define PTY_SLAVE_MAJOR_HI	143

static void	say(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t len, const char *fmt, ...)
{
	va_list	ap;

	if (why == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

const char *
tty_mode_name(unsigned m)
{
	switch (m & S_IFMT) {
	case S_IFREG:	return "a regular file";
	case S_IFDIR:	return "a directory";
	case S_IFIFO:	return "a FIFO";
	case S_IFSOCK:	return "a socket";
	case S_IFBLK:	return "a block device";
	case S_IFCHR:	return "a character device";
	case S_IFLNK:	return "a symbolic link";
	}
	return "not a file";
}

int
ep_path_check(const struct ep_spec *sp, char *err, size_t errlen)
{
	struct stat	st;

	if ((sp->kind != EP_TTY && sp->kind != EP_UNIX) ||
	    stat(sp->path, &st) == -1)
		return 0;		/* missing: waited for */
	if (sp->kind == EP_TTY && !S_ISCHR(st.st_mode)) {
		say(err, errlen, "%s is %s, not a tty", sp->path,
		    tty_mode_name(st.st_mode));
		return -1;
	}
	if (sp->kind == EP_UNIX && !S_ISSOCK(st.st_mode)) {
		say(err, errlen, "%s is %s, not a socket", sp->path,
		    tty_mode_name(st.st_mode));
		return -1;
	}
	return 0;
}

int
tty_is_pty(unsigned long long rdev)
{
	return major(rdev) >= PTY_SLAVE_MAJOR_LO &&
	    major(rdev) <= PTY_SLAVE_MAJOR_HI;
}

long
tty_pty_index(unsigned long long rdev)
{
	if (!tty_is_pty(rdev))
		return -1;
	return (long)(major(rdev) - PTY_SLAVE_MAJOR_LO) * 256 + minor(rdev);
}

/* /proc/PID/comm, for messages. */
static void
proc_comm(pid_t pid, char *buf, size_t len)
{
	char	path[64];
	FILE	*f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	if (fgets(buf, (int)len, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

int
tty_open(const char *path, int extra_flags, struct termios *orig, char *why,
    size_t len)
{
	struct termios	t;
	struct stat	st;
	struct tty_who	who;
	char		comm[32];
	int		fd, err;

	say(why, len, "%s", "");
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC |
	    extra_flags);
	if (fd == -1) {
		if (errno == EISDIR)
			say(why, len, "a directory, not a tty");
		return -1;
	}
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISCHR(st.st_mode)) {
		say(why, len, "%s, not a tty", tty_mode_name(st.st_mode));
		errno = ENOTTY;
		goto fail;
	}
	if (!isatty(fd)) {
		say(why, len, "a character device that is not a tty");
		errno = ENOTTY;
		goto fail;
	}
	tty_who(st.st_rdev, TTY_WHO_CTTY, &who);
	if (who.ctty != 0) {
		proc_comm(who.ctty, comm, sizeof comm);
		say(why, len, "the controlling terminal of session %d (pid %d, "
		    "%s): not a VM's serial line", (int)who.sid, (int)who.ctty,
		    comm);
		errno = EBUSY;
		goto fail;
	}
	if (tcgetattr(fd, &t) == -1)
		goto fail;
	if (orig != NULL)
		*orig = t;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;	/* a real port: ignore modem lines */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) == -1)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int
tty_open_raw(const char *path, int extra_flags)
{
	return tty_open(path, extra_flags, NULL, NULL, 0);
}

/* ---- one reader ---- */

static const char *
lock_dir(void)
{
	const char	*d = getenv(LOCK_DIR_ENV);

	return d != NULL && *d != '\0' ? d : LOCK_DIR_DEFAULT;
}

/*
 * The lock file for the device fd, malloc'd (NULL: none): LCK..NAME,
 * NAME its path under /dev with '/' as '_' (LCK..ttyS0, LCK..pts_3),
 * whatever symlink named it.  A device's path is short: a PATH_MAX buffer
 * only for a longer one, on the heap (this runs in a pair's thread, whose
 * stack is meant to stay within two pages).
 */
static char *
lock_name(int fd)
{
	char		 self[64], small[128], *dev = small, *p, *out = NULL;
	const char	*dir = lock_dir();
	size_t		 dl = strlen(dir), nl, size = sizeof small;
	ssize_t		 n;

	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	while ((n = readlink(self, dev, size - 1)) == (ssize_t)size - 1 &&
	    dev == small) {
		size = PATH_MAX;
		if ((dev = malloc(size)) == NULL)
			return NULL;
	}
	if (n <= 0)
		goto done;
	dev[n] = '\0';
	p = strncmp(dev, "/dev/", 5) == 0 ? dev + 5 : strrchr(dev, '/') + 1;
	nl = strlen(p);
	if ((out = malloc(dl + sizeof "/LCK.." - 1 + nl + 1)) == NULL)
		goto done;
	memcpy(out, dir, dl);
	memcpy(out + dl, "/LCK..", sizeof "/LCK.." - 1);
	memcpy(out + dl + sizeof "/LCK.." - 1, p, nl + 1);
	for (p = out + dl + 1; *p != '\0'; p++) {
		if (*p == '/')
			*p = '_';
	}
done:
	if (dev != small)
		free(dev);
	return out;
}

/* The pid in a lock file (HDB: ASCII, "%10d\n"), 0 if none. */
static pid_t
lock_pid(const char *path)
{
	char	buf[32];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

int
uucp_lock_take(const char *path, pid_t *holder)
{
	char	buf[16];
	pid_t	pid;
	int	fd, tries, n;

	for (tries = 0; tries < 3; tries++) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd != -1) {
			n = snprintf(buf, sizeof buf, "%10d\n", (int)getpid());
			if (write(fd, buf, n) != n) {
				close(fd);
				unlink(path);
				return -1;
			}
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
		pid = lock_pid(path);
		if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)) {
			*holder = pid;
			errno = EBUSY;
			return -1;
		}
		unlink(path);			/* stale: its owner is gone */
	}
	errno = EAGAIN;
	return -1;
}

void
uucp_lock_release(const char *path)
{
	if (lock_pid(path) == getpid())
		unlink(path);
}

void
tty_claim_init(struct tty_claim *c)
{
	c->fd = -1;
	c->lockpath = NULL;
}

int
tty_claim(struct tty_claim *c, int fd, int uucp_lock, char *why, size_t len)
{
	struct stat	st;
	struct tty_who	who;
	pid_t		pid = 0;
	char		comm[32], *lock;

	free(c->lockpath);
	tty_claim_init(c);
	if (fstat(fd, &st) == -1)
		return -1;
	tty_who(st.st_rdev, TTY_WHO_OPEN, &who);
	if ((pid = who.reader) != 0) {
		proc_comm(pid, comm, sizeof comm);
		say(why, len, "in use by pid %d (%s)", (int)pid, comm);
		errno = EBUSY;
		return -1;
	}
	if (uucp_lock && (lock = lock_name(fd)) != NULL) {
		if (uucp_lock_take(lock, &pid) == 0) {
			c->lockpath = lock;
		} else if (errno == EBUSY) {
			free(lock);
			proc_comm(pid, comm, sizeof comm);
			if (pid == getpid())
				say(why, len, "in use by another pair of this "
				    "kdrelayd");
			else
				say(why, len, "locked by pid %d (%s)",
				    (int)pid, comm);
			errno = EBUSY;
			return -1;
		} else
			free(lock);
		/* No lock directory we may write: the checks above stand. */
	}
	ioctl(fd, TIOCEXCL);
	c->fd = fd;
	return 0;
}

void
tty_release(struct tty_claim *c)
{
	if (c->fd != -1)
		ioctl(c->fd, TIOCNXCL);	/* a flag left set outlives us */
	if (c->lockpath != NULL)
		uucp_lock_release(c->lockpath);
	free(c->lockpath);
	tty_claim_init(c);
}
