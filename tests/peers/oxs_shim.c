/*
 * oxs_shim.c - lets the real oxenstored (Debian xen-utils-4.17) run with no
 * hypervisor.  Loaded with LD_PRELOAD; tests/lib/xenstore.sh (xs_start)
 * builds it into $BUILD/peers/oxs_shim.so and uses it:
 *   cc -shared -fPIC -o oxs_shim.so tests/peers/oxs_shim.c
 *   LD_PRELOAD=.../oxs_shim.so oxenstored --no-fork --no-access-log \
 *       --config-file FILE
 *
 * oxenstored links the real libxenctrl.so.4.17 and libxenevtchn.so.1 (from
 * libxen-dev's dependencies); these definitions come first in the lookup
 * order and stand in for the calls it makes at start and on XS_INTRODUCE:
 *   setrlimit        RLIMIT_NOFILE raised past the hard limit: EPERM is
 *                    turned into success (it asks for 1048576);
 *   xc_interface_open/close  a dummy handle;
 *   xc_domain_getinfolist    no domains (only called on VIRQ_DOM_EXC,
 *                    which never fires here);
 *   xc_map_foreign_range     a zeroed anonymous page: the ring of an
 *                    introduced domain (and of dom0), always empty;
 *   xenevtchn_*      an eventfd nobody signals, ports handed out in order,
 *                    notify/unmask/unbind are no-ops.
 * Unversioned definitions here satisfy oxenstored's versioned references
 * (VERS_4.17.0, VERS_1.0, VERS_1.2).  OXS_SHIM_TRACE=1 traces to stderr.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define XC_WANT_COMPAT_MAP_FOREIGN_API
#include <xenctrl.h>
#include <xenevtchn.h>

struct xc_interface_core {
	int	 open;
};

struct xenevtchn_handle {
	int	 fd;
};

static int	next_port = 10;

static void
trace(const char *fmt, ...)
{
	va_list	ap;

	if (getenv("OXS_SHIM_TRACE") == NULL)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "oxs_shim: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* The libc wrapper is bypassed so as not to need dlsym(RTLD_NEXT). */
int
setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	if (syscall(SYS_prlimit64, 0, res, rl, NULL) == 0)
		return 0;
	trace("setrlimit %d: errno %d", (int)res, errno);
	if (errno == EPERM && res == RLIMIT_NOFILE)
		return 0;
	return -1;
}

xc_interface *
xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dlogger,
    unsigned flags)
{
	(void)logger;
	(void)dlogger;
	(void)flags;
	trace("xc_interface_open");
	return calloc(1, sizeof(struct xc_interface_core));
}

int
xc_interface_close(xc_interface *x)
{
	trace("xc_interface_close");
	free(x);
	return 0;
}

int
xc_domain_getinfolist(xc_interface *x, uint32_t first, unsigned int max,
    xc_domaininfo_t *info)
{
	(void)x;
	(void)info;
	trace("xc_domain_getinfolist %u %u", first, max);
	return 0;
}

void *
xc_map_foreign_range(xc_interface *x, uint32_t dom, int size, int prot,
    unsigned long mfn)
{
	void	*p;

	(void)x;
	(void)prot;
	trace("xc_map_foreign_range dom %u size %d mfn %#lx", dom, size, mfn);
	if (size <= 0) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static xenevtchn_handle *
evtchn_new(int fd)
{
	xenevtchn_handle	*h;

	if (fd == -1)
		return NULL;
	if ((h = calloc(1, sizeof *h)) == NULL) {
		close(fd);
		return NULL;
	}
	h->fd = fd;
	return h;
}

xenevtchn_handle *
xenevtchn_open(struct xentoollog_logger *logger, unsigned flags)
{
	(void)logger;
	trace("xenevtchn_open %#x", flags);
	return evtchn_new(eventfd(0, EFD_NONBLOCK |
	    (flags & XENEVTCHN_NO_CLOEXEC ? 0 : EFD_CLOEXEC)));
}

xenevtchn_handle *
xenevtchn_fdopen(struct xentoollog_logger *logger, int fd, unsigned flags)
{
	(void)logger;
	(void)flags;
	trace("xenevtchn_fdopen %d", fd);
	return evtchn_new(fd);
}

int
xenevtchn_close(xenevtchn_handle *h)
{
	trace("xenevtchn_close");
	if (h != NULL) {
		close(h->fd);
		free(h);
	}
	return 0;
}

int
xenevtchn_fd(xenevtchn_handle *h)
{
	return h->fd;
}

int
xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	(void)h;
	trace("xenevtchn_notify %u", port);
	return 0;
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t domid,
    evtchn_port_t remote)
{
	(void)h;
	trace("xenevtchn_bind_interdomain %u %u", domid, remote);
	return next_port++;
}

xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *h, unsigned int virq)
{
	(void)h;
	trace("xenevtchn_bind_virq %u", virq);
	return next_port++;
}

int
xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	(void)h;
	trace("xenevtchn_unbind %u", port);
	return 0;
}

xenevtchn_port_or_error_t
xenevtchn_pending(xenevtchn_handle *h)
{
	uint64_t	v;

	/* Nothing signals the eventfd; drain it should anyone write. */
	if (read(h->fd, &v, sizeof v) == -1)
		trace("xenevtchn_pending: nothing pending");
	errno = EAGAIN;
	return -1;
}

int
xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	(void)h;
	(void)port;
	return 0;
}
