/*
 * epspec.h - endpoint specifications, socat-like, options after commas.
 *
 *   /dev/PATH, pty:PATH         a tty (a VM's pty), opened raw
 *   unix:PATH                   connect to a unix stream socket
 *   unix-listen:PATH            listen (0600), one client at a time
 *   tcp:HOST:PORT               connect
 *   tcp-listen:[ADDR:]PORT      listen, default 127.0.0.1, one client
 *   xen:NAME, or a bare NAME    a Xen domain's serial port via xenstore
 *   pve:VMID, pve:NAME          a Proxmox VM's serial socket
 *   libvirt:NAME                a libvirt domain's serial port
 *
 * Options: crlf=on|off|auto, serial=N, console, allow-remote.
 * Pure: parsing only, no I/O.
 */
#ifndef KDRELAY_EPSPEC_H
#define KDRELAY_EPSPEC_H

#include <limits.h>
#include <stddef.h>

#include "crlf.h"

enum ep_kind {
	EP_TTY,
	EP_UNIX,
	EP_UNIX_LISTEN,
	EP_TCP,
	EP_TCP_LISTEN,
	EP_XEN,
	EP_PVE,
	EP_LIBVIRT,
};

#define EP_TEXT_MAX	512
#define EP_HOST_MAX	256
#define EP_PORT_MAX	16
#define EP_NAME_MAX	128

struct ep_spec {
	enum ep_kind	kind;
	char		text[EP_TEXT_MAX];	/* as given, for messages */
	/* tty, unix, unix-listen: a part of text, so no longer than it */
	char		path[EP_TEXT_MAX];
	char		host[EP_HOST_MAX];	/* tcp, tcp-listen */
	char		port[EP_PORT_MAX];
	char		name[EP_NAME_MAX];	/* xen NAME, pve VMID or NAME */
	enum crlf_mode	crlf;
	int		crlf_set;		/* crlf= was given */
	int		serial;			/* serial=N, default 0 */
	int		console;		/* xen: PV console 0 */
	int		allow_remote;		/* tcp-listen off loopback */
};

/* Returns 0, or -1 with a one-line reason in err. */
int	ep_spec_parse(const char *, struct ep_spec *, char *err, size_t errlen);
int	ep_spec_equal(const struct ep_spec *, const struct ep_spec *);
/* The same serial port or socket: two readers would split its bytes. */
int	ep_spec_same_resource(const struct ep_spec *, const struct ep_spec *);
/* A tcp-listen reachable from the network without allow-remote. */
int	ep_spec_exposed(const struct ep_spec *);
const char *ep_kind_name(enum ep_kind);
/* A listening kind (the relay accepts on it). */
int	ep_is_listen(enum ep_kind);

#endif
