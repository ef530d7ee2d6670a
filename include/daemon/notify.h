/*
 * notify.h - tell systemd (Type=notify) what the daemon is doing.
 *
 * Each call sends one datagram to $NOTIFY_SOCKET (a path, or '@' for an
 * abstract name) through sd_notify() when built with libsystemd, else
 * directly.  No-ops when NOTIFY_SOCKET is unset; errors are ignored (a
 * missing supervisor must never stop the relay).  Safe from any thread.
 */
#ifndef KDRELAY_NOTIFY_H
#define KDRELAY_NOTIFY_H

void	notify_ready(void);		/* READY=1 */
void	notify_reloading(void);		/* RELOADING=1, MONOTONIC_USEC=... */
void	notify_stopping(void);		/* STOPPING=1 */
void	notify_status(const char *fmt, ...)	/* STATUS=... */
	    __attribute__((format(printf, 1, 2)));

#endif
