/*
 * fstest's runner and its FS_* client: each request makes grants for its
 * buffers (lib/sys/grant.c), does one sendrec to ramfs, frees the grants,
 * and returns the reply's result (keeping the whole reply in fs_last). ramfs
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
    return m->u.fs.reply.result;
}

/* A request with one buffer granted to ramfs; the grant id goes to *grant, a field of m. */
int64_t fs_call_granted(message_t *m, uint64_t *grant, const void *buf, uint64_t len,
                        uint32_t access)
{
    grant_id_t g = grant_alloc(fs_ep, buf, len, access);
    if (g < 0)
        return IPC_FAILED;
    *grant = (uint64_t)g;
    int64_t r = fs_call(m);
    grant_free(g);
    return r;
}

/* The inode of a LOOKUP, CREATE or SYMLINK reply, if it succeeded. */
static int64_t node_out(int64_t r, uint64_t *ino)
{
    if (r == 0 && ino)
        *ino = fs_last.u.fs.node.ino;
    return r;
}

int64_t fs_lookup_raw(uint64_t dir, const void *name, uint64_t len, uint64_t *ino)
{
    message_t m = {.type = FS_LOOKUP, .u.fs.lookup = {.dir = dir, .name_len = len}};
    return node_out(fs_call_granted(&m, &m.u.fs.lookup.name_grant, name, len, GRANT_READ), ino);
}

int64_t fs_lookup(uint64_t dir, const char *name, uint64_t *ino)
{
    return fs_lookup_raw(dir, name, strlen(name), ino);
}

int64_t fs_create(uint64_t dir, const char *name, uint64_t mode, uint64_t rdev, uint64_t *ino)
{
    uint64_t len = strlen(name);
    message_t m = {.type = FS_CREATE,
                   .u.fs.create = {.dir = dir, .name_len = len, .mode = mode, .rdev = rdev}};
    return node_out(fs_call_granted(&m, &m.u.fs.create.name_grant, name, len, GRANT_READ), ino);
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
    message_t m = {.type = FS_SYMLINK, .u.fs.symlink = {.dir = dir, .len = len}};
    return node_out(fs_call_granted(&m, &m.u.fs.symlink.grant, buf, len, GRANT_READ), ino);
}

int64_t fs_link(uint64_t dir, const char *name, uint64_t ino)
{
    uint64_t len = strlen(name);
    message_t m = {.type = FS_LINK, .u.fs.link = {.dir = dir, .name_len = len, .ino = ino}};
    return fs_call_granted(&m, &m.u.fs.link.name_grant, name, len, GRANT_READ);
}

/* FS_UNLINK or FS_RMDIR */
static int64_t remove(int type, uint64_t dir, const char *name)
{
    uint64_t len = strlen(name);
    message_t m = {.type = type, .u.fs.unlink = {.dir = dir, .name_len = len}};
    return fs_call_granted(&m, &m.u.fs.unlink.name_grant, name, len, GRANT_READ);
}

int64_t fs_unlink(uint64_t dir, const char *name)
{
    return remove(FS_UNLINK, dir, name);
}

int64_t fs_rmdir(uint64_t dir, const char *name)
{
    return remove(FS_RMDIR, dir, name);
}

int64_t fs_rename(uint64_t odir, const char *oname, uint64_t ndir, const char *nname)
{
    char buf[600];
    uint64_t len = pack(buf, oname, nname);
    message_t m = {.type = FS_RENAME, .u.fs.rename = {.old_dir = odir, .new_dir = ndir}};
    m.u.fs.rename.len = len;
    return fs_call_granted(&m, &m.u.fs.rename.grant, buf, len, GRANT_READ);
}

int64_t fs_read(uint64_t ino, uint64_t off, void *buf, uint64_t len)
{
    message_t m = {.type = FS_READ, .u.fs.read = {.ino = ino, .offset = off, .len = len}};
    return fs_call_granted(&m, &m.u.fs.read.grant, buf, len, GRANT_WRITE);
}

int64_t fs_write(uint64_t ino, uint64_t off, const void *buf, uint64_t len)
{
    message_t m = {.type = FS_WRITE, .u.fs.write = {.ino = ino, .offset = off, .len = len}};
    return fs_call_granted(&m, &m.u.fs.write.grant, buf, len, GRANT_READ);
}

int64_t fs_trunc(uint64_t ino, uint64_t size)
{
    message_t m = {.type = FS_TRUNC, .u.fs.trunc = {ino, size}};
    return fs_call(&m);
}

int64_t fs_stat(uint64_t ino, struct fs_stat *st)
{
    message_t m = {.type = FS_STAT, .u.fs.stat = {.ino = ino}};
    return fs_call_granted(&m, &m.u.fs.stat.grant, st, sizeof(*st), GRANT_WRITE);
}

int64_t fs_getdents(uint64_t ino, uint64_t *cookie, void *buf, uint64_t len)
{
    message_t m = {.type = FS_GETDENTS, .u.fs.getdents = {.ino = ino, .cookie = *cookie}};
    m.u.fs.getdents.len = len;
    int64_t r = fs_call_granted(&m, &m.u.fs.getdents.grant, buf, len, GRANT_WRITE);
    if (r >= 0)
        *cookie = fs_last.u.fs.dents.cookie;
    return r;
}

int64_t fs_readlink(uint64_t ino, char *buf, uint64_t len)
{
    message_t m = {.type = FS_READLINK, .u.fs.readlink = {.ino = ino, .len = len}};
    return fs_call_granted(&m, &m.u.fs.readlink.grant, buf, len, GRANT_WRITE);
}

int64_t fs_chmod(uint64_t ino, uint64_t mode)
{
    message_t m = {.type = FS_CHMOD, .u.fs.chmod = {ino, mode}};
    return fs_call(&m);
}

int64_t fs_putnode(uint64_t ino)
{
    message_t m = {.type = FS_PUTNODE, .u.fs.putnode = {ino}};
    return fs_call(&m);
}

int64_t fs_statfs(struct fs_statfs *sf)
{
    message_t m = {.type = FS_STATFS};
    return fs_call_granted(&m, &m.u.fs.statfs.grant, sf, sizeof(*sf), GRANT_WRITE);
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
/* restart_tests last: they kill ramfs, and the last one wipes the tree */
static const struct fstest *const groups[] = {trust_tests, tree_tests, data_tests,   name_tests,
                                              dir_tests,   misc_tests, restart_tests};
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
    fs_ep = root_lookup("ramfs");
    if (fs_ep < 0) /* E_PERM: its manifest does not name rs */
        return test_abort(&fs_suite, strerror_s(fs_ep));
    if (!strcmp(args, "helper"))
        fstest_helper();
    printf("fstest: testing ramfs (endpoint %d)\n", fs_ep);
    return test_main(&fs_suite, args);
}
