/*
 * ptycrlf - the rival users run today on Qubes: a one-way CR LF repairing
 * copy between two ptys, in the manner of the ptycrlf utility from the
 * Qubes "Windows Debugging" page (written anew here, not copied).
 *
 *	ptycrlf FROM TO
 *
 * Like the original: one process per direction (run two), blocking
 * one-byte reads and writes, no termios setup (it relies on the ptys being
 * raw already), a 0x0d waits for the next byte however long that takes,
 * and it exits when FROM reads end of file or an error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int	out_fd;

static int
out(unsigned char c)
{
	return write(out_fd, &c, 1) == 1 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	unsigned char	c;
	int		in_fd;

	if (argc != 3) {
		fprintf(stderr, "usage: ptycrlf from to\n");
		return 64;
	}
	if ((in_fd = open(argv[1], O_RDONLY | O_NOCTTY)) == -1) {
		perror(argv[1]);
		return 66;
	}
	if ((out_fd = open(argv[2], O_WRONLY | O_NOCTTY)) == -1) {
		perror(argv[2]);
		return 73;
	}
	while (read(in_fd, &c, 1) == 1) {
again:
		if (c != 0x0d) {
			if (out(c) == -1)
				break;
			continue;
		}
		/* A CR: keep it only if no LF follows. */
		if (read(in_fd, &c, 1) != 1) {
			out(0x0d);
			break;
		}
		if (c == 0x0a) {
			if (out(0x0a) == -1)
				break;
			continue;
		}
		if (out(0x0d) == -1)
			break;
		goto again;
	}
	return 0;
}
