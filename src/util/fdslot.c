/*
 * fdslot.c - fd numbers kept for later: dup3() moves an fd into a slot
 * and puts the inert one back, atomically, so the number is never free.
 */
#include <sys/epoll.h>

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "fdslot.h"

static pthread_once_t	 inert_once = PTHREAD_ONCE_INIT;
static int		 inert = -1;

/* An empty epoll instance: never readable or writable, read/write fail. */
static void
inert_init(void)
{
	inert = epoll_create1(EPOLL_CLOEXEC);
}

int
fdslot_new(void)
{
	pthread_once(&inert_once, inert_init);
	if (inert == -1)
		return -1;
	return fcntl(inert, F_DUPFD_CLOEXEC, 0);
}

int
fdslot_fill(int slot, int fd)
{
	if (slot == -1 || fd == slot)
		return fd;
	if (dup3(fd, slot, O_CLOEXEC) == -1)
		return fd;
	close(fd);
	return slot;
}

int
fdslot_close(int slot, int fd)
{
	if (fd == -1)
		return slot;
	if (fd != slot)
		close(fd);
	else if (dup3(inert, slot, O_CLOEXEC) == -1) {
		close(fd);
		return -1;
	}
	return slot;
}
