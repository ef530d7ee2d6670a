/*
 * wanted.h - auto mode's policy: given the VMs that run, which pairs are
 * wanted.  Pure: no I/O, no event loop, no logging (what is worth saying
 * goes to the owner's note callback), so that it is unit-tested and
 * fuzzed alone.  The watchers that say which VMs run are autodisc.c's.
 */
#ifndef KDRELAY_WANTED_H
#define KDRELAY_WANTED_H

#include <stddef.h>

#include "crlf.h"
#include "epspec.h"
#include "pairopts.h"

/* Where auto mode looks for VMs (source = ...). */
enum auto_source {
	AUTO_SOURCE_HOST,	/* what this host has: xenstore, /etc/pve */
	AUTO_SOURCE_XEN,
	AUTO_SOURCE_PVE,
	AUTO_SOURCE_LIBVIRT,
};

/* [auto]: pairs made for VMs found at run time. */
struct config_auto {
	enum auto_source source;
	int		 enable;
	char		**match;		/* globs on VM names */
	size_t		 nmatch;
	char		 endpoint[EP_TEXT_MAX];	/* host side template, %n */
	unsigned	 port_lo, port_hi;	/* tcp-ports, 0 when unset */
	char		 pair_with[EP_NAME_MAX];/* partner VM template, "" none */
	enum crlf_mode	 crlf;			/* for the VM's serial port */
};

/* A copy that owns its match globs (-1 on ENOMEM; free it even then). */
int	config_auto_copy(struct config_auto *dst, const struct config_auto *);
void	config_auto_free(struct config_auto *);

enum wanted_platform { WANTED_XEN, WANTED_PVE, WANTED_LIBVIRT };

/* A running VM, as a platform names it. */
struct wanted_vm {
	const char		*name;
	enum wanted_platform	 platform;
	unsigned		 id;	/* its VMID or domid (libvirt: 0) */
};

/* The tcp port each VM was given: it keeps it while it is wanted. */
struct wanted_port {
	char		 name[PAIR_NAME_MAX];
	unsigned	 port;
};

struct wanted_ports {
	struct wanted_port	*v;
	size_t			 n;
};

/*
 * A message for the log: once nonzero when it need be said only once in
 * the daemon's life (a VM skipped, and why), zero for news (a port given).
 */
typedef void (*wanted_note_cb)(void *arg, int once, const char *msg);

/*
 * The wanted pairs, in VM order, into *out (malloc'd, *nout of them).
 * Every pair starts as base (hold, buffer, validation; name and specs are
 * replaced); allow_remote: tcp-ports listen on every address.  The first
 * VM of a name wins.  ports is updated.  -1 on ENOMEM.
 */
int	wanted_pairs(const struct config_auto *, const struct pair_opts *base,
	    int allow_remote, const struct wanted_vm *, size_t nvms,
	    struct wanted_ports *, wanted_note_cb, void *arg,
	    struct pair_opts **out, size_t *nout);
void	wanted_ports_free(struct wanted_ports *);

/* "auto", "xen", "pve", "libvirt"; -1 for another word. */
int	auto_source_parse(const char *, enum auto_source *);

/* Nonzero if name matches one of the match globs. */
int	wanted_match(const struct config_auto *, const char *name);
/* Expand %n (name) and %% in tmpl; -1 if out is too small or bad %. */
int	wanted_expand(const char *tmpl, const char *name, char *out,
	    size_t len);

#endif
