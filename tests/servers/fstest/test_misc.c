/*
 * Inode lifetime (FS_PUTNODE and link counts), statfs, chmod, times, owners, and
 * garbage: unknown types, bad grants, absurd lengths, invalid inode
 * numbers, a requester that does not wait for its reply. Last, a fuzzer
 * sends thousands of random requests, after which the whole tree is
 * walked and checked: every entry stats, every directory's ".." and link
 * count are right, and every file's link count equals its names.
 */
#include "fstest.h"

static int putnode_frees(void)
{
    uint64_t d, f, ino;
    struct fs_stat st;
    EXPECT(fs_scratch("put", &d), 0);
    uint64_t before = fs_bfree();
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0); /* one reference */
    memset(big, 'p', sizeof(big));
    EXPECT(fs_write(f, 0, big, sizeof(big)), sizeof(big));
    EXPECT(fs_unlink(d, "f"), 0);
    EXPECT(fs_stat(f, &st), 0); /* unlinked but referenced: still there */
    EXPECT(st.nlink, 0);
    EXPECT(fs_read(f, 100, big, 10), 10);
    EXPECT(fs_write(f, 0, "q", 1), 1);
    CHECK(before - fs_bfree() >= 16);
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_stat(f, &st), -LX_EINVAL); /* freed */
    EXPECT(fs_read(f, 0, big, 10), -LX_EINVAL);
    CHECK(fs_bfree() + 1 >= before);
    /* no reference: unlink frees at once */
    EXPECT(fs_mkfile(d, "g", "data", 4, &f), 0);
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_stat(f, &st), 0); /* still linked */
    EXPECT(fs_unlink(d, "g"), 0);
    EXPECT(fs_stat(f, &st), -LX_EINVAL);
    /* LOOKUP takes a reference again */
    EXPECT(fs_mkfile(d, "h", "data", 4, &f), 0);
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_lookup(d, "h", &ino), 0);
    EXPECT(fs_unlink(d, "h"), 0);
    EXPECT(fs_stat(f, &st), 0);
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_putnode(f), -LX_EINVAL);
    /* references count: two lookups need two putnodes (vfs's pattern: it
     * returns a lookup's extra reference at once if it has the vnode) */
    EXPECT(fs_mkfile(d, "i", "data", 4, &f), 0);
    EXPECT(fs_lookup(d, "i", &ino), 0);
    EXPECT(fs_lookup(d, "i", &ino), 0);
    EXPECT(fs_unlink(d, "i"), 0);
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_read(f, 0, big, 10), 4); /* one reference left */
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_stat(f, &st), -LX_EINVAL);
    /* the root is never freed; putnode of a linked inode changes nothing */
    EXPECT(fs_putnode(FS_ROOT_INO), 0);
    EXPECT(fs_lookup(FS_ROOT_INO, "etc", &ino), 0);
    EXPECT(fs_putnode(ino), 0);
    EXPECT(fs_putnode(ino), 0);
    EXPECT(fs_lookup(ino, "hostname", &ino), 0);
    EXPECT(fs_putnode(0), -LX_EINVAL);
    return 0;
}

