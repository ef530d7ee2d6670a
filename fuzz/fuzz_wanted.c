/*
 * fuzz_wanted - auto mode's policy (wanted.c) over any VM names and any
 * [auto] settings a config could hold.
 *
 * Input lines: the endpoint template, the pair-with template, match globs
 * (space-separated), "LO HI" tcp ports (or nothing), then one VM per line:
 * 'x' (Xen), 'p' (Proxmox) or 'l' (libvirt) and its name.  The policy runs twice (all
 * VMs, then every other one) to exercise the port table.
 *
 * Properties: every pair is a matching, valid, unique VM name whose target
 * spec names that VM; a debugger VM is never a target; with pair-with the
 * host is the partner VM on the same platform; with tcp ports the host
 * listens on a port of the range that no other pair has; the port table
 * holds only targets, each port once.
 */
#include <string.h>

#include "fuzz.h"
#include "wanted.h"

#define LINES_MAX	64

static const struct wanted_vm *
vm_named(const struct wanted_vm *v, size_t n, const char *name,
    enum wanted_platform pf)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (v[i].platform == pf && strcmp(v[i].name, name) == 0)
			return &v[i];
	}
	return NULL;
}

static enum ep_kind
kind_of(enum wanted_platform pf)
{
	return pf == WANTED_PVE ? EP_PVE : pf == WANTED_LIBVIRT ? EP_LIBVIRT :
	    EP_XEN;
}

static void
check(const struct config_auto *a, const struct wanted_vm *v, size_t n,
    const struct wanted_ports *ports, const struct pair_opts *w, size_t nw)
{
	const struct wanted_vm	*t, *partner;
	char			 pname[PAIR_NAME_MAX + EP_NAME_MAX], num[16];
	size_t			 i, j;

	CHECK(nw <= n, "%zu pairs from %zu VMs", nw, n);
	for (i = 0; i < nw; i++) {
		CHECK(pair_name_valid(w[i].name), "name '%s'", w[i].name);
		CHECK(wanted_match(a, w[i].name), "'%s' does not match",
		    w[i].name);
		for (j = 0; j < i; j++)
			CHECK(strcmp(w[i].name, w[j].name) != 0, "two pairs "
			    "'%s'", w[i].name);
		if (w[i].side[SIDE_TARGET].kind == EP_PVE) {
			t = vm_named(v, n, w[i].name, WANTED_PVE);
			CHECK(t != NULL, "pve %s is no Proxmox VM", w[i].name);
			snprintf(num, sizeof num, "%u", t->id);
			CHECK(strcmp(w[i].side[SIDE_TARGET].name, num) == 0,
			    "target %s", w[i].side[SIDE_TARGET].text);
		} else {
			t = vm_named(v, n, w[i].name,
			    w[i].side[SIDE_TARGET].kind == EP_LIBVIRT ?
			    WANTED_LIBVIRT : WANTED_XEN);
			CHECK(t != NULL, "%s names no VM",
			    w[i].side[SIDE_TARGET].text);
			CHECK(strcmp(w[i].side[SIDE_TARGET].name, t->name) == 0,
			    "target %s", w[i].side[SIDE_TARGET].text);
		}
		CHECK(w[i].side[SIDE_TARGET].crlf == a->crlf, "crlf");
		if (a->pair_with[0] != '\0') {
			CHECK(wanted_expand(a->pair_with, t->name, pname,
			    sizeof pname) == 0, "no partner name");
			partner = vm_named(v, n, pname, t->platform);
			CHECK(partner != NULL && partner != t, "no partner %s",
			    pname);
			CHECK(w[i].side[SIDE_HOST].kind == kind_of(t->platform),
			    "host %s", w[i].side[SIDE_HOST].text);
			for (j = 0; j < nw; j++)
				CHECK(strcmp(w[j].name, pname) != 0 ||
				    w[j].side[SIDE_TARGET].kind !=
				    w[i].side[SIDE_HOST].kind, "debugger VM "
				    "%s is a target too", pname);
		} else if (a->port_lo != 0) {
			unsigned p = (unsigned)strtoul(w[i].side[SIDE_HOST].port,
			    NULL, 10);

			CHECK(w[i].side[SIDE_HOST].kind == EP_TCP_LISTEN,
			    "host %s", w[i].side[SIDE_HOST].text);
			CHECK(p >= a->port_lo && p <= a->port_hi, "port %u",
			    p);
			for (j = 0; j < i; j++)
				CHECK(strcmp(w[i].side[SIDE_HOST].port,
				    w[j].side[SIDE_HOST].port) != 0,
				    "port %u twice", p);
		}
	}
	for (i = 0; i < ports->n; i++) {
		CHECK(ports->v[i].port >= a->port_lo &&
		    ports->v[i].port <= a->port_hi, "table port %u",
		    ports->v[i].port);
		for (j = 0; j < i; j++)
			CHECK(ports->v[i].port != ports->v[j].port &&
			    strcmp(ports->v[i].name, ports->v[j].name) != 0,
			    "table entry %zu twice", i);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*buf, *line[LINES_MAX], *globs[16], *p;
	struct config_auto	 a;
	struct wanted_vm	 v[LINES_MAX], half[LINES_MAX];
	struct wanted_ports	 ports = { NULL, 0 };
	struct pair_opts	 base, *w;
	size_t			 nl = 0, n = 0, nh = 0, nw, i;
	unsigned		 lo = 0, hi = 0;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; nl < LINES_MAX; p++) {
		line[nl++] = p;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		*p = '\0';
	}
	if (nl < 4) {
		free(buf);
		return 0;
	}
	memset(&a, 0, sizeof a);
	a.enable = 1;
	a.source = AUTO_SOURCE_HOST;
	snprintf(a.endpoint, sizeof a.endpoint, "%s", line[0]);
	snprintf(a.pair_with, sizeof a.pair_with, "%s", line[1]);
	a.match = globs;
	for (p = strtok(line[2], " "); p != NULL && a.nmatch < 16;
	    p = strtok(NULL, " "))
		globs[a.nmatch++] = p;
	if (sscanf(line[3], "%u %u", &lo, &hi) == 2 && lo >= 1 &&
	    lo <= hi && hi <= 65535 && hi - lo < 64) {
		a.port_lo = lo;
		a.port_hi = hi;
	}
	a.crlf = (enum crlf_mode)(size % 3);
	for (i = 4; i < nl; i++) {
		if (line[i][0] != 'x' && line[i][0] != 'p' &&
		    line[i][0] != 'l')
			continue;
		v[n].name = line[i] + 1;
		v[n].platform = line[i][0] == 'p' ? WANTED_PVE :
		    line[i][0] == 'l' ? WANTED_LIBVIRT : WANTED_XEN;
		v[n].id = (unsigned)i;
		if (n % 2 == 0)
			half[nh++] = v[n];
		n++;
	}
	pair_opts_init(&base);
	if (wanted_pairs(&a, &base, (int)(size & 1), v, n, &ports, NULL, NULL,
	    &w, &nw) == 0) {
		check(&a, v, n, &ports, w, nw);
		free(w);
	}
	if (wanted_pairs(&a, &base, 0, half, nh, &ports, NULL, NULL, &w,
	    &nw) == 0) {
		check(&a, half, nh, &ports, w, nw);
		free(w);
	}
	wanted_ports_free(&ports);
	free(buf);
	return 0;
}
