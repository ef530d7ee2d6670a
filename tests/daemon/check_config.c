/*
 * check_config - kdrelay.conf parsing: every key, every error class with
 * its line, and the sample file shipped in the repository.
 */
#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "kdtest.h"

static struct config	cf;
static char		err[1024];

static int
parse(const char *text)
{
	err[0] = '\0';
	return (config_parse_buffer("t.conf", text, strlen(text), &cf, err,
	    sizeof err));
}

static void
teardown(void)
{
	config_free(&cf);
}

/* The error names t.conf and line, says what, and left nothing behind. */
static void
expect_err_len(const char *text, size_t len, unsigned line, const char *what)
{
	char	prefix[64];

	err[0] = '\0';
	ck_assert_int_eq(config_parse_buffer("t.conf", text, len, &cf, err,
	    sizeof err), -1);
	snprintf(prefix, sizeof prefix, "t.conf:%u: ", line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
	    "want line %u, got \"%s\"", line, err);
	ck_assert_msg(strstr(err, what) != NULL, "want \"%s\" in \"%s\"",
	    what, err);
	ck_assert_ptr_null(cf.pairs);
	ck_assert_uint_eq(cf.npairs, 0);
	ck_assert_uint_eq(cf.discover.nmatch, 0);
}

static void
expect_err(const char *text, unsigned line, const char *what)
{
	expect_err_len(text, strlen(text), line, what);
}

#define PAIR	"[pair a]\nhost = xen:a-dbg\ntarget = xen:a\n"

START_TEST(empty_file)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert_uint_eq(cf.npairs, 0);
	ck_assert_int_eq(cf.log_level, LOG_LVL_INFO);
	ck_assert_int_eq(cf.use_syslog, 0);
	ck_assert_str_eq(cf.packet_log_dir, CONFIG_LOG_DIR);
	ck_assert_int_eq(cf.discover.enable, 0);
	ck_assert_str_eq(cf.discover.endpoint, CONFIG_AUTO_ENDPOINT);
	ck_assert_int_eq(parse("\n  \n# only\n\t; comments\n"), 0);
	ck_assert_uint_eq(cf.npairs, 0);
}
END_TEST

