/* peertool: the helpers of the wget experiment (docs/BENCH-NET.md), one static musl
 * program that runs on the host, in the Linux peer guest and on Samsara.
 *
 *   peertool gen SEED BYTES   writes BYTES pseudo-random bytes (xorshift64* seeded with
 *                             SEED) to stdout: the server guest makes the test file with
 *                             it, the host the same bytes to know their sha256.
 *   peertool meter            copies stdin to stdout and then prints on stderr
 *                             "meter: bytes=N seconds=S maxgap=G at=A": S from the first
 *                             byte to the end of input, G the longest time without input
 *                             between the first byte and the end (what an application
 *                             sees of a stall), A when that gap began, from the first byte.
 *   peertool meter SEED BYTES the same, but instead of copying, compares the input with
 *                             `gen SEED BYTES` as it comes (much cheaper than a hash under
 *                             TCG) and adds "match=1" or "match=0 diff=OFFSET" (the first
 *                             differing byte, or the end of the shorter stream); exit
 *                             status 1 when they differ.
 *
 *   peertool files write|read DIR COUNT BYTES SEED
 *                             the small-file test of `make bench-disk` (docs/BENCH-DISK.md):
 *                             write makes COUNT files of BYTES bytes, 100 to a directory
 *                             (DIR/dD/fI), file I holding gen(SEED + I, BYTES); read reads
 *                             them back and compares; "files: bytes=... seconds=...
 *                             maxgap=... at=... files=N bad=K" (one step per file), exit
 *                             status 1 when any file is missing or wrong.
 *
 * With PEERTOOL_GAPS_MS=N in the environment, meter (and files) also prints every gap of at
 * least N ms (the first GAPS_MAX of them) on stderr after its line, one "meter: gap START LEN":
 * START on CLOCK_MONOTONIC (on Samsara the kernel's clock, the one rs's log shows), LEN in
 * seconds. bench-net matches them with the moments rs killed the driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define GAPS_MAX 4096

static uint64_t buf[CHUNK / sizeof(uint64_t)];
static uint64_t want[CHUNK / sizeof(uint64_t)];
static double gap_start[GAPS_MAX], gap_len[GAPS_MAX];

/* xorshift64* (state never 0): fast enough under TCG, and the same everywhere. The
 * stream is the words' bytes in little-endian order; `have` bytes of `word` are left. */
struct gen {
    uint64_t x, word;
    unsigned have;
};

static void gen_init(struct gen *g, uint64_t seed)
{
    g->x = seed * 0x9e3779b97f4a7c15ull + 1;
    if (g->x == 0)
        g->x = 1;
    g->have = 0;
}

static uint64_t gen_word(struct gen *g)
{
    g->x ^= g->x >> 12;
    g->x ^= g->x << 25;
    g->x ^= g->x >> 27;
    return g->x * 0x2545f4914f6cdd1dull;
}

/* The next n bytes of the stream into out. */
static void gen_fill(struct gen *g, unsigned char *out, size_t n)
{
    while (n > 0 && g->have > 0) {
        *out++ = (unsigned char)(g->word >> (8 * (8 - g->have)));
        g->have--;
        n--;
    }
    for (; n >= 8; n -= 8, out += 8) {
        uint64_t w = gen_word(g);
        memcpy(out, &w, 8);
    }
    if (n > 0) {
        g->word = gen_word(g);
        g->have = 8;
        gen_fill(g, out, n);
    }
}

