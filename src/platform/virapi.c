/*
 * virapi.c - libvirt, opened on first use (see virapi.h, dynlib.h).
 */
#include "dynlib.h"

#ifdef HAVE_LIBVIRT
#include "virapi.h"

struct virapi virapi;

static const struct dynlib_sym vir_syms[] = {
	DYNLIB_SYM("virInitialize", virapi.initialize),
	DYNLIB_SYM("virSetErrorFunc", virapi.set_error_func),
	DYNLIB_SYM("virGetLastErrorMessage", virapi.last_error),
	DYNLIB_SYM("virEventRegisterImpl", virapi.event_register_impl),
	DYNLIB_SYM("virConnectOpenReadOnly", virapi.open_ro),
	DYNLIB_SYM("virConnectClose", virapi.close),
	DYNLIB_SYM("virConnectSetKeepAlive", virapi.set_keepalive),
	DYNLIB_SYM("virConnectRegisterCloseCallback", virapi.register_close),
	DYNLIB_SYM("virConnectUnregisterCloseCallback",
	    virapi.unregister_close),
	DYNLIB_SYM("virConnectDomainEventRegisterAny", virapi.event_register),
	DYNLIB_SYM("virConnectDomainEventDeregisterAny",
	    virapi.event_deregister),
	DYNLIB_SYM("virConnectListAllDomains", virapi.list_all),
	DYNLIB_SYM("virDomainLookupByName", virapi.lookup),
	DYNLIB_SYM("virDomainIsActive", virapi.is_active),
	DYNLIB_SYM("virDomainGetName", virapi.get_name),
	DYNLIB_SYM("virDomainGetXMLDesc", virapi.get_xml),
	DYNLIB_SYM("virDomainFree", virapi.free),
};

static struct dynlib vir_lib = DYNLIB_INIT(VIRAPI_SONAME, VIRAPI_PACKAGE,
    vir_syms);

int
virapi_load(char *err, size_t errlen)
{
	return dynlib_load(&vir_lib, err, errlen);
}
#endif