START_TEST(full_file)
{
	const struct pair_opts	*a, *b;
	static const char	*text =
	    "# all keys\n"
	    "[global]\n"
	    "log-level = debug\n"
	    "log = syslog\n"
	    "stats-interval = 60\n"
	    "packet-log-dir = /var/tmp/pl\n"
	    "capture-dir = /var/tmp/cap/\n"
	    "hold-ms = 20\n"
	    "buffer-size = 1M\n"
	    "validate = off\n"
	    "target-shutdown = no\n"
	    "allow-remote = false\n"
	    "\n"
	    "[pair win10]\n"
	    "host = xen:win10-dbg\n"
	    "target = xen:win10,serial=1\n"
	    "host-crlf = off\n"
	    "target-crlf = on\n"
	    "packet-log = win10.log\n"
	    "capture = /abs/win10.kdtrace\n"
	    "hold-ms = 1000\n"
	    "buffer-size = 4096\n"
	    "validate = 1\n"
	    "target-shutdown = on\n"
	    "allow-remote = yes\n"
	    "[pair b]\n"
	    "host = tcp-listen:127.0.0.1:50001\n"
	    "target = pve:101,crlf=on\n"
	    "[auto]\n"
	    "enable = TRUE\n"
	    "match = win* test-?\n"
	    "match = lab[0-9]\n"
	    "endpoint = unix-listen:/run/kdrelay/%n-%%.sock\n"
	    "crlf = off\n";

	ck_assert_msg(parse(text) == 0, "%s", err);
	ck_assert_int_eq(cf.log_level, LOG_LVL_DEBUG);
	ck_assert_int_eq(cf.use_syslog, 1);
	ck_assert_uint_eq(cf.stats_interval, 60);
	ck_assert_str_eq(cf.packet_log_dir, "/var/tmp/pl");
	ck_assert_str_eq(cf.capture_dir, "/var/tmp/cap/");
	ck_assert_uint_eq(cf.hold_ms, 20);
	ck_assert_uint_eq(cf.bufsize, 1024 * 1024);
	ck_assert_int_eq(cf.validate, 0);
	ck_assert_int_eq(cf.target_shutdown, 0);
	ck_assert_int_eq(cf.allow_remote, 0);
	ck_assert_uint_eq(cf.npairs, 2);

	a = &cf.pairs[0];
	ck_assert_str_eq(a->name, "win10");
	ck_assert_int_eq(a->side[SIDE_HOST].kind, EP_XEN);
	ck_assert_str_eq(a->side[SIDE_HOST].name, "win10-dbg");
	ck_assert_int_eq(a->side[SIDE_HOST].crlf, CRLF_OFF);
	ck_assert_int_eq(a->side[SIDE_HOST].crlf_set, 1);
	ck_assert_int_eq(a->side[SIDE_TARGET].kind, EP_XEN);
	ck_assert_str_eq(a->side[SIDE_TARGET].name, "win10");
	ck_assert_int_eq(a->side[SIDE_TARGET].serial, 1);
	ck_assert_int_eq(a->side[SIDE_TARGET].crlf, CRLF_ON);
	ck_assert_str_eq(a->packet_log, "/var/tmp/pl/win10.log");
	ck_assert_str_eq(a->capture, "/abs/win10.kdtrace");
	ck_assert_uint_eq(a->hold_ms, 1000);
	ck_assert_uint_eq(a->bufsize, 4096);
	ck_assert_int_eq(a->validate, 1);
	ck_assert_int_eq(a->target_shutdown, 1);

	/* b takes the [global] defaults. */
	b = &cf.pairs[1];
	ck_assert_str_eq(b->name, "b");
	ck_assert_int_eq(b->side[SIDE_HOST].kind, EP_TCP_LISTEN);
	ck_assert_str_eq(b->side[SIDE_HOST].port, "50001");
	ck_assert_int_eq(b->side[SIDE_HOST].allow_remote, 0);
	ck_assert_int_eq(b->side[SIDE_TARGET].kind, EP_PVE);
	ck_assert_int_eq(b->side[SIDE_TARGET].crlf, CRLF_ON);
	ck_assert_int_eq(b->side[SIDE_HOST].crlf_set, 0);
	ck_assert_uint_eq(b->hold_ms, 20);
	ck_assert_uint_eq(b->bufsize, 1024 * 1024);
	ck_assert_int_eq(b->validate, 0);
	ck_assert_int_eq(b->target_shutdown, 0);
	ck_assert_str_eq(b->packet_log, "");
	ck_assert_str_eq(b->capture, "");

	ck_assert_ptr_eq(config_find_pair(&cf, "b"), b);
	ck_assert_ptr_eq(config_find_pair(&cf, "win10"), a);
	ck_assert_ptr_null(config_find_pair(&cf, "win1"));

	ck_assert_int_eq(cf.discover.enable, 1);
	ck_assert_uint_eq(cf.discover.nmatch, 3);
	ck_assert_str_eq(cf.discover.match[0], "win*");
	ck_assert_str_eq(cf.discover.match[1], "test-?");
	ck_assert_str_eq(cf.discover.match[2], "lab[0-9]");
	ck_assert_str_eq(cf.discover.endpoint,
	    "unix-listen:/run/kdrelay/%n-%%.sock");
	ck_assert_str_eq(cf.discover.pair_with, "");
	ck_assert_int_eq(cf.discover.crlf, CRLF_OFF);
	ck_assert(wanted_match(&cf.discover, "win10"));
	ck_assert(wanted_match(&cf.discover, "test-1"));
	ck_assert(wanted_match(&cf.discover, "lab7"));
	ck_assert(!wanted_match(&cf.discover, "test-12"));
	ck_assert(!wanted_match(&cf.discover, "xwin"));
}
END_TEST

START_TEST(defaults_follow_global)
{
	struct pair_opts	o;

	/* [global] after the pair still applies to it. */
	ck_assert_msg(parse(PAIR "[global]\nhold-ms = 7\nvalidate = no\n"
	    "packet-log-dir = /x\n[pair b]\nhost = xen:b1\ntarget = xen:b2\n"
	    "packet-log = p\n") == 0, "%s", err);
	ck_assert_uint_eq(cf.pairs[0].hold_ms, 7);
	ck_assert_int_eq(cf.pairs[0].validate, 0);
	ck_assert_str_eq(cf.pairs[1].packet_log, "/x/p");
	config_free(&cf);

	/* Untouched defaults are pair_opts_init()'s. */
	pair_opts_init(&o);
	ck_assert_int_eq(parse(PAIR), 0);
	ck_assert_uint_eq(cf.pairs[0].hold_ms, o.hold_ms);
	ck_assert_uint_eq(cf.pairs[0].bufsize, o.bufsize);
	ck_assert_int_eq(cf.pairs[0].validate, o.validate);
}
END_TEST

