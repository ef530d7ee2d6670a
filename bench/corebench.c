/*
 * corebench - the pure core (crlf + kdcom + stream) over fixed inputs, for
 * counting instructions per byte under callgrind (deterministic, unlike
 * wall-clock figures on a shared machine).
 *
 *	corebench [-c] [-m repair|validate|auto|plain] [-l none|nop|target|
 *	    debugger] [-s SIZE] [-k CHUNK] [-f TRACE] dump|session|garbage
 *
 * Inputs, SIZE bytes (default 4M) before corruption:
 *   dump     a memory dump as the target sends it: per request an ACK,
 *            then a STATE_MANIPULATE ReadVirtualMemory reply of 3944
 *            bytes of memory (zero pages, pointer tables, code, text, and
 *            compressed data), with valid checksums
 *   session  the packets of a kdtrace capture (-f), repeated
 *   garbage  random bytes
 * -c corrupts the input as a Xen line does (each 0x0a as 0x0d 0x0a).
 * Modes: repair (crlf=on, no validation), validate (crlf=on, validation
 * on: what the relay runs on a corrupting line), auto (crlf=auto with
 * validation), plain (crlf=off, validation on).
 * Listeners (-l): none (default: packets counted, not decoded), nop (an
 * event listener that does nothing), target or debugger (what kdrelayd's
 * listener does by default, on the target's or the debugger's side: the
 * target-shutdown watch, tsd_from_target() or tsd_from_debugger(), told
 * of each packet in brief as relay_listen() has it with no packet log,
 * watcher or capture).
 *
 * The input is handed over in CHUNK-byte reads (default 4096) the way the
 * relay does it: each read lands stream_slack() bytes past the buffer's
 * tail (one, or a held packet's worth while auto mode is unsettled) and
 * is processed in place into the tail.  Only process() is the core's work:
 *
 *	valgrind --tool=callgrind --toggle-collect=process ./corebench ...
 *
 * and the instructions counted, divided by the bytes= printed, are the
 * instructions per input byte.  Prints the input's bytes, and the output's
 * (which the stream's counters confirm: a repair that lost a byte would
 * show here).
 */
#include "bench.h"
#include "kdtrace.h"
#include "stream.h"
#include "tshutdown.h"

/* Also builds against a core from before lossless detection (ipb.sh). */
#ifndef STREAM_SLACK
#define STREAM_SLACK		1
#define stream_slack(s)		1
#endif

#define DUMP_DATA	3944		/* 4000 less the manipulate header */
#define MANIP_HDR	56

static void
usage(void)
{
	fprintf(stderr, "usage: corebench [-c] [-m repair|validate|auto|plain] "
	    "[-l none|nop|target|debugger] [-s size] [-k chunk] [-f trace] "
	    "dump|session|garbage\n");
	exit(64);
}

