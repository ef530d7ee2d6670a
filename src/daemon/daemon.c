/*
 * daemon.c - run a set of pairs; signals, reload, discovery and stats in the
 * main loop, which never touches a byte of traffic.
 */
#include <sys/resource.h>

#include <dirent.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "autodisc.h"
#include "control.h"
#include "daemon.h"
#include "exitcodes.h"
#include "log.h"
#include "notify.h"
#include "relay.h"

struct daemon {
	const struct daemon_opts *o;
	struct event_base	*base;
	struct event		*sig[5];
	struct event		*stats;
	struct event		*status_ev;	/* a pair changed state */
	unsigned		 interval;

	struct relay		**relays;	/* running */
	size_t			 n;
	/* Packed: the relays have the pairs they run in full. */
	struct pair_packed	**conf;		/* configured pairs */
	size_t			 nconf;
	struct pair_packed	**found;	/* auto-discovered pairs */
	size_t			 nfound;
	struct autodisc		*disc;
	char			 last_status[PAIR_NAME_MAX + 256 + 68];
	struct control		*ctl;
	char			 capture_dir[PATH_MAX];
	char			 changes[1024];	/* what the last apply() did */
};

/* "started a, b" into d->changes, truncated with "..." if long. */
static void
change(struct daemon *d, const char *what, int *first, const char *name)
{
	size_t	o = strlen(d->changes);
	int	n;

	if (o + 4 >= sizeof d->changes)
		return;
	n = snprintf(d->changes + o, sizeof d->changes - o, "%s%s%s",
	    *first ? (o > 0 ? "; " : "") : ", ", *first ? what : "", name);
	if (n < 0 || (size_t)n >= sizeof d->changes - o)
		snprintf(d->changes + sizeof d->changes - 4, 4, "...");
	*first = 0;
}

static void
report_all(struct daemon *d, int asked)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		relay_request_report(d->relays[i], asked);
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
	struct daemon	*d = arg;

	(void)fd;
	(void)what;
	report_all(d, 0);
	arm_stats(d);
}

/*
 * STATUS= for systemd: one pair in words; many pairs counted, with the
 * first one not fully connected in words.  Run whenever an endpoint's
 * status line changes, so there is nothing to poll.
 */
static void
status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	char		 one[256], down[PAIR_NAME_MAX + 256 + 4] = "";
	char		 buf[sizeof down + 64];
	size_t		 i, up = 0;

	(void)fd;
	(void)what;
	for (i = 0; i < d->n; i++) {
		relay_status(d->relays[i], one, sizeof one);
		if (relay_is_up(d->relays[i]))
			up++;
		else if (*down == '\0')
			snprintf(down, sizeof down, "; %s: %s",
			    relay_get_opts(d->relays[i])->name, one);
	}
	if (d->n == 1)
		snprintf(buf, sizeof buf, "%s: %s",
		    relay_get_opts(d->relays[0])->name, one);
	else
		snprintf(buf, sizeof buf, "%zu pairs, %zu with both sides "
		    "connected%s", d->n, up, down);
	if (strcmp(buf, d->last_status) != 0) {
		snprintf(d->last_status, sizeof d->last_status, "%s", buf);
		notify_status("%s", buf);
	}
}

/* The pair running, or NULL with *rc its sysexits code (said in the log). */
static struct relay *
start_pair(struct daemon *d, const struct pair_opts *o, int *rc)
{
	struct relay	*r;
	char		 err[PATH_MAX + 512];

	*rc = EXIT_UNAVAIL;
	if ((r = relay_new(o, err, sizeof err)) == NULL)
		goto fail;
	relay_set_watcher(r, d->status_ev);
	if ((*rc = relay_start(r, err, sizeof err)) != 0)
		goto fail;
	log_info("%s: relaying %s <-> %s", o->name, o->side[0].text,
	    o->side[1].text);
	return r;
fail:
	log_err("%s", err);
	relay_free(r);
	return NULL;
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

/*
 * A pair takes five fds or more: its two endpoints, and its loop's eventfd
 * and signal pipe.  Pairs the fd limit has no room for are
 * refused in one line naming it, not started to fail one by one (libevent
 * ends the process when a loop finds no fd for itself).
 */
#define PAIR_FDS	5
#define SPARE_FDS	32	/* control clients, logs, discovery */

/* How many more pairs the fd limit has room for; the limit, the fds open. */
static size_t
fd_room(unsigned long long *limit, size_t *open)
{
	struct rlimit	 rl;
	struct dirent	*de;
	DIR		*dir;
	size_t		 used = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return SIZE_MAX;
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(dir)) != NULL)
			used += de->d_name[0] != '.';
		closedir(dir);
	}
	*limit = rl.rlim_cur;
	*open = used;
	if (rl.rlim_cur <= used + SPARE_FDS)
		return 0;
	return (rl.rlim_cur - used - SPARE_FDS) / PAIR_FDS;
}