START_TEST(quoting)
{
	ck_assert_msg(parse("[pair q]\n"
	    "host = \"/dev/pts/1\"   # comment after a quoted value\n"
	    "target=\"xen:q\";c\n"
	    "packet-log = \"a \\\"b\\\" c\\\\d # not a comment ; nor this\"\n"
	    "capture = x#y ;z   # trailing\n"
	    "[global]\n"
	    "  packet-log-dir\t=\t  \"/p\"  \n") == 0, "%s", err);
	ck_assert_str_eq(cf.pairs[0].side[SIDE_HOST].path, "/dev/pts/1");
	ck_assert_str_eq(cf.pairs[0].side[SIDE_TARGET].name, "q");
	ck_assert_str_eq(cf.pairs[0].packet_log,
	    "/p/a \"b\" c\\d # not a comment ; nor this");
	/* '#' and ';' start a comment only after whitespace. */
	ck_assert_str_eq(cf.pairs[0].capture, CONFIG_LOG_DIR "/x#y");
	config_free(&cf);

	/* match splits on spaces, quoted or not... */
	ck_assert_int_eq(parse("[auto]\nmatch = \"a b\"\n"), 0);
	ck_assert_uint_eq(cf.discover.nmatch, 2);
	config_free(&cf);
	/* ...an empty quoted value is a value, an empty plain one is not. */
	ck_assert_int_eq(parse("[pair q]\nhost=xen:a\ntarget=xen:b\n"
	    "packet-log = \"\"\n"), 0);
	ck_assert_str_eq(cf.pairs[0].packet_log, "");
}
END_TEST

START_TEST(line_ends)
{
	/* CRLF files and a UTF-8 BOM, as Windows editors write them. */
	ck_assert_msg(parse("\xef\xbb\xbf[pair a]\r\nhost = xen:a-dbg\r\n"
	    "target = xen:a\r\n") == 0, "%s", err);
	ck_assert_str_eq(cf.pairs[0].side[SIDE_TARGET].name, "a");
	config_free(&cf);
	/* No newline at the end of the last line. */
	ck_assert_int_eq(parse("[pair a]\nhost = xen:a-dbg\ntarget = xen:a"),
	    0);
	ck_assert_str_eq(cf.pairs[0].side[SIDE_TARGET].name, "a");
}
END_TEST

START_TEST(err_syntax)
{
	expect_err("[global]\n\nlog-level\n", 3, "syntax error");
	expect_err("[global]\nlog-level info\n", 2, "syntax error");
	expect_err("[global]\n= info\n", 2, "syntax error");
	expect_err("[global]\nlog-level = \"info\n", 2,
	    "unterminated quoted value");
	expect_err("[global]\nlog-level = \"info\\\"\n", 2,
	    "unterminated quoted value");
	expect_err("[global]\nlog-level = \"in\\fo\"\n", 2, "bad escape");
	expect_err("[global]\nlog-level = \"info\" x\n", 2,
	    "junk after quoted value");
	expect_err("\n[global\n", 2, "unterminated section");
	expect_err("[global] x\n", 1, "junk after section");
	expect_err("[global]\nlog-level =\n", 2, "has no value");
	expect_err("[global]\nlog-level = # nothing\n", 2, "has no value");
	/* '=' then '#' with no space between: a value, and a bad one. */
	expect_err("[global]\nlog-level =#x\n", 2, "not '#x'");
}
END_TEST

START_TEST(err_sections)
{
	expect_err("[global]\n[pairs x]\n", 2, "unknown section [pairs]");
	expect_err("[pair]\n", 1, "needs a name");
	expect_err("[global x]\n", 1, "takes no name");
	expect_err("[global]\n[auto]\n[global]\n", 3,
	    "duplicate section [global] (first at line 1)");
	expect_err(PAIR "\n[pair a]\n", 5, "duplicate pair 'a' (first at "
	    "line 1)");
	expect_err("[pair a/b]\n", 1, "bad pair name");
	expect_err("[pair a b]\n", 1, "bad pair name");
	/* 63 characters is the longest name. */
	ck_assert_int_eq(parse("[pair "
	    "123456789012345678901234567890123456789012345678901234567890123"
	    "]\nhost=xen:a\ntarget=xen:b\n"), 0);
	ck_assert_uint_eq(strlen(cf.pairs[0].name), 63);
	config_free(&cf);
	expect_err("[pair "
	    "1234567890123456789012345678901234567890123456789012345678901234"
	    "]\n", 1, "bad pair name");
}
END_TEST

