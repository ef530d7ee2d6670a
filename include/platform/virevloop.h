/*
 * virevloop.h - libvirt's event loop on a libevent base.
 *
 * libvirt's event loop is process-global; virevloop_register makes every
 * handle and timeout libvirt asks for an event on base (the libvirt
 * watcher's, virtwatch.c), run by whoever runs that base.  Once, before
 * virInitialize.  -1 on ENOMEM.
 */
#ifndef KDRELAY_VIREVLOOP_H
#define KDRELAY_VIREVLOOP_H

struct event_base;

int	virevloop_register(struct event_base *);

#endif
