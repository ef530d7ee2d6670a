/*
 * relaystats.c - a pair's counters: the snapshot other threads read, the
 * log line that formats them (SIGUSR1, the periodic report) and the
 * status line.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "endpoint.h"
#include "kdcom.h"
#include "log.h"
#include "relay_impl.h"
#include "tshutdown.h"

/* Publish the counters for other threads, tell the watcher; cheap, rare. */
void
relay_publish(struct relay *r)
{
	int	i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < 2; i++) {
		r->snap[i].s = r->dir[i].st.c;
		r->snap[i].written = r->dir[i].written;
		r->snap[i].dropped = r->dir[i].dropped;
		r->snap[i].reconnects = endpoint_reconnects(r->side[i].ep);
		r->snap[i].repairing = r->dir[i].st.repairing;
		r->snap[i].decided = r->dir[i].st.decided;
		r->snap[i].breaks_sent = r->dir[i].breaks_sent;
		r->snap[i].last_rx = relay_dir_last_rx(&r->dir[i]);
		r->snap[i].shutdowns = r->snap[i].injected = 0;
	}
	if (r->tsd != NULL) {
		r->snap[SIDE_TARGET].shutdowns = r->tsd->started;
		r->snap[SIDE_TARGET].injected = r->tsd->injected;
	}
	pthread_mutex_unlock(&r->lock);
	if (r->watcher != NULL)
		event_active(r->watcher, 0, 0);
}

void
relay_format_stats(const char *pair, int idx, const struct relay_dir_stats *st,
    int validate, char *buf, size_t len)
{
	const struct kd_counters	*k = &st->s.kd;
	size_t				 o;
	int				 t, n;

	n = snprintf(buf, len, "%s: %s: %llu bytes in, %llu out, %llu CRs "
	    "removed, %llu dropped (peer absent), %llu reconnects, repair %s",
	    pair, relay_dir_name[idx], (unsigned long long)st->s.bytes_in,
	    (unsigned long long)st->written,
	    (unsigned long long)st->s.cr_removed,
	    (unsigned long long)st->dropped,
	    (unsigned long long)st->reconnects, st->repairing ? "on" : "off");
	if (!validate || n < 0 || (size_t)n >= len)
		return;
	o = (size_t)n;
	n = snprintf(buf + o, len - o, "; packets %llu data, %llu control, "
	    "%llu break-ins, %llu resends, %llu resets, %llu bad checksum, "
	    "%llu bad trailer, %llu bad type, %llu oversize, %llu garbage "
	    "bytes", (unsigned long long)k->data,
	    (unsigned long long)k->control, (unsigned long long)k->breakins,
	    (unsigned long long)k->resends, (unsigned long long)k->resets,
	    (unsigned long long)k->bad_checksum,
	    (unsigned long long)k->bad_trailer,
	    (unsigned long long)k->bad_type, (unsigned long long)k->oversize,
	    (unsigned long long)k->garbage);
	if (idx == SIDE_TARGET && n >= 0 && (size_t)n < len - o) {
		o += (size_t)n;
		n = snprintf(buf + o, len - o, ", %llu target shutdowns sent "
		    "(%llu packets)", (unsigned long long)st->shutdowns,
		    (unsigned long long)st->injected);
	}
	for (t = 1; t < KD_TYPE_MAX && n >= 0 && (size_t)n < len - o; t++) {
		if (k->packets[t] == 0)
			continue;
		o += (size_t)n;
		n = snprintf(buf + o, len - o, ", %s %llu", kd_type_name(t),
		    (unsigned long long)k->packets[t]);
	}
}

void
relay_report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay	*r = arg;
	char		 line[1024], a[96], b[96];
	int		 i, asked;

	(void)fd;
	(void)what;
	relay_publish(r);
	asked = atomic_exchange(&r->report_asked, 0);
	endpoint_status(r->side[0].ep, a, sizeof a);
	endpoint_status(r->side[1].ep, b, sizeof b);
	for (i = -1; i < 2; i++) {
		if (i == -1)
			snprintf(line, sizeof line, "%s: host %s, target %s",
			    r->o.name, a, b);
		else
			relay_format_stats(r->o.name, i, &r->snap[i],
			    r->o.validate, line, sizeof line);
		if (asked)
			log_asked(LOG_LVL_NOTICE, "%s", line);
		else
			log_notice("%s", line);
	}
}

void
relay_request_report(struct relay *r, int asked)
{
	if (asked)
		r->report_asked = 1;
	if (r->started)
		event_active(r->report_ev, 0, 0);
	else
		relay_report_cb(-1, 0, r);
}

void
relay_get_stats(struct relay *r, struct relay_dir_stats out[2])
{
	if (r->started)
		pthread_mutex_lock(&r->lock);
	else
		relay_publish(r);
	memcpy(out, r->snap, sizeof r->snap);
	if (r->started)
		pthread_mutex_unlock(&r->lock);
}

/*
 * Fresh from the endpoints (thread-safe): they change state (opening,
 * waiting, retrying) without telling the relay.
 */
void
relay_status(struct relay *r, char *buf, size_t len)
{
	char	a[96], b[96];

	endpoint_status(r->side[0].ep, a, sizeof a);
	endpoint_status(r->side[1].ep, b, sizeof b);
	snprintf(buf, len, "host %s, target %s", a, b);
}