static int write_all(const void *data, size_t len)
{
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

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int gen(uint64_t seed, uint64_t bytes)
{
    struct gen g;
    gen_init(&g, seed);
    while (bytes > 0) {
        size_t len = bytes < CHUNK ? (size_t)bytes : CHUNK;
        gen_fill(&g, (unsigned char *)buf, len);
        if (write_all(buf, len) < 0) {
            perror("peertool gen: write");
            return 1;
        }
        bytes -= len;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Progress as an application sees it: the time of each step (a read of input, a file
 * done), the longest time between two steps, and (with PEERTOOL_GAPS_MS) every gap of at
 * least that long. */
struct progress {
    double first, last, maxgap, gap_at, gap_min;
    unsigned gaps;
    int started;
};

static void progress_init(struct progress *p)
{
    const char *env = getenv("PEERTOOL_GAPS_MS");
    memset(p, 0, sizeof *p);
    p->gap_min = env && *env ? atof(env) / 1000 : -1;
}

static void progress_step(struct progress *p)
{
    double t = now();
    if (!p->started) {
        p->first = p->last = t;
        p->started = 1;
    }
    if (t - p->last > p->maxgap) {
        p->maxgap = t - p->last;
        p->gap_at = p->last - p->first;
    }
    if (p->gap_min >= 0 && t - p->last >= p->gap_min && t > p->last && p->gaps < GAPS_MAX) {
        gap_start[p->gaps] = p->last;
        gap_len[p->gaps++] = t - p->last;
    }
    p->last = t;
}

/* "NAME: bytes=N seconds=S maxgap=G at=A" without the newline. */
static void progress_print(const struct progress *p, const char *name, uint64_t bytes)
{
    fprintf(stderr, "%s: bytes=%llu seconds=%.3f maxgap=%.3f at=%.3f", name,
            (unsigned long long)bytes, p->last - p->first, p->maxgap, p->gap_at);
}

static void progress_gaps(const struct progress *p)
{
    for (unsigned i = 0; i < p->gaps; i++)
        fprintf(stderr, "meter: gap %.3f %.3f\n", gap_start[i], gap_len[i]);
}

/* compare: check the input against gen(seed, bytes) instead of copying it out. */
static int meter(int compare, uint64_t seed, uint64_t bytes)
{
    struct gen g;
    struct progress p;
    uint64_t total = 0, diff = UINT64_MAX;
    progress_init(&p);
    gen_init(&g, seed);
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("peertool meter: read");
            return 1;
        }
        progress_step(&p);
        if (n == 0)
            break;
        if (!compare) {
            if (write_all(buf, (size_t)n) < 0) {
                perror("peertool meter: write");
                return 1;
            }
        } else if (diff == UINT64_MAX) {
            size_t len = (size_t)n;
            if (total >= bytes)
                diff = bytes;
            else {
                if (len > bytes - total)
                    len = (size_t)(bytes - total);
                gen_fill(&g, (unsigned char *)want, len);
                if (memcmp(buf, want, len) != 0) {
                    const unsigned char *a = (void *)buf, *b = (void *)want;
                    size_t i = 0;
                    while (a[i] == b[i])
                        i++;
                    diff = total + i;
                } else if (len < (size_t)n)
                    diff = bytes; /* longer than expected */
            }
        }
        total += (uint64_t)n;
    }
    if (compare && diff == UINT64_MAX && total != bytes)
        diff = total; /* shorter than expected */
    progress_print(&p, "meter", total);
    if (compare && diff == UINT64_MAX)
        fprintf(stderr, " match=1");
    else if (compare)
        fprintf(stderr, " match=0 diff=%llu", (unsigned long long)diff);
    fprintf(stderr, "\n");
    progress_gaps(&p);
    return compare && diff != UINT64_MAX;
}

#define FILES_PER_DIR 100

/* File i of a small-file set: DIR/dD/fI with D = i / FILES_PER_DIR. */
static int file_path(char *out, size_t size, const char *dir, uint64_t i)
{
    int n = snprintf(out, size, "%s/d%llu/f%llu", dir, (unsigned long long)(i / FILES_PER_DIR),
                     (unsigned long long)i);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* files write|read DIR COUNT BYTES SEED: COUNT files of BYTES bytes each (at most CHUNK), file
 * i holding gen(SEED + i, BYTES), FILES_PER_DIR to a directory; write makes them (DIR must
 * exist), read reads each back and compares. Progress is one step per file. Prints
 * "files: bytes=... seconds=... maxgap=... at=... files=N bad=K" (and the first bad file). */
static int files(int writing, const char *dir, uint64_t count, uint64_t bytes, uint64_t seed)
{
    struct progress p;
    char path[4096], first_bad[4096] = "";
    uint64_t done = 0, bad = 0;
    if (bytes > CHUNK) {
        fprintf(stderr, "peertool files: at most %d bytes a file\n", CHUNK);
        return 2;
    }
    progress_init(&p);
    progress_step(&p);
    for (uint64_t i = 0; i < count; i++) {
        struct gen g;
        gen_init(&g, seed + i);
        gen_fill(&g, (unsigned char *)want, (size_t)bytes);
        if (file_path(path, sizeof path, dir, i) < 0) {
            fprintf(stderr, "peertool files: path too long\n");
            return 2;
        }
        int ok = 0;
        if (writing) {
            if (i % FILES_PER_DIR == 0) {
                char *slash = strrchr(path, '/');
                *slash = 0;
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                    perror(path);
                *slash = '/';
            }
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ssize_t n = write(fd, want, (size_t)bytes);
                ok = close(fd) == 0 && n == (ssize_t)bytes;
            }
        } else {
            int fd = open(path, O_RDONLY);
            if (fd >= 0) {
                ssize_t n = read(fd, buf, (size_t)bytes + 1);
                ok = n == (ssize_t)bytes && memcmp(buf, want, (size_t)bytes) == 0;
                close(fd);
            }
        }
        if (ok)
            done++;
        else if (bad++ == 0)
            snprintf(first_bad, sizeof first_bad, "%s", path);
        progress_step(&p);
    }
    progress_print(&p, "files", done * bytes);
    fprintf(stderr, " files=%llu bad=%llu%s%s\n", (unsigned long long)done, (unsigned long long)bad,
            bad ? " first_bad=" : "", first_bad);
    progress_gaps(&p);
    return bad != 0;
}

int main(int argc, char **argv)
{
    uint64_t seed, bytes;
    if (argc == 4 && strcmp(argv[1], "gen") == 0 && parse_u64(argv[2], &seed) == 0 &&
        parse_u64(argv[3], &bytes) == 0)
        return gen(seed, bytes);
    if (argc == 2 && strcmp(argv[1], "meter") == 0)
        return meter(0, 0, 0);
    if (argc == 4 && strcmp(argv[1], "meter") == 0 && parse_u64(argv[2], &seed) == 0 &&
        parse_u64(argv[3], &bytes) == 0)
        return meter(1, seed, bytes);
    uint64_t count;
    if (argc == 7 && strcmp(argv[1], "files") == 0 &&
        (strcmp(argv[2], "write") == 0 || strcmp(argv[2], "read") == 0) &&
        parse_u64(argv[4], &count) == 0 && parse_u64(argv[5], &bytes) == 0 &&
        parse_u64(argv[6], &seed) == 0)
        return files(argv[2][0] == 'w', argv[3], count, bytes, seed);
    fprintf(stderr, "usage: peertool gen SEED BYTES | peertool meter [SEED BYTES] |\n"
                    "       peertool files write|read DIR COUNT BYTES SEED\n");
    return 2;
}
