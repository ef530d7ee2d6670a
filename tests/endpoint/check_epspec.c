/*
 * check_epspec.c - endpoint spec parsing: accepted forms and their fields,
 * rejected forms and that each says why.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epspec.h"
#include "kdtest.h"

struct accept_case {
	const char	*spec;
	enum ep_kind	 kind;
	const char	*path;
	const char	*host;
	const char	*port;
	const char	*name;
	enum crlf_mode	 crlf;
	int		 crlf_set;
	int		 serial;
	int		 console;
	int		 allow_remote;
};

static const struct accept_case accepts[] = {
	{ "/dev/pts/3", EP_TTY, "/dev/pts/3", "", "", "", CRLF_AUTO,
	    0, 0, 0, 0 },
	{ "/dev/ttyS0,crlf=on", EP_TTY, "/dev/ttyS0", "", "", "", CRLF_ON,
	    1, 0, 0, 0 },
	{ "pty:/tmp/vm-a", EP_TTY, "/tmp/vm-a", "", "", "", CRLF_AUTO,
	    0, 0, 0, 0 },
	{ "pty:/tmp/vm-a,crlf=off", EP_TTY, "/tmp/vm-a", "", "", "",
	    CRLF_OFF, 1, 0, 0, 0 },
	{ "unix:/run/qemu-server/100.serial0", EP_UNIX,
	    "/run/qemu-server/100.serial0", "", "", "", CRLF_AUTO,
	    0, 0, 0, 0 },
	{ "UNIX:/x,CRLF=AUTO", EP_UNIX, "/x", "", "", "", CRLF_AUTO,
	    1, 0, 0, 0 },
	{ "unix-listen:/run/kdrelay/win10.sock", EP_UNIX_LISTEN,
	    "/run/kdrelay/win10.sock", "", "", "", CRLF_AUTO, 0, 0, 0, 0 },
	{ "tcp:127.0.0.1:9000", EP_TCP, "", "127.0.0.1", "9000", "",
	    CRLF_AUTO, 0, 0, 0, 0 },
	{ "tcp:debughost.example:65535", EP_TCP, "", "debughost.example",
	    "65535", "", CRLF_AUTO, 0, 0, 0, 0 },
	{ "tcp:[::1]:1", EP_TCP, "", "::1", "1", "", CRLF_AUTO, 0, 0, 0, 0 },
	{ "tcp:localhost:0080", EP_TCP, "", "localhost", "80", "",
	    CRLF_AUTO, 0, 0, 0, 0 },
	{ "tcp-listen:9000", EP_TCP_LISTEN, "", "127.0.0.1", "9000", "",
	    CRLF_AUTO, 0, 0, 0, 0 },
	{ "tcp-listen:0.0.0.0:9000,allow-remote", EP_TCP_LISTEN, "",
	    "0.0.0.0", "9000", "", CRLF_AUTO, 0, 0, 0, 1 },
	{ "tcp-listen:[::1]:9001,crlf=off", EP_TCP_LISTEN, "", "::1",
	    "9001", "", CRLF_OFF, 1, 0, 0, 0 },
	{ "libvirt:win10,serial=1,allow-remote", EP_LIBVIRT, "", "", "",
	    "win10", CRLF_AUTO, 0, 1, 0, 1 },
	{ "xen:win10-target", EP_XEN, "", "", "", "win10-target",
	    CRLF_AUTO, 0, 0, 0, 0 },
	{ "win10_dbg.1", EP_XEN, "", "", "", "win10_dbg.1", CRLF_AUTO,
	    0, 0, 0, 0 },
	{ "xen:w,serial=2", EP_XEN, "", "", "", "w", CRLF_AUTO, 0, 2, 0, 0 },
	{ "win10,console,crlf=on", EP_XEN, "", "", "", "win10", CRLF_ON,
	    1, 0, 1, 0 },
	{ "xen:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    EP_XEN, "", "", "",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    CRLF_AUTO, 0, 0, 0, 0 },
	{ "pve:100", EP_PVE, "", "", "", "100", CRLF_AUTO, 0, 0, 0, 0 },
	{ "pve:win-dbg,serial=3", EP_PVE, "", "", "", "win-dbg", CRLF_AUTO,
	    0, 3, 0, 0 },
};

static const char *const rejects[] = {
	"",
	"foo:bar",
	":x",
	"pty:",
	"unix:",
	"unix-listen:",
	"pty:dev/pts/3",
	"unix:run/x.sock",
	"./pts",
	"../x",
	"dev/pts/3",
	"tcp:",
	"tcp:host",
	"tcp:host:",
	"tcp::9000",
	"tcp:host:0",
	"tcp:host:65536",
	"tcp:host:99999999999999999999",
	"tcp:host:http",
	"tcp:host:-1",
	"tcp:::1:9000",
	"tcp:[::1]9000",
	"tcp:[::1",
	"tcp:[]:9000",
	"tcp-listen:",
	"tcp-listen:0",
	"tcp-listen:abc",
	"tcp-listen:127.0.0.1:",
	"xen:",
	"xen:bad/name",
	"xen:bad name",
	"xen:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"pve:",
	"pve:a_b",
	"pve:a.b",
	"/dev/pts/3,",
	"/dev/pts/3,,crlf=on",
	"/dev/pts/3,bogus",
	"/dev/pts/3,crlf",
	"/dev/pts/3,crlf=",
	"/dev/pts/3,crlf=maybe",
	"/dev/pts/3,crlf=on,crlf=off",
	"/dev/pts/3,serial=1",
	"/dev/pts/3,console",
	"/dev/pts/3,allow-remote",
	"tcp:h:1,allow-remote",
	"tcp-listen:1,allow-remote=yes",
	"tcp-listen:1,allow-remote,allow-remote",
	"pve:1,console",
	"pve:1,serial=4",
	"pve:1,serial=",
	"pve:1,serial=x",
	"xen:a,serial=256",
	"xen:a,serial=1,console",
	"xen:a,console=1",
	"/dev/pts/3\n",
	"/dev/\tpts",
	"unix:/tmp/\x1b",
	",crlf=on",
};

START_TEST(test_accept)
{
	const struct accept_case	*c = &accepts[_i];
	struct ep_spec			 sp;
	char				 err[256];

	ck_assert_msg(ep_spec_parse(c->spec, &sp, err, sizeof err) == 0,
	    "%s: rejected: %s", c->spec, err);
	ck_assert_int_eq(sp.kind, c->kind);
	ck_assert_str_eq(sp.text, c->spec);
	ck_assert_str_eq(sp.path, c->path);
	ck_assert_str_eq(sp.host, c->host);
	ck_assert_str_eq(sp.port, c->port);
	ck_assert_str_eq(sp.name, c->name);
	ck_assert_int_eq(sp.crlf, c->crlf);
	ck_assert_int_eq(sp.crlf_set, c->crlf_set);
	ck_assert_int_eq(sp.serial, c->serial);
	ck_assert_int_eq(sp.console, c->console);
	ck_assert_int_eq(sp.allow_remote, c->allow_remote);
}
END_TEST

START_TEST(test_reject)
{
	const char	*s = rejects[_i];
	struct ep_spec	 sp;
	char		 err[256];

	memset(err, 0, sizeof err);
	ck_assert_msg(ep_spec_parse(s, &sp, err, sizeof err) == -1,
	    "\"%s\" accepted", s);
	ck_assert_msg(err[0] != '\0', "\"%s\": no reason given", s);
	ck_assert_msg(strchr(err, '\n') == NULL, "\"%s\": reason not one "
	    "line: %s", s, err);
}
END_TEST

/* The reasons are the precise ones, not a catch-all. */
START_TEST(test_reasons)
{
	static const struct {
		const char	*spec;
		const char	*needle;
	} cases[] = {
		{ "", "empty" },
		{ "foo:bar", "unknown endpoint kind \"foo:\"" },
		{ "unix:", "empty path" },
		{ "unix:run/x", "relative path" },
		{ "tcp:h:0", "bad port" },
		{ "tcp:h:70000", "bad port" },
		{ "tcp:h:abc", "not a number" },
		{ "tcp:h", "missing port" },
		{ "tcp-listen:127.0.0.1:", "missing port" },
		{ "/dev/pts/1,speed=9600", "unknown option \"speed\"" },
		{ "/dev/pts/1,crlf=on,crlf=on", "given twice" },
		{ "/dev/pts/1,serial=1", "not valid for a tty endpoint" },
		{ "tcp:h:1,allow-remote", "not valid for a tcp endpoint" },
		{ "/dev/pts/1,crlf=yes", "bad crlf value \"yes\"" },
		{ "/dev/pts/1\x01", "control character" },
		{ "tcp:::1:9", "brackets" },
		{ "pve:1,serial=4", "0 to 3" },
	};
	struct ep_spec	sp;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(ep_spec_parse(cases[i].spec, &sp, err,
		    sizeof err), -1);
		ck_assert_msg(strstr(err, cases[i].needle) != NULL,
		    "\"%s\": reason \"%s\" lacks \"%s\"", cases[i].spec, err,
		    cases[i].needle);
	}
}
END_TEST