static void
put64(uint8_t *p, uint64_t v)
{
	int	i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* One 3944-byte piece of kernel memory, by the kind of page it is in. */
static void
memory(uint64_t *s, uint64_t addr, uint8_t *p, size_t n)
{
	static const char *const text[] = {
		"\\SystemRoot\\system32\\ntoskrnl.exe", "KeBugCheckEx",
		"\\Device\\HarddiskVolume3\\Windows\\System32\\drivers\\",
		"Microsoft Corporation\r\n", "ExAllocatePoolWithTag",
		"FileVersion 10.0.19041.1\n",
	};
	static const uint8_t op[] = {
		0x48, 0x89, 0x8b, 0xe8, 0x0f, 0x00, 0xff, 0x24, 0x4c, 0xc3,
		0xcc, 0x85,
	};
	const char	*t;
	uint64_t	 kind = rng_next(s) % 10, v;
	size_t		 i, k, l;

	switch (kind) {
	case 0: case 1: case 2:		/* zero pages */
		memset(p, 0, n);
		break;
	case 3: case 4:			/* pointer tables, list heads */
		for (i = 0; i + 8 <= n; i += 8) {
			v = rng_next(s);
			put64(p + i, (v & 7) == 0 ? 0 : 0xfffff80000000000ULL |
			    (addr & 0xfffff000000ULL) | ((v >> 8) & 0xfff8));
		}
		memset(p + i, 0, n - i);
		break;
	case 5: case 6:			/* code: skewed opcode bytes */
		for (i = 0; i < n; i++) {
			v = rng_next(s);
			p[i] = (v & 3) == 0 ? (uint8_t)(v >> 8) :
			    op[(v >> 8) % sizeof op];
		}
		break;
	case 7: case 8:			/* strings, ASCII or UTF-16LE */
		for (i = 0; i < n; i += l) {
			t = text[rng_next(s) % (sizeof text / sizeof text[0])];
			l = strlen(t);
			for (k = 0; k < l && i < n; k++) {
				p[i++] = (uint8_t)t[k];
				if (kind == 8 && i < n)
					p[i++] = 0;
			}
			l = 0;
		}
		break;
	default:			/* compressed data: random */
		rng_fill(s, p, n);
		break;
	}
}

/* The target's side of a dump: ACK the request, reply with memory. */
static size_t
make_dump(uint8_t *out, size_t size)
{
	uint8_t		pay[KD_MAX_PAYLOAD];
	uint64_t	s = 0x5eed, addr = 0xfffff80612340000ULL;
	uint32_t	id = KD_ID_INITIAL;
	size_t		o = 0;

	while (o + 16 + KD_MAX_PACKET <= size) {
		o += kd_build(out + o, KD_TYPE_ACKNOWLEDGE, id ^ 1, NULL, 0);
		memset(pay, 0, MANIP_HDR);
		pay[0] = 0x30;			/* ApiNumber ReadVirtualMemory */
		pay[1] = 0x31;
		put64(pay + 16, addr);		/* TargetBaseAddress */
		pay[24] = DUMP_DATA & 0xff;	/* TransferCount */
		pay[25] = DUMP_DATA >> 8;
		pay[28] = DUMP_DATA & 0xff;	/* ActualBytesRead */
		pay[29] = DUMP_DATA >> 8;
		memory(&s, addr, pay + MANIP_HDR, DUMP_DATA);
		o += kd_build(out + o, KD_TYPE_STATE_MANIPULATE, id, pay,
		    MANIP_HDR + DUMP_DATA);
		addr += DUMP_DATA;
		id ^= 1;
	}
	return o;
}

static size_t
make_session(uint8_t *out, size_t size, const char *path)
{
	struct kdtrace	t;
	char		err[256];
	size_t		i, o = 0;

	if (kdtrace_load(path, &t, err, sizeof err) != 0) {
		fprintf(stderr, "corebench: %s\n", err);
		exit(66);
	}
	if (t.n == 0) {
		fprintf(stderr, "corebench: %s: no packets\n", path);
		exit(65);
	}
	for (i = 0; o + t.recs[i].len <= size; i = (i + 1) % t.n) {
		memcpy(out + o, t.recs[i].pkt, t.recs[i].len);
		o += t.recs[i].len;
	}
	kdtrace_free(&t);
	return o;
}

static void
on_nop(void *arg, const struct kd_event *ev)
{
	(void)arg;
	(void)ev;
}

/* relay.c's brief listeners, the target-shutdown watch alone on. */
static void
on_target(void *arg, const struct kd_brief *b)
{
	tsd_from_target(arg, b);
}

static void
on_debugger(void *arg, const struct kd_brief *b)
{
	struct tsd	*t = arg;

	tsd_from_debugger(t, b, tsd_active(t) ? 1 : 0);
}

/*
 * The measured part: one read's bytes, processed in place.  Not inlined,
 * nor cloned (a constant slack, against an old core, made GCC specialise
 * it as process.constprop.0, which --toggle-collect=process missed).
 */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, noclone))
