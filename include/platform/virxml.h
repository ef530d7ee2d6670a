/*
 * virxml.h - a libvirt domain's serial port, read from its live XML.
 *
 * Pure: text in, a struct out, no I/O.  The XML comes from libvirtd, but
 * the values in it (a pty path QEMU reported, paths and names an admin or
 * a tool wrote) are untrusted: each attribute is decoded from its
 * entities, and a value with a control character, or longer than its
 * field, makes the port unusable rather than truncated.  Only what
 * kdrelayd needs is read: <domain><devices><serial type=...> with its
 * <source path= mode= host= service=> and <target port=>.
 */
#ifndef KDRELAY_VIRXML_H
#define KDRELAY_VIRXML_H

#include <limits.h>
#include <stddef.h>

#define VIRXML_TYPE_MAX		16
#define VIRXML_HOST_MAX		256
#define VIRXML_SERVICE_MAX	32

struct virserial {
	char	type[VIRXML_TYPE_MAX];	/* pty, unix, tcp, file, null, ... */
	int	has_source;		/* a <source> element was there */
	char	path[PATH_MAX];		/* pty, unix */
	char	mode[VIRXML_TYPE_MAX];	/* unix, tcp: bind or connect */
	char	host[VIRXML_HOST_MAX];	/* tcp */
	char	service[VIRXML_SERVICE_MAX];
	const char *bad;		/* set: why a value was not usable */
};

/*
 * Find serial port `port` (its <target port=>; a serial without one counts
 * as its position among the serials, as libvirt numbers them) in xml.
 * 1 found (s filled in; s->bad may say a value was refused), 0 no such
 * port, -1 not a domain XML we can read (*why says where it broke).
 */
int	virxml_serial(const char *xml, size_t len, int port,
	    struct virserial *s, const char **why);

/*
 * A path from the XML for a unix socket: absolute, printable, no "..".
 * 0 or -1 with *why.
 */
int	virxml_path_valid(const char *path, const char **why);

#endif