/* The pairs wanted now: the configured ones, then the discovered ones. */
static const struct pair_packed **
wanted(struct daemon *d, size_t *n)
{
	const struct pair_packed	**w;
	size_t				  i, j, k = 0;

	if ((w = calloc(d->nconf + d->nfound + 1, sizeof *w)) == NULL)
		return NULL;
	for (i = 0; i < d->nconf; i++)
		w[k++] = d->conf[i];
	for (i = 0; i < d->nfound; i++) {
		for (j = 0; j < d->nconf; j++) {
			if (strcmp(pair_packed_name(d->conf[j]),
			    pair_packed_name(d->found[i])) == 0)
				break;
		}
		if (j == d->nconf)	/* a configured pair wins its name */
			w[k++] = d->found[i];
	}
	*n = k;
	return w;
}

/*
 * Bring the running set in line with what is wanted; reloading, a pair
 * with a side lost for good starts anew.  Returns 0, or the exit code for
 * a new pair that failed to start (it is left out; the others run): 71 if
 * the fd limit had no room for it.  With none running, none starts unless
 * all fit.
 */
static int
apply(struct daemon *d, int reloading)
{
	const struct pair_packed	**w;
	struct pair_opts		  o;	/* one unpacked at a time */
	struct relay			**next;
	unsigned long long		  limit = 0;
	size_t				  n, i, j, kept = 0, k, need = 0, room;
	size_t				  fds = 0;
	int				  rc = 0, first_stop = 1;
	int				  first_start = 1, first_fail = 1, why;

	d->changes[0] = '\0';

	if ((w = wanted(d, &n)) == NULL ||
	    (next = calloc(n + 1, sizeof *next)) == NULL) {
		free(w);
		log_err("out of memory applying the pair set");
		return EXIT_OSERR;
	}
	/* Names are unique on both sides: a pair matches one relay at most. */
	for (j = 0; j < n; j++) {
		pair_opts_unpack(w[j], &o);
		for (i = 0; i < d->n; i++) {
			if (d->relays[i] != NULL && pair_opts_equal(
			    relay_get_opts(d->relays[i]), &o) &&
			    !(reloading && relay_is_spent(d->relays[i])))
				break;
		}
		if (i < d->n) {
			next[j] = d->relays[i];
			d->relays[i] = NULL;
			kept++;
		}
	}
	for (i = 0; i < d->n; i++) {
		if (d->relays[i] == NULL)
			continue;
		change(d, "stopped ", &first_stop,
		    relay_get_opts(d->relays[i])->name);
		stop_pair(d->relays[i], "removed or changed");
	}
	for (j = 0; j < n; j++)
		need += next[j] == NULL;
	if (need > (room = fd_room(&limit, &fds))) {
		if (kept == 0)
			room = 0;
		log_err("%zu pair%s not started: each needs %d file descriptors "
		    "or more, and %zu of the limit of %llu are open (raise "
		    "ulimit -n, or LimitNOFILE= for the service)", need - room,
		    need - room == 1 ? "" : "s", PAIR_FDS, fds, limit);
		rc = EXIT_OSERR;
	}
	for (j = 0; j < n; j++) {
		if (next[j] != NULL || room == 0)
			continue;
		pair_opts_unpack(w[j], &o);
		if ((next[j] = start_pair(d, &o, &why)) != NULL) {
			change(d, "started ", &first_start, o.name);
			room--;
		} else if (rc == 0)
			rc = why;
	}
	for (j = 0; j < n; j++) {
		if (next[j] != NULL)
			continue;
		change(d, "failed to start ", &first_fail,
		    pair_packed_name(w[j]));
		if (rc == 0)
			rc = EXIT_UNAVAIL;
	}
	for (i = k = 0; i < n; i++) {	/* close up failed starts */
		if (next[i] != NULL)
			next[k++] = next[i];
	}
	free(d->relays);
	d->relays = next;
	d->n = k;
	free(w);
	log_debug("pair set: %zu running, %zu unchanged", d->n, kept);
	event_active(d->status_ev, 0, 0);
	return rc;
}

static void
free_set(struct pair_packed **set, size_t n)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < n; i++)
		free(set[i]);
	free(set);
}

