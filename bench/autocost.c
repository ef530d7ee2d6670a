/*
 * autocost - what crlf=auto costs the relay's pure core once detected.
 *
 *	autocost on|auto [-g GUESS] [-s SIZE]
 *
 * Feeds SIZE bytes (default 64M) of a corrupting line's KDCOM (4000-byte
 * memory-dump packets, bench.h) through one stream (stream.c) in 64 KiB
 * reads, in place as the relay does it (out = in - stream_slack()), and
 * checks that the original packets come out.  With auto the first packet
 * is held until it validates repaired, and from then on the direction is
 * settled; -g 1 starts auto from the right guess (repair on), which a
 * core from before lossless detection also survives.  Run both modes under `valgrind --tool=callgrind`: the same
 * setup, so the difference of their instruction counts is what auto adds
 * (bench/run.sh, section 7, divides it by the bytes).  It also builds
 * against a core from before lossless detection, for the before/after.  Prints one line:
 * mode, bytes in, bytes out, switches, ns per byte.
 */
#include "bench.h"
#include "stream.h"

#define READ	65536

/* Also builds against the core before lossless detection, to compare. */
#ifndef STREAM_SLACK
#define STREAM_SLACK		1
#define stream_slack(s)		1
#endif

int
main(int argc, char **argv)
{
	struct cycle	 cyc;
	struct cpos	 in, want;
	struct stream	*s;
	enum crlf_mode	 mode;
	uint64_t	 size = 64ull << 20;
	uint8_t		*buf;
	const uint8_t	*run;
	size_t		 n, got, slack, len;
	int64_t		 t0, t1;
	int		 c, guess = 0;

	if (argc < 2 || crlf_mode_parse(argv[1], &mode) == -1 ||
	    mode == CRLF_OFF) {
		fprintf(stderr, "usage: autocost on|auto [-g guess] "
		    "[-s size]\n");
		return 64;
	}
	optind = 2;
	while ((c = getopt(argc, argv, "g:s:")) != -1) {
		if (c == 'g')
			guess = atoi(optarg) != 0;
		else if (c == 's')
			size = parse_size(optarg);
		else {
			fprintf(stderr, "usage: autocost on|auto [-g guess] "
			    "[-s size]\n");
			return 64;
		}
	}
	cycle_make(&cyc, 64, 4000, 7);
	cpos_init(&in, cyc.wire, cyc.wlen, 0);
	cpos_init(&want, cyc.orig, cyc.olen, 0);
	buf = xmalloc(STREAM_SLACK + READ);
	s = xmalloc(sizeof *s);
	if (stream_init(s, mode, guess, 1, NULL, NULL, NULL) != 0) {
		fprintf(stderr, "autocost: out of memory\n");
		return 1;
	}
	t0 = now_ns();
	while (in.done < size) {
		slack = stream_slack(s);
		for (n = 0; n < READ; n += len) {
			run = cpos_run(&in, READ - n, &len);
			memcpy(buf + slack + n, run, len);
			cpos_advance(&in, len);
		}
		got = stream_process(s, buf + slack, READ, buf);
		if (cpos_check(&want, buf, got) != 0) {
			fprintf(stderr, "autocost: wrong bytes out\n");
			return 1;
		}
	}
	t1 = now_ns();
	printf("autocost mode=%s bytes=%llu out=%llu switches=%llu "
	    "ns_per_byte=%.3f\n", argv[1], (unsigned long long)s->c.bytes_in,
	    (unsigned long long)s->c.bytes_out,
	    (unsigned long long)s->c.switches,
	    (double)(t1 - t0) / (double)s->c.bytes_in);
	return 0;
}
