/*
 * Directory listing: the linux_dirent64 records (8-byte aligned lengths,
 * NUL-terminated names, d_type, d_off = the next cookie), "." and "..",
 * continuation with small buffers, EINVAL when not one record fits, and a
 * directory of 1000 files (more than one page of slots) created, listed,
 * emptied and removed.
 */
#include "fstest.h"

#define MAX_SEEN 1100

static char seen[MAX_SEEN][32];
static uint64_t seen_ino[MAX_SEEN];
static uint8_t seen_type[MAX_SEEN];
static int nseen;

/* List dir with buffers of bufsize bytes; check every record's shape. */
static int list(uint64_t dir, uint64_t bufsize)
{
    static uint8_t buf[8192];
    uint64_t cookie = 0;
    int calls = 0;
    nseen = 0;
    for (;;) {
        int64_t n = fs_getdents(dir, &cookie, buf, bufsize);
        CHECK(n >= 0);
        CHECK((uint64_t)n <= bufsize);
        if (n == 0)
            break;
        calls++;
        for (int64_t off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            CHECK(d->d_reclen >= 24 && d->d_reclen % 8 == 0);
            CHECK(off + d->d_reclen <= n);
            uint64_t len = strlen(d->d_name);
            CHECK(19 + len + 1 <= d->d_reclen);
            CHECK(nseen < MAX_SEEN);
            strncpy_s(seen[nseen], d->d_name, sizeof(seen[0]));
            seen_ino[nseen] = d->d_ino;
            seen_type[nseen] = d->d_type;
            nseen++;
            off += d->d_reclen;
            /* d_off: where to continue after this record; the reply's cookie
             * may be further on, past holes */
            CHECK(d->d_off > 0 && (uint64_t)d->d_off <= cookie);
        }
        CHECK(calls < 5000);
    }
    return 0;
}

static int find(const char *name)
{
    int at = -1;
    for (int i = 0; i < nseen; i++)
        if (!strcmp(seen[i], name)) {
            if (at >= 0)
                return -2; /* twice */
            at = i;
        }
    return at;
}

static int getdents_records(void)
{
    uint64_t d, sub, f, s, ino;
    EXPECT(fs_scratch("gd", &d), 0);
    EXPECT(fs_mkdir(d, "sub", &sub), 0);
    EXPECT(fs_mkfile(d, "file", "x", 1, &f), 0);
    EXPECT(fs_symlink(d, "link", "file", &s), 0);
    EXPECT(fs_create(d, "tty", S_IFCHR | 0600, 0x401, &ino), 0);
    EXPECT(fs_create(d, "fifo", S_IFIFO | 0600, 0, &ino), 0);
    if (list(d, 4096))
        return 1;
    EXPECT(nseen, 7);
    int i;
    EXPECT((i = find(".")) >= 0, 1);
    EXPECT(seen_ino[i], d);
    EXPECT(seen_type[i], 4);
    EXPECT((i = find("..")) >= 0, 1);
    EXPECT(seen_ino[i], FS_ROOT_INO);
    EXPECT((i = find("sub")) >= 0, 1);
    EXPECT(seen_ino[i], sub);
    EXPECT(seen_type[i], 4);
    EXPECT((i = find("file")) >= 0, 1);
    EXPECT(seen_ino[i], f);
    EXPECT(seen_type[i], 8);
    EXPECT((i = find("link")) >= 0, 1);
    EXPECT(seen_type[i], 10);
    EXPECT((i = find("tty")) >= 0, 1);
    EXPECT(seen_type[i], 2);
    EXPECT((i = find("fifo")) >= 0, 1);
    EXPECT(seen_type[i], 1);
    /* ".." of a subdirectory */
    if (list(sub, 4096))
        return 1;
    EXPECT(nseen, 2);
    EXPECT(seen_ino[find("..")], d);
    /* too small for one record: EINVAL; at the end: 0 whatever the size */
    uint64_t cookie = 0;
    EXPECT(fs_getdents(d, &cookie, big, 23), -LX_EINVAL);
    EXPECT(fs_getdents(d, &cookie, big, 0), -LX_EINVAL);
    EXPECT(fs_getdents(d, &cookie, big, 24), 24); /* "." alone */
    EXPECT(cookie, 1);
    cookie = 1000000;
    EXPECT(fs_getdents(d, &cookie, big, 4096), 0);
    cookie = (uint64_t)-1;
    EXPECT(fs_getdents(d, &cookie, big, 4096), 0);
    EXPECT(fs_getdents(f, &cookie, big, 4096), -LX_ENOTDIR);
    return 0;
}

