/*
 * xsapi.h - the libxenstore functions kdrelayd calls, loaded at run time.
 *
 * Only xenstore.h is needed to build; libxenstore itself is opened when an
 * xen: endpoint or Xen discovery first needs it, so a host without Xen
 * (a Proxmox node, a libvirt host) runs kdrelayd without installing it.
 * The pointers are typed from xenstore.h, so a call is checked as a
 * direct call would be.
 */
#ifndef KDRELAY_XSAPI_H
#define KDRELAY_XSAPI_H

#include <stddef.h>

#include <xenstore.h>

#define XSAPI_SONAME	"libxenstore.so.4"
#define XSAPI_PACKAGE	"libxenstore4"

struct xsapi {
	__typeof__(xs_open)		*open;
	__typeof__(xs_close)		*close;
	__typeof__(xs_daemon_socket)	*daemon_socket;
	__typeof__(xs_watch)		*watch;
	__typeof__(xs_fileno)		*fileno;
	__typeof__(xs_check_watch)	*check_watch;
	__typeof__(xs_read)		*read;
	__typeof__(xs_directory)	*directory;
	__typeof__(xs_get_permissions)	*get_permissions;
};

/* Filled in by xsapi_load; call nothing before it succeeded. */
extern struct xsapi xsapi;

/* 0, or -1 with err naming the package to install (dynlib_load). */
int	xsapi_load(char *err, size_t errlen);

#endif
