/*
 * The tree ramfs loaded from the sample archive (mksample.sh): every kind
 * of entry, contents, modes, owners, device numbers, hard links, parents that the
 * archive left out, and names given with "/" or "./" in front. Then
 * lookup itself: ".", "..", missing names and malformed names.
 */
#include "fstest.h"

static int expect_file(const char *path, const char *want, uint64_t mode)
{
    uint64_t ino;
    struct fs_stat st;
    char buf[64];
    uint64_t len = strlen(want);
    EXPECT(fs_walk(path, &ino), 0);
    EXPECT(fs_stat(ino, &st), 0);
    EXPECT(st.mode, mode);
    EXPECT(st.size, len);
    EXPECT(fs_read(ino, 0, buf, sizeof(buf)), len);
    EXPECT(memcmp(buf, want, len), 0);
    return 0;
}

static int expect_kind(const char *path, uint64_t mode, uint64_t rdev, uint64_t nlink)
{
    uint64_t ino;
    struct fs_stat st;
    EXPECT(*path ? fs_walk(path, &ino) : fs_lookup(FS_ROOT_INO, ".", &ino), 0);
    EXPECT(fs_last.u.fs.node.mode, mode); /* LOOKUP reports the mode too */
    EXPECT(fs_stat(ino, &st), 0);
    EXPECT(st.ino, ino);
    EXPECT(st.mode, mode);
    EXPECT(st.rdev, rdev);
    EXPECT(st.nlink, nlink);
    int hand = !strcmp(path, "hand"); /* the one entry the archive gives an owner: 1000:50 */
    EXPECT(st.uid, hand ? 1000 : 0);
    EXPECT(st.gid, hand ? 50 : 0);
    return 0;
}

static int sample_files(void)
{
    if (expect_file("etc/hostname", "samsara\n", S_IFREG | 0644) ||
        expect_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", S_IFREG | 0644) ||
        expect_file("etc/group", "x", S_IFREG | 0644) ||
        expect_file("etc/empty", "", S_IFREG | 0644) ||
        expect_file("deep/x/y/file", "deep\n", S_IFREG | 0644))
        return 1;
    /* 10000 bytes of "line %04d\n", across three blocks */
    uint64_t ino;
    static char want[10000];
    EXPECT(fs_walk("bin/hello", &ino), 0);
    EXPECT(fs_size(ino), 10000);
    for (int i = 0; i < 1000; i++)
        snprintf_s(want + 10 * i, 11, "line %04d\n", i + 1);
    EXPECT(fs_read(ino, 0, big, sizeof(big)), 10000);
    EXPECT(memcmp(big, want, 10000), 0);
    EXPECT(fs_read(ino, 4090, big, 20), 20);
    EXPECT(memcmp(big, want + 4090, 20), 0);
    /* exactly one block of 'z' */
    EXPECT(fs_walk("etc/block", &ino), 0);
    EXPECT(fs_read(ino, 0, big, 8192), 4096);
    for (int i = 0; i < 4096; i++)
        CHECK(big[i] == 'z');
    return 0;
}

static int sample_kinds(void)
{
    if (expect_kind("", S_IFDIR | 0755, 0, 2 + 7) || /* etc bin empty tmp deep dev hand */
        expect_kind("etc", S_IFDIR | 0755, 0, 2) || expect_kind("empty", S_IFDIR | 0700, 0, 2) ||
        expect_kind("hand", S_IFDIR | 0750, 0, 2) || /* written "./hand" */
        expect_kind("deep", S_IFDIR | 0755, 0, 3) || /* created as a parent */
        expect_kind("deep/x/y", S_IFDIR | 0755, 0, 2) || expect_kind("dev", S_IFDIR | 0755, 0, 2) ||
        expect_kind("dev/console", S_IFCHR | 0620, 5 << 8 | 1, 1) ||
        expect_kind("dev/null", S_IFCHR | 0666, 1 << 8 | 3, 1) || /* written "/dev/null" */
        expect_kind("tmp/fifo", S_IFIFO | 0644, 0, 1) ||
        expect_kind("bin/hello", S_IFREG | 0755, 0, 1) ||
        expect_kind("bin/sh", S_IFLNK | 0777, 0, 1) ||
        expect_kind("dangling", S_IFLNK | 0777, 0, 1))
        return 1;
    return 0;
}