#else
__attribute__((noinline))
#endif
static size_t
process(struct stream *st, uint8_t *tail, size_t slack, size_t n)
{
	return stream_process(st, tail + slack, n, tail);
}

int
main(int argc, char **argv)
{
	struct stream	 st;
	struct tsd	 tsd;
	stream_event_cb	 on = NULL;
	stream_brief_cb	 brief = NULL;
	const char	*mode = "validate", *trace = NULL, *input;
	enum crlf_mode	 cm = CRLF_ON;
	uint64_t	 size = 4 << 20, chunk = 4096, s = 0x6a7;
	uint8_t		*in, *buf, *wire;
	size_t		 n, pos, len, slack, out = 0;
	int		 ch, corrupt = 0, validate = 1;

	while ((ch = getopt(argc, argv, "cl:m:s:k:f:")) != -1) {
		switch (ch) {
		case 'c': corrupt = 1; break;
		case 'm': mode = optarg; break;
		case 'l':
			if (strcmp(optarg, "nop") == 0)
				on = on_nop;
			else if (strcmp(optarg, "target") == 0)
				brief = on_target;
			else if (strcmp(optarg, "debugger") == 0)
				brief = on_debugger;
			else if (strcmp(optarg, "none") != 0)
				usage();
			break;
		case 's': size = parse_size(optarg); break;
		case 'k': chunk = parse_size(optarg); break;
		case 'f': trace = optarg; break;
		default: usage();
		}
	}
	if (optind + 1 != argc || chunk == 0 || size < KD_MAX_PACKET + 16)
		usage();
	input = argv[optind];
	if (strcmp(mode, "repair") == 0)
		validate = 0;
	else if (strcmp(mode, "auto") == 0)
		cm = CRLF_AUTO;
	else if (strcmp(mode, "plain") == 0)
		cm = CRLF_OFF;
	else if (strcmp(mode, "validate") != 0)
		usage();

	in = xmalloc(size);
	if (strcmp(input, "dump") == 0)
		n = make_dump(in, size);
	else if (strcmp(input, "session") == 0 && trace != NULL)
		n = make_session(in, size, trace);
	else if (strcmp(input, "garbage") == 0)
		rng_fill(&s, in, n = size);
	else
		usage();
	if (corrupt) {
		wire = xmalloc(2 * n);
		n = crlf_corrupt(in, n, wire);
		free(in);
		in = wire;
	}

	buf = xmalloc(chunk + STREAM_SLACK);
	tsd_init(&tsd);
	if (stream_init(&st, cm, 1, validate, on, NULL, &tsd) != 0) {
		fprintf(stderr, "corebench: out of memory\n");
		return 1;
	}
	stream_brief(&st, brief);
	for (pos = 0; pos < n; pos += len) {
		len = n - pos < chunk ? n - pos : chunk;
		slack = stream_slack(&st);
		memcpy(buf + slack, in + pos, len);	/* the read */
		out += process(&st, buf, slack, len);
	}
	out += stream_flush(&st, buf);
	if (out != st.c.bytes_out) {
		fprintf(stderr, "corebench: %zu bytes out, counted %llu\n",
		    out, (unsigned long long)st.c.bytes_out);
		return 1;
	}
	printf("corebench input=%s corrupt=%d mode=%s bytes=%zu out=%zu "
	    "removed=%llu packets=%llu bad=%llu garbage=%llu\n", input,
	    corrupt, mode, n, out, (unsigned long long)st.c.cr_removed,
	    (unsigned long long)(st.c.kd.data + st.c.kd.control),
	    (unsigned long long)(st.c.kd.bad_checksum + st.c.kd.bad_trailer +
	    st.c.kd.bad_type + st.c.kd.oversize),
	    (unsigned long long)st.c.kd.garbage);
	stream_free(&st);
	free(buf);
	free(in);
	return 0;
}
