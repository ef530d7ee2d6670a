/*
 * virapi.h - the libvirt functions kdrelayd calls, loaded at run time.
 *
 * Only libvirt's headers are needed to build (libvirt-dev); libvirt.so.0
 * is opened when a libvirt: endpoint or libvirt discovery first needs it,
 * so a host without libvirt (a Xen dom0, a Proxmox node) runs kdrelayd
 * without installing it.  The pointers are typed from libvirt.h, so a call
 * is checked as a direct call would be.  virtwatch.c and virevloop.c are
 * the only callers.
 */
#ifndef KDRELAY_VIRAPI_H
#define KDRELAY_VIRAPI_H

#include <stddef.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define VIRAPI_SONAME	"libvirt.so.0"
#define VIRAPI_PACKAGE	"libvirt0"

struct virapi {
	__typeof__(virInitialize)			*initialize;
	__typeof__(virSetErrorFunc)			*set_error_func;
	__typeof__(virGetLastErrorMessage)		*last_error;
	__typeof__(virEventRegisterImpl)		*event_register_impl;
	__typeof__(virConnectOpenReadOnly)		*open_ro;
	__typeof__(virConnectClose)			*close;
	__typeof__(virConnectSetKeepAlive)		*set_keepalive;
	__typeof__(virConnectRegisterCloseCallback)	*register_close;
	__typeof__(virConnectUnregisterCloseCallback)	*unregister_close;
	__typeof__(virConnectDomainEventRegisterAny)	*event_register;
	__typeof__(virConnectDomainEventDeregisterAny)	*event_deregister;
	__typeof__(virConnectListAllDomains)		*list_all;
	__typeof__(virDomainLookupByName)		*lookup;
	__typeof__(virDomainIsActive)			*is_active;
	__typeof__(virDomainGetName)			*get_name;
	__typeof__(virDomainGetXMLDesc)			*get_xml;
	__typeof__(virDomainFree)			*free;
};

/* Filled in by virapi_load; call nothing before it succeeded. */
extern struct virapi virapi;

/* 0, or -1 with err naming the package to install (dynlib_load). */
int	virapi_load(char *err, size_t errlen);

#endif