START_TEST(test_sun_path_limit)
{
	char		spec[300], err[256];
	struct ep_spec	sp;
	int		n;

	/* "unix:/" + 106 'a' = a 107-byte path: fits sun_path with NUL. */
	n = snprintf(spec, sizeof spec, "unix:/%0106d", 0);
	ck_assert_int_eq(n, 5 + 107);
	ck_assert_int_eq(ep_spec_parse(spec, &sp, err, sizeof err), 0);
	ck_assert_uint_eq(strlen(sp.path), 107);
	snprintf(spec, sizeof spec, "unix-listen:/%0107d", 0);
	ck_assert_int_eq(ep_spec_parse(spec, &sp, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unix socket"));
	/* A tty path has no such limit. */
	snprintf(spec, sizeof spec, "pty:/%0200d", 0);
	ck_assert_int_eq(ep_spec_parse(spec, &sp, err, sizeof err), 0);
}
END_TEST

START_TEST(test_too_long)
{
	char		spec[EP_TEXT_MAX + 16], err[256];
	struct ep_spec	sp;

	memset(spec, 'a', sizeof spec - 1);
	spec[sizeof spec - 1] = '\0';
	memcpy(spec, "pty:/", 5);
	ck_assert_int_eq(ep_spec_parse(spec, &sp, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "long"));
}
END_TEST

/* A small err buffer truncates, never overflows; NULL err is allowed. */
START_TEST(test_err_buffer)
{
	struct ep_spec	sp;
	char		err[8];

	memset(err, 'x', sizeof err);
	ck_assert_int_eq(ep_spec_parse("foo:bar", &sp, err, sizeof err), -1);
	ck_assert_uint_eq(strlen(err), sizeof err - 1);
	ck_assert_int_eq(ep_spec_parse("foo:bar", &sp, NULL, 0), -1);
	ck_assert_int_eq(ep_spec_parse(NULL, &sp, err, sizeof err), -1);
}
END_TEST

static int
equal(const char *a, const char *b)
{
	struct ep_spec	sa, sb;
	char		err[256];

	ck_assert_msg(ep_spec_parse(a, &sa, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(ep_spec_parse(b, &sb, err, sizeof err) == 0, "%s", err);
	return ep_spec_equal(&sa, &sb);
}

START_TEST(test_equal)
{
	ck_assert(equal("/dev/pts/3", "pty:/dev/pts/3"));
	ck_assert(equal("/dev/pts/3", "/dev/pts/3,crlf=auto"));
	ck_assert(equal("win10", "xen:win10"));
	ck_assert(equal("win10", "xen:win10,serial=0"));
	ck_assert(equal("tcp-listen:9000", "tcp-listen:127.0.0.1:9000"));
	ck_assert(equal("tcp:h:080", "tcp:h:80"));
	ck_assert(equal("unix:/a,crlf=on", "UNIX:/a,crlf=ON"));
	ck_assert(!equal("/dev/pts/3", "/dev/pts/4"));
	ck_assert(!equal("/dev/pts/3", "/dev/pts/3,crlf=on"));
	ck_assert(!equal("unix:/a", "unix-listen:/a"));
	ck_assert(!equal("unix:/a", "pty:/a"));
	ck_assert(!equal("tcp:h:1", "tcp:h:2"));
	ck_assert(!equal("tcp:h:1", "tcp:g:1"));
	ck_assert(!equal("tcp-listen:1", "tcp-listen:1,allow-remote"));
	ck_assert(!equal("xen:a", "xen:a,console"));
	ck_assert(!equal("xen:a", "xen:a,serial=1"));
	ck_assert(!equal("xen:a", "pve:a"));
	ck_assert(!equal("pve:100", "pve:101"));
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(ep_kind_name(EP_TTY), "tty");
	ck_assert_str_eq(ep_kind_name(EP_UNIX_LISTEN), "unix-listen");
	ck_assert_str_eq(ep_kind_name(EP_TCP_LISTEN), "tcp-listen");
	ck_assert_str_eq(ep_kind_name(EP_PVE), "pve");
	ck_assert(ep_is_listen(EP_UNIX_LISTEN));
	ck_assert(ep_is_listen(EP_TCP_LISTEN));
	ck_assert(!ep_is_listen(EP_UNIX));
	ck_assert(!ep_is_listen(EP_TCP));
	ck_assert(!ep_is_listen(EP_TTY));
	ck_assert(!ep_is_listen(EP_XEN));
}
END_TEST

static Suite *
epspec_suite(void)
{
	Suite	*s = suite_create("epspec");
	TCase	*tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_accept, 0,
	    sizeof accepts / sizeof accepts[0]);
	tcase_add_loop_test(tc, test_reject, 0,
	    sizeof rejects / sizeof rejects[0]);
	tcase_add_test(tc, test_reasons);
	tcase_add_test(tc, test_sun_path_limit);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_err_buffer);
	tcase_add_test(tc, test_equal);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (kt_run(epspec_suite()));
}
