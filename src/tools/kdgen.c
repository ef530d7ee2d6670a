/*
 * kdgen - write a synthetic but realistic KDCOM session as a kdtrace.
 *
 * The session is what WinDbg and a halted x64 Windows kernel say to each
 * other: the target's first state change (sync-bit id), the debugger's
 * RESET and its answer, DbgPrint text, GetVersion, GetContext, many memory
 * reads, a load-symbols event, a breakpoint, Continue2.  Every data packet
 * is acknowledged by the peer with its id, ids alternate per direction, and
 * memory contents are salted with the bytes that hurt a serial relay: 0x0a,
 * 0x0d, 0x0d 0x0a pairs, 0x62, "0000" and "iiii" runs, whole packets.  The
 * same seed gives the same file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"
#include "kdcom.h"
#include "kdtrace.h"


#define MANIP_SIZE		56	/* DBGKD_MANIPULATE_STATE64 */
#define STATE_SIZE		240	/* DBGKD_ANY_WAIT_STATE_CHANGE, x64 */
#define DEBUG_IO_SIZE		16	/* DBGKD_DEBUG_IO before the text */
#define CONTEXT_SIZE		1232	/* x64 CONTEXT */
#define MAX_READ		(KD_MAX_PAYLOAD - MANIP_SIZE)

#define STATUS_SUCCESS		0x00000000u
#define STATUS_PENDING		0x00000103u
#define STATUS_BREAKPOINT	0x80000003u
#define DBG_CONTINUE		0x00010002u

#define DEFAULT_EXCHANGES	100

enum side { DEBUGGER, TARGET };

struct gen {
	FILE		*f;
	const char	*path;
	uint64_t	 rng;
	uint32_t	 id[2];		/* next data packet id per side */
	unsigned	 nasty;		/* next nasty pattern to plant */
	uint64_t	 kernbase;
	uint64_t	 thread;
	uint64_t	 pc;
	size_t		 packets;
	int		 error;
};