START_TEST(err_keys)
{
	expect_err("# top\nlog-level = info\n", 2, "outside any section");
	expect_err("[global]\nloglevel = info\n", 2,
	    "unknown key 'loglevel' in [global]");
	expect_err(PAIR "colour = red\n", 4, "unknown key 'colour' in "
	    "[pair a]");
	expect_err("[auto]\nhost = xen:a\n", 2, "does not belong in [auto]");
	expect_err("[global]\nhost = xen:a\n", 2, "[pair NAME]");
	expect_err(PAIR "log = syslog\n", 4, "does not belong in [pair a]");
	expect_err("[global]\nlog = syslog\n\nlog = stderr\n", 4,
	    "duplicate key 'log' in [global] (first at line 2)");
	expect_err(PAIR "host = xen:b\n", 4, "duplicate key 'host' in "
	    "[pair a] (first at line 2)");
	/* The same key in two pairs is no duplicate; match may repeat. */
	ck_assert_int_eq(parse(PAIR "hold-ms = 3\n[pair b]\nhost=xen:b1\n"
	    "target=xen:b2\nhold-ms = 4\n[auto]\nmatch = a\nmatch = b\n"), 0);
	ck_assert_uint_eq(cf.pairs[1].hold_ms, 4);
}
END_TEST

START_TEST(control_keys)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert_str_eq(cf.control_path, "/run/kdrelay/control");
	ck_assert_str_eq(cf.control_group, "");
	config_free(&cf);
	ck_assert_int_eq(parse("[global]\ncontrol-socket = /tmp/k.ctl\n"
	    "control-group = kd-admins\n"), 0);
	ck_assert_str_eq(cf.control_path, "/tmp/k.ctl");
	ck_assert_str_eq(cf.control_group, "kd-admins");
	config_free(&cf);
	ck_assert_int_eq(parse("[global]\ncontrol-socket = none\n"), 0);
	ck_assert_str_eq(cf.control_path, "");
	expect_err(PAIR "control-socket = /x\n", 4, "does not belong in "
	    "[pair a]");
}
END_TEST

START_TEST(err_values)
{
	static const struct {
		const char	*text;
		const char	*what;
	} t[] = {
		{ "log-level = loud", "expected err, warning, notice" },
		{ "log = file", "expected stderr or syslog" },
		{ "stats-interval = -1", "expected seconds" },
		{ "stats-interval = 86401", "expected seconds" },
		{ "stats-interval = 1e3", "expected seconds" },
		{ "packet-log-dir = var/log", "absolute directory" },
		{ "capture-dir = ./x", "absolute directory" },
		{ "hold-ms = 0", "expected milliseconds from 1 to 1000" },
		{ "hold-ms = 1001", "expected milliseconds" },
		{ "hold-ms = 99999999999999999999999", "expected milliseconds" },
		{ "hold-ms = 5ms", "expected milliseconds" },
		{ "buffer-size = 4095", "expected bytes from 4096 to 16M" },
		{ "buffer-size = 17M", "expected bytes" },
		{ "buffer-size = 16385k", "expected bytes" },
		{ "buffer-size = 64m", "expected bytes" },
		{ "buffer-size = k", "expected bytes" },
		{ "buffer-size = 64 k", "expected bytes" },
		{ "validate = maybe", "expected yes or no" },
		{ "allow-remote = 2", "expected yes or no" },
		{ "control-socket = run/control", "absolute path or none" },
		{ "control-socket = /run/kdrelay/" "aaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaa", "a unix socket's limit" },
		{ "control-group = -wheel", "expected a group name" },
		{ "control-group = a b", "expected a group name" },
		{ "control-group = a/b", "expected a group name" },
	};
	char	buf[256];
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(buf, sizeof buf, "[global]\n#\n%s\n", t[i].text);
		expect_err(buf, 3, t[i].what);
	}
	expect_err(PAIR "host-crlf = yes\n", 4, "expected on, off or auto");
	expect_err(PAIR "hold-ms = 0\n", 4, "hold-ms: expected milliseconds");
	expect_err("[auto]\ncrlf = maybe\n", 2, "expected on, off or auto");
	expect_err("[auto]\nenable = sure\n", 2, "expected yes or no");
	expect_err("[auto]\ntcp-ports = 5000\n", 2, "expected LOW-HIGH");
	expect_err("[auto]\ntcp-ports = 5001-5000\n", 2, "expected LOW-HIGH");
	expect_err("[auto]\ntcp-ports = 1-65536\n", 2, "expected LOW-HIGH");
	expect_err("[auto]\nendpoint = unix-listen:/run/x.sock\n", 2,
	    "with %n");
	expect_err("[auto]\nendpoint = unix-listen:/run/%n.%s\n", 2,
	    "only %n and %% may follow %");
	expect_err("[auto]\npair-with = debugger\n", 2, "with %n");

	/* Boundaries and suffixes that are fine. */
	ck_assert_int_eq(parse("[global]\nbuffer-size = 16M\nhold-ms = 1\n"
	    "stats-interval = 86400\nvalidate = On\n"), 0);
	ck_assert_uint_eq(cf.bufsize, 16 * 1024 * 1024);
	config_free(&cf);
	ck_assert_int_eq(parse("[global]\nbuffer-size = 4k\n"), 0);
	ck_assert_uint_eq(cf.bufsize, 4096);
	config_free(&cf);
	ck_assert_int_eq(parse("[global]\nbuffer-size = 300000\n"), 0);
	ck_assert_uint_eq(cf.bufsize, 300000);
}
END_TEST

