/*
 * xsctl - the xenstore requests a toolstack makes that xenstore-utils has no
 * command for, so that tests can fake domains coming and going against a
 * real xenstored (tests/lib/xenstore.sh).
 *
 * usage: xsctl introduce DOMID [MFN [PORT]]   XS_INTRODUCE: fires
 *                                             @introduceDomain
 *        xsctl release DOMID                  XS_RELEASE: fires
 *                                             @releaseDomain
 *        xsctl set-target DOMID TARGET        XS_SET_TARGET (stubdomains)
 *        xsctl is-introduced DOMID            exit 0 if introduced, else 1
 *
 * MFN defaults to 0x1000 + DOMID, PORT to 1: any values do without a
 * hypervisor, but a second introduce of the same domain must repeat them
 * (oxenstored answers EINVAL otherwise, and fires nothing).  Errors name
 * the request and the reason; exit 2 on misuse or when built without
 * libxenstore.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_XENSTORE
#include <xenstore.h>
#endif

static unsigned long
number(const char *s)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *s == '\0' || *end != '\0') {
		fprintf(stderr, "xsctl: %s: not a number\n", s);
		exit(2);
	}
	return v;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: xsctl introduce DOMID [MFN [PORT]] | "
	    "release DOMID | set-target DOMID TARGET | is-introduced DOMID\n");
	exit(2);
}

#ifdef HAVE_XENSTORE
int
main(int argc, char **argv)
{
	struct xs_handle	*h;
	const char		*cmd;
	unsigned		 domid;
	unsigned long		 mfn, port;
	bool			 ok;

	if (argc < 3)
		usage();
	cmd = argv[1];
	domid = number(argv[2]);
	if ((h = xs_open(0)) == NULL) {
		fprintf(stderr, "xsctl: xs_open: %s\n", strerror(errno));
		return 1;
	}
	if (strcmp(cmd, "introduce") == 0 && argc <= 5) {
		mfn = argc > 3 ? number(argv[3]) : 0x1000ul + domid;
		port = argc > 4 ? number(argv[4]) : 1;
		ok = xs_introduce_domain(h, domid, mfn, port);
	} else if (strcmp(cmd, "release") == 0 && argc == 3)
		ok = xs_release_domain(h, domid);
	else if (strcmp(cmd, "set-target") == 0 && argc == 4)
		ok = xs_set_target(h, domid, number(argv[3]));
	else if (strcmp(cmd, "is-introduced") == 0 && argc == 3) {
		ok = xs_is_domain_introduced(h, domid);
		xs_close(h);
		return ok ? 0 : 1;
	} else
		usage();
	if (!ok)
		fprintf(stderr, "xsctl: %s %u: %s\n", cmd, domid,
		    strerror(errno));
	xs_close(h);
	return ok ? 0 : 1;
}
#else
int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	(void)number;
	(void)usage;
	fprintf(stderr, "xsctl: built without libxenstore\n");
	return 2;
}
#endif
