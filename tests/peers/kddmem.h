/*
 * kddmem.h - the fake guest memory that xenctrl_stub.c shows xen-kdd, so
 * that a debugger-side test (tests/helpers/kddrive.c) can predict what a
 * ReadVirtualMemory reply must contain.
 *
 * kdd finds no Windows kernel in this memory, so it treats the guest as an
 * "unknown OS", 32-bit: it truncates every virtual address to 32 bits and
 * walks PAE page tables (CR0.PG and CR4.PAE are set).  The tables map every
 * 32-bit address va with 2 MiB pages to guest-physical KDDMEM_DATA_BASE + va,
 * and a data byte there is kddmem_byte(va): every 256-byte run holds all
 * byte values, 0x0a and 0x0d included, which is what a CRLF test wants.
 * One hole, KDDMEM_HOLE_START..KDDMEM_HOLE_END (32-bit va), is unmapped:
 * it is where kdd searches 120,000 pages for a 32-bit Windows kernel on a
 * GetVersion, which would otherwise take seconds; a read there fails
 * (status 0xc0000001, nothing read).
 */
#ifndef KDDMEM_H
#define KDDMEM_H

#include <stdint.h>

#define KDDMEM_ROOT_PFN		0x1000ul	/* CR3: the 4-entry PDPT */
#define KDDMEM_PD_PFN		0x1001ul	/* four page directories follow */
#define KDDMEM_DATA_BASE	0x100000000ull	/* guest-physical of va 0 */
#define KDDMEM_HOLE_START	0x81000000u
#define KDDMEM_HOLE_END		0x91000000u	/* exclusive */
#define KDDMEM_RIP		0xffffffff80c5a010ull
#define KDDMEM_INST_LEN		36		/* kdd's state-change inst[] */

static inline int
kddmem_mapped(uint64_t va)
{
	uint32_t a = (uint32_t)va;

	return a < KDDMEM_HOLE_START || a >= KDDMEM_HOLE_END;
}

static inline uint8_t
kddmem_byte(uint64_t va)
{
	uint32_t a = (uint32_t)va;

	return (uint8_t)(a ^ (a >> 8) ^ (a >> 16) ^ (a >> 24));
}

#endif
