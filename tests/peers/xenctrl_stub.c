/*
 * xenctrl_stub.c - a stand-in libxenctrl.so.4.17 for running the Xen
 * project's KD target emulator (xen-kdd, Debian xen-utils-4.17) with no
 * hypervisor.
 *
 * Build (tests/lib/peers.sh, peers_build, does this into $BUILD/peers/lib):
 *   cc -shared -fPIC -Wl,-soname,libxenctrl.so.4.17 \
 *      -Wl,--version-script,tests/peers/xenctrl_stub.map \
 *      -o libxenctrl.so.4.17 tests/peers/xenctrl_stub.c
 * Use: LD_LIBRARY_PATH=$BUILD/peers/lib xen-kdd <domid> 127.0.0.1 <port>
 *
 * It implements the eight calls kdd makes (objdump -T xen-kdd: all in
 * version node VERS_4.17.0) and nothing else:
 *   - any nonzero domid exists: one HVM domain with one vCPU;
 *   - pause/unpause only record the state;
 *   - the HVM context is a HEADER, one CPU record (paging on, long mode
 *     claimed in EFER, plausible kernel registers) and END; setcontext
 *     stores what kdd writes back (register writes persist);
 *   - xc_map_foreign_range returns fresh anonymous pages whose contents are
 *     generated from the frame number: page tables and a byte pattern
 *     described in kddmem.h.  kdd munmap()s them itself.
 * There is deliberately no LAPIC record: kdd's 64-bit OS probe needs one and
 * gives up at once without it, so kdd settles on "unknown OS" (32-bit view)
 * deterministically instead of scanning memory.
 * XC_STUB_TRACE=1 in the environment traces each call to stderr.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XC_WANT_COMPAT_MAP_FOREIGN_API
#include <xenctrl.h>
#include <xen/hvm/save.h>

#include "kddmem.h"

#define PAGE_SIZE	4096ul

struct xc_interface_core {
	int	 open;
};

/* kdd only ever has one guest; its state is the library's. */
static struct {
	struct hvm_save_descriptor	hd;
	struct hvm_save_header		h;
	struct hvm_save_descriptor	cd;
	struct hvm_hw_cpu		cpu;
	struct hvm_save_descriptor	ed;
} ctx;

_Static_assert(sizeof ctx == 3 * sizeof(struct hvm_save_descriptor) +
    sizeof(struct hvm_save_header) + sizeof(struct hvm_hw_cpu),
    "HVM context records must be contiguous");
static int ctx_ready, paused;

static void
trace(const char *fmt, ...)
{
	va_list	ap;

	if (getenv("XC_STUB_TRACE") == NULL)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "xenctrl_stub: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
ctx_init(void)
{
	struct hvm_hw_cpu	*c = &ctx.cpu;

	if (ctx_ready)
		return;
	ctx_ready = 1;
	ctx.hd.typecode = HVM_SAVE_CODE(HEADER);
	ctx.hd.length = sizeof ctx.h;
	ctx.h.magic = HVM_FILE_MAGIC;
	ctx.h.version = HVM_FILE_VERSION;
	ctx.h.cpuid = 0x000306a9;
	ctx.h.gtsc_khz = 2400000;
	ctx.cd.typecode = HVM_SAVE_CODE(CPU);
	ctx.cd.instance = 0;
	ctx.cd.length = sizeof ctx.cpu;
	ctx.ed.typecode = HVM_SAVE_CODE(END);

	c->cr0 = 0x80050033;		/* PG WP NE ET MP PE */
	c->cr3 = KDDMEM_ROOT_PFN << 12;
	c->cr4 = 0x000406f8;		/* OSXSAVE PGE MCE PAE PSE ... */
	c->msr_efer = 0xd01;		/* NXE LMA LME SCE */
	c->rip = KDDMEM_RIP;
	c->rsp = 0xffffffff80c4ff88ull;
	c->rbp = 0xffffffff80c4ffb0ull;
	c->rax = 0x1;
	c->rcx = 0xffffffff80c5a000ull;
	c->rflags = 0x246;
	c->cs_sel = 0x10;
	c->ss_sel = 0x18;
	c->ds_sel = c->es_sel = c->gs_sel = 0x2b;
	c->fs_sel = 0x53;
	c->tr_sel = 0x40;
	c->cs_arbytes = 0xa09b;
	c->ss_arbytes = c->ds_arbytes = c->es_arbytes = 0xc093;
	c->fs_arbytes = c->gs_arbytes = 0xc0f3;
	c->tr_arbytes = 0x8b;
	c->idtr_base = 0xffffffff80c00000ull;
	c->idtr_limit = 0xfff;
	c->gdtr_base = 0xffffffff80c01000ull;
	c->gdtr_limit = 0x7f;
	c->dr6 = 0xffff0ff0;
	c->dr7 = 0x400;
}

/* Fill one guest frame: PDPT, page directories, pattern, or zeros. */
static void
fill_frame(uint8_t *p, unsigned long pfn)
{
	uint64_t	*e = (uint64_t *)p;
	uint64_t	 pa = (uint64_t)pfn << 12, base;
	unsigned	 i;

	if (pfn == KDDMEM_ROOT_PFN) {
		for (i = 0; i < 4; i++)
			e[i] = ((KDDMEM_PD_PFN + i) << 12) | 0x1;
	} else if (pfn >= KDDMEM_PD_PFN && pfn < KDDMEM_PD_PFN + 4) {
		base = KDDMEM_DATA_BASE + ((uint64_t)(pfn - KDDMEM_PD_PFN) << 30);
		for (i = 0; i < 512; i++)
			if (kddmem_mapped(base - KDDMEM_DATA_BASE +
			    ((uint64_t)i << 21)))
				e[i] = (base + ((uint64_t)i << 21)) | 0x83;
	} else if (pa >= KDDMEM_DATA_BASE) {
		for (i = 0; i < PAGE_SIZE; i++)
			p[i] = kddmem_byte(pa - KDDMEM_DATA_BASE + i);
	}
}

xc_interface *
xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dlogger,
    unsigned flags)
{
	struct xc_interface_core	*x;

	(void)logger;
	(void)dlogger;
	(void)flags;
	trace("xc_interface_open");
	if ((x = calloc(1, sizeof *x)) != NULL)
		x->open = 1;
	return x;
}