START_TEST(err_pairs)
{
	expect_err("[global]\n[pair a]\nhost = xen:a\n[pair b]\n", 2,
	    "pair 'a' has no 'target'");
	expect_err(PAIR "[pair b]\n\ntarget = xen:b\n", 4,
	    "pair 'b' has no 'host'");
	expect_err(PAIR "[pair b]\nhost = xen:b\ntarget = xen:a\n", 6,
	    "target: 'xen:a' is already used by pair 'a'");
	expect_err(PAIR "[pair b]\nhost = xen:b\ntarget = xen:b\n", 6,
	    "same endpoint as host");
	expect_err("[pair a]\nhost=xen:a1\ntarget=xen:a2\npacket-log = p\n"
	    "[pair b]\nhost=xen:b1\ntarget=xen:b2\ncapture = "
	    CONFIG_LOG_DIR "/p\n", 8, "already written by pair 'a'");
}
END_TEST

START_TEST(err_spec)
{
	static const char	*bad[] = {
		"tcp:nohostport", "carrier-pigeon:1", "xen:a,serial=x",
		"xen:a,colour", "relative/path",
	};
	struct ep_spec	ep;
	char		buf[256], why[256];
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* The parser's own reason is in the message. */
		ck_assert_int_eq(ep_spec_parse(bad[i], &ep, why, sizeof why),
		    -1);
		snprintf(buf, sizeof buf, "[pair a]\nhost = xen:a\n\n"
		    "target = %s\n", bad[i]);
		expect_err(buf, 4, why);
		ck_assert_msg(strstr(err, "target: ") != NULL, "%s", err);
	}
	expect_err("[pair a]\nhost = \"\"\ntarget = xen:b\n", 2, "host: ");
}
END_TEST

START_TEST(allow_remote)
{
	const char	*pair = "[pair r]\nhost = tcp-listen:0.0.0.0:50001\n"
	    "target = xen:r\n";
	char		 buf[256];

	expect_err(pair, 2, "reachable from the network");

	/* Per pair, in [global] (even after the pair), or in the spec. */
	snprintf(buf, sizeof buf, "%sallow-remote = yes\n", pair);
	ck_assert_msg(parse(buf) == 0, "%s", err);
	ck_assert_int_eq(cf.pairs[0].side[SIDE_HOST].allow_remote, 1);
	ck_assert_int_eq(cf.pairs[0].side[SIDE_TARGET].allow_remote, 0);
	config_free(&cf);
	snprintf(buf, sizeof buf, "%s[global]\nallow-remote = yes\n", pair);
	ck_assert_msg(parse(buf) == 0, "%s", err);
	ck_assert_int_eq(cf.pairs[0].side[SIDE_HOST].allow_remote, 1);
	config_free(&cf);
	ck_assert_int_eq(parse("[pair r]\nhost = tcp-listen:0.0.0.0:1,"
	    "allow-remote\ntarget = xen:r\n"), 0);
	config_free(&cf);
	/* A pair may refuse what [global] allows. */
	snprintf(buf, sizeof buf, "[global]\nallow-remote = yes\n%s"
	    "allow-remote = no\n", pair);
	expect_err(buf, 4, "reachable from the network");

	/* Loopback needs nothing. */
	ck_assert_int_eq(parse("[pair r]\nhost = tcp-listen:127.0.0.2:1\n"
	    "target = tcp-listen:[::1]:2\n[pair s]\nhost = tcp-listen:3\n"
	    "target = xen:s\n"), 0);
}
END_TEST