static int statfs_counts(void)
{
    struct fs_statfs sf, sf2;
    uint64_t d, f;
    EXPECT(fs_statfs(&sf), 0);
    EXPECT(sf.type, 0x858458f6);
    EXPECT(sf.bsize, 4096);
    EXPECT(sf.namelen, 255);
    CHECK(sf.blocks >= 8192 && sf.blocks <= 16384);
    CHECK(sf.bfree > 0 && sf.bfree <= sf.blocks);
    CHECK(sf.files >= 4096 && sf.ffree < sf.files);
    EXPECT(fs_scratch("sfs", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    EXPECT(fs_write(f, 0, big, 8 * 4096), 8 * 4096);
    EXPECT(fs_statfs(&sf2), 0);
    EXPECT(sf2.ffree, sf.ffree - 2);
    CHECK(sf.bfree - sf2.bfree >= 8);
    EXPECT(sf2.blocks, sf.blocks);
    return 0;
}

static int chmod_times(void)
{
    uint64_t d, f;
    struct fs_stat st;
    uint64_t start = sys_uptime() / 1000;
    EXPECT(fs_scratch("chm", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    EXPECT(fs_chmod(f, 0600), 0);
    EXPECT(fs_stat(f, &st), 0);
    EXPECT(st.mode, S_IFREG | 0600);
    EXPECT(fs_chmod(f, S_IFDIR | 04777), 0); /* the type stays */
    EXPECT(fs_stat(f, &st), 0);
    EXPECT(st.mode, S_IFREG | 04777);
    EXPECT(fs_chmod(d, 0711), 0);
    EXPECT(fs_stat(d, &st), 0);
    EXPECT(st.mode, S_IFDIR | 0711);
    EXPECT(fs_chmod(0, 0644), -LX_EINVAL);
    /* times: seconds since boot */
    EXPECT(fs_write(f, 0, "x", 1), 1);
    EXPECT(fs_stat(f, &st), 0);
    uint64_t now = sys_uptime() / 1000;
    CHECK(st.mtime >= start && st.mtime <= now);
    CHECK(st.ctime >= start && st.ctime <= now);
    CHECK(st.atime <= now);
    return 0;
}

/* A CREATE or SYMLINK of name (len bytes) in dir, owned by uid:gid; the reply in fs_last. */
static int64_t owned(int type, uint64_t dir, const char *name, uint64_t len, uint64_t uid,
                     uint64_t gid, uint64_t mode)
{
    message_t m = {.type = type};
    if (type == FS_CREATE) {
        m.u.fs.create = (struct msg_fs_create){
            .dir = dir, .name_len = len, .mode = mode, .owner = FS_OWNER(uid, gid)};
        return fs_call_granted(&m, &m.u.fs.create.name_grant, name, len, GRANT_READ);
    }
    m.u.fs.symlink = (struct msg_fs_symlink){.dir = dir, .len = len, .uid = uid, .gid = gid};
    return fs_call_granted(&m, &m.u.fs.symlink.grant, name, len, GRANT_READ);
}

/* Owners: CREATE and SYMLINK set them, replies and STAT report them, CHOWN
 * changes them. */
static int owners(void)
{
    uint64_t d, f, l, ino;
    struct fs_stat st;
    EXPECT(fs_scratch("own", &d), 0);
    EXPECT(owned(FS_CREATE, d, "f", 1, 1000, 50, S_IFREG | 04755), 0);
    f = fs_last.u.fs.node.ino;
    EXPECT(fs_last.u.fs.node.uid, 1000);
    EXPECT(fs_last.u.fs.node.gid, 50);
    EXPECT(fs_stat(f, &st), 0);
    CHECK(st.uid == 1000 && st.gid == 50 && st.mode == (S_IFREG | 04755));
    EXPECT(fs_lookup(d, "f", &ino), 0);
    CHECK(ino == f && fs_last.u.fs.node.uid == 1000 && fs_last.u.fs.node.gid == 50);
    EXPECT(fs_putnode(ino), 0);
    EXPECT(owned(FS_SYMLINK, d, "l\0f", 3, 7, 8, 0), 0);
    l = fs_last.u.fs.node.ino;
    EXPECT(fs_stat(l, &st), 0);
    CHECK(st.uid == 7 && st.gid == 8 && st.mode == (S_IFLNK | 0777));
    /* owners and modes that do not fit 32 bits: refused, nothing made (a create's owner is
     * packed: FS_OWNER) */
    EXPECT(owned(FS_CREATE, d, "g", 1, 0, 0, 1ull << 32 | S_IFREG | 0644), -LX_EINVAL);
    EXPECT(owned(FS_SYMLINK, d, "g\0f", 3, 1ull << 32, 0, 0), -LX_EINVAL);
    EXPECT(owned(FS_SYMLINK, d, "g\0f", 3, 0, 1ull << 40, 0), -LX_EINVAL);
    EXPECT(fs_lookup(d, "g", &ino), -LX_ENOENT);
    /* CHOWN: owner and permission bits; the type stays */
    message_t m = {.type = FS_CHOWN, .u.fs.chown = {f, 0, 0, S_IFDIR | 0755}};
    EXPECT(fs_call(&m), 0);
    EXPECT(fs_stat(f, &st), 0);
    CHECK(st.uid == 0 && st.gid == 0 && st.mode == (S_IFREG | 0755));
    m = (message_t){.type = FS_CHOWN, .u.fs.chown = {f, 1ull << 32, 0, 0}};
    EXPECT(fs_call(&m), -LX_EINVAL);
    m = (message_t){.type = FS_CHOWN, .u.fs.chown = {0, 1, 1, 0}};
    EXPECT(fs_call(&m), -LX_EINVAL);
    EXPECT(fs_stat(f, &st), 0);
    CHECK(st.uid == 0 && st.mode == (S_IFREG | 0755)); /* unchanged by the refusals */
    /* UTIME: a time, now, or left alone */
    m = (message_t){.type = FS_UTIME, .u.fs.utime = {f, 1234, FS_TIME_OMIT}};
    uint64_t mtime = st.mtime;
    EXPECT(fs_call(&m), 0);
    EXPECT(fs_stat(f, &st), 0);
    CHECK(st.atime == 1234 && st.mtime == mtime);
    m = (message_t){.type = FS_UTIME, .u.fs.utime = {f, FS_TIME_OMIT, FS_TIME_NOW}};
    EXPECT(fs_call(&m), 0);
    EXPECT(fs_stat(f, &st), 0);
    CHECK(st.atime == 1234 && st.mtime == sys_uptime() / 1000);
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_putnode(l), 0);
    return 0;
}

/* One raw request with a grant of len bytes at word gw: the words as sent, whatever the
 * request type (the fuzzer below sends raw words too). */
static int64_t raw(int type, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, int gw, void *buf,
                   uint64_t len, uint32_t access)
{
    message_t m = {.type = type, .u.w = {w0, w1, w2, w3}};
    grant_id_t g = grant_alloc(fs_ep, buf, len, access);
    if (gw >= 0)
        m.u.w[gw] = (uint64_t)g;
    int64_t r = fs_call(&m);
    grant_free(g);
    return r;
}

static int garbage(void)
{
    uint64_t hello, host, sh;
    char buf[300];
    EXPECT(fs_walk("bin/hello", &hello), 0);
    EXPECT(fs_walk("etc/hostname", &host), 0);
    EXPECT(fs_walk("bin/sh", &sh), 0);
    /* unknown types */
    const int types[] = {0, -1, FS_RQ_END, FS_RQ_BASE + 0x50, FS_REPLY, MSG_NOTIFY + 1, 0x7fffffff};
    for (int i = 0; i < 7; i++) {
        message_t m = {.type = types[i]};
        EXPECT(fs_call(&m), -LX_ENOSYS);
    }
    /* bad grants */
    const uint64_t grants[] = {(uint64_t)-1, 63, 1ull << 40, 0x7fffffff, 0x80000000};
    for (int i = 0; i < 5; i++) {
        message_t m = {.type = FS_LOOKUP, .u.fs.lookup = {FS_ROOT_INO, grants[i], 3}};
        EXPECT(fs_call(&m), -LX_EFAULT);
        message_t s = {.type = FS_STAT, .u.fs.stat = {FS_ROOT_INO, grants[i]}};
        EXPECT(fs_call(&s), -LX_EFAULT);
        message_t r = {.type = FS_READ, .u.fs.read = {hello, 0, grants[i], 10}};
        EXPECT(fs_call(&r), -LX_EFAULT);
    }
    /* lengths: absurd, or longer than the grant */
    EXPECT(raw(FS_LOOKUP, FS_ROOT_INO, 0, 1ull << 62, 0, 1, "etc", 3, GRANT_READ),
           -LX_ENAMETOOLONG);
    EXPECT(raw(FS_LOOKUP, FS_ROOT_INO, 0, (uint64_t)-1, 0, 1, "etc", 3, GRANT_READ),
           -LX_ENAMETOOLONG);
    EXPECT(raw(FS_LOOKUP, FS_ROOT_INO, 0, 10, 0, 1, "etc", 3, GRANT_READ), -LX_EFAULT);
    EXPECT(raw(FS_READ, hello, 0, 0, 1ull << 63, 2, big, 100, GRANT_WRITE), -LX_EFAULT);
    EXPECT(raw(FS_READ, host, 0, 0, 1ull << 40, 2, big, 100, GRANT_WRITE), 8); /* fits */
    EXPECT(raw(FS_WRITE, host, 1ull << 62, 0, 1, 2, big, 1, GRANT_READ), -LX_EFBIG);
    EXPECT(raw(FS_READLINK, sh, 0, 1ull << 40, 0, 1, buf, 10, GRANT_WRITE), 5);
    EXPECT(raw(FS_GETDENTS, FS_ROOT_INO, 0, 0, 1ull << 40, 2, big, 64, GRANT_WRITE), -LX_EFAULT);
    EXPECT(raw(FS_SYMLINK, FS_ROOT_INO, 0, 1, 0, 1, "a", 1, GRANT_READ), -LX_EINVAL);
    EXPECT(raw(FS_SYMLINK, FS_ROOT_INO, 0, 3, 0, 1, "abc", 3, GRANT_READ), -LX_EINVAL);
    EXPECT(raw(FS_SYMLINK, FS_ROOT_INO, 0, 1ull << 50, 0, 1, "a\0b", 3, GRANT_READ),
           -LX_ENAMETOOLONG);
    EXPECT(raw(FS_SYMLINK, FS_ROOT_INO, 0, 5, 0, 1, "a/b\0t", 5, GRANT_READ), -LX_EINVAL);
    memset(buf, 'n', sizeof(buf));
    buf[256] = '\0';
    EXPECT(raw(FS_SYMLINK, FS_ROOT_INO, 0, 258, 0, 1, buf, 258, GRANT_READ), -LX_ENAMETOOLONG);
    EXPECT(raw(FS_RENAME, FS_ROOT_INO, FS_ROOT_INO, 0, 1ull << 50, 2, "a\0b", 3, GRANT_READ),
           -LX_ENAMETOOLONG);
    EXPECT(raw(FS_RENAME, FS_ROOT_INO, FS_ROOT_INO, 0, 6, 2, "a\0b\0cd", 6, GRANT_READ),
           -LX_EINVAL);
    EXPECT(raw(FS_RENAME, FS_ROOT_INO, FS_ROOT_INO, 0, 2, 2, "a\0", 2, GRANT_READ), -LX_EINVAL);
    /* grants of the wrong direction (ramfs's copy is refused: E_PERM) */
    EXPECT(raw(FS_STAT, FS_ROOT_INO, 0, 0, 0, 1, big, 4096, GRANT_READ), -LX_EFAULT);
    EXPECT(raw(FS_WRITE, host, 0, 0, 4, 2, big, 4096, GRANT_WRITE), -LX_EFAULT);
    EXPECT(fs_size(host), 8);
    /* invalid inode numbers, for every request that takes one */
    const uint64_t inos[] = {0, 65535, 1ull << 32 | 1, 1ull << 40, (uint64_t)-1};
    const int bytype[] = {FS_STAT,     FS_READ,     FS_WRITE,  FS_TRUNC,  FS_CHMOD, FS_PUTNODE,
                          FS_GETDENTS, FS_READLINK, FS_LOOKUP, FS_CREATE, FS_UNLINK};
    for (int i = 0; i < 5; i++)
        for (int t = 0; t < 11; t++) {
            EXPECT(raw(bytype[t], inos[i], 0, 3, 3, 1, "etc", 3, GRANT_READ | GRANT_WRITE),
                   -LX_EINVAL);
        }
    EXPECT(raw(FS_RENAME, FS_ROOT_INO, 1ull << 40, 0, 3, 2, "a\0b", 3, GRANT_READ), -LX_EINVAL);
    EXPECT(raw(FS_LINK, FS_ROOT_INO, 0, 1, 77777, 1, "z", 1, GRANT_READ), -LX_EINVAL);
    /* a requester that does not wait loses its reply, and nothing else */
    message_t m = {.type = FS_STAT, .u.fs.stat = {0}};
    EXPECT(ipc_send(fs_ep, &m), 0);
    struct fs_statfs sf;
    EXPECT(fs_statfs(&sf), 0);
    EXPECT(sf.bsize, 4096);
    return 0;
}

/* ---- the fuzzer and the consistency walk */

static uint16_t names_of[65536]; /* inode -> times seen in the tree */

static int check_tree(void)
{
    static uint64_t stack[4096];
    static uint8_t buf[4096];
    int top = 0, dirs = 0;
    memset(names_of, 0, sizeof(names_of));
    stack[top++] = FS_ROOT_INO;
    while (top) {
        uint64_t dir = stack[--top], cookie = 0, subdirs = 0;
        int64_t n;
        CHECK(++dirs < 20000);
        while ((n = fs_getdents(dir, &cookie, buf, sizeof(buf))) > 0) {
            for (int64_t off = 0; off < n;) {
                struct dirent64 *e = (struct dirent64 *)(buf + off);
                off += e->d_reclen;
                CHECK(e->d_reclen >= 24);
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                struct fs_stat st;
                EXPECT(fs_stat(e->d_ino, &st), 0);
                CHECK(st.ino < 65536);
                if ((st.mode & S_IFMT) == S_IFDIR) {
                    uint64_t up;
                    EXPECT(fs_lookup(e->d_ino, "..", &up), 0);
                    EXPECT(up, dir);
                    EXPECT(fs_putnode(up), 0);
                    subdirs++;
                    CHECK(top < 4096);
                    stack[top++] = e->d_ino;
                } else {
                    names_of[st.ino]++;
                }
            }
        }
        EXPECT(n, 0);
        EXPECT(fs_nlink(dir), 2 + subdirs);
    }
    for (uint64_t ino = 2; ino < 65536; ino++)
        if (names_of[ino])
            EXPECT(fs_nlink(ino), names_of[ino]);
    return 0;
}

static int tree_consistent(void)
{
    return check_tree();
}

static int fuzz(void)
{
    static uint8_t fbuf[4096];
    static const char alphabet[] = "ab.\0/";
    uint64_t seed = 0x5eed1234abcdull;
    grant_id_t g = grant_alloc(fs_ep, fbuf, sizeof(fbuf), GRANT_READ | GRANT_WRITE);
    CHECK(g >= 0);
    for (int i = 0; i < 4000; i++) {
        for (int j = 0; j < 16; j++) /* short names from a tiny alphabet collide often */
            fbuf[j] = (uint8_t)alphabet[rand64(&seed) % (j % 4 == 3 ? 5 : 3)];
        message_t m = {.type = FS_LOOKUP + (int)(rand64(&seed) % (FS_RQ_END - FS_LOOKUP + 1))};
        if (rand64(&seed) % 50 == 0)
            m.type = (int)rand64(&seed);
        for (int w = 0; w < 7; w++) {
            switch (rand64(&seed) % 6) {
            case 0:
                m.u.w[w] = rand64(&seed) % 64;
                break; /* an inode, maybe */
            case 1:
                m.u.w[w] = (uint64_t)g;
                break;
            case 2:
                m.u.w[w] = rand64(&seed) % 8;
                break; /* a short length */
            case 3:
                m.u.w[w] = rand64(&seed) % 5000;
                break;
            case 4:
                m.u.w[w] = rand64(&seed);
                break;
            default:
                m.u.w[w] = rand64(&seed) >> (rand64(&seed) % 64);
                break;
            }
        }
        if (m.type == FS_CREATE && rand64(&seed) % 2)
            m.u.w[3] = (rand64(&seed) % 2 ? S_IFDIR : S_IFREG) | 0755;
        int type = m.type;
        int64_t r = fs_call(&m);
        if (r < -4095) { /* not an errno: the call failed */
            printf("FAIL fs.fuzz: request %d type %x got %ld\n", i, type, r);
            grant_free(g);
            return 1;
        }
        if (type == FS_UNMOUNT) { /* the server serves again after a mount */
            message_t again = {.type = FS_MOUNT};
            EXPECT(fs_call(&again), 0);
        }
    }
    grant_free(g);
    struct fs_statfs sf;
    EXPECT(fs_statfs(&sf), 0);
    uint64_t ino;
    EXPECT(fs_lookup(FS_ROOT_INO, ".", &ino), 0);
    return check_tree();
}

/* FS_SYNC answers 0 (nothing to write); after FS_UNMOUNT everything is EIO until FS_MOUNT,
 * which hands over the root (a directory, with one reference) and serves again. */
static int mount_sync_unmount(void)
{
    uint64_t ino;
    EXPECT(fs_walk("bin/hello", &ino), 0);
    message_t m = {.type = FS_SYNC, .u.fs.sync = {0}};
    EXPECT(fs_call(&m), 0);
    m = (message_t){.type = FS_SYNC, .u.fs.sync = {ino}};
    EXPECT(fs_call(&m), 0);
    m = (message_t){.type = FS_UNMOUNT};
    EXPECT(fs_call(&m), 0);
    EXPECT(fs_lookup(FS_ROOT_INO, "bin", &ino), -LX_EIO);
    m = (message_t){.type = FS_SYNC};
    EXPECT(fs_call(&m), -LX_EIO);
    m = (message_t){.type = FS_MOUNT};
    EXPECT(fs_call(&m), 0);
    EXPECT(m.u.fs.node.ino, FS_ROOT_INO);
    EXPECT(m.u.fs.node.mode & S_IFMT, S_IFDIR);
    EXPECT(fs_putnode(FS_ROOT_INO), 0);
    EXPECT(fs_lookup(FS_ROOT_INO, "bin", &ino), 0);
    EXPECT(fs_putnode(ino), 0);
    return 0;
}

const struct fstest misc_tests[] = {
    {"mount_sync_unmount", mount_sync_unmount},
    {"putnode_frees", putnode_frees},
    {"statfs", statfs_counts},
    {"chmod_times", chmod_times},
    {"owners", owners},
    {"garbage", garbage},
    {"tree_consistent", tree_consistent},
    {"fuzz", fuzz},
    {0, 0},
};
