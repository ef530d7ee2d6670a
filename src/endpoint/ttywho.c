/*
 * ttywho.c - who else has a tty: a session whose controlling terminal it
 * is, another process with it open.
 *
 * Linux keeps no list of a device's openers: the answer is a walk of every
 * process's /proc entry, its stat and its fds.  A thousand pairs starting
 * at once would walk a thousand times over fds that grow with the pairs
 * (quadratic).  So one walk answers every question waiting when it
 * begins; questions asked meanwhile wait for the next one.  An answer
 * always comes from a walk begun after it was asked, as if each caller had
 * walked alone, and the walks cost no more than the time the questions
 * keep coming in.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tty.h"

#define PTMX_MAJOR	5		/* /dev/ptmx and /dev/pts/ptmx: 5,2 */
#define PTMX_MINOR	2

struct ask {
	dev_t		 rdev;
	unsigned	 ttynr;		/* rdev as /proc/PID/stat has it */
	int		 what;		/* TTY_WHO_* */
	struct tty_who	 who;
	int		 done;
	struct ask	*next;
};

/* One walk's scratch: one process's fds of interest. */
struct walk {
	struct ask	**asks;		/* the batch by rdev */
	size_t		  n;
	int		 *masters;	/* fds that are a pty master */
	size_t		  nmasters, maxmasters;
	dev_t		 *held;		/* asked-about devices it has open */
	size_t		  nheld, maxheld;
};

static pthread_mutex_t	 who_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 who_cond = PTHREAD_COND_INITIALIZER;
static struct ask	*who_next;	/* asked since the walk under way began */
static int		 who_walking;
static unsigned long	 who_asks, who_walks;

static int
is_pid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return 0;
	}
	return 1;
}

static int
by_rdev(const void *a, const void *b)
{
	dev_t	x = (*(struct ask *const *)a)->rdev;
	dev_t	y = (*(struct ask *const *)b)->rdev;

	return x < y ? -1 : x > y;
}

/* The first ask about rdev in w's sorted batch, or NULL. */
static struct ask **
first_ask(const struct walk *w, dev_t rdev)
{
	size_t	lo = 0, hi = w->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (w->asks[mid]->rdev < rdev)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->n && w->asks[lo]->rdev == rdev ? &w->asks[lo] : NULL;
}

static int
push(void *arrp, size_t *n, size_t *max, const void *v, size_t size)
{
	char	**arr = arrp, *p;
	size_t	  m;

	if (*n == *max) {
		m = *max == 0 ? 16 : *max * 2;
		if ((p = realloc(*arr, m * size)) == NULL)
			return -1;
		*arr = p;
		*max = m;
	}
	memcpy(*arr + *n * size, v, size);
	(*n)++;
	return 0;
}

