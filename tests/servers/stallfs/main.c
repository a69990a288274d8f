/*
 * stallfs: a file server for tests that is slow on purpose, as ext2 is while
 * lib/bdev waits for a new instance of a dead disk driver. It serves a
 * small tree in memory: the root (inode 1) holds `hello` ("hello\n") and
 * `stall` ("stalled\n"), and what is created there (files and directories,
 * empty). These requests take STALL_MS, during which it tells vfs to go on
 * (fsdriver_suspend, as lib/bdev's hook does) and serves nothing else:
 * a lookup of `stall`, and a create or unlink of a name that starts with
 * `stall`. A request that reaches it meanwhile (vfs should send none) is
 * logged and served afterwards. tools/suite_mount.py mounts it on /mnt
 * (`mount=/mnt:stallfs`) and measures that vfs answers others meanwhile.
 */
#include "fsdriver/fsdriver.h"

#define STALL_MS 3000
#define NR_NODES 32
#define NAME_MAX_HERE 32

struct node {
    char name[NAME_MAX_HERE]; /* "": free; the root has none */
    uint64_t mode;
    const char *data;
};

static struct node nodes[NR_NODES] = {
    [1] = {"/", S_IFDIR | 0777, 0},
    [2] = {"hello", S_IFREG | 0644, "hello\n"},
    [3] = {"stall", S_IFREG | 0644, "stalled\n"},
};
static message_t deferred[4];
static int ndeferred, stalls;

static int stall_name(const char *name)
{
    return !strncmp(name, "stall", 5);
}

/* Wait STALL_MS as for a driver: vfs is told to go on; anything that comes is kept. */
static void stall(void)
{
    fsdriver_suspend(0);
    stalls++;
    sys_alarm(STALL_MS);
    for (;;) {
        message_t m;
        if (service_receive(&m) < 0)
            continue;
        if (m.source == SYSTEM)
            return;
        printf("stallfs: a request (0x%x) came while it stalled\n", (unsigned)m.type);
        if (ndeferred < 4)
            deferred[ndeferred++] = m;
    }
}

static int pending(message_t *m)
{
    if (!ndeferred)
        return 0;
    *m = deferred[0];
    ndeferred--;
    for (int i = 0; i < ndeferred; i++)
        deferred[i] = deferred[i + 1];
    return 1;
}

static struct node *node_of(uint64_t ino)
{
    return ino > 0 && ino < NR_NODES && nodes[ino].name[0] ? &nodes[ino] : 0;
}

static void fill(uint64_t ino, struct fsdriver_node *out)
{
    *out = (struct fsdriver_node){.ino = ino, .mode = nodes[ino].mode};
}

static uint64_t find(const char *name)
{
    for (uint64_t i = 2; i < NR_NODES; i++)
        if (!strcmp(nodes[i].name, name))
            return i;
    return 0;
}

static int do_lookup(uint64_t dir, const char *name, uint64_t len, struct fsdriver_node *node)
{
    (void)len;
    if (dir != 1)
        return node_of(dir) ? -LX_ENOENT : -LX_EINVAL;
    if (!strcmp(name, "stall"))
        stall();
    uint64_t i = !strcmp(name, ".") || !strcmp(name, "..") ? 1 : find(name);
    if (!i)
        return -LX_ENOENT;
    fill(i, node);
    return 0;
}

static int do_create(uint64_t dir, const char *name, uint64_t len, uint32_t mode, uint64_t rdev,
                     uint32_t uid, uint32_t gid, struct fsdriver_node *node)
{
    (void)rdev, (void)uid, (void)gid;
    if (dir != 1)
        return -LX_EACCES;
    if (len >= NAME_MAX_HERE)
        return -LX_ENAMETOOLONG;
    if (stall_name(name))
        stall();
    if (find(name))
        return -LX_EEXIST;
    for (uint64_t i = 4; i < NR_NODES; i++)
        if (!nodes[i].name[0]) {
            nodes[i] = (struct node){.mode = mode, .data = ""};
            memcpy(nodes[i].name, name, len + 1);
            fill(i, node);
            return 0;
        }
    return -LX_ENOSPC;
}

static int do_unlink(uint64_t dir, const char *name, uint64_t len)
{
    (void)len;
    uint64_t i = dir == 1 ? find(name) : 0;
    if (stall_name(name))
        stall();
    if (!i)
        return -LX_ENOENT;
    nodes[i].name[0] = '\0';
    return 0;
}

static int do_rmdir(uint64_t dir, const char *name, uint64_t len)
{
    return do_unlink(dir, name, len);
}

static int do_stat(uint64_t ino, struct fs_stat *st)
{
    struct node *n = node_of(ino);
    if (!n)
        return -LX_EINVAL;
    *st = (struct fs_stat){.ino = ino, .mode = n->mode, .nlink = 1};
    st->size = n->data ? strlen(n->data) : 0;
    return 0;
}

static int64_t do_read(uint64_t ino, uint64_t offset, const struct fsdriver_data *d, uint64_t len)
{
    struct node *n = node_of(ino);
    if (!n || !n->data)
        return -LX_EINVAL;
    uint64_t size = strlen(n->data);
    if (offset >= size)
        return 0;
    uint64_t count = size - offset < len ? size - offset : len;
    return fsdriver_copyout(d, 0, n->data + offset, count) < 0 ? -LX_EFAULT : (int64_t)count;
}

static int do_trunc(uint64_t ino, uint64_t size)
{
    struct node *n = node_of(ino);
    if (!n || (n->mode & S_IFMT) != S_IFREG)
        return -LX_EINVAL;
    return size == 0 && n->data && !n->data[0] ? 0 : -LX_EPERM; /* created files stay empty */
}

static int do_putnode(uint64_t ino)
{
    return node_of(ino) ? 0 : -LX_EINVAL;
}

static int do_statfs(struct fs_statfs *sf)
{
    *sf = (struct fs_statfs){.type = 0x5354414c, .bsize = 4096, .namelen = NAME_MAX_HERE - 1};
    return 0;
}

static int do_unmount(void)
{
    printf("stallfs: %d stalls\n", stalls);
    return 0;
}

static const struct fsdriver stallfs = {
    .label = "stallfs",
    .lookup = do_lookup,
    .create = do_create,
    .unlink = do_unlink,
    .rmdir = do_rmdir,
    .read = do_read,
    .trunc = do_trunc,
    .stat = do_stat,
    .statfs = do_statfs,
    .putnode = do_putnode,
    .unmount = do_unmount,
    .pending = pending,
};

int main(void)
{
    service_startup("stallfs", 0);
    fsdriver_task(&stallfs, "vfs");
}
