/*
 * kdrelayd - relay a KDCOM serial line between a debugger VM and a target VM.
 *
 *	kdrelayd [options] HOST TARGET
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "epspec.h"
#include "exitcodes.h"
#include "log.h"
#include "relay.h"

static const char usage_text[] =
"usage: kdrelayd [options] HOST TARGET\n"
"\n"
"Relay a Windows kernel debugger's serial line (KDCOM) between HOST, the\n"
"debugger's endpoint, and TARGET, the debuggee's, repairing the Xen CRLF\n"
"corruption and validating the framing; reopens either side when it goes.\n"
"\n"
"Endpoints (options after commas, e.g. /dev/pts/3,crlf=on):\n"
"  /dev/PATH, pty:PATH        a tty, opened raw\n"
"  unix:PATH                  connect to a unix stream socket\n"
"  unix-listen:PATH           listen (mode 0600), one client at a time\n"
"  tcp:HOST:PORT              connect\n"
"  tcp-listen:[ADDR:]PORT     listen (default 127.0.0.1), one client\n"
"  xen:NAME, NAME             a Xen domain's serial port (xenstore)\n"
"  pve:VMID, pve:NAME         a Proxmox VM's serial socket\n"
"  options: crlf=on|off|auto  repair bytes read from this side (auto)\n"
"           serial=N, console, allow-remote\n"
"\n"
"Options:\n"
"  -n, --name NAME            pair name used in logs (default kd)\n"
"      --hold-ms MS           hold a trailing 0x0d this long (default 5)\n"
"      --buffer-size BYTES    per direction (default 65536)\n"
"      --no-validate          do not parse KDCOM framing\n"
"      --packet-log FILE      log every packet and DbgPrint text\n"
"      --capture FILE         write every packet in kdtrace format\n"
"      --stats-interval SEC   log counters periodically (default off)\n"
"  -v, --verbose              more log (repeat for debug)\n"
"  -q, --quiet                errors and warnings only\n"
"      --syslog               log to syslog instead of stderr\n"
"  -h, --help                 this help\n"
"  -V, --version              version\n"
"\n"
"Signals: TERM/INT exit, USR1 logs counters, HUP reloads a config file.\n"
"Exit codes: 0 ok, 64 usage, 69 endpoint unavailable, 78 config error.\n";

enum {
	OPT_HOLD = 256,
	OPT_BUFSIZE,
	OPT_NO_VALIDATE,
	OPT_PACKET_LOG,
	OPT_CAPTURE,
	OPT_STATS,
	OPT_SYSLOG,
};

static const struct option longopts[] = {
	{ "name",		required_argument,	NULL, 'n' },
	{ "hold-ms",		required_argument,	NULL, OPT_HOLD },
	{ "buffer-size",	required_argument,	NULL, OPT_BUFSIZE },
	{ "no-validate",	no_argument,		NULL, OPT_NO_VALIDATE },
	{ "packet-log",		required_argument,	NULL, OPT_PACKET_LOG },
	{ "capture",		required_argument,	NULL, OPT_CAPTURE },
	{ "stats-interval",	required_argument,	NULL, OPT_STATS },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "syslog",		no_argument,		NULL, OPT_SYSLOG },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fputs("kdrelayd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see kdrelayd --help)\n", stderr);
	exit(EXIT_USAGE);
}

/* An unsigned number with an optional k/M suffix, within [lo, hi]. */
static unsigned long long
number(const char *opt, const char *s, unsigned long long lo,
    unsigned long long hi, int suffixes)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (suffixes && (*end == 'k' || *end == 'K')) {
		v *= 1024;
		end++;
	} else if (suffixes && *end == 'M') {
		v *= 1024 * 1024;
		end++;
	}
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < lo ||
	    v > hi)
		usage_error("%s: '%s' is not a number from %llu to %llu", opt,
		    s, lo, hi);
	return v;
}

static void
copy_path(const char *opt, char *dst, size_t len, const char *src)
{
	if (snprintf(dst, len, "%s", src) >= (int)len)
		usage_error("%s: path too long", opt);
}

int
main(int argc, char **argv)
{
	struct relay_opts	o;
	struct daemon_opts	d;
	struct ep_spec		*spec;
	char			 err[512];
	int			 ch, i, verbose = 0, quiet = 0, use_syslog = 0;
	enum log_level		 level;

	relay_opts_init(&o);
	memset(&d, 0, sizeof d);
	while ((ch = getopt_long(argc, argv, "n:vqhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (strlen(optarg) == 0 ||
			    strlen(optarg) >= sizeof o.name ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
			    strlen(optarg))
				usage_error("--name: '%s' is not a name of "
				    "letters, digits, '_', '.', '-'", optarg);
			snprintf(o.name, sizeof o.name, "%s", optarg);
			break;
		case OPT_HOLD:
			o.hold_ms = number("--hold-ms", optarg, 1, 1000, 0);
			break;
		case OPT_BUFSIZE:
			o.bufsize = number("--buffer-size", optarg, 4096,
			    16 * 1024 * 1024, 1);
			break;
		case OPT_NO_VALIDATE:
			o.validate = 0;
			break;
		case OPT_PACKET_LOG:
			copy_path("--packet-log", o.packet_log,
			    sizeof o.packet_log, optarg);
			break;
		case OPT_CAPTURE:
			copy_path("--capture", o.capture, sizeof o.capture,
			    optarg);
			break;
		case OPT_STATS:
			d.stats_interval = number("--stats-interval", optarg,
			    0, 86400, 0);
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case OPT_SYSLOG:
			use_syslog = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			printf("kdrelayd %s\n", KDRELAY_VERSION);
			return EXIT_OK;
		default:
			fputs("see kdrelayd --help\n", stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage_error("expected two endpoints, HOST and TARGET, got %d",
		    argc);
	for (i = 0; i < 2; i++) {
		spec = &o.side[i];
		if (ep_spec_parse(argv[i], spec, err, sizeof err) != 0)
			usage_error("%s endpoint '%s': %s",
			    i == SIDE_HOST ? "HOST" : "TARGET", argv[i], err);
	}

	level = quiet ? LOG_LVL_WARN : verbose > 1 ? LOG_LVL_DEBUG :
	    verbose ? LOG_LVL_INFO : LOG_LVL_NOTICE;
	log_init("kdrelayd", level, use_syslog);
	return daemon_run(&d, &o, 1);
}
