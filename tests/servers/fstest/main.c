/*
 * fstest's runner and its FS_* client: each request makes grants for its
 * buffers (lib/sys/grant.c), does one sendrec to ramfs, frees the grants,
 * and returns the reply's w0 (keeping the whole reply in fs_last). ramfs
 * is found with ROOT_LOOKUP. lib/test runs the tests, prints one TEST line
 * per test and a summary, and exits QEMU (status 1 if every test passed,
 * 3 otherwise).
 */
#include "fstest.h"

endpoint_t fs_ep;
message_t fs_last;
uint8_t big[1 << 16];

int64_t fs_call(message_t *m)
{
    int r = ipc_sendrec(fs_ep, m);
    fs_last = *m;
    if (r < 0) {
        printf("fstest: sendrec to ramfs failed: %s\n", strerror_s(r));
        return IPC_FAILED + r;
    }
    if (m->type != FS_REPLY)
        return IPC_FAILED;
    return (int64_t)m->u.w[0];
}

/* A request with one buffer granted at word gw (-1: none). */
static int64_t call1(int type, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t w4,
                     int gw, const void *buf, uint64_t len, uint32_t access)
{
    message_t m = {.type = type, .u.w = {w0, w1, w2, w3, w4}};
    grant_id_t g = -1;
    if (gw >= 0) {
        g = grant_alloc(fs_ep, buf, len, access);
        if (g < 0)
            return IPC_FAILED;
        m.u.w[gw] = (uint64_t)g;
    }
    int64_t r = fs_call(&m);
    if (g >= 0)
        grant_free(g);
    return r;
}

int64_t fs_lookup_raw(uint64_t dir, const void *name, uint64_t len, uint64_t *ino)
{
    int64_t r = call1(FS_LOOKUP, dir, 0, len, 0, 0, 1, name, len, GRANT_READ);
    if (r == 0 && ino)
        *ino = fs_last.u.w[1];
    return r;
}

int64_t fs_lookup(uint64_t dir, const char *name, uint64_t *ino)
{
    return fs_lookup_raw(dir, name, strlen(name), ino);
}

int64_t fs_create(uint64_t dir, const char *name, uint64_t mode, uint64_t rdev, uint64_t *ino)
{
    uint64_t len = strlen(name);
    int64_t r = call1(FS_CREATE, dir, 0, len, mode, rdev, 1, name, len, GRANT_READ);
    if (r == 0 && ino)
        *ino = fs_last.u.w[1];
    return r;
}

int64_t fs_mkdir(uint64_t dir, const char *name, uint64_t *ino)
{
    return fs_create(dir, name, S_IFDIR | 0755, 0, ino);
}

/* "a NUL b" in one buffer */
static uint64_t pack(char *buf, const char *a, const char *b)
{
    uint64_t la = strlen(a), lb = strlen(b);
    memcpy(buf, a, la);
    buf[la] = '\0';
    memcpy(buf + la + 1, b, lb);
    return la + 1 + lb;
}

int64_t fs_symlink(uint64_t dir, const char *name, const char *target, uint64_t *ino)
{
    static char buf[8192];
    uint64_t len = pack(buf, name, target);
    int64_t r = call1(FS_SYMLINK, dir, 0, len, 0, 0, 1, buf, len, GRANT_READ);
    if (r == 0 && ino)
        *ino = fs_last.u.w[1];
    return r;
}

int64_t fs_link(uint64_t dir, const char *name, uint64_t ino)
{
    uint64_t len = strlen(name);
    return call1(FS_LINK, dir, 0, len, ino, 0, 1, name, len, GRANT_READ);
}

int64_t fs_unlink(uint64_t dir, const char *name)
{
    uint64_t len = strlen(name);
    return call1(FS_UNLINK, dir, 0, len, 0, 0, 1, name, len, GRANT_READ);
}

int64_t fs_rmdir(uint64_t dir, const char *name)
{
    uint64_t len = strlen(name);
    return call1(FS_RMDIR, dir, 0, len, 0, 0, 1, name, len, GRANT_READ);
}

int64_t fs_rename(uint64_t odir, const char *oname, uint64_t ndir, const char *nname)
{
    char buf[600];
    uint64_t len = pack(buf, oname, nname);
    return call1(FS_RENAME, odir, ndir, 0, len, 0, 2, buf, len, GRANT_READ);
}

int64_t fs_read(uint64_t ino, uint64_t off, void *buf, uint64_t len)
{
    return call1(FS_READ, ino, off, 0, len, 0, 2, buf, len, GRANT_WRITE);
}

int64_t fs_write(uint64_t ino, uint64_t off, const void *buf, uint64_t len)
{
    return call1(FS_WRITE, ino, off, 0, len, 0, 2, buf, len, GRANT_READ);
}

int64_t fs_trunc(uint64_t ino, uint64_t size)
{
    return call1(FS_TRUNC, ino, size, 0, 0, 0, -1, 0, 0, 0);
}

