/*
 * check_pvecfg.c - pvecfg.c, the pure part of following Proxmox VMs:
 * VMIDs, config and socket file names, names in configs, look-up, scan.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvecfg.h"
#include "kdtest.h"

/* ---- Proxmox ---- */

START_TEST(test_pve_vmid)
{
	unsigned	v;

	ck_assert_int_eq(pvecfg_parse_vmid("100", &v), 0);
	ck_assert_uint_eq(v, 100);
	ck_assert_int_eq(pvecfg_parse_vmid("999999999", &v), 0);
	ck_assert_int_eq(pvecfg_parse_vmid("99", &v), -1);
	ck_assert_int_eq(pvecfg_parse_vmid("1000000000", &v), -1);
	ck_assert_int_eq(pvecfg_parse_vmid("0100", &v), -1);
	ck_assert_int_eq(pvecfg_parse_vmid("win10", &v), -1);
	ck_assert_int_eq(pvecfg_parse_vmid("", &v), -1);

	ck_assert_int_eq(pvecfg_conf_vmid("101.conf", &v), 0);
	ck_assert_uint_eq(v, 101);
	ck_assert_int_eq(pvecfg_conf_vmid("101.conf.tmp", &v), -1);
	ck_assert_int_eq(pvecfg_conf_vmid(".101.conf", &v), -1);
	ck_assert_int_eq(pvecfg_conf_vmid("101.con", &v), -1);
	ck_assert_int_eq(pvecfg_conf_vmid("x101.conf", &v), -1);

	ck_assert_int_eq(pvecfg_socket_vmid("105.serial0", 0, &v), 0);
	ck_assert_uint_eq(v, 105);
	ck_assert_int_eq(pvecfg_socket_vmid("105.serial1", 0, &v), -1);
	ck_assert_int_eq(pvecfg_socket_vmid("105.serial1", 1, &v), 0);
	ck_assert_int_eq(pvecfg_socket_vmid("105.qmp", 0, &v), -1);
	ck_assert_int_eq(pvecfg_socket_vmid("105.serial0.old", 0, &v), -1);
}
END_TEST

START_TEST(test_pve_name)
{
	char		 name[PVE_NAME_MAX + 1];
	const char	*c;

	c = "boot: order=scsi0\nname: win10\nserial0: socket\n";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 1);
	ck_assert_str_eq(name, "win10");
	c = "name:   spaced-1  \r\nx: y";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 1);
	ck_assert_str_eq(name, "spaced-1");
	/* Only the current config counts, not a snapshot's. */
	c = "memory: 1\n[snap1]\nname: old\n";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 0);
	c = "name: now\n[snap1]\nname: old\n";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 1);
	ck_assert_str_eq(name, "now");
	/* Not a name line, or not a valid name. */
	c = "hostname: x\n#name: y\n";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 0);
	c = "name: with space\n";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 0);
	c = "name: a.b\n";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 0);
	c = "name: ../../x\n";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 0);
	c = "name:\n";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 0);
	/* No newline at the end; the buffer's length is the limit. */
	c = "name: lastline";
	ck_assert_int_eq(pvecfg_parse_name(c, strlen(c), name, sizeof name), 1);
	ck_assert_str_eq(name, "lastline");
	ck_assert_int_eq(pvecfg_parse_name(c, 9, name, sizeof name), 1);
	ck_assert_str_eq(name, "las");
	ck_assert(pvecfg_valid_name("a-B-9"));
	ck_assert(!pvecfg_valid_name(""));
	ck_assert(!pvecfg_valid_name("a_b"));
}
END_TEST

START_TEST(test_pve_lookup)
{
	static const struct pvevm	vms[] = {
		{ 100, "win10" }, { 101, "dbg" }, { 102, "dup" },
		{ 103, "dup" }, { 104, "" },
	};
	unsigned			ids[2];
	const size_t			n = sizeof vms / sizeof vms[0];

	ck_assert_int_eq(pvecfg_lookup(vms, n, "win10", ids), 1);
	ck_assert_uint_eq(ids[0], 100);
	ck_assert_int_eq(pvecfg_lookup(vms, n, "dup", ids), 2);
	ck_assert_uint_eq(ids[0], 102);
	ck_assert_uint_eq(ids[1], 103);
	ck_assert_int_eq(pvecfg_lookup(vms, n, "nope", ids), 0);
	ck_assert_int_eq(pvecfg_lookup(vms, n, "win", ids), 0);
}
END_TEST

/* pvecfg_scan over a real directory: only <vmid>.conf files count. */
START_TEST(test_pve_scan)
{
	char		 dir[] = "/tmp/check_ep_xen.XXXXXX", path[256];
	struct pvevm	*vms;
	size_t		 n;
	FILE		*f;
	static const char *const files[][2] = {
		{ "200.conf", "name: b\n" }, { "100.conf", "name: a\n" },
		{ "150.conf", "memory: 1\n" }, { "x.conf", "name: x\n" },
		{ "300.conf.tmp", "name: t\n" },
	};
	size_t		 i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
		ck_assert_ptr_nonnull(f = fopen(path, "w"));
		fputs(files[i][1], f);
		fclose(f);
	}
	ck_assert_int_eq(pvecfg_scan(dir, &vms, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(vms[0].vmid, 100);
	ck_assert_str_eq(vms[0].name, "a");
	ck_assert_uint_eq(vms[1].vmid, 150);
	ck_assert_str_eq(vms[1].name, "");
	ck_assert_uint_eq(vms[2].vmid, 200);
	ck_assert_str_eq(vms[2].name, "b");
	free(vms);
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
		unlink(path);
	}
	rmdir(dir);
	ck_assert_int_eq(pvecfg_scan(dir, &vms, &n), -1);
	ck_assert_int_eq(errno, ENOENT);

	ck_assert_int_eq(pvecfg_socket_path(100, 0, path, sizeof path), 0);
	ck_assert_str_eq(path, "/var/run/qemu-server/100.serial0");
	ck_assert_int_eq(pvecfg_socket_path(100, 0, path, 10), -1);
}
END_TEST

static Suite *
pvecfg_suite(void)
{
	Suite	*s = suite_create("pvecfg");
	TCase	*tp = tcase_create("pvecfg");

	tcase_add_test(tp, test_pve_vmid);
	tcase_add_test(tp, test_pve_name);
	tcase_add_test(tp, test_pve_lookup);
	tcase_add_test(tp, test_pve_scan);
	suite_add_tcase(s, tp);
	return s;
}

int
main(void)
{
	return (kt_run(pvecfg_suite()));
}
