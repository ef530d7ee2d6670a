/*
 * daemon.c - run a set of pairs; signals, reload and stats in the main loop.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon.h"
#include "exitcodes.h"
#include "log.h"
#include "relay.h"

struct daemon {
	const struct daemon_opts *o;
	struct event_base	*base;
	struct relay		**relays;
	size_t			 n;
	struct event		*sig[4];
	struct event		*stats;
	unsigned		 interval;
};

static void
report_all(struct daemon *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		relay_request_report(d->relays[i]);
}

static void
arm_stats(struct daemon *d)
{
	struct timeval	tv = { d->interval, 0 };

	if (d->interval > 0)
		event_add(d->stats, &tv);
	else
		event_del(d->stats);
}

static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	report_all(arg);
}

static struct relay *
start_pair(const struct relay_opts *o)
{
	struct relay	*r;
	char		 err[512];

	if ((r = relay_new(o, err, sizeof err)) == NULL ||
	    relay_start(r, err, sizeof err) != 0) {
		log_err("%s", err);
		relay_free(r);
		return NULL;
	}
	log_info("%s: relaying %s <-> %s", o->name, o->side[0].text,
	    o->side[1].text);
	return r;
}

static void
final_report(struct relay *r)
{
	struct relay_dir_stats	st[2];
	char			line[1024];
	int			i;

	relay_get_stats(r, st);
	for (i = 0; i < 2; i++) {
		relay_format_stats(relay_get_opts(r)->name, i, &st[i],
		    relay_get_opts(r)->validate, line, sizeof line);
		log_notice("%s", line);
	}
}

static void
stop_pair(struct relay *r, const char *why)
{
	relay_stop(r);
	log_info("%s: stopped (%s)", relay_get_opts(r)->name, why);
	final_report(r);
	relay_free(r);
}

/* Apply a new set of pairs: keep the unchanged, stop, start, restart. */
static void
reload(struct daemon *d)
{
	struct relay_opts	*pairs = NULL;
	struct relay		**next;
	size_t			 n = 0, i, j, kept = 0;
	unsigned		 interval = d->interval;
	char			 err[1024];

	if (d->o->reload == NULL) {
		log_notice("SIGHUP: nothing to reload (no configuration file)");
		return;
	}
	if (d->o->reload(d->o->reload_arg, &pairs, &n, &interval, err,
	    sizeof err) != 0) {
		log_err("reload failed, keeping the running pairs: %s", err);
		return;
	}
	if ((next = calloc(n > 0 ? n : 1, sizeof *next)) == NULL) {
		log_err("reload failed: out of memory");
		free(pairs);
		return;
	}
	for (i = 0; i < d->n; i++) {
		for (j = 0; j < n; j++) {
			if (next[j] == NULL && relay_opts_equal(
			    relay_get_opts(d->relays[i]), &pairs[j]))
				break;
		}
		if (j < n) {
			next[j] = d->relays[i];
			kept++;
		} else
			stop_pair(d->relays[i], "removed or changed");
	}
	for (j = 0; j < n; j++) {
		if (next[j] == NULL)
			next[j] = start_pair(&pairs[j]);
	}
	free(d->relays);
	d->relays = next;
	d->n = n;
	/* Pairs that failed to start leave holes; close them up. */
	for (i = j = 0; i < n; i++) {
		if (next[i] != NULL)
			next[j++] = next[i];
	}
	d->n = j;
	free(pairs);
	d->interval = interval;
	arm_stats(d);
	log_notice("reloaded: %zu pairs (%zu unchanged)", d->n, kept);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;

	(void)what;
	switch (sig) {
	case SIGUSR1:
		report_all(d);
		break;
	case SIGHUP:
		reload(d);
		break;
	default:
		log_info("%s: exiting", strsignal(sig));
		event_base_loopbreak(d->base);
	}
}

int
daemon_run(const struct daemon_opts *o, const struct relay_opts *pairs,
    size_t n)
{
	static const int sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	struct daemon	 d;
	size_t		 i, j;
	int		 rc = EXIT_OK;

	memset(&d, 0, sizeof d);
	d.o = o;
	d.interval = o->stats_interval;
	signal(SIGPIPE, SIG_IGN);
	if ((d.base = event_base_new()) == NULL ||
	    (d.relays = calloc(n > 0 ? n : 1, sizeof *d.relays)) == NULL) {
		log_err("out of memory");
		return EXIT_OSERR;
	}
	for (i = 0; i < 4; i++) {
		d.sig[i] = evsignal_new(d.base, sigs[i], signal_cb, &d);
		evsignal_add(d.sig[i], NULL);
	}
	d.stats = evtimer_new(d.base, stats_cb, &d);
	arm_stats(&d);

	/* Nothing starts with a half-working set: all pairs or none. */
	for (i = 0; i < n; i++) {
		if ((d.relays[i] = start_pair(&pairs[i])) == NULL) {
			for (j = 0; j < i; j++)
				stop_pair(d.relays[j], "start-up failed");
			rc = EXIT_UNAVAIL;
			goto out;
		}
		d.n++;
	}
	event_base_loop(d.base, EVLOOP_NO_EXIT_ON_EMPTY);
	for (i = 0; i < d.n; i++)
		stop_pair(d.relays[i], "exiting");
out:
	for (i = 0; i < 4; i++)
		event_free(d.sig[i]);
	event_free(d.stats);
	event_base_free(d.base);
	free(d.relays);
	return rc;
}
