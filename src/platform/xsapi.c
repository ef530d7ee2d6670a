/*
 * xsapi.c - libxenstore, opened on first use (see xsapi.h, dynlib.h).
 */
#include "dynlib.h"

#ifdef HAVE_XENSTORE
#include "xsapi.h"

struct xsapi xsapi;

static const struct dynlib_sym xs_syms[] = {
	DYNLIB_SYM("xs_open", xsapi.open),
	DYNLIB_SYM("xs_close", xsapi.close),
	DYNLIB_SYM("xs_daemon_socket", xsapi.daemon_socket),
	DYNLIB_SYM("xs_watch", xsapi.watch),
	DYNLIB_SYM("xs_fileno", xsapi.fileno),
	DYNLIB_SYM("xs_check_watch", xsapi.check_watch),
	DYNLIB_SYM("xs_read", xsapi.read),
	DYNLIB_SYM("xs_directory", xsapi.directory),
	DYNLIB_SYM("xs_get_permissions", xsapi.get_permissions),
};

static struct dynlib xs_lib = DYNLIB_INIT(XSAPI_SONAME, XSAPI_PACKAGE,
    xs_syms);

int
xsapi_load(char *err, size_t errlen)
{
	return dynlib_load(&xs_lib, err, errlen);
}
#endif
