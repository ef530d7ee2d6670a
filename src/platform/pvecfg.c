/*
 * pvecfg.c - Proxmox VE VM configs: names and serial socket paths.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvecfg.h"

/* Digits [s, s+len) as a VMID. */
static int
vmid_span(const char *s, size_t len, unsigned *out)
{
	unsigned long long	v = 0;
	size_t			i;

	if (len == 0 || len > 9 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < PVE_VMID_MIN || v > PVE_VMID_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
pvecfg_parse_vmid(const char *s, unsigned *vmid)
{
	return vmid_span(s, strlen(s), vmid);
}

int
pvecfg_conf_vmid(const char *fname, unsigned *vmid)
{
	const char	*dot = strchr(fname, '.');

	if (dot == NULL || strcmp(dot, ".conf") != 0)
		return -1;
	return vmid_span(fname, (size_t)(dot - fname), vmid);
}

int
pvecfg_socket_vmid(const char *fname, int serial, unsigned *vmid)
{
	char		 want[16];
	const char	*dot = strchr(fname, '.');

	snprintf(want, sizeof want, ".serial%d", serial);
	if (dot == NULL || strcmp(dot, want) != 0)
		return -1;
	return vmid_span(fname, (size_t)(dot - fname), vmid);
}

int
pvecfg_valid_name(const char *s)
{
	size_t	len = strlen(s);

	return len > 0 && len <= PVE_NAME_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-") == len;
}

int
pvecfg_parse_name(const char *buf, size_t len, char *name, size_t size)
{
	const char	*p = buf, *end = buf + len, *eol, *v, *ve;
	size_t		 n;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (*p == '[')
			return 0;	/* a snapshot: the rest is history */
		if ((size_t)(eol - p) < 5 || memcmp(p, "name:", 5) != 0)
			continue;
		for (v = p + 5; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t' ||
		    ve[-1] == '\r'); ve--)
			;
		n = (size_t)(ve - v);
		if (n == 0 || n > PVE_NAME_MAX || n >= size)
			return 0;
		memcpy(name, v, n);
		name[n] = '\0';
		return pvecfg_valid_name(name) ? 1 : 0;
	}
	return 0;
}

int
pvecfg_lookup(const struct pvevm *vms, size_t n, const char *name,
    unsigned ids[2])
{
	size_t	i, found = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(vms[i].name, name) != 0)
			continue;
		if (found < 2)
			ids[found] = vms[i].vmid;
		found++;
	}
	return found == 0 ? 0 : found == 1 ? 1 : 2;
}

/* The name of one config; "" when it has none or cannot be read. */
static void
read_name(int dfd, const char *fname, char *name, size_t size)
{
	char	*buf;
	ssize_t	 r;
	size_t	 len = 0;
	int	 fd;

	name[0] = '\0';
	fd = openat(dfd, fname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return;
	if ((buf = malloc(PVE_CONF_MAX)) == NULL) {
		close(fd);
		return;
	}
	while (len < PVE_CONF_MAX &&
	    (r = read(fd, buf + len, PVE_CONF_MAX - len)) > 0)
		len += (size_t)r;
	close(fd);
	if (pvecfg_parse_name(buf, len, name, size) != 1)
		name[0] = '\0';
	free(buf);
}

static int
cmp_vmid(const void *a, const void *b)
{
	const struct pvevm	*x = a, *y = b;

	return x->vmid < y->vmid ? -1 : x->vmid > y->vmid;
}

int
pvecfg_scan(const char *dir, struct pvevm **out, size_t *nout)
{
	struct pvevm	*v = NULL, *nv;
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0, cap = 0;
	unsigned	 vmid;
	int		 dfd, err;

	*out = NULL;
	*nout = 0;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		err = errno;
		close(dfd);
		errno = err;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (pvecfg_conf_vmid(de->d_name, &vmid) == -1)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nv = reallocarray(v, cap, sizeof *v)) == NULL) {
				free(v);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
		}
		v[n].vmid = vmid;
		read_name(dfd, de->d_name, v[n].name, sizeof v[n].name);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof *v, cmp_vmid);
	*out = v;
	*nout = n;
	return 0;
}

int
pvecfg_socket_path(unsigned vmid, int serial, char *buf, size_t len)
{
	int	n = snprintf(buf, len, "%s/%u.serial%d", PVE_RUN_DIR, vmid,
		    serial);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}