/* A set of pairs packed, or NULL when out of memory. */
static struct pair_packed **
pack_set(const struct pair_opts *pairs, size_t n)
{
	struct pair_packed	**set;
	size_t			  i;

	if ((set = calloc(n + 1, sizeof *set)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((set[i] = pair_opts_pack(&pairs[i])) == NULL) {
			free_set(set, i);
			return NULL;
		}
	}
	return set;
}

static void
discovered(void *arg, const struct pair_opts *pairs, size_t n)
{
	struct daemon		 *d = arg;
	struct pair_packed	**set;

	if ((set = pack_set(pairs, n)) == NULL) {
		log_err("auto-discovery: out of memory");
		return;
	}
	free_set(d->found, d->nfound);
	d->found = set;
	d->nfound = n;
	apply(d, 0);
}

static void
forget_found(struct daemon *d)
{
	free_set(d->found, d->nfound);
	d->found = NULL;
	d->nfound = 0;
}

/*
 * (Re)start discovery.  The pairs found so far stay wanted until the new
 * instance reports (from the loop, later): a reload must not stop and
 * restart every discovered pair that is still there.
 */
static int
start_discovery(struct daemon *d, const struct config *cf)
{
	struct pair_opts	defaults;
	char			err[512];

	autodisc_free(d->disc);
	d->disc = NULL;
	if (!cf->discover.enable) {
		forget_found(d);
		return 0;
	}
	pair_opts_init(&defaults);
	defaults.hold_ms = cf->hold_ms;
	defaults.bufsize = cf->bufsize;
	defaults.validate = cf->validate;
	d->disc = autodisc_new(d->base, &cf->discover, &defaults,
	    cf->allow_remote, discovered, d, err, sizeof err);
	if (d->disc == NULL) {
		forget_found(d);
		log_err("auto-discovery: %s", err);
		return -1;
	}
	return 0;
}

/* Adopt cf's global settings and pairs (taken from cf). */
static void
adopt(struct daemon *d, struct config *cf)
{
	struct pair_opts	*pairs;
	struct pair_packed	**set;
	size_t			  n;

	pairs = config_take_pairs(cf, &n);
	if ((set = pack_set(pairs, n)) == NULL)
		log_err("out of memory taking the configured pairs");
	else {
		free_set(d->conf, d->nconf);
		d->conf = set;
		d->nconf = n;
	}
	free(pairs);
	d->interval = cf->stats_interval;
	snprintf(d->capture_dir, sizeof d->capture_dir, "%s", cf->capture_dir);
	if (!d->o->log_fixed)
		log_set_level(cf->log_level);
}

/*
 * A file with no pair (the sample as installed) is not an error: a package
 * may enable the service before the admin writes one.  Nothing runs, no
 * timer: the daemon sleeps until a signal.
 */
static void
say_idle(struct daemon *d)
{
	if (d->nconf == 0 && d->disc == NULL)
		log_notice("no pairs configured (and no [auto]): idle until "
		    "reloaded (SIGHUP)");
}

/* Reload; what changed (or the FILE:LINE error) into msg. */
static int
reload(struct daemon *d, char *msg, size_t len)
{
	struct config	cf;
	char		err[1024];
	size_t		i;

	if (d->o->load == NULL) {
		for (i = 0; i < d->n && !relay_is_spent(d->relays[i]); i++)
			;
		if (i < d->n) {
			snprintf(msg, len, "restarted the pair lost for good");
			log_notice("reload: %s", msg);
			apply(d, 1);
			return 0;
		}
		snprintf(msg, len, "nothing to reload (no configuration file)");
		log_notice("reload: %s", msg);
		return -1;
	}
	notify_reloading();
	config_init(&cf);
	if (d->o->load(d->o->load_arg, &cf, err, sizeof err) != 0) {
		log_err("reload failed, the running pairs go on: %s", err);
		snprintf(msg, len, "%s (the running pairs go on)", err);
		notify_ready();
		return -1;
	}
	adopt(d, &cf);
	start_discovery(d, &cf);
	config_free(&cf);
	apply(d, 1);
	arm_stats(d);
	snprintf(msg, len, "reloaded: %zu pair%s running (%s)", d->n,
	    d->n == 1 ? "" : "s", d->changes[0] != '\0' ? d->changes :
	    "nothing changed");
	log_notice("%s", msg);
	say_idle(d);
	notify_ready();
	return 0;
}

static void
free_req(struct relay_req *q)
{
	free(q);
}

/* SIGUSR2: each pair reopens its packet log and capture (logrotate). */
static void
reopen_all(struct daemon *d)
{
	struct relay_req	*q;
	size_t			 i;

	for (i = 0; i < d->n; i++) {
		if ((q = calloc(1, sizeof *q)) == NULL)
			break;
		q->kind = RELAY_REQ_REOPEN;
		q->done = free_req;	/* failures are logged by the pair */
		relay_submit(d->relays[i], q);
	}
	log_info("SIGUSR2: reopening packet logs and captures");
}

static struct relay **
ctl_pairs(void *arg, size_t *n)
{
	struct daemon	*d = arg;

	*n = d->n;
	return d->relays;
}

static int
ctl_reload(void *arg, char *msg, size_t len)
{
	return reload(arg, msg, len);
}

static const char *
ctl_capture_dir(void *arg)
{
	return ((struct daemon *)arg)->capture_dir;
}

static const struct control_ops ctl_ops = {
	ctl_pairs, ctl_reload, ctl_capture_dir
};

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;
	char		 msg[1200];

	(void)what;
	switch (sig) {
	case SIGUSR1:
		report_all(d, 1);
		break;
	case SIGUSR2:
		reopen_all(d);
		break;
	case SIGHUP:
		reload(d, msg, sizeof msg);
		break;
	default:
		log_info("%s: exiting", strsignal(sig));
		event_base_loopbreak(d->base);
	}
}