START_TEST(err_auto)
{
	expect_err("[auto]\nenable = yes\n", 1, "without a 'match'");
	expect_err("[auto]\nendpoint = unix-listen:/r/%n\n"
	    "tcp-ports = 1-2\n", 3, "exclude each other");
	expect_err("[auto]\npair-with = %n-dbg\ntcp-ports = 1-2\n", 2,
	    "pair-with excludes");
	expect_err("[auto]\nendpoint = bogus:%n\n", 2, "endpoint: ");
	ck_assert_int_eq(parse("[auto]\nenable = yes\nmatch = w*\n"
	    "tcp-ports = 50100-50199\n"), 0);
	ck_assert_uint_eq(cf.discover.port_lo, 50100);
	ck_assert_uint_eq(cf.discover.port_hi, 50199);
	config_free(&cf);
	ck_assert_int_eq(parse("[auto]\npair-with = %n-dbg\n"), 0);
	ck_assert_str_eq(cf.discover.pair_with, "%n-dbg");
	ck_assert_uint_eq(cf.discover.port_lo, 0);
}
END_TEST

START_TEST(err_binary)
{
	static const char	nul[] = "[global]\nlog = std\0err\n";
	char			buf[64];
	int			c;

	expect_err_len(nul, sizeof nul - 1, 2, "NUL byte");
	for (c = 1; c < 0x20; c++) {
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		snprintf(buf, sizeof buf, "[global]\n\n# a%cb\n", c);
		expect_err(buf, 3, "invalid control character");
	}
	expect_err("[global]\nlog = std\x7f" "err\n", 2, "0x7f");
	/* A lone CR inside a line is a control character too. */
	expect_err("[global]\nlog = std\rerr\n", 2, "0x0d");
	/* UTF-8 in comments and values is text. */
	ck_assert_int_eq(parse("# caf\xc3\xa9\n[pair a]\nhost = xen:a\n"
	    "target = xen:b\npacket-log = caf\xc3\xa9.log\n"), 0);
}
END_TEST

START_TEST(err_long_line)
{
	size_t		 n = 1024 * 1024;
	char		*buf = malloc(n + 64);
	struct timespec	 t0, t1;
	double		 secs;

	ck_assert_ptr_nonnull(buf);
	/* Exactly CONFIG_LINE_MAX characters is fine, one more is not. */
	strcpy(buf, "[global]\n#");
	memset(buf + 10, 'x', CONFIG_LINE_MAX - 1);
	strcpy(buf + 10 + CONFIG_LINE_MAX - 1, "\n");
	ck_assert_int_eq(parse(buf), 0);
	config_free(&cf);
	strcpy(buf + 10 + CONFIG_LINE_MAX - 1, "x\n");
	expect_err(buf, 2, "line too long (more than 4096 characters)");

	/* A 1 MB line is an error, found at once. */
	strcpy(buf, "[pair a]\nhost = ");
	memset(buf + 16, 'a', n);
	strcpy(buf + 16 + n, "\ntarget = xen:b\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_err(buf, 2, "line too long");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 0.5, "took %.3f s", secs);
	free(buf);
}
END_TEST

START_TEST(many_pairs)
{
	size_t	 n = 2000, i, len = 0;
	char	*buf = malloc(n * 64);

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "[pair p%zu]\nhost = xen:h%zu"
		    "\ntarget = xen:t%zu\n", i, i, i);
	ck_assert_int_eq(config_parse_buffer("t.conf", buf, len, &cf, err,
	    sizeof err), 0);
	ck_assert_uint_eq(cf.npairs, n);
	ck_assert_str_eq(cf.pairs[n - 1].name, "p1999");
	ck_assert_str_eq(config_find_pair(&cf, "p1234")->side[1].name, "t1234");
	free(buf);
	/* The daemon takes the array; what is left is an empty config. */
	buf = (char *)config_take_pairs(&cf, &len);
	ck_assert_uint_eq(len, n);
	ck_assert_str_eq(((struct pair_opts *)buf)[7].name, "p7");
	ck_assert_uint_eq(cf.npairs, 0);
	ck_assert_ptr_null(config_find_pair(&cf, "p7"));
	free(buf);
}
END_TEST