int64_t fs_stat(uint64_t ino, struct fs_stat *st)
{
    return call1(FS_STAT, ino, 0, 0, 0, 0, 1, st, sizeof(*st), GRANT_WRITE);
}

int64_t fs_getdents(uint64_t ino, uint64_t *cookie, void *buf, uint64_t len)
{
    int64_t r = call1(FS_GETDENTS, ino, *cookie, 0, len, 0, 2, buf, len, GRANT_WRITE);
    if (r >= 0)
        *cookie = fs_last.u.w[1];
    return r;
}

int64_t fs_readlink(uint64_t ino, char *buf, uint64_t len)
{
    return call1(FS_READLINK, ino, 0, len, 0, 0, 1, buf, len, GRANT_WRITE);
}

int64_t fs_chmod(uint64_t ino, uint64_t mode)
{
    return call1(FS_CHMOD, ino, mode, 0, 0, 0, -1, 0, 0, 0);
}

int64_t fs_putnode(uint64_t ino)
{
    return call1(FS_PUTNODE, ino, 0, 0, 0, 0, -1, 0, 0, 0);
}

int64_t fs_statfs(struct fs_statfs *sf)
{
    return call1(FS_STATFS, 0, 0, 0, 0, 0, 1, sf, sizeof(*sf), GRANT_WRITE);
}

int64_t fs_walk(const char *path, uint64_t *ino)
{
    uint64_t cur = FS_ROOT_INO;
    while (*path) {
        const char *end = path;
        while (*end && *end != '/')
            end++;
        if (end > path) {
            int64_t r = fs_lookup_raw(cur, path, (uint64_t)(end - path), &cur);
            if (r < 0)
                return r;
        }
        path = *end ? end + 1 : end;
    }
    *ino = cur;
    return 0;
}

int64_t fs_scratch(const char *name, uint64_t *ino)
{
    return fs_mkdir(FS_ROOT_INO, name, ino);
}

int64_t fs_mkfile(uint64_t dir, const char *name, const void *data, uint64_t len, uint64_t *ino)
{
    int64_t r = fs_create(dir, name, S_IFREG | 0644, 0, ino);
    if (r < 0 || !len)
        return r;
    r = fs_write(*ino, 0, data, len);
    return r == (int64_t)len ? 0 : r < 0 ? r : -LX_EIO;
}

uint64_t fs_nlink(uint64_t ino)
{
    struct fs_stat st = {0};
    return fs_stat(ino, &st) == 0 ? st.nlink : 0;
}

uint64_t fs_size(uint64_t ino)
{
    struct fs_stat st = {0};
    return fs_stat(ino, &st) == 0 ? st.size : (uint64_t)-1;
}

uint64_t fs_bfree(void)
{
    struct fs_statfs sf = {0};
    return fs_statfs(&sf) == 0 ? sf.bfree : 0;
}

uint8_t pattern(uint64_t off, uint64_t seed)
{
    uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull ^ seed;
    return (uint8_t)(x >> 29 ^ x >> 47);
}

/* trust_tests first: memory_comes_back needs a ramfs that has not yet grown to its cap */
static const struct fstest *const groups[] = {trust_tests, tree_tests, data_tests,
                                              name_tests,  dir_tests,  misc_tests};
#define NR_GROUPS (sizeof(groups) / sizeof(groups[0]))

/* fstest's tests return non-zero when they fail: lib/test's runner lists them by name and calls
 * them through run_fstest. */
static struct test all_tests[256];
static const struct test *const all_groups[] = {all_tests, 0};

static int run_fstest(const struct test *t)
{
    for (size_t g = 0; g < NR_GROUPS; g++)
        for (const struct fstest *f = groups[g]; f->name; f++)
            if (f->name == t->name)
                return f->fn() == 0;
    return 0;
}

static const struct test_suite fs_suite = {
    .program = "fstest", .prefix = "fs.", .groups = all_groups, .run_apart = run_fstest};

int main(uint64_t argp)
{
    const char *args = (const char *)argp;
    size_t n = 0;
    for (size_t g = 0; g < NR_GROUPS; g++)
        for (const struct fstest *f = groups[g]; f->name && n + 1 < 256; f++)
            all_tests[n++].name = f->name;
    message_t m = {.type = ROOT_LOOKUP};
    strncpy_s((char *)m.u.b, "ramfs", 16);
    int r = ipc_sendrec(ROOT_EP, &m);
    if (r < 0 || m.type <= 0) /* E_PERM: no "fstest" profile in root's table */
        return test_abort(&fs_suite, strerror_s(r < 0 ? r : m.type));
    fs_ep = m.type;
    if (!strcmp(args, "helper"))
        fstest_helper();
    printf("fstest: testing ramfs (endpoint %d)\n", fs_ep);
    return test_main(&fs_suite, args);
}
