/*
 * check_virxml.c - a libvirt domain's serial port from its live XML
 * (virxml.c): the forms libvirtd writes, ports by number and by position,
 * entities, and odd or hostile values that must be refused or reported,
 * never truncated or guessed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virxml.h"
#include "kdtest.h"

/* Serial elements as libvirtd 9.0 writes them for a running domain. */
#define HEAD	"<domain type='qemu' id='3'>\n  <name>win10</name>\n" \
		"  <uuid>0b5d1a4e-0000-4000-8000-000000000001</uuid>\n" \
		"  <!-- a comment <serial type='pty'> -->\n" \
		"  <devices>\n" \
		"    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
#define TAIL	"    <console type='pty' tty='/dev/pts/9'>\n" \
		"      <source path='/dev/pts/9'/>\n" \
		"      <target type='serial' port='0'/>\n" \
		"    </console>\n  </devices>\n</domain>\n"

static int
serial(const char *xml, int port, struct virserial *s, const char **why)
{
	return virxml_serial(xml, strlen(xml), port, s, why);
}

START_TEST(test_pty)
{
	const char		*xml = "<?xml version='1.0'?>\n" HEAD
	    "    <serial type='pty'>\n"
	    "      <source path='/dev/pts/9'/>\n"
	    "      <target type='isa-serial' port='0'>\n"
	    "        <model name='isa-serial'/>\n"
	    "      </target>\n"
	    "      <alias name='serial0'/>\n"
	    "    </serial>\n" TAIL;
	struct virserial	 s;
	const char		*why;

	ck_assert_int_eq(serial(xml, 0, &s, &why), 1);
	ck_assert_str_eq(s.type, "pty");
	ck_assert_int_eq(s.has_source, 1);
	ck_assert_str_eq(s.path, "/dev/pts/9");
	ck_assert_ptr_null(s.bad);
	ck_assert_int_eq(serial(xml, 1, &s, &why), 0);
}
END_TEST

START_TEST(test_sockets_and_ports)
{
	const char		*xml = HEAD
	    "    <serial type='unix'>\n"
	    "      <source mode='bind' path='/var/lib/libvirt/qemu/w.sock'/>\n"
	    "      <target type='isa-serial' port='1'/>\n"
	    "    </serial>\n"
	    "    <serial type=\"tcp\">\n"
	    "      <source mode=\"connect\" host=\"127.0.0.1\" "
	    "service=\"4555\" tls='no'/>\n"
	    "      <protocol type='raw'/>\n"
	    "      <target port='3'/>\n"
	    "    </serial>\n"
	    "    <serial type='pty'><source path='/dev/pts/4'/></serial>\n"
	    TAIL;
	struct virserial	 s;
	const char		*why;

	ck_assert_int_eq(serial(xml, 1, &s, &why), 1);
	ck_assert_str_eq(s.type, "unix");
	ck_assert_str_eq(s.mode, "bind");
	ck_assert_str_eq(s.path, "/var/lib/libvirt/qemu/w.sock");
	ck_assert_int_eq(serial(xml, 3, &s, &why), 1);
	ck_assert_str_eq(s.type, "tcp");
	ck_assert_str_eq(s.mode, "connect");
	ck_assert_str_eq(s.host, "127.0.0.1");
	ck_assert_str_eq(s.service, "4555");
	/* No target port: its position among the serials (the third). */
	ck_assert_int_eq(serial(xml, 2, &s, &why), 1);
	ck_assert_str_eq(s.path, "/dev/pts/4");
	ck_assert_int_eq(serial(xml, 0, &s, &why), 0);
}
END_TEST

START_TEST(test_no_source)
{
	const char		*xml = HEAD
	    "    <serial type='null'><target port='0'/></serial>\n"
	    "    <serial type='pty'><target port='1'/></serial>\n"
	    "    <serial type='vc'/>\n" TAIL;
	struct virserial	 s;
	const char		*why;

	ck_assert_int_eq(serial(xml, 0, &s, &why), 1);
	ck_assert_str_eq(s.type, "null");
	ck_assert_int_eq(s.has_source, 0);
	/* A pty whose path QEMU has not reported yet. */
	ck_assert_int_eq(serial(xml, 1, &s, &why), 1);
	ck_assert_str_eq(s.type, "pty");
	ck_assert_str_eq(s.path, "");
	ck_assert_int_eq(serial(xml, 2, &s, &why), 1);
	ck_assert_str_eq(s.type, "vc");
}
END_TEST

