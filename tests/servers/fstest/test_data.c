/*
 * File data: reads and writes at offsets and across blocks, reads past
 * the end, holes, truncation (and that a shrink clears the tail so a later
 * growth shows zeros), an 8 MiB file through the indirect and
 * double-indirect index, the wrong kinds of inode, and running out of
 * memory: write until ENOSPC, delete, and get the space back.
 */
#include "fstest.h"

static uint8_t buf2[1 << 16];

static int rw_offsets(void)
{
    uint64_t d, f;
    EXPECT(fs_scratch("rw", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    EXPECT(fs_write(f, 0, "hello world", 11), 11);
    EXPECT(fs_size(f), 11);
    EXPECT(fs_write(f, 6, "WORLD!", 6), 6);
    EXPECT(fs_size(f), 12);
    EXPECT(fs_read(f, 0, big, 100), 12);
    EXPECT(memcmp(big, "hello WORLD!", 12), 0);
    EXPECT(fs_read(f, 6, big, 3), 3);
    EXPECT(memcmp(big, "WOR", 3), 0);
    EXPECT(fs_read(f, 10, big, 100), 2);   /* partial at the end */
    EXPECT(fs_read(f, 12, big, 100), 0);   /* at the end */
    EXPECT(fs_read(f, 1000, big, 100), 0); /* past the end */
    EXPECT(fs_read(f, (uint64_t)-1, big, 100), 0);
    EXPECT(fs_read(f, 0, big, 0), 0);
    EXPECT(fs_write(f, 0, big, 0), 0);
    EXPECT(fs_size(f), 12);
    /* across block boundaries */
    for (int i = 0; i < 20000; i++)
        big[i] = pattern((uint64_t)i, 7);
    EXPECT(fs_write(f, 4090, big, 20000), 20000);
    EXPECT(fs_size(f), 24090);
    EXPECT(fs_read(f, 4090, buf2, 20000), 20000);
    EXPECT(memcmp(buf2, big, 20000), 0);
    EXPECT(fs_read(f, 8191, buf2, 2), 2);
    EXPECT(memcmp(buf2, big + 8191 - 4090, 2), 0);
    EXPECT(fs_read(f, 0, buf2, 12), 12);
    EXPECT(memcmp(buf2, "hello WORLD!", 12), 0);
    /* a large offset: the indirect index */
    EXPECT(fs_write(f, 3000000, "far", 3), 3);
    EXPECT(fs_read(f, 2999999, buf2, 10), 4);
    EXPECT(memcmp(buf2, "\0far", 4), 0);
    return 0;
}

static int all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static int holes(void)
{
    uint64_t d, f;
    EXPECT(fs_scratch("holes", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    uint64_t before = fs_bfree();
    EXPECT(fs_write(f, 100000, "tail", 4), 4);
    EXPECT(fs_size(f), 100004);
    CHECK(before - fs_bfree() <= 2); /* a sparse 100 KB file: one block, one index page */
    memset(big, 0xff, sizeof(big));
    EXPECT(fs_read(f, 0, big, 65536), 65536);
    CHECK(all_zero(big, 65536));
    EXPECT(fs_read(f, 65536, big, 65536), 100004 - 65536);
    CHECK(all_zero(big, 100000 - 65536));
    EXPECT(memcmp(big + 100000 - 65536, "tail", 4), 0);
    /* shrink into a block, grow again: the old bytes must not come back */
    memset(big, 'A', 300);
    EXPECT(fs_write(f, 0, big, 300), 300);
    EXPECT(fs_trunc(f, 50), 0);
    EXPECT(fs_size(f), 50);
    EXPECT(fs_trunc(f, 200), 0);
    EXPECT(fs_read(f, 0, big, 300), 200);
    for (int i = 0; i < 50; i++)
        CHECK(big[i] == 'A');
    CHECK(all_zero(big + 50, 150));
    EXPECT(fs_trunc(f, 10), 0);
    EXPECT(fs_write(f, 5000, "x", 1), 1);
    EXPECT(fs_read(f, 0, big, 6000), 5001);
    CHECK(all_zero(big + 10, 4990));
    return 0;
}

static int truncate(void)
{
    uint64_t d, f, ino;
    EXPECT(fs_scratch("trunc", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    uint64_t before = fs_bfree();
    for (int i = 0; i < 65536; i++)
        big[i] = pattern((uint64_t)i, 3);
    EXPECT(fs_write(f, 0, big, 65536), 65536);
    CHECK(before - fs_bfree() >= 16);
    EXPECT(fs_trunc(f, 4096), 0);
    EXPECT(fs_size(f), 4096);
    CHECK(before - fs_bfree() <= 2);
    EXPECT(fs_read(f, 0, buf2, 65536), 4096);
    EXPECT(memcmp(buf2, big, 4096), 0);
    EXPECT(fs_trunc(f, 0), 0);
    EXPECT(fs_read(f, 0, buf2, 10), 0);
    EXPECT(fs_trunc(f, 1 << 20), 0); /* grow: a hole */
    EXPECT(fs_size(f), 1 << 20);
    EXPECT(fs_read(f, (1 << 20) - 10, buf2, 100), 10);
    CHECK(all_zero(buf2, 10));
    EXPECT(fs_trunc(f, 1ull << 40), -LX_EFBIG);
    EXPECT(fs_write(f, 1ull << 40, "x", 1), -LX_EFBIG);
    EXPECT(fs_trunc(d, 0), -LX_EISDIR);
    EXPECT(fs_walk("bin/sh", &ino), 0);
    EXPECT(fs_trunc(ino, 0), -LX_EINVAL);
    return 0;
}

static int wrong_kinds(void)
{
    uint64_t ino;
    EXPECT(fs_read(FS_ROOT_INO, 0, big, 10), -LX_EISDIR);
    EXPECT(fs_write(FS_ROOT_INO, 0, big, 10), -LX_EISDIR);
    EXPECT(fs_walk("dev/console", &ino), 0);
    EXPECT(fs_read(ino, 0, big, 10), -LX_EINVAL);
    EXPECT(fs_write(ino, 0, big, 10), -LX_EINVAL);
    EXPECT(fs_walk("tmp/fifo", &ino), 0);
    EXPECT(fs_read(ino, 0, big, 10), -LX_EINVAL);
    EXPECT(fs_walk("bin/sh", &ino), 0);
    EXPECT(fs_read(ino, 0, big, 10), -LX_EINVAL);
    EXPECT(fs_readlink(FS_ROOT_INO, (char *)big, 10), -LX_EINVAL);
    EXPECT(fs_walk("bin/hello", &ino), 0);
    EXPECT(fs_readlink(ino, (char *)big, 10), -LX_EINVAL);
    return 0;
}

/* 8 MiB in 64 KiB writes, then read back whole and at the index seams. */
static int big_file(void)
{
    uint64_t d, f;
    const uint64_t size = 8 << 20;
    EXPECT(fs_scratch("big", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0755, 0, &f), 0);
    for (uint64_t off = 0; off < size; off += sizeof(big)) {
        for (uint64_t i = 0; i < sizeof(big); i++)
            big[i] = pattern(off + i, 11);
        EXPECT(fs_write(f, off, big, sizeof(big)), sizeof(big));
    }
    EXPECT(fs_size(f), size);
    for (uint64_t off = 0; off < size; off += sizeof(big)) {
        EXPECT(fs_read(f, off, big, sizeof(big)), sizeof(big));
        for (uint64_t i = 0; i < sizeof(big); i++)
            if (big[i] != pattern(off + i, 11))
                EXPECT(off + i, -1); /* report the offset */
    }
    /* the seams: direct -> indirect (32 KiB), indirect -> double (2 MiB + 32 KiB) */
    const uint64_t seams[] = {8 * 4096, (8 + 512) * 4096, (8 + 512 + 512) * 4096};
    for (int s = 0; s < 3; s++) {
        EXPECT(fs_read(f, seams[s] - 3, big, 6), 6);
        for (uint64_t i = 0; i < 6; i++)
            EXPECT(big[i], pattern(seams[s] - 3 + i, 11));
    }
    uint64_t before = fs_bfree();
    EXPECT(fs_unlink(d, "f"), 0);
    EXPECT(fs_putnode(f), 0);
    CHECK(fs_bfree() - before >= 2048);
    return 0;
}

static int enospc(void)
{
    uint64_t d, f, total = 0, again = 0;
    int64_t r;
    EXPECT(fs_scratch("full", &d), 0);
    uint64_t before = fs_bfree();
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    memset(big, 0x5a, sizeof(big));
    while ((r = fs_write(f, total, big, sizeof(big))) == (int64_t)sizeof(big))
        total += sizeof(big);
    CHECK(r >= 0 || r == -LX_ENOSPC);
    total += r > 0 ? (uint64_t)r : 0;
    printf("fstest: wrote %lu KiB before ENOSPC\n", total >> 10);
    CHECK(total > (32u << 20));
    EXPECT(fs_write(f, total, big, sizeof(big)), -LX_ENOSPC);
    EXPECT(fs_size(f), total);
    CHECK(fs_bfree() < 8);
    /* still readable at the end; other requests still work */
    EXPECT(fs_read(f, total - 10, big, 100), 10);
    CHECK(big[0] == 0x5a && big[9] == 0x5a);
    uint64_t ino;
    EXPECT(fs_lookup(FS_ROOT_INO, "etc", &ino), 0);
    /* give it back: unlink, and drop our reference from CREATE */
    EXPECT(fs_unlink(d, "f"), 0);
    CHECK(fs_bfree() < 8); /* still referenced */
    EXPECT(fs_putnode(f), 0);
    CHECK(fs_bfree() + 4 >= before);
    /* and the same amount fits again */
    memset(big, 0xa5, sizeof(big));
    EXPECT(fs_create(d, "g", S_IFREG | 0644, 0, &f), 0);
    while (again < total && (r = fs_write(f, again, big, sizeof(big))) > 0)
        again += (uint64_t)r;
    CHECK(again >= total);
    EXPECT(fs_trunc(f, 0), 0);
    CHECK(fs_bfree() + 4 >= before);
    EXPECT(fs_unlink(d, "g"), 0);
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_rmdir(FS_ROOT_INO, "full"), 0);
    return 0;
}

/*
 * A write that fails (a grant that cannot be copied from) keeps no block and
 * no index page: before, each one left up to three pages in a file whose
 * size never grew, memory no one saw and only unlink gave back.
 */
static int failed_write_keeps_nothing(void)
{
    uint64_t d, f;
    EXPECT(fs_scratch("failw", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    EXPECT(fs_write(f, 0, "x", 1), 1);
    uint64_t before = fs_bfree();
    for (uint64_t i = 1; i < 64; i++) {
        message_t m = {.type = FS_WRITE, .u.fs.write = {f, i << 24, 0x7ffffff0, 4096}};
        EXPECT(fs_call(&m), -LX_EFAULT);
    }
    EXPECT(fs_size(f), 1);
    EXPECT(fs_bfree(), before);
    EXPECT(fs_read(f, 0, buf2, 10), 1);
    EXPECT(buf2[0], 'x');
    return 0;
}

const struct fstest data_tests[] = {
    {"rw_offsets", rw_offsets},
    {"holes", holes},
    {"truncate", truncate},
    {"wrong_kinds", wrong_kinds},
    {"big_file", big_file},
    {"enospc", enospc},
    {"failed_write_keeps_nothing", failed_write_keeps_nothing},
    {0, 0},
};