/* libevent's warnings and errors go to our log (syslog, the journal). */
static void
libevent_log(int severity, const char *msg)
{
	enum log_level	lvl = LOG_LVL_DEBUG;

	if (severity >= EVENT_LOG_ERR)
		lvl = LOG_LVL_ERR;
	else if (severity == EVENT_LOG_WARN)
		lvl = LOG_LVL_WARN;
	log_msg(lvl, "libevent: %s", msg);
}

/* What libevent cannot go on from ends us with a word and a sysexits code. */
static void
libevent_fatal(int err)
{
	log_err("libevent: fatal error; exiting");
	if (err == (int)0xdeaddead)	/* its assertion: keep the core */
		abort();
	exit(EXIT_OSERR);
}

int
daemon_run(const struct daemon_opts *o, struct config *cf)
{
	static const int sigs[5] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1,
	    SIGUSR2 };
	struct daemon	 d;
	size_t		 i;
	int		 rc = EXIT_OK;

	memset(&d, 0, sizeof d);
	d.o = o;
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Before any pair's thread.  A thread per pair would get an arena of
	 * its own (up to 8 per CPU), each keeping the 32 KiB directory
	 * buffers of its /proc scans (tty claims) once freed: 2 arenas are
	 * enough, the data path does not allocate, and blocks of 32 KiB and
	 * more are mapped, so they go back when freed (a fixed threshold:
	 * glibc's own moves up to the largest block freed).
	 */
	mallopt(M_ARENA_MAX, 2);
	mallopt(M_MMAP_THRESHOLD, 32 * 1024);
	event_set_log_callback(libevent_log);
	event_set_fatal_callback(libevent_fatal);
	relay_global_init();
	if ((d.base = event_base_new()) == NULL) {
		log_err("cannot create the event loop");
		return EXIT_OSERR;
	}
	for (i = 0; i < 5; i++) {
		d.sig[i] = evsignal_new(d.base, sigs[i], signal_cb, &d);
		evsignal_add(d.sig[i], NULL);
	}
	d.stats = evtimer_new(d.base, stats_cb, &d);
	d.status_ev = event_new(d.base, -1, 0, status_cb, &d);
	adopt(&d, cf);
	arm_stats(&d);
	/* Before any pair's thread: the socket is made under a umask. */
	if (cf->control_path[0] != '\0')
		d.ctl = control_new(d.base, cf->control_path,
		    cf->control_group, &ctl_ops, &d);

	/* Nothing starts with a half-working set: all pairs or none. */
	if ((rc = apply(&d, 0)) == EXIT_OK && start_discovery(&d, cf) != 0)
		rc = EXIT_UNAVAIL;
	if (rc != EXIT_OK) {
		for (i = 0; i < d.n; i++)
			stop_pair(d.relays[i], "start-up failed");
		goto out;
	}
	say_idle(&d);
	notify_ready();
	event_base_loop(d.base, EVLOOP_NO_EXIT_ON_EMPTY);
	notify_stopping();
	autodisc_free(d.disc);
	d.disc = NULL;
	for (i = 0; i < d.n; i++)
		stop_pair(d.relays[i], "exiting");
out:
	autodisc_free(d.disc);
	control_free(d.ctl);
	for (i = 0; i < 5; i++)
		event_free(d.sig[i]);
	event_free(d.stats);
	event_free(d.status_ev);
	event_base_free(d.base);
	free(d.relays);
	free_set(d.conf, d.nconf);
	free_set(d.found, d.nfound);
	return rc;
}