/*
 * What the daemon keeps of each pair (packed, strings sized to fit) gives
 * back the very same pair_opts, byte for byte, strings at their longest
 * too, and is small.
 */
START_TEST(packed)
{
	static const char	*text =
	    "[global]\npacket-log-dir = /var/tmp/pl\n"
	    "[pair win10]\nhost = tcp-listen:127.0.0.1:50001,crlf=off\n"
	    "target = xen:win10,serial=1\npacket-log = win10.log\n"
	    "capture = /abs/win10.kdtrace\nhold-ms = 1000\n"
	    "buffer-size = 4096\nvalidate = 0\ntarget-shutdown = 0\n"
	    "[pair b]\nhost = unix:/run/b.sock\ntarget = pve:101,crlf=on\n";
	struct pair_opts	 o, back;
	struct pair_packed	*p;
	size_t			 i;

	ck_assert_msg(parse(text) == 0, "%s", err);
	ck_assert_uint_eq(cf.npairs, 2);
	for (i = 0; i < cf.npairs; i++) {
		ck_assert_ptr_nonnull(p = pair_opts_pack(&cf.pairs[i]));
		ck_assert_str_eq(pair_packed_name(p), cf.pairs[i].name);
		memset(&back, 0xa5, sizeof back);
		pair_opts_unpack(p, &back);
		ck_assert(pair_opts_equal(&back, &cf.pairs[i]));
		ck_assert(memcmp(&back, &cf.pairs[i], sizeof back) == 0);
		ck_assert_uint_lt(malloc_usable_size(p), 1024);
		free(p);
		/* Copied into zeroed memory, writing only what is used. */
		memset(&back, 0, sizeof back);
		pair_opts_copy_fresh(&back, &cf.pairs[i]);
		ck_assert(memcmp(&back, &cf.pairs[i], sizeof back) == 0);
	}

	pair_opts_init(&o);
	memset(o.name, 'n', sizeof o.name - 1);
	memset(o.side[1].path, 'p', sizeof o.side[1].path - 1);
	memset(o.side[1].text, 't', sizeof o.side[1].text - 1);
	memset(o.capture, 'c', sizeof o.capture - 1);
	o.side[1].serial = 7;
	o.bufsize = 12345;
	ck_assert_ptr_nonnull(p = pair_opts_pack(&o));
	pair_opts_unpack(p, &back);
	ck_assert(memcmp(&back, &o, sizeof back) == 0);
	free(p);
	memset(&back, 0, sizeof back);
	pair_opts_copy_fresh(&back, &o);
	ck_assert(memcmp(&back, &o, sizeof back) == 0);
}
END_TEST

START_TEST(sample_file)
{
	const struct pair_opts	*o;

	static const char *const keys[] = {
		";[pair ", ";host = ", ";target = ", ";allow-remote = ",
	};
	FILE		*f;
	char		 line[4096], *text;
	size_t		 len = 0, i;

	/* Tests run from the repository root.  As installed: no pair. */
	ck_assert_msg(config_load("kdrelay.conf", &cf, err, sizeof err) == 0,
	    "%s", err);
	ck_assert_uint_eq(cf.npairs, 0);
	ck_assert_int_eq(cf.discover.enable, 0);
	config_free(&cf);
	config_init(&cf);
	/* Its examples, uncommented. */
	ck_assert_ptr_nonnull(f = fopen("kdrelay.conf", "r"));
	ck_assert_ptr_nonnull(text = calloc(1, 65536));
	while (fgets(line, sizeof line, f) != NULL) {
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				break;
		}
		len += (size_t)snprintf(text + len, 65536 - len, "%s",
		    line + (i < sizeof keys / sizeof keys[0]));
	}
	fclose(f);
	ck_assert_msg(config_parse_buffer("examples", text, len, &cf, err,
	    sizeof err) == 0, "%s", err);
	free(text);
	ck_assert_uint_eq(cf.npairs, 4);
	ck_assert_ptr_nonnull(o = config_find_pair(&cf, "win10"));
	ck_assert_int_eq(o->side[SIDE_HOST].kind, EP_XEN);
	ck_assert_str_eq(o->side[SIDE_HOST].name, "win10-dbg");
	ck_assert_str_eq(o->side[SIDE_TARGET].name, "win10");
	ck_assert_ptr_nonnull(o = config_find_pair(&cf, "pve-win2022"));
	ck_assert_int_eq(o->side[SIDE_HOST].kind, EP_PVE);
	ck_assert_int_eq(cf.discover.enable, 0);
	ck_assert_int_eq(cf.allow_remote, 0);
}
END_TEST