START_TEST(test_entities)
{
	const char		*xml = HEAD
	    "    <serial type='unix'><source mode='bind' "
	    "path='/run/a&amp;b&apos;&#99;&#x64;&lt;&gt;&quot;.sock'/>"
	    "<target port='0'/></serial>\n" TAIL;
	struct virserial	 s;
	const char		*why;

	ck_assert_int_eq(serial(xml, 0, &s, &why), 1);
	ck_assert_str_eq(s.path, "/run/a&b'cd<>\".sock");
	ck_assert_ptr_null(s.bad);
}
END_TEST

/* Values that must not reach an open(). */
START_TEST(test_hostile_values)
{
	static const char *const bad[] = {
		/* a newline, a NUL, an escape by character reference */
		"<serial type='pty'><source path='/dev/pts/1&#10;x'/>"
		    "<target port='0'/></serial>",
		"<serial type='pty'><source path='/dev/pts/1&#0;'/>"
		    "<target port='0'/></serial>",
		"<serial type='pty'><source path='/dev/pts/&#27;[2J'/>"
		    "<target port='0'/></serial>",
		/* a raw control character */
		"<serial type='pty'><source path='/dev/pts/1\t'/>"
		    "<target port='0'/></serial>",
		/* a port that is no port */
		"<serial type='pty'><source path='/dev/pts/1'/>"
		    "<target port='-1'/></serial>",
	};
	char			 xml[8192];
	struct virserial	 s;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(xml, sizeof xml, "%s%s%s", HEAD, bad[i], TAIL);
		if (i == 4) {
			/* refused: the port is unusable, so it is port 0
			 * by position, marked bad */
			ck_assert_int_eq(serial(xml, 0, &s, &why), 1);
			ck_assert_ptr_nonnull(s.bad);
			continue;
		}
		ck_assert_msg(serial(xml, 0, &s, &why) == 1, "case %zu", i);
		ck_assert_msg(s.bad != NULL, "case %zu: accepted '%s'", i,
		    s.path);
		ck_assert_msg(strchr(s.path, '\n') == NULL, "case %zu", i);
	}
}
END_TEST

START_TEST(test_too_long)
{
	char			*xml, *p;
	size_t			 n = PATH_MAX + 100, i;
	struct virserial	 s;
	const char		*why;

	xml = malloc(n + 1024);
	ck_assert_ptr_nonnull(xml);
	p = xml + sprintf(xml, "%s<serial type='unix'><source mode='bind' "
	    "path='/", HEAD);
	for (i = 0; i < n; i++)
		*p++ = 'a';
	sprintf(p, "'/><target port='0'/></serial>%s", TAIL);
	ck_assert_int_eq(serial(xml, 0, &s, &why), 1);
	ck_assert_ptr_nonnull(s.bad);
	free(xml);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"",
		"not xml at all",
		"<notdomain/>",
		"<domain><devices><serial type='pty'>",		/* truncated */
		"<domain><devices><serial type='pty></serial></devices></domain>",
		"<domain><devices><serial type=pty/></devices></domain>",
		"<domain><devices><serial type='&bogus;'/></devices></domain>",
		"<domain><devices><serial type='&#xzz;'/></devices></domain>",
		"<domain/><domain/>",
		"<domain><!-- never closed </domain>",
	};
	struct virserial	 s;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		ck_assert_msg(serial(bad[i], 0, &s, &why) == -1,
		    "accepted case %zu", i);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

/* A serial outside <devices> (in metadata, say) is not the domain's. */
START_TEST(test_only_devices)
{
	const char		*xml = "<domain><metadata><serial type='pty'>"
	    "<source path='/dev/pts/1'/><target port='0'/></serial>"
	    "</metadata><devices></devices></domain>";
	struct virserial	 s;
	const char		*why;

	ck_assert_int_eq(serial(xml, 0, &s, &why), 0);
}
END_TEST

START_TEST(test_path_valid)
{
	const char	*why;

	ck_assert_int_eq(virxml_path_valid("/var/lib/libvirt/qemu/a.sock",
	    &why), 0);
	ck_assert_int_eq(virxml_path_valid("relative.sock", &why), -1);
	ck_assert_int_eq(virxml_path_valid("/run/../etc/x", &why), -1);
	ck_assert_int_eq(virxml_path_valid("/run/..", &why), -1);
	ck_assert_int_eq(virxml_path_valid("/run/a\nb", &why), -1);
	ck_assert_int_eq(virxml_path_valid("/run/..x/ok", &why), 0);
}
END_TEST

static Suite *
virxml_suite(void)
{
	Suite	*s = suite_create("virxml");
	TCase	*tc = tcase_create("serial");

	tcase_add_test(tc, test_pty);
	tcase_add_test(tc, test_sockets_and_ports);
	tcase_add_test(tc, test_no_source);
	tcase_add_test(tc, test_entities);
	tcase_add_test(tc, test_hostile_values);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_only_devices);
	tcase_add_test(tc, test_path_valid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return (kt_run(virxml_suite()));
}
