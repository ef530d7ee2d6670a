/*
 * dynlib.h - a platform's library loaded at run time, on first use.
 *
 * kdrelayd runs on Xen dom0s, Proxmox nodes and libvirt hosts; linking
 * libxenstore or libvirt would make each host install the others'
 * libraries.  A backend instead lists the functions it calls in a table of
 * typed pointers (one file per library), loads the library when an
 * endpoint or discovery first needs it, and tells the admin which Debian
 * package to install when it is missing.
 *
 * Thread-safe: pair threads may load at once.  A library that failed to
 * load is tried again on the next call (the admin may have installed it
 * since); once loaded it stays (libraries with threads of their own must
 * not be unloaded).
 */
#ifndef KDRELAY_DYNLIB_H
#define KDRELAY_DYNLIB_H

#include <pthread.h>
#include <stddef.h>

/* One function to resolve: its name and the pointer to fill in. */
struct dynlib_sym {
	const char	 *name;
	void		**addr;
};

/* The address of a typed function pointer, for a dynlib_sym. */
#define DYNLIB_SYM(name, ptr)	{ (name), (void **)(void *)&(ptr) }

struct dynlib {
	const char		*soname;	/* "libxenstore.so.4" */
	const char		*package;	/* the Debian package shipping it */
	const struct dynlib_sym	*syms;
	size_t			 nsyms;

	pthread_mutex_t		 lock;
	void			*handle;	/* NULL until every symbol is in */
};

#define DYNLIB_INIT(soname, package, syms) \
	{ (soname), (package), (syms), sizeof (syms) / sizeof (syms)[0], \
	  PTHREAD_MUTEX_INITIALIZER, NULL }

/*
 * Load the library and resolve every symbol, unless done already.  0, or
 * -1 with err saying "needs PACKAGE (apt install PACKAGE): why"; no
 * symbol pointer is changed on failure.
 */
int	dynlib_load(struct dynlib *, char *err, size_t errlen);
/* Nonzero once dynlib_load succeeded. */
int	dynlib_loaded(struct dynlib *);

#endif