START_TEST(load_errors)
{
	ck_assert_int_eq(config_load("/nonexistent/kdrelay.conf", &cf, err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "/nonexistent/kdrelay.conf: No such file or "
	    "directory");
	ck_assert_int_eq(config_load("/", &cf, err, sizeof err), -1);
	ck_assert_str_eq(err, "/: Is a directory");
	ck_assert_uint_eq(cf.npairs, 0);
	/* A device that never ends is "too large", not a hang. */
	ck_assert_int_eq(config_load("/dev/zero", &cf, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "too large") != NULL, "%s", err);
}
END_TEST

START_TEST(expand)
{
	char	out[16];

	ck_assert_int_eq(wanted_expand("%n-dbg", "win", out, sizeof out), 0);
	ck_assert_str_eq(out, "win-dbg");
	ck_assert_int_eq(wanted_expand("a%%%n", "b", out, sizeof out), 0);
	ck_assert_str_eq(out, "a%b");
	ck_assert_int_eq(wanted_expand("%x", "b", out, sizeof out), -1);
	ck_assert_int_eq(wanted_expand("%", "b", out, sizeof out), -1);
	ck_assert_int_eq(wanted_expand("%n%n", "12345678", out, sizeof out),
	    -1);
	ck_assert_int_eq(wanted_expand("%n", "123456789012345", out,
	    sizeof out), 0);
	ck_assert(pair_name_valid("a-b_c.9"));
	ck_assert(!pair_name_valid(""));
	ck_assert(!pair_name_valid("a b"));
}
END_TEST

/* Random junk and random mutations of a good file: an error, no crash. */
START_TEST(junk)
{
	static const char	*good = PAIR "[global]\nhold-ms = 5\n"
	    "[auto]\nmatch = \"x\"\n";
	static const char	 alphabet[] = "[]=\"\\#; \t\nab-%\r\x01";
	char			 buf[256];
	unsigned		 seed = 12345, i, j, n;

	for (i = 0; i < 20000; i++) {
		n = (unsigned)strlen(good);
		memcpy(buf, good, n);
		for (j = 0; j < 1 + i % 4; j++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % n] = (i & 1) ?
			    (char)(seed >> 16) :
			    alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		err[0] = '\0';
		if (config_parse_buffer("t.conf", buf, n, &cf, err,
		    sizeof err) == -1) {
			ck_assert_msg(strncmp(err, "t.conf:", 7) == 0, "%s",
			    err);
			ck_assert_uint_eq(cf.npairs, 0);
		}
		config_free(&cf);
	}
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, full_file);
	tcase_add_test(tc, defaults_follow_global);
	tcase_add_test(tc, quoting);
	tcase_add_test(tc, line_ends);
	tcase_add_test(tc, err_syntax);
	tcase_add_test(tc, err_sections);
	tcase_add_test(tc, err_keys);
	tcase_add_test(tc, err_values);
	tcase_add_test(tc, control_keys);
	tcase_add_test(tc, err_pairs);
	tcase_add_test(tc, err_spec);
	tcase_add_test(tc, allow_remote);
	tcase_add_test(tc, err_auto);
	tcase_add_test(tc, err_binary);
	tcase_add_test(tc, err_long_line);
	tcase_add_test(tc, many_pairs);
	tcase_add_test(tc, packed);
	tcase_add_test(tc, sample_file);
	tcase_add_test(tc, load_errors);
	tcase_add_test(tc, expand);
	tcase_add_test(tc, junk);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (kt_run(config_suite()));
}