int
xc_interface_close(xc_interface *x)
{
	trace("xc_interface_close");
	free(x);
	return 0;
}

int
xc_domain_getinfo(xc_interface *x, uint32_t first, unsigned int max,
    xc_dominfo_t *info)
{
	(void)x;
	trace("xc_domain_getinfo %u %u", first, max);
	if (first == 0 || max == 0 || first >= DOMID_FIRST_RESERVED)
		return 0;
	memset(info, 0, sizeof *info);
	info->domid = first;
	info->hvm = 1;
	info->hap = 1;
	info->paused = paused;
	info->running = !paused;
	info->nr_pages = 262144;
	info->max_memkb = 1048576;
	info->nr_online_vcpus = 1;
	info->max_vcpu_id = 0;
	return 1;
}

int
xc_domain_pause(xc_interface *x, uint32_t domid)
{
	(void)x;
	trace("xc_domain_pause %u", domid);
	paused = 1;
	return 0;
}

int
xc_domain_unpause(xc_interface *x, uint32_t domid)
{
	(void)x;
	trace("xc_domain_unpause %u", domid);
	paused = 0;
	return 0;
}

int
xc_domain_hvm_getcontext(xc_interface *x, uint32_t domid, uint8_t *buf,
    uint32_t size)
{
	(void)x;
	trace("xc_domain_hvm_getcontext %u %u", domid, size);
	ctx_init();
	if (buf == NULL)
		return sizeof ctx;
	if (size < sizeof ctx) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(buf, &ctx, sizeof ctx);
	return sizeof ctx;
}

int
xc_domain_hvm_setcontext(xc_interface *x, uint32_t domid, uint8_t *buf,
    uint32_t size)
{
	(void)x;
	trace("xc_domain_hvm_setcontext %u %u", domid, size);
	ctx_init();
	if (size < sizeof ctx) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&ctx, buf, sizeof ctx);
	return 0;
}

void *
xc_map_foreign_range(xc_interface *x, uint32_t dom, int size, int prot,
    unsigned long mfn)
{
	size_t	 len, off;
	uint8_t	*p;

	(void)x;
	trace("xc_map_foreign_range %u %d %#lx", dom, size, mfn);
	if (size <= 0) {
		errno = EINVAL;
		return NULL;
	}
	len = ((size_t)size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	for (off = 0; off < len; off += PAGE_SIZE)
		fill_frame(p + off, mfn + off / PAGE_SIZE);
	if (prot != (PROT_READ | PROT_WRITE))
		mprotect(p, len, prot);
	return p;
}
