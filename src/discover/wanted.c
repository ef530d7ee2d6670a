/*
 * wanted.c - auto mode's policy: the pairs wanted for the VMs that run.
 *
 * Each VM whose name matches [auto] is a target.  With pair-with, the VM
 * that template names is its debugger (the host side) and never a target
 * itself; a target without its debugger VM waits.  Else the host side is
 * the endpoint template, or a tcp port of its own from tcp-ports.  The
 * pairs are built from templates only: the VM's own endpoint follows it
 * across restarts, so a restart changes nothing here.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wanted.h"

struct ctx {
	const struct config_auto *a;
	wanted_note_cb		 note;
	void			*arg;
};

static void	say(const struct ctx *, int once, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
say(const struct ctx *c, int once, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	if (c->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	c->note(c->arg, once, buf);
}

int
wanted_match(const struct config_auto *a, const char *name)
{
	size_t	i;

	for (i = 0; i < a->nmatch; i++) {
		if (fnmatch(a->match[i], name, 0) == 0)
			return 1;
	}
	return 0;
}

int
wanted_expand(const char *tmpl, const char *name, char *out, size_t len)
{
	size_t		 o = 0, n;
	const char	*add;

	for (; *tmpl != '\0'; tmpl++) {
		add = tmpl;
		n = 1;
		if (*tmpl == '%') {
			tmpl++;
			if (*tmpl == 'n') {
				add = name;
				n = strlen(name);
			} else if (*tmpl != '%')
				return -1;
		}
		if (o + n >= len)
			return -1;
		memcpy(out + o, add, n);
		o += n;
	}
	if (o >= len)
		return -1;
	out[o] = '\0';
	return 0;
}

int
config_auto_copy(struct config_auto *dst, const struct config_auto *src)
{
	size_t	i;

	*dst = *src;
	dst->match = NULL;
	dst->nmatch = 0;
	if (src->nmatch == 0)
		return 0;
	if ((dst->match = calloc(src->nmatch, sizeof *dst->match)) == NULL)
		return -1;
	for (i = 0; i < src->nmatch; i++) {
		if ((dst->match[i] = strdup(src->match[i])) == NULL)
			return -1;
		dst->nmatch = i + 1;
	}
	return 0;
}

void
config_auto_free(struct config_auto *a)
{
	size_t	i;

	for (i = 0; i < a->nmatch; i++)
		free(a->match[i]);
	free(a->match);
	a->match = NULL;
	a->nmatch = 0;
}

void
wanted_ports_free(struct wanted_ports *ports)
{
	free(ports->v);
	ports->v = NULL;
	ports->n = 0;
}

static const char *const source_names[] = {
	[AUTO_SOURCE_HOST] = "auto", [AUTO_SOURCE_XEN] = "xen",
	[AUTO_SOURCE_PVE] = "pve", [AUTO_SOURCE_LIBVIRT] = "libvirt",
};

int
auto_source_parse(const char *s, enum auto_source *out)
{
	size_t	i;

	for (i = 0; i < sizeof source_names / sizeof source_names[0]; i++)
		if (strcmp(s, source_names[i]) == 0) {
			*out = (enum auto_source)i;
			return 0;
		}
	return -1;
}

/* A VM's endpoint: pve:VMID, libvirt:NAME or xen:NAME. */
static void
vm_spec(const struct wanted_vm *v, const char *opt, char *out, size_t len)
{
	switch (v->platform) {
	case WANTED_PVE:
		snprintf(out, len, "pve:%u%s", v->id, opt);
		break;
	case WANTED_LIBVIRT:
		snprintf(out, len, "libvirt:%s%s", v->name, opt);
		break;
	default:
		snprintf(out, len, "xen:%s%s", v->name, opt);
	}
}

static const struct wanted_vm *
find_vm(const struct wanted_vm *v, size_t n, const char *name, int platform)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if ((platform == -1 || (int)v[i].platform == platform) &&
		    strcmp(v[i].name, name) == 0)
			return &v[i];
	}
	return NULL;
}

/* Forget the ports of VMs that are no longer targets. */
static void
ports_prune(struct wanted_ports *ports, const struct wanted_vm *t, size_t nt)
{
	size_t	i, k = 0;

	for (i = 0; i < ports->n; i++) {
		if (find_vm(t, nt, ports->v[i].name, -1) != NULL)
			ports->v[k++] = ports->v[i];
	}
	ports->n = k;
}

/* The VM's port: the one it has, else the lowest free one; 0 if none. */
static unsigned
port_for(const struct ctx *c, struct wanted_ports *ports, const char *name)
{
	struct wanted_port	*np;
	unsigned		 p;
	size_t			 i;

	for (i = 0; i < ports->n; i++) {
		if (strcmp(ports->v[i].name, name) == 0)
			return ports->v[i].port;
	}
	for (p = c->a->port_lo; p <= c->a->port_hi; p++) {
		for (i = 0; i < ports->n && ports->v[i].port != p; i++)
			;
		if (i == ports->n)
			break;
	}
	if (p > c->a->port_hi)
		return 0;
	if ((np = reallocarray(ports->v, ports->n + 1, sizeof *np)) == NULL)
		return 0;
	ports->v = np;
	snprintf(np[ports->n].name, sizeof np[ports->n].name, "%s", name);
	np[ports->n++].port = p;
	say(c, 0, "%s: port %u", name, p);
	return p;
}