static int sample_links(void)
{
    uint64_t a, b;
    char buf[64];
    EXPECT(fs_walk("etc/passwd", &a), 0);
    EXPECT(fs_walk("etc/passwd.link", &b), 0);
    EXPECT(a, b);
    EXPECT(fs_nlink(a), 2);
    EXPECT(fs_walk("bin/sh", &a), 0);
    EXPECT(fs_readlink(a, buf, sizeof(buf)), 5);
    EXPECT(memcmp(buf, "hello", 5), 0);
    EXPECT(fs_size(a), 5);
    EXPECT(fs_walk("dangling", &a), 0);
    EXPECT(fs_readlink(a, buf, sizeof(buf)), 19);
    EXPECT(memcmp(buf, "/nonexistent/target", 19), 0);
    /* the 255-byte name */
    char name[256];
    memset(name, 'L', 255);
    name[255] = '\0';
    EXPECT(fs_lookup(FS_ROOT_INO, name, &a), 0);
    EXPECT(fs_read(a, 0, buf, sizeof(buf)), 5);
    EXPECT(memcmp(buf, "long\n", 5), 0);
    return 0;
}

static int lookup_dots(void)
{
    uint64_t ino, etc, deep, x;
    EXPECT(fs_lookup(FS_ROOT_INO, ".", &ino), 0);
    EXPECT(ino, FS_ROOT_INO);
    EXPECT(fs_lookup(FS_ROOT_INO, "..", &ino), 0);
    EXPECT(ino, FS_ROOT_INO); /* ".." of the root is the root */
    EXPECT(fs_lookup(FS_ROOT_INO, "etc", &etc), 0);
    EXPECT(fs_lookup(etc, "..", &ino), 0);
    EXPECT(ino, FS_ROOT_INO);
    EXPECT(fs_lookup(etc, ".", &ino), 0);
    EXPECT(ino, etc);
    EXPECT(fs_walk("deep/x", &x), 0);
    EXPECT(fs_walk("deep", &deep), 0);
    EXPECT(fs_lookup(x, "..", &ino), 0);
    EXPECT(ino, deep);
    EXPECT(fs_last.u.fs.node.mode, S_IFDIR | 0755);
    return 0;
}

static int lookup_errors(void)
{
    uint64_t ino, hostname;
    char name[300];
    EXPECT(fs_lookup(FS_ROOT_INO, "nonexistent", &ino), -LX_ENOENT);
    EXPECT(fs_walk("etc/hostname", &hostname), 0);
    EXPECT(fs_lookup(hostname, "x", &ino), -LX_ENOTDIR);
    EXPECT(fs_lookup(hostname, ".", &ino), -LX_ENOTDIR);
    memset(name, 'a', sizeof(name));
    EXPECT(fs_lookup_raw(FS_ROOT_INO, name, 256, &ino), -LX_ENAMETOOLONG);
    EXPECT(fs_lookup_raw(FS_ROOT_INO, name, 255, &ino), -LX_ENOENT);
    EXPECT(fs_lookup_raw(FS_ROOT_INO, name, 0, &ino), -LX_EINVAL);
    EXPECT(fs_lookup_raw(FS_ROOT_INO, "etc/hostname", 12, &ino), -LX_EINVAL);
    EXPECT(fs_lookup_raw(FS_ROOT_INO, "etc\0x", 5, &ino), -LX_EINVAL);
    EXPECT(fs_lookup_raw(FS_ROOT_INO, "etc", 4, &ino), -LX_EINVAL); /* NUL counted */
    EXPECT(fs_lookup(0, "etc", &ino), -LX_EINVAL);
    EXPECT(fs_lookup(60000, "etc", &ino), -LX_EINVAL);
    /* names are exact: no prefix or case folding */
    EXPECT(fs_lookup(FS_ROOT_INO, "et", &ino), -LX_ENOENT);
    EXPECT(fs_lookup(FS_ROOT_INO, "ETC", &ino), -LX_ENOENT);
    return 0;
}

const struct fstest tree_tests[] = {
    {"sample_files", sample_files},   {"sample_kinds", sample_kinds},
    {"sample_links", sample_links},   {"lookup_dots", lookup_dots},
    {"lookup_errors", lookup_errors}, {0, 0},
};
