/*
 * dynlib.c - dlopen a library by soname and resolve a table of functions.
 *
 * The addresses are gathered first and stored only when all are found, so
 * a library of the wrong version leaves the table as it was (empty) rather
 * than half filled.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlib.h"

static int
resolve(struct dynlib *dl, void *h, char *err, size_t errlen)
{
	void		**found;
	const char	 *why;
	size_t		  i;

	if ((found = calloc(dl->nsyms ? dl->nsyms : 1, sizeof *found)) ==
	    NULL) {
		snprintf(err, errlen, "needs %s: out of memory", dl->package);
		return -1;
	}
	for (i = 0; i < dl->nsyms; i++) {
		dlerror();
		found[i] = dlsym(h, dl->syms[i].name);
		if (found[i] == NULL) {
			why = dlerror();
			snprintf(err, errlen, "needs %s (apt install %s): %s "
			    "has no %s%s%s", dl->package, dl->package,
			    dl->soname, dl->syms[i].name, why ? ": " : "",
			    why ? why : "");
			free(found);
			return -1;
		}
	}
	for (i = 0; i < dl->nsyms; i++)
		*dl->syms[i].addr = found[i];
	free(found);
	return 0;
}

int
dynlib_load(struct dynlib *dl, char *err, size_t errlen)
{
	const char	*why;
	void		*h;
	int		 rc = 0;

	pthread_mutex_lock(&dl->lock);
	if (dl->handle != NULL)
		goto out;
	if ((h = dlopen(dl->soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(err, errlen, "needs %s (apt install %s): %s",
		    dl->package, dl->package, why ? why : dl->soname);
		rc = -1;
		goto out;
	}
	if (resolve(dl, h, err, errlen) == -1) {
		dlclose(h);
		rc = -1;
		goto out;
	}
	dl->handle = h;
out:
	pthread_mutex_unlock(&dl->lock);
	return rc;
}

int
dynlib_loaded(struct dynlib *dl)
{
	int	loaded;

	pthread_mutex_lock(&dl->lock);
	loaded = dl->handle != NULL;
	pthread_mutex_unlock(&dl->lock);
	return loaded;
}
