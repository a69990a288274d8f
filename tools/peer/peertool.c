/* peertool: the two helpers of the wget experiment (docs/BENCH-NET.md), one static
 * musl program that runs on the host, in the Linux peer guest and on Samsara.
 *
 *   peertool gen SEED BYTES   writes BYTES pseudo-random bytes (xorshift64* seeded with
 *                             SEED) to stdout: the server guest makes the test file with
 *                             it, the host the same bytes to know their sha256.
 *   peertool meter            copies stdin to stdout and then prints on stderr
 *                             "meter: bytes=N seconds=S maxgap=G at=A": S from the first
 *                             byte to the end of input, G the longest time without input
 *                             between the first byte and the end (what an application
 *                             sees of a stall), A when that gap began, from the first byte.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static uint64_t buf[CHUNK / sizeof(uint64_t)];

static int write_all(const void *data, size_t len) {
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(1, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int gen(uint64_t seed, uint64_t bytes) {
	/* xorshift64* (state never 0): fast enough under TCG, and the same everywhere */
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	if (x == 0)
		x = 1;
	while (bytes > 0) {
		for (size_t i = 0; i < CHUNK / sizeof(uint64_t); i++) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			buf[i] = x * 0x2545f4914f6cdd1dull;
		}
		size_t len = bytes < CHUNK ? (size_t)bytes : CHUNK;
		if (write_all(buf, len) < 0) {
			perror("peertool gen: write");
			return 1;
		}
		bytes -= len;
	}
	return 0;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int meter(void) {
	uint64_t total = 0;
	double first = 0, last = 0, maxgap = 0, gap_at = 0;
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("peertool meter: read");
			return 1;
		}
		double t = now();
		if (total == 0)
			first = last = t;
		if (t - last > maxgap) {
			maxgap = t - last;
			gap_at = last - first;
		}
		last = t;
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (write_all(buf, (size_t)n) < 0) {
			perror("peertool meter: write");
			return 1;
		}
	}
	fprintf(stderr, "meter: bytes=%llu seconds=%.3f maxgap=%.3f at=%.3f\n",
	        (unsigned long long)total, total ? last - first : 0.0, maxgap, gap_at);
	return 0;
}

int main(int argc, char **argv) {
	uint64_t seed, bytes;
	if (argc == 4 && strcmp(argv[1], "gen") == 0 && parse_u64(argv[2], &seed) == 0 &&
	    parse_u64(argv[3], &bytes) == 0)
		return gen(seed, bytes);
	if (argc == 2 && strcmp(argv[1], "meter") == 0)
		return meter();
	fprintf(stderr, "usage: peertool gen SEED BYTES | peertool meter\n");
	return 2;
}