static uint64_t
rnd(struct gen *g)
{
	uint64_t z;

	/* splitmix64: tiny, and the same everywhere. */
	z = (g->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned
below(struct gen *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

static void
record(struct gen *g, enum side s, const uint8_t *pkt, size_t len)
{
	if (g->error)
		return;
	if (kdtrace_write(g->f, s == DEBUGGER ? KDTRACE_DEBUGGER :
	    KDTRACE_TARGET, pkt, (uint16_t)len) != 0)
		g->error = errno ? errno : EIO;
	g->packets++;
}

static void
control(struct gen *g, enum side s, uint16_t type, uint32_t id)
{
	uint8_t	pkt[KD_HEADER_SIZE];

	record(g, s, pkt, kd_build(pkt, type, id, NULL, 0));
}

/* A data packet and the peer's ACK of it; the sender's id then toggles. */
static void
data(struct gen *g, enum side s, uint16_t type, const uint8_t *payload,
    size_t len)
{
	uint8_t	 pkt[KD_MAX_PACKET];
	uint32_t id = g->id[s];

	record(g, s, pkt, kd_build(pkt, type, id, payload, (uint16_t)len));
	control(g, s == DEBUGGER ? TARGET : DEBUGGER, KD_TYPE_ACKNOWLEDGE, id);
	g->id[s] = (id & ~KD_ID_SYNC) ^ 1;
}

static void
reset(struct gen *g)
{
	control(g, DEBUGGER, KD_TYPE_RESET, 0);
	control(g, TARGET, KD_TYPE_RESET, 0);
	g->id[DEBUGGER] = g->id[TARGET] = KD_ID_INITIAL;
}

/* A kernel-space address near the kernel image. */
static uint64_t
kaddr(struct gen *g)
{
	return g->kernbase + (rnd(g) & 0x00fffff8ull);
}

/*
 * Bytes a relay must carry untouched, planted in turn so that every one
 * shows up in a session of any length.
 */
static size_t
plant(struct gen *g, uint8_t *p, size_t room)
{
	static const char *const pats[] = {
		"\r\n", "\n", "\r", "\r\r\n", "\n\r", "b", "0000", "iiii",
		"00000000", "iiiiiii", "\n\n\n", "bbbb", "0000iiii\r\n",
	};
	const char	*s;
	size_t		 n;
	uint8_t		 body[8];

	if (g->nasty % 7 == 6 && room >= KD_HEADER_SIZE + sizeof body + 1) {
		/* A whole valid packet inside the payload. */
		g->nasty++;
		le64_put(body, rnd(g) | 0x0a0d);
		return kd_build(p, KD_TYPE_STATE_MANIPULATE, KD_ID_INITIAL,
		    body, sizeof body);
	}
	s = pats[g->nasty++ % (sizeof pats / sizeof pats[0])];
	n = strlen(s);
	if (n > room)
		n = room;
	memcpy(p, s, n);
	return n;
}

static const char *const words[] = {
	"ntoskrnl.exe", "hal.dll", "kdcom.dll", "ACPI.sys", "Wdf01000.sys",
	"\\Device\\HarddiskVolume2", "PsLoadedModuleList", "KiDispatchException",
	"Registry\\Machine\\System", "svchost.exe", "KDBG", "PAGE", "INIT",
};

/* Plausible memory: pointers, code, text, zeros, and planted bytes. */
static void
memory(struct gen *g, uint8_t *p, size_t n)
{
	size_t	i = 0, k, m;

	while (i < n) {
		m = 8 + below(g, 120);
		if (m > n - i)
			m = n - i;
		switch (below(g, 6)) {
		case 0:		/* pointers */
			for (k = 0; k + 8 <= m; k += 8)
				le64_put(p + i + k, kaddr(g));
			memset(p + i + k, 0, m - k);
			break;
		case 1:		/* code: any byte */
			for (k = 0; k < m; k++)
				p[i + k] = (uint8_t)rnd(g);
			break;
		case 2:		/* text */
			for (k = 0; k < m; k++)
				p[i + k] = (uint8_t)words[below(g,
				    sizeof words / sizeof words[0])][0];
			snprintf((char *)p + i, m, "%s",
			    words[below(g, sizeof words / sizeof words[0])]);
			break;
		case 3:		/* zeros */
			memset(p + i, 0, m);
			break;
		default:	/* the nasty bytes */
			m = plant(g, p + i, n - i);
			break;
		}
		i += m;
	}
}

/* The 16 bytes every DBGKD_MANIPULATE_STATE64 starts with. */
static void
manip(uint8_t *p, uint32_t api, uint32_t status)
{
	memset(p, 0, MANIP_SIZE);
	le32_put(p, api);
	le32_put(p + 8, status);
}

/* A realistic read size, some chosen so the header has 0x0a or 0x0d. */
static uint32_t
read_size(struct gen *g)
{
	static const uint32_t sizes[] = {
		4, 8, 8, 0x10, 0x18, 0x20, 0x40, 0x80, 0x100, 0x100, 0x180,
		0x200, 0x200, 0x400, 0x800, 0xc00, 0xf00, MAX_READ,
		0x10a - MANIP_SIZE, 0x20a - MANIP_SIZE, 0x0a0d - MANIP_SIZE,
		0x0d0a - MANIP_SIZE, 0x0a0a - MANIP_SIZE,
	};

	return sizes[below(g, sizeof sizes / sizeof sizes[0])];
}

/* A request of the debugger, its ACK, the target's reply, its ACK. */
static void
exchange(struct gen *g, const uint8_t *req, const uint8_t *reply,
    size_t replylen)
{
	data(g, DEBUGGER, KD_TYPE_STATE_MANIPULATE, req, MANIP_SIZE);
	data(g, TARGET, KD_TYPE_STATE_MANIPULATE, reply, replylen);
}

/*
 * The reply to a request for n bytes: its header, success, the count at
 * count_off, the bytes after the header.
 */
static void
memory_reply(struct gen *g, const uint8_t *req, uint8_t *reply,
    size_t count_off, uint32_t n)
{
	memcpy(reply, req, MANIP_SIZE);
	le32_put(reply + 8, STATUS_SUCCESS);
	le32_put(reply + count_off, n);
	memory(g, reply + MANIP_SIZE, n);
}

static void
read_memory(struct gen *g, uint32_t api)
{
	uint8_t		req[MANIP_SIZE], reply[KD_MAX_PAYLOAD];
	uint64_t	addr;
	uint32_t	n;

	n = api == KD_API_READ_CONTROL ? 0xe0 : read_size(g);
	addr = api == KD_API_READ_CONTROL ? 2 : kaddr(g);
	manip(req, api, STATUS_PENDING);
	le64_put(req + 16, addr);
	le32_put(req + 24, n);
	memory_reply(g, req, reply, 28, n);
	exchange(g, req, reply, MANIP_SIZE + n);
}

static void
get_version(struct gen *g)
{
	uint8_t	req[MANIP_SIZE], reply[MANIP_SIZE];

	manip(req, KD_API_GET_VERSION, STATUS_PENDING);
	manip(reply, KD_API_GET_VERSION, STATUS_SUCCESS);
	le16_put(reply + 16, 0x0f);		/* free build */
	le16_put(reply + 18, 19041);		/* build number */
	reply[20] = 6;				/* protocol */
	reply[21] = 2;
	le16_put(reply + 22, 0x47);		/* MP, 64-bit, ... */
	le16_put(reply + 24, 0x8664);		/* AMD64 */
	reply[26] = KD_TYPE_MAX;
	reply[27] = 3;
	reply[28] = 0x33;
	le64_put(reply + 32, g->kernbase);
	le64_put(reply + 40, g->kernbase + 0xc2a2d0);
	le64_put(reply + 48, g->kernbase + 0xd0f130);
	exchange(g, req, reply, sizeof reply);
}

static void
get_context(struct gen *g)
{
	uint8_t		req[MANIP_SIZE], reply[MANIP_SIZE + CONTEXT_SIZE];
	uint8_t		*c = reply + MANIP_SIZE;
	unsigned	i;

	manip(req, KD_API_GET_CONTEXT, STATUS_PENDING);
	memcpy(reply, req, MANIP_SIZE);
	le32_put(reply + 8, STATUS_SUCCESS);
	memset(c, 0, CONTEXT_SIZE);
	le32_put(c + 0x30, 0x0010001f);		/* ContextFlags */
	le32_put(c + 0x34, 0x1f80);		/* MxCsr */
	le16_put(c + 0x38, 0x10);			/* cs ds es fs gs ss */
	le16_put(c + 0x3a, 0x2b);
	le16_put(c + 0x3c, 0x2b);
	le16_put(c + 0x3e, 0x53);
	le16_put(c + 0x40, 0x2b);
	le16_put(c + 0x42, 0x18);
	le32_put(c + 0x44, 0x246);			/* EFlags */
	for (i = 0; i < 16; i++)		/* Rax .. R15 */
		le64_put(c + 0x78 + 8 * i, i == 4 ? g->thread - 0x1f8 :
		    below(g, 3) ? kaddr(g) : rnd(g) & 0xffff);
	le64_put(c + 0xf8, g->pc);			/* Rip */
	le16_put(c + 0x100, 0x27f);		/* FltSave.ControlWord */
	le32_put(c + 0x118, 0x1f80);		/* FltSave.MxCsr */
	memory(g, c + 0x1a0, 0x100);		/* xmm registers */
	exchange(g, req, reply, sizeof reply);
}

static void
get_context_ex(struct gen *g)
{
	uint8_t		req[MANIP_SIZE], reply[MANIP_SIZE + 0x200];
	uint32_t	off = 0x200 * below(g, 2), n = 0x200;

	manip(req, KD_API_GET_CONTEXT_EX, STATUS_PENDING);
	le32_put(req + 16, off);
	le32_put(req + 20, n);
	memory_reply(g, req, reply, 24, n);
	exchange(g, req, reply, sizeof reply);
}

static void
continue2(struct gen *g)
{
	uint8_t	req[MANIP_SIZE];

	manip(req, KD_API_CONTINUE2, STATUS_PENDING);
	le32_put(req + 16, DBG_CONTINUE);
	le64_put(req + 24, 0x400);			/* Dr7 */
	data(g, DEBUGGER, KD_TYPE_STATE_MANIPULATE, req, sizeof req);
}

/* The common head of a state change; returns where the union starts. */
static uint8_t *
state_head(struct gen *g, uint8_t *p, uint32_t state)
{
	memset(p, 0, STATE_SIZE);
	le32_put(p, state);
	le32_put(p + 8, 2);			/* NumberProcessors */
	le64_put(p + 16, g->thread);
	le64_put(p + 24, g->pc);
	/* The control report: Dr7, EFlags, code bytes at the pc. */
	le64_put(p + 200, 0x400);
	le32_put(p + 208, 0x246);
	le16_put(p + 212, 16);
	memory(g, p + 216, 16);
	le16_put(p + 232, 0x10);
	le16_put(p + 234, 0x2b);
	le16_put(p + 236, 0x2b);
	le16_put(p + 238, 0x53);
	return p + 32;
}

static void
exception(struct gen *g, uint32_t id)
{
	uint8_t	 p[STATE_SIZE], *u;

	u = state_head(g, p, KD_API_EXCEPTION);
	le32_put(u, STATUS_BREAKPOINT);
	le64_put(u + 16, g->pc);
	le32_put(u + 24, 1);
	le32_put(u + 152, 1);			/* FirstChance */
	if (id != 0) {
		/* The very first packet: the sync bit, before any reset. */
		uint8_t	pkt[KD_MAX_PACKET];

		record(g, TARGET, pkt, kd_build(pkt,
		    KD_TYPE_STATE_CHANGE64, id, p, sizeof p));
		control(g, DEBUGGER, KD_TYPE_ACKNOWLEDGE, id);
		return;
	}
	data(g, TARGET, KD_TYPE_STATE_CHANGE64, p, sizeof p);
}

static void
load_symbols(struct gen *g, const char *path)
{
	uint8_t	 p[STATE_SIZE + 256], *u;
	size_t	 n = strlen(path) + 1;

	u = state_head(g, p, KD_API_LOAD_SYMBOLS);
	le32_put(u, (uint32_t)n);			/* PathNameLength */
	le64_put(u + 8, g->kernbase + 0x3000000 + (rnd(g) & 0xff0000));
	le32_put(u + 24, (uint32_t)rnd(g));	/* CheckSum */
	le32_put(u + 28, 0x1a000);			/* SizeOfImage */
	memcpy(p + STATE_SIZE, path, n);
	data(g, TARGET, KD_TYPE_STATE_CHANGE64, p, STATE_SIZE + n);
}

static void
dbgprint(struct gen *g, const char *text)
{
	uint8_t	 p[DEBUG_IO_SIZE + 256];
	size_t	 n = strlen(text);

	memset(p, 0, DEBUG_IO_SIZE);
	le32_put(p, KD_API_PRINT_STRING);
	le32_put(p + 8, (uint32_t)n);
	memcpy(p + DEBUG_IO_SIZE, text, n);
	data(g, TARGET, KD_TYPE_DEBUG_IO, p, DEBUG_IO_SIZE + n);
}

static const char *const drivers[] = {
	"ACPI.sys", "Wdf01000.sys", "disk.sys", "storahci.sys", "netvsc.sys",
	"serial.sys",
};

static void
prints(struct gen *g, unsigned n)
{
	char		buf[200];
	unsigned	i, v;

	for (i = 0; i < n; i++) {
		v = (unsigned)rnd(g);
		switch (below(g, 7)) {
		case 0:
			snprintf(buf, sizeof buf, "Loading driver "
			    "\\SystemRoot\\system32\\drivers\\%s\r\n",
			    drivers[below(g, sizeof drivers /
			    sizeof drivers[0])]);
			break;
		case 1:
			snprintf(buf, sizeof buf, "ACPI: table at 0x%08x "
			    "loaded\r\n", v);
			break;
		case 2:
			snprintf(buf, sizeof buf, "PnP: device %08x "
			    "started\r\n", v);
			break;
		case 3:
			/* A bare \n inside, the real \r\n at the end. */
			snprintf(buf, sizeof buf, "kdrelay: line one\nline "
			    "two\r\n");
			break;
		case 4:
			snprintf(buf, sizeof buf, "Break instruction exception "
			    "- code 80000003 (first chance)\r\n");
			break;
		case 5:
			snprintf(buf, sizeof buf, "\r\n");
			break;
		default:
			snprintf(buf, sizeof buf, "KDTARGET: Refreshing KD "
			    "connection\r\n");
			break;
		}
		dbgprint(g, buf);
	}
}

/* n requests while the target is halted, mostly memory reads. */
static void
inspect(struct gen *g, unsigned n)
{
	unsigned i, k;

	for (i = 0; i < n; i++) {
		k = below(g, 20);
		if (k == 0)
			get_context(g);
		else if (k == 1)
			get_context_ex(g);
		else if (k == 2)
			read_memory(g, KD_API_READ_CONTROL);
		else
			read_memory(g, KD_API_READ_VIRTUAL);
	}
}

static void
session(struct gen *g, unsigned n)
{
	unsigned first = n / 2, second = n / 5;

	g->kernbase = 0xfffff80000000000ull | (rnd(g) & 0x0fff00000ull) << 8;
	g->thread = 0xffffc50000000000ull | (rnd(g) & 0xffffffff80ull);
	g->pc = g->kernbase + 0x3f1230 + below(g, 0x1000);
	g->id[DEBUGGER] = g->id[TARGET] = KD_ID_INITIAL;

	/* Halted at the initial breakpoint; WinDbg connects and resets. */
	exception(g, KD_ID_INITIAL | KD_ID_SYNC);
	reset(g);
	dbgprint(g, "KDTARGET: Refreshing KD connection\r\n");
	exception(g, 0);
	get_version(g);
	get_context(g);
	inspect(g, first);
	continue2(g);

	/* Running: messages, then a driver load stops it again. */
	prints(g, 3 + below(g, 4));
	load_symbols(g, "\\SystemRoot\\system32\\drivers\\kdrelay.sys");
	inspect(g, second);
	continue2(g);

	/* A breakpoint in the new driver. */
	prints(g, 2 + below(g, 3));
	g->pc = g->kernbase + 0x3000000 + 0x1a2c;
	exception(g, 0);
	get_context(g);
	inspect(g, n - first - second);
	continue2(g);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: kdgen [-s SEED] [-n EXCHANGES] [-o FILE]\n"
	    "Write a synthetic KDCOM session (kdtrace format) to FILE or "
	    "stdout.\n"
	    "  -s SEED       seed (default 1); the same seed, the same file\n"
	    "  -n EXCHANGES  debugger requests while halted (default %d)\n"
	    "  -o FILE       output file (default stdout)\n",
	    DEFAULT_EXCHANGES);
}

static int
number(const char *s, unsigned long long max, unsigned long long *v)
{
	char	*end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno == 0 && *s != '\0' && *s != '-' && *end == '\0' &&
	    *v <= max ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 },
	};
	struct gen		 g;
	unsigned long long	 seed = 1, n = DEFAULT_EXCHANGES;
	const char		*out = NULL;
	int			 c;

	while ((c = getopt_long(argc, argv, "hn:o:s:V", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kdgen %s\n", KDRELAY_VERSION);
			return 0;
		case 'n':
			if (number(optarg, 100000, &n) != 0) {
				fprintf(stderr, "kdgen: -n %s: not a number "
				    "from 0 to 100000\n", optarg);
				return 64;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			if (number(optarg, UINT64_MAX, &seed) != 0) {
				fprintf(stderr, "kdgen: -s %s: not an unsigned "
				    "number\n", optarg);
				return 64;
			}
			break;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 64;
	}

	memset(&g, 0, sizeof g);
	g.rng = seed;
	g.path = out ? out : "stdout";
	g.f = out ? fopen(out, "wb") : stdout;
	if (g.f == NULL) {
		fprintf(stderr, "kdgen: %s: %s\n", out, strerror(errno));
		return 73;
	}
	if (kdtrace_write_header(g.f) != 0)
		g.error = errno ? errno : EIO;
	session(&g, (unsigned)n);
	if (fflush(g.f) != 0 && !g.error)
		g.error = errno;
	if ((out != NULL && fclose(g.f) != 0) && !g.error)
		g.error = errno;
	if (g.error) {
		fprintf(stderr, "kdgen: %s: %s\n", g.path, strerror(g.error));
		return 74;
	}
	return 0;
}