static int getdents_small(void)
{
    uint64_t d, ino;
    char name[64];
    EXPECT(fs_scratch("gds", &d), 0);
    for (int i = 0; i < 40; i++) {
        int len = snprintf_s(name, sizeof(name), "entry%d", i);
        for (int j = len; j < len + i % 13; j++) /* lengths vary */
            name[j] = 'x';
        name[len + i % 13] = '\0';
        EXPECT(fs_create(d, name, S_IFREG | 0644, 0, &ino), 0);
    }
    /* the longest record is 40 bytes ("entry39" and 12 x's) */
    const uint64_t sizes[] = {40, 48, 64, 100, 333, 4096, 8192};
    for (int s = 0; s < 7; s++) {
        if (list(d, sizes[s]))
            return 1;
        EXPECT(nseen, 42);
        for (int i = 0; i < 40; i++) {
            int len = snprintf_s(name, sizeof(name), "entry%d", i);
            for (int j = len; j < len + i % 13; j++)
                name[j] = 'x';
            name[len + i % 13] = '\0';
            EXPECT(find(name) >= 0, 1);
        }
    }
    /* 32 bytes fit the short records only: EINVAL at the first long one
     * ("entry7" and 7 x's), which the same cookie then gets with 40 */
    uint64_t c = 0;
    int64_t n;
    int calls = 0;
    while ((n = fs_getdents(d, &c, big, 32)) > 0)
        calls++;
    EXPECT(n, -LX_EINVAL);
    EXPECT(calls, 2 + 7);
    EXPECT(fs_getdents(d, &c, big, 40), 40);
    EXPECT(strlen(((struct dirent64 *)big)->d_name), 13);
    /* remove every other entry in the middle of a listing; list again */
    uint64_t cookie = 0;
    EXPECT(fs_getdents(d, &cookie, big, 200) > 0, 1);
    for (int i = 0; i < 40; i += 2) {
        int len = snprintf_s(name, sizeof(name), "entry%d", i);
        for (int j = len; j < len + i % 13; j++)
            name[j] = 'x';
        name[len + i % 13] = '\0';
        EXPECT(fs_unlink(d, name), 0);
    }
    if (list(d, 64))
        return 1;
    EXPECT(nseen, 22);
    return 0;
}

static int many_files(void)
{
    uint64_t d, ino;
    char name[32];
    EXPECT(fs_scratch("many", &d), 0);
    uint64_t before = fs_bfree();
    for (int i = 0; i < 1000; i++) {
        snprintf_s(name, sizeof(name), "f%04d", i);
        EXPECT(fs_create(d, name, S_IFREG | 0644, 0, &ino), 0);
        EXPECT(fs_write(ino, 0, name, 5), 5);
        EXPECT(fs_putnode(ino), 0);
    }
    for (int i = 999; i >= 0; i -= 7) {
        snprintf_s(name, sizeof(name), "f%04d", i);
        EXPECT(fs_lookup(d, name, &ino), 0);
        EXPECT(fs_read(ino, 0, big, 100), 5);
        EXPECT(memcmp(big, name, 5), 0);
        EXPECT(fs_putnode(ino), 0);
    }
    if (list(d, 1024))
        return 1;
    EXPECT(nseen, 1002);
    for (int i = 0; i < 1000; i++) {
        snprintf_s(name, sizeof(name), "f%04d", i);
        EXPECT(find(name) >= 0, 1);
    }
    EXPECT(fs_rmdir(FS_ROOT_INO, "many"), -LX_ENOTEMPTY);
    for (int i = 0; i < 1000; i++) {
        snprintf_s(name, sizeof(name), "f%04d", i);
        EXPECT(fs_unlink(d, name), 0);
    }
    if (list(d, 1024))
        return 1;
    EXPECT(nseen, 2);
    /* every block came back (inodes and names stay in ramfs's object pools) */
    CHECK(fs_bfree() + 100 >= before);
    EXPECT(fs_putnode(d), 0);
    EXPECT(fs_rmdir(FS_ROOT_INO, "many"), 0);
    EXPECT(fs_stat(d, (struct fs_stat *)big), -LX_EINVAL);
    return 0;
}

const struct fstest dir_tests[] = {
    {"getdents_records", getdents_records},
    {"getdents_small", getdents_small},
    {"many_files", many_files},
    {0, 0},
};