static const char *
crlf_opt(enum crlf_mode m, char *buf, size_t len)
{
	if (m == CRLF_AUTO)
		return "";		/* the default: said by nothing */
	snprintf(buf, len, ",crlf=%s", crlf_mode_name(m));
	return buf;
}

/* The pair for target t (partner: the debugger VM, or NULL). */
static int
make_pair(const struct ctx *c, const struct wanted_vm *t,
    const struct wanted_vm *partner, int allow_remote,
    struct wanted_ports *ports, struct pair_opts *o)
{
	const struct config_auto	*a = c->a;
	char				 host[EP_TEXT_MAX], target[EP_TEXT_MAX];
	char				 err[512], opt[16];
	unsigned			 port;

	snprintf(o->name, sizeof o->name, "%s", t->name);
	vm_spec(t, crlf_opt(a->crlf, opt, sizeof opt), target, sizeof target);
	if (partner != NULL)
		vm_spec(partner, "", host, sizeof host);
	else if (a->port_lo != 0) {
		if ((port = port_for(c, ports, t->name)) == 0) {
			say(c, 1, "%s: no free port in %u-%u; skipped",
			    t->name, a->port_lo, a->port_hi);
			return -1;
		}
		snprintf(host, sizeof host, allow_remote ?
		    "tcp-listen:0.0.0.0:%u,allow-remote" :
		    "tcp-listen:127.0.0.1:%u", port);
	} else if (wanted_expand(a->endpoint, t->name, host,
	    sizeof host) == -1) {
		say(c, 1, "%s: the endpoint template is too long for this "
		    "name; skipped", t->name);
		return -1;
	}
	if (ep_spec_parse(host, &o->side[SIDE_HOST], err, sizeof err) == -1 ||
	    ep_spec_parse(target, &o->side[SIDE_TARGET], err,
	    sizeof err) == -1) {
		say(c, 1, "%s: %s; skipped", t->name, err);
		return -1;
	}
	return 0;
}

/* The VMs that can name a pair, each name once (the first VM wins). */
static size_t
namable(const struct ctx *c, const struct wanted_vm *vms, size_t n,
    struct wanted_vm *out)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		if (!pair_name_valid(vms[i].name)) {
			say(c, 1, "%s %u: its name cannot name a pair "
			    "(letters, digits, '_', '.', '-'); skipped",
			    vms[i].platform == WANTED_PVE ? "VM" : "domain",
			    vms[i].id);
			continue;
		}
		if (find_vm(out, k, vms[i].name, -1) == NULL)
			out[k++] = vms[i];	/* else its endpoint refuses */
	}
	return k;
}

int
wanted_pairs(const struct config_auto *a, const struct pair_opts *base,
    int allow_remote, const struct wanted_vm *vms, size_t nvms,
    struct wanted_ports *ports, wanted_note_cb note, void *arg,
    struct pair_opts **out, size_t *nout)
{
	const struct ctx	 c = { a, note, arg };
	struct wanted_vm	*v = NULL, *t = NULL;
	const struct wanted_vm	*partner;
	struct pair_opts	*w = NULL;
	char			 pname[PAIR_NAME_MAX + EP_NAME_MAX];
	unsigned char		*is_partner = NULL;
	size_t			 n, i, j, nt = 0, nw = 0;

	if ((v = calloc(nvms + 1, sizeof *v)) == NULL ||
	    (t = calloc(nvms + 1, sizeof *t)) == NULL ||
	    (w = calloc(nvms + 1, sizeof *w)) == NULL ||
	    (is_partner = calloc(nvms + 1, 1)) == NULL)
		goto nomem;
	n = namable(&c, vms, nvms, v);
	/* A debugger VM is some target's partner, never a target itself. */
	for (i = 0; a->pair_with[0] != '\0' && i < n; i++) {
		if (!wanted_match(a, v[i].name) || wanted_expand(a->pair_with,
		    v[i].name, pname, sizeof pname) == -1)
			continue;
		for (j = 0; j < n; j++) {
			if (j != i && v[j].platform == v[i].platform &&
			    strcmp(v[j].name, pname) == 0)
				is_partner[j] = 1;
		}
	}
	for (i = 0; i < n; i++) {
		if (!is_partner[i] && wanted_match(a, v[i].name))
			t[nt++] = v[i];
	}
	ports_prune(ports, t, nt);
	for (i = 0; i < nt; i++) {
		partner = NULL;
		/* No debugger VM yet, or only the target itself. */
		if (a->pair_with[0] != '\0' && (wanted_expand(a->pair_with,
		    t[i].name, pname, sizeof pname) == -1 ||
		    strcmp(pname, t[i].name) == 0 ||
		    (partner = find_vm(v, n, pname, (int)t[i].platform)) ==
		    NULL))
			continue;
		w[nw] = *base;
		if (make_pair(&c, &t[i], partner, allow_remote, ports,
		    &w[nw]) == 0)
			nw++;
	}
	free(v);
	free(t);
	free(is_partner);
	*out = w;
	*nout = nw;
	return 0;
nomem:
	free(v);
	free(t);
	free(w);
	free(is_partner);
	errno = ENOMEM;
	return -1;
}