/* Process dir's controlling terminal: field 7 of its stat. */
static void
find_ctty(const struct walk *w, const char *dir, pid_t pid)
{
	struct ask	**a;
	char		  buf[512], *p;
	int		  fd, session, ttynr;
	ssize_t		  n;

	snprintf(buf, sizeof buf, "%s/stat", dir);
	if ((fd = open(buf, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* comm may hold anything: the fields follow the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %d %d", &session, &ttynr) != 2 ||
	    ttynr == 0)
		return;
	for (a = w->asks; a < w->asks + w->n; a++) {
		if (((*a)->what & TTY_WHO_CTTY) && (*a)->who.ctty == 0 &&
		    (*a)->ttynr == (unsigned)ttynr) {
			(*a)->who.ctty = pid;
			(*a)->who.sid = session;
		}
	}
}

/* The pty index of pty master fd of process dir, or -1. */
static long
master_index(const char *dir, int fd)
{
	char	buf[256], *p;
	int	ifd;
	ssize_t	n;

	snprintf(buf, sizeof buf, "%s/fdinfo/%d", dir, fd);
	if ((ifd = open(buf, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(ifd, buf, sizeof buf - 1);
	close(ifd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "tty-index:")) == NULL)
		return -1;
	return strtol(p + 10, NULL, 10);
}

/* Does process dir hold the master of pty slave rdev (w->masters)? */
static int
holds_master(const struct walk *w, const char *dir, dev_t rdev)
{
	long	index;
	size_t	i;

	if ((index = tty_pty_index(rdev)) == -1)
		return 0;
	for (i = 0; i < w->nmasters; i++) {
		if (master_index(dir, w->masters[i]) == index)
			return 1;
	}
	return 0;
}

/*
 * Process dir's open fds: an asked-about device it has open, unless it
 * also holds that pty's master (it is the VM's side of the line), makes
 * it the reader.  The fdinfo of its masters is read only then.
 */
static void
find_open(struct walk *w, const char *dir, pid_t pid)
{
	struct ask	**a;
	struct dirent	 *de;
	struct stat	  st;
	DIR		 *d;
	char		  path[64];
	size_t		  i;
	int		  fd, dfd;

	snprintf(path, sizeof path, "%s/fd", dir);
	if ((d = opendir(path)) == NULL)
		return;
	dfd = dirfd(d);
	w->nmasters = w->nheld = 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_pid(de->d_name) ||
		    fstatat(dfd, de->d_name, &st, 0) == -1 ||
		    !S_ISCHR(st.st_mode))
			continue;
		fd = atoi(de->d_name);
		if (st.st_rdev == makedev(PTMX_MAJOR, PTMX_MINOR))
			push(&w->masters, &w->nmasters, &w->maxmasters, &fd,
			    sizeof fd);
		else if (first_ask(w, st.st_rdev) != NULL)
			push(&w->held, &w->nheld, &w->maxheld, &st.st_rdev,
			    sizeof st.st_rdev);
	}
	closedir(d);
	for (i = 0; i < w->nheld; i++) {
		if (holds_master(w, dir, w->held[i]))
			continue;
		for (a = first_ask(w, w->held[i]);
		    a < w->asks + w->n && (*a)->rdev == w->held[i]; a++) {
			if (((*a)->what & TTY_WHO_OPEN) && (*a)->who.reader == 0)
				(*a)->who.reader = pid;
		}
	}
}

/*
 * One walk of /proc answering every ask of batch.  Whole paths, not
 * openat: what the daemon opens reads plainly in strace (test_xen_hostile).
 */
static void
walk(struct ask *batch)
{
	struct walk	 w;
	struct dirent	*de;
	struct ask	*a;
	DIR		*d;
	pid_t		 me = getpid(), pid;
	size_t		 i = 0;
	int		 what = 0;
	char		 dir[32];

	memset(&w, 0, sizeof w);
	for (a = batch; a != NULL; a = a->next) {
		what |= a->what;
		w.n++;
	}
	if ((w.asks = calloc(w.n, sizeof *w.asks)) == NULL ||
	    (d = opendir("/proc")) == NULL) {
		free(w.asks);
		return;
	}
	for (a = batch; a != NULL; a = a->next)
		w.asks[i++] = a;
	qsort(w.asks, w.n, sizeof *w.asks, by_rdev);
	while ((de = readdir(d)) != NULL) {
		if (!is_pid(de->d_name))
			continue;
		pid = (pid_t)atoi(de->d_name);
		snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
		if (what & TTY_WHO_CTTY)
			find_ctty(&w, dir, pid);
		/* Our own fds are our pairs': the UUCP lock tells those. */
		if ((what & TTY_WHO_OPEN) && pid != me)
			find_open(&w, dir, pid);
	}
	closedir(d);
	free(w.asks);
	free(w.masters);
	free(w.held);
}

void
tty_who(unsigned long long rdev, int what, struct tty_who *who)
{
	struct ask	 a, *batch;

	memset(&a, 0, sizeof a);
	a.rdev = (dev_t)rdev;
	a.ttynr = (minor(a.rdev) & 0xff) | (major(a.rdev) << 8) |
	    ((minor(a.rdev) & ~0xffu) << 12);
	a.what = what;
	pthread_mutex_lock(&who_lock);
	a.next = who_next;
	who_next = &a;
	who_asks++;
	while (!a.done) {
		if (who_walking) {
			pthread_cond_wait(&who_cond, &who_lock);
			continue;
		}
		batch = who_next;
		who_next = NULL;
		who_walking = 1;
		who_walks++;
		pthread_mutex_unlock(&who_lock);
		walk(batch);
		pthread_mutex_lock(&who_lock);
		for (; batch != NULL; batch = batch->next)
			batch->done = 1;
		who_walking = 0;
		pthread_cond_broadcast(&who_cond);
	}
	pthread_mutex_unlock(&who_lock);
	*who = a.who;
}

void
tty_who_counts(unsigned long *asks, unsigned long *walks)
{
	pthread_mutex_lock(&who_lock);
	*asks = who_asks;
	*walks = who_walks;
	pthread_mutex_unlock(&who_lock);
}
