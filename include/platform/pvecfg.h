/*
 * pvecfg.h - Proxmox VE: VM names from the configs, serial socket paths.
 *
 * A VM's config is /etc/pve/qemu-server/<vmid>.conf; its "name:" line
 * (before the first [snapshot] section, whose keys are old values) names
 * it.  "serialN: socket" makes QEMU listen on
 * /var/run/qemu-server/<vmid>.serialN.
 */
#ifndef KDRELAY_PVECFG_H
#define KDRELAY_PVECFG_H

#include <stddef.h>
#include <stdint.h>

#define PVE_CONF_DIR		"/etc/pve/qemu-server"
#define PVE_RUN_DIR		"/var/run/qemu-server"
#define PVE_NAME_MAX		63
#define PVE_VMID_MIN		100
#define PVE_VMID_MAX		999999999u
#define PVE_CONF_MAX		(1024 * 1024)	/* read no more of a config */

struct pvevm {
	unsigned	vmid;
	char		name[PVE_NAME_MAX + 1];		/* "" if none */
};

/* A VMID: digits only, no leading zero, within the Proxmox range. */
int	pvecfg_parse_vmid(const char *, unsigned *);
/* "<vmid>.conf" -> vmid; -1 for any other file name. */
int	pvecfg_conf_vmid(const char *fname, unsigned *);
/* "<vmid>.serial<n>" -> vmid; -1 for any other file name. */
int	pvecfg_socket_vmid(const char *fname, int serial, unsigned *);
/* A valid VM name: [A-Za-z0-9-]+, at most PVE_NAME_MAX. */
int	pvecfg_valid_name(const char *);
/*
 * The name in a config's text: 1 with name set, 0 when there is no
 * (valid) name line before the first section.  Pure.
 */
int	pvecfg_parse_name(const char *buf, size_t len, char *name,
	    size_t size);
/*
 * Look a name up: 1 with *vmid, 0 when no VM has it, 2 when several do
 * (ids[0], ids[1] the first two).  Pure.
 */
int	pvecfg_lookup(const struct pvevm *, size_t n, const char *name,
	    unsigned ids[2]);

/*
 * Read every <vmid>.conf in dir: a malloc'd array sorted by vmid.  -1 with
 * errno if the directory cannot be read (a config that cannot be read is
 * skipped: it may be going away).
 */
int	pvecfg_scan(const char *dir, struct pvevm **vms, size_t *n);
int	pvecfg_socket_path(unsigned vmid, int serial, char *buf, size_t len);

#endif
