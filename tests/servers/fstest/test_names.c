/*
 * Name operations and their errno values: create (every kind), unlink,
 * rmdir, link and the link counts they keep, rename in all its cases
 * (replacing a file, moving directories, over an empty directory, into
 * its own subtree), symlinks and readlink.
 */
#include "fstest.h"

static int create_kinds(void)
{
    uint64_t d, ino;
    struct fs_stat st;
    EXPECT(fs_scratch("create", &d), 0);
    EXPECT(fs_create(d, "file", S_IFREG | 0640, 0, &ino), 0);
    EXPECT(fs_last.u.fs.node.mode, S_IFREG | 0640);
    EXPECT(fs_stat(ino, &st), 0);
    EXPECT(st.mode, S_IFREG | 0640);
    EXPECT(st.nlink, 1);
    EXPECT(st.size, 0);
    EXPECT(fs_create(d, "dir", S_IFDIR | 0700, 0, &ino), 0);
    EXPECT(fs_nlink(ino), 2);
    EXPECT(fs_create(d, "fifo", S_IFIFO | 0600, 0, &ino), 0);
    EXPECT(fs_create(d, "tty", S_IFCHR | 0620, 4 << 8 | 64, &ino), 0);
    EXPECT(fs_last.u.fs.node.rdev, 4 << 8 | 64); /* rdev in the reply */
    EXPECT(fs_stat(ino, &st), 0);
    EXPECT(st.rdev, 4 << 8 | 64);
    EXPECT(st.mode, S_IFCHR | 0620);
    EXPECT(fs_create(d, "disk", S_IFBLK | 0600, 60 << 8 | 1, &ino), 0); /* mknod's, root's */
    EXPECT(fs_stat(ino, &st), 0);
    EXPECT(st.rdev, 60 << 8 | 1);
    EXPECT(st.mode, S_IFBLK | 0600);
    EXPECT(fs_create(d, "setuid", S_IFREG | 04755, 0, &ino), 0);
    EXPECT(fs_last.u.fs.node.mode, S_IFREG | 04755);
    /* errors */
    EXPECT(fs_create(d, "file", S_IFREG | 0644, 0, &ino), -LX_EEXIST);
    EXPECT(fs_create(d, "dir", S_IFDIR | 0755, 0, &ino), -LX_EEXIST);
    EXPECT(fs_create(d, ".", S_IFDIR | 0755, 0, &ino), -LX_EEXIST);
    EXPECT(fs_create(d, "..", S_IFREG | 0644, 0, &ino), -LX_EEXIST);
    EXPECT(fs_create(d, "bad", 0644, 0, &ino), -LX_EINVAL);    /* no type */
    EXPECT(fs_create(d, "bad", 0070644, 0, &ino), -LX_EINVAL); /* no such type */
    EXPECT(fs_create(d, "bad", 1ull << 40 | S_IFREG, 0, &ino), -LX_EINVAL);
    EXPECT(fs_lookup(d, "bad", &ino), -LX_ENOENT);
    EXPECT(fs_lookup(d, "file", &ino), 0);
    EXPECT(fs_create(ino, "x", S_IFREG | 0644, 0, 0), -LX_ENOTDIR);
    char name[257];
    memset(name, 'n', 256);
    name[256] = '\0';
    EXPECT(fs_create(d, name, S_IFREG | 0644, 0, &ino), -LX_ENAMETOOLONG);
    name[255] = '\0';
    EXPECT(fs_create(d, name, S_IFREG | 0644, 0, &ino), 0);
    EXPECT(fs_create(d, "a/b", S_IFREG | 0644, 0, &ino), -LX_EINVAL);
    return 0;
}

static int unlink_rmdir(void)
{
    uint64_t d, sub, f, ino;
    EXPECT(fs_scratch("unl", &d), 0);
    EXPECT(fs_mkdir(d, "sub", &sub), 0);
    EXPECT(fs_mkfile(sub, "f", "x", 1, &f), 0);
    EXPECT(fs_nlink(d), 3);
    EXPECT(fs_unlink(d, "sub"), -LX_EISDIR);
    EXPECT(fs_unlink(d, "."), -LX_EISDIR);
    EXPECT(fs_unlink(d, "nothing"), -LX_ENOENT);
    EXPECT(fs_unlink(f, "x"), -LX_ENOTDIR);
    EXPECT(fs_rmdir(d, "sub"), -LX_ENOTEMPTY);
    EXPECT(fs_rmdir(sub, "f"), -LX_ENOTDIR);
    EXPECT(fs_rmdir(d, "."), -LX_EINVAL);
    EXPECT(fs_rmdir(d, ".."), -LX_ENOTEMPTY);
    EXPECT(fs_rmdir(d, "nothing"), -LX_ENOENT);
    EXPECT(fs_unlink(sub, "f"), 0);
    EXPECT(fs_lookup(sub, "f", &ino), -LX_ENOENT);
    EXPECT(fs_rmdir(d, "sub"), 0);
    EXPECT(fs_nlink(d), 2);
    EXPECT(fs_lookup(d, "sub", &ino), -LX_ENOENT);
    /* the removed directory is still referenced (CREATE, then the lookup of
     * "."): it answers, but holds nothing */
    EXPECT(fs_nlink(sub), 0);
    EXPECT(fs_lookup(sub, ".", &ino), 0);
    EXPECT(fs_lookup(sub, "..", &ino), -LX_ENOENT);
    EXPECT(fs_create(sub, "new", S_IFREG | 0644, 0, &ino), -LX_ENOENT);
    uint64_t cookie = 0;
    EXPECT(fs_getdents(sub, &cookie, big, 4096), 0);
    EXPECT(fs_putnode(sub), 0);
    EXPECT(fs_stat(sub, (struct fs_stat *)big), 0);
    EXPECT(fs_putnode(sub), 0);
    EXPECT(fs_stat(sub, (struct fs_stat *)big), -LX_EINVAL); /* freed */
    return 0;
}

static int link_counts(void)
{
    uint64_t d, a, b, f, ino;
    EXPECT(fs_scratch("links", &d), 0);
    EXPECT(fs_nlink(FS_ROOT_INO) > 2, 1);
    uint64_t root_links = fs_nlink(FS_ROOT_INO);
    EXPECT(fs_mkdir(d, "a", &a), 0);
    EXPECT(fs_mkdir(d, "b", &b), 0);
    EXPECT(fs_nlink(d), 4);
    EXPECT(fs_mkfile(a, "f", "data", 4, &f), 0);
    EXPECT(fs_nlink(d), 4); /* files do not count */
    EXPECT(fs_link(b, "g", f), 0);
    EXPECT(fs_nlink(f), 2);
    EXPECT(fs_link(d, "h", f), 0);
    EXPECT(fs_nlink(f), 3);
    EXPECT(fs_lookup(b, "g", &ino), 0);
    EXPECT(ino, f);
    EXPECT(fs_read(ino, 0, big, 10), 4);
    EXPECT(fs_link(b, "g", f), -LX_EEXIST);
    EXPECT(fs_link(b, "dirlink", a), -LX_EPERM);
    EXPECT(fs_link(f, "x", f), -LX_ENOTDIR);
    EXPECT(fs_link(b, "x", 0), -LX_EINVAL);
    EXPECT(fs_link(b, ".", f), -LX_EEXIST);
    EXPECT(fs_unlink(a, "f"), 0);
    EXPECT(fs_nlink(f), 2);
    EXPECT(fs_unlink(d, "h"), 0);
    EXPECT(fs_nlink(f), 1);
    EXPECT(fs_read(f, 0, big, 10), 4);
    EXPECT(fs_rmdir(d, "a"), 0);
    EXPECT(fs_nlink(d), 3);
    EXPECT(fs_nlink(FS_ROOT_INO), root_links);
    /* an unlinked (but referenced) file cannot get a name back */
    EXPECT(fs_unlink(b, "g"), 0);
    EXPECT(fs_link(b, "again", f), -LX_ENOENT);
    EXPECT(fs_putnode(f), 0);
    return 0;
}

static int rename_files(void)
{
    uint64_t d, e, f, g, ino;
    EXPECT(fs_scratch("ren", &d), 0);
    EXPECT(fs_mkdir(d, "e", &e), 0);
    EXPECT(fs_mkfile(d, "f", "ffff", 4, &f), 0);
    EXPECT(fs_mkfile(d, "g", "gg", 2, &g), 0);
    /* simple, and to another directory */
    EXPECT(fs_rename(d, "f", d, "f2"), 0);
    EXPECT(fs_lookup(d, "f", &ino), -LX_ENOENT);
    EXPECT(fs_lookup(d, "f2", &ino), 0);
    EXPECT(ino, f);
    EXPECT(fs_rename(d, "f2", e, "f3"), 0);
    EXPECT(fs_lookup(e, "f3", &ino), 0);
    EXPECT(ino, f);
    EXPECT(fs_nlink(d), 3);
    /* over an existing file: the target's inode goes (once vfs lets go) */
    EXPECT(fs_putnode(g), 0);
    EXPECT(fs_rename(e, "f3", d, "g"), 0);
    EXPECT(fs_lookup(d, "g", &ino), 0);
    EXPECT(ino, f);
    EXPECT(fs_read(f, 0, big, 10), 4);
    EXPECT(fs_stat(g, (struct fs_stat *)big), -LX_EINVAL);
    /* onto itself, and between two names of one file: nothing happens */
    EXPECT(fs_rename(d, "g", d, "g"), 0);
    EXPECT(fs_link(d, "g2", f), 0);
    EXPECT(fs_rename(d, "g", d, "g2"), 0);
    EXPECT(fs_lookup(d, "g", &ino), 0);
    EXPECT(fs_lookup(d, "g2", &ino), 0);
    EXPECT(fs_nlink(f), 2);
    /* errors */
    EXPECT(fs_rename(d, "none", d, "x"), -LX_ENOENT);
    EXPECT(fs_rename(d, "g", d, "e"), -LX_EISDIR);
    EXPECT(fs_rename(d, "e", d, "g"), -LX_ENOTDIR);
    EXPECT(fs_rename(d, ".", d, "x"), -LX_EBUSY);
    EXPECT(fs_rename(d, "g", d, ".."), -LX_EBUSY);
    EXPECT(fs_rename(d, "g", f, "x"), -LX_ENOTDIR);
    EXPECT(fs_rename(d, "g", d, "a/b"), -LX_EINVAL);
    EXPECT(fs_rename(0, "g", d, "x"), -LX_EINVAL);
    EXPECT(fs_lookup(d, "g", &ino), 0);
    return 0;
}

static int rename_dirs(void)
{
    uint64_t d, a, b, c, empty, full, ino;
    EXPECT(fs_scratch("rend", &d), 0);
    EXPECT(fs_mkdir(d, "a", &a), 0);
    EXPECT(fs_mkdir(a, "b", &b), 0);
    EXPECT(fs_mkdir(b, "c", &c), 0);
    EXPECT(fs_mkdir(d, "empty", &empty), 0);
    EXPECT(fs_mkdir(d, "full", &full), 0);
    EXPECT(fs_mkfile(full, "x", "", 0, &ino), 0);
    EXPECT(fs_nlink(d), 5);
    /* into its own subtree, or into itself */
    EXPECT(fs_rename(d, "a", c, "a"), -LX_EINVAL);
    EXPECT(fs_rename(d, "a", b, "a"), -LX_EINVAL);
    EXPECT(fs_rename(d, "a", a, "a"), -LX_EINVAL);
    EXPECT(fs_rename(a, "b", c, "b"), -LX_EINVAL);
    /* over a non-empty directory, over a file */
    EXPECT(fs_rename(d, "a", d, "full"), -LX_ENOTEMPTY);
    EXPECT(fs_rename(d, "a", full, "x"), -LX_ENOTDIR);
    /* moving up: b leaves a for d */
    EXPECT(fs_rename(a, "b", d, "b"), 0);
    EXPECT(fs_nlink(a), 2);
    EXPECT(fs_nlink(d), 6);
    EXPECT(fs_lookup(b, "..", &ino), 0);
    EXPECT(ino, d);
    EXPECT(fs_lookup(c, "..", &ino), 0);
    EXPECT(ino, b);
    /* moving down into a sibling (not its own subtree) */
    EXPECT(fs_rename(d, "b", a, "b2"), 0);
    EXPECT(fs_lookup(b, "..", &ino), 0);
    EXPECT(ino, a);
    EXPECT(fs_nlink(a), 3);
    EXPECT(fs_nlink(d), 5);
    /* over an empty directory: it is removed */
    EXPECT(fs_putnode(empty), 0);
    EXPECT(fs_rename(a, "b2", d, "empty"), 0);
    EXPECT(fs_lookup(d, "empty", &ino), 0);
    EXPECT(ino, b);
    EXPECT(fs_stat(empty, (struct fs_stat *)big), -LX_EINVAL);
    EXPECT(fs_nlink(a), 2);
    EXPECT(fs_nlink(d), 5); /* a, empty (=b), full */
    EXPECT(fs_walk("rend/empty/c", &ino), 0);
    EXPECT(ino, c);
    /* a directory renamed within its parent keeps the counts */
    EXPECT(fs_rename(d, "empty", d, "b"), 0);
    EXPECT(fs_nlink(d), 5);
    EXPECT(fs_lookup(c, "..", &ino), 0);
    EXPECT(ino, b);
    return 0;
}

static int symlinks(void)
{
    uint64_t d, s, ino;
    char buf[5000];
    struct fs_stat st;
    EXPECT(fs_scratch("sym", &d), 0);
    EXPECT(fs_symlink(d, "s", "../etc/hostname", &s), 0);
    EXPECT(fs_last.u.fs.node.mode, S_IFLNK | 0777);
    EXPECT(fs_stat(s, &st), 0);
    EXPECT(st.mode, S_IFLNK | 0777);
    EXPECT(st.size, 15);
    EXPECT(st.nlink, 1);
    EXPECT(fs_readlink(s, buf, sizeof(buf)), 15);
    EXPECT(memcmp(buf, "../etc/hostname", 15), 0);
    EXPECT(fs_readlink(s, buf, 4), 4); /* truncated, no NUL */
    EXPECT(memcmp(buf, "../e", 4), 0);
    EXPECT(fs_readlink(s, buf, 0), -LX_EINVAL);
    EXPECT(fs_lookup(d, "s", &ino), 0);
    EXPECT(ino, s);
    EXPECT(fs_symlink(d, "s", "x", &ino), -LX_EEXIST);
    EXPECT(fs_symlink(d, "e", "", &ino), -LX_ENOENT);
    EXPECT(fs_symlink(d, "", "x", &ino), -LX_EINVAL);
    /* the longest target, and one byte more */
    memset(buf, 't', 4096);
    buf[4095] = '\0';
    EXPECT(fs_symlink(d, "long", buf, &ino), 0);
    EXPECT(fs_readlink(ino, buf + 4096, 900), 900);
    EXPECT(fs_readlink(ino, (char *)big, 8000), 4095);
    buf[4095] = 't';
    buf[4096] = '\0';
    EXPECT(fs_symlink(d, "toolong", buf, &ino), -LX_ENAMETOOLONG);
    /* a trailing NUL in the total length is accepted */
    message_t m = {.type = FS_SYMLINK, .u.fs.symlink = {.dir = d, .len = 6}};
    EXPECT(fs_call_granted(&m, &m.u.fs.symlink.grant, "n\0abc", 6, GRANT_READ), 0);
    EXPECT(fs_readlink(fs_last.u.fs.node.ino, buf, 100), 3);
    /* links to symlinks and unlinking them */
    EXPECT(fs_link(d, "s2", s), 0);
    EXPECT(fs_nlink(s), 2);
    EXPECT(fs_unlink(d, "s"), 0);
    EXPECT(fs_unlink(d, "s2"), 0);
    EXPECT(fs_readlink(s, buf, 100), 15); /* SYMLINK and LOOKUP: two references */
    EXPECT(fs_putnode(s), 0);
    EXPECT(fs_readlink(s, buf, 100), 15);
    EXPECT(fs_putnode(s), 0);
    EXPECT(fs_readlink(s, buf, 100), -LX_EINVAL);
    return 0;
}

/* FS_WALK of path from dir, at most max records into rec: the count, or -errno. */
static int64_t walk(uint64_t dir, const char *path, uint64_t max, struct fs_walk_record *rec)
{
    static uint8_t buf[FS_WALK_RECORDS(512) + FS_WALK_MAX * sizeof(struct fs_walk_record)];
    uint64_t len = strlen(path);
    memcpy(buf, path, len);
    message_t m = {.type = FS_WALK, .u.fs.walk = {.dir = dir, .len = len, .max = max}};
    int64_t r = fs_call_granted(&m, &m.u.fs.walk.grant, buf, sizeof(buf), GRANT_READ | GRANT_WRITE);
    if (r > 0)
        memcpy(rec, buf + FS_WALK_RECORDS(len), (size_t)r * sizeof(rec[0]));
    return r;
}

/* FS_WALK: several components in one request, stopping where vfs must take over; one reference
 * per record. */
static int walks(void)
{
    uint64_t d, a, b, f, s, ino;
    struct fs_walk_record rec[FS_WALK_MAX];
    CHECK(fs_scratch("walk", &d) == 0);
    CHECK(fs_mkdir(d, "a", &a) == 0 && fs_mkdir(a, "b", &b) == 0);
    CHECK(fs_mkfile(b, "f", "x", 1, &f) == 0 && fs_symlink(b, "s", "f", &s) == 0);
    EXPECT(walk(d, "a//b/f", FS_WALK_MAX, rec), 3);
    EXPECT(rec[0].ino, a);
    EXPECT(rec[1].ino, b);
    EXPECT(rec[2].ino, f);
    EXPECT(rec[2].mode & S_IFMT, S_IFREG);
    EXPECT(fs_last.u.fs.walked.error, 0);
    EXPECT(walk(d, "a/b/f/more", FS_WALK_MAX, rec), 3); /* stops after a file */
    EXPECT(walk(d, "a/b/s/x", FS_WALK_MAX, rec), 3);    /* and after a link */
    EXPECT(rec[2].ino, s);
    EXPECT(walk(d, "a/b/none/x", FS_WALK_MAX, rec), 2);
    EXPECT(fs_last.u.fs.walked.error, -LX_ENOENT);
    EXPECT(walk(d, "none/x", FS_WALK_MAX, rec), -LX_ENOENT);
    EXPECT(walk(d, "a/../a", FS_WALK_MAX, rec), 1); /* before ".." */
    EXPECT(walk(d, "a/./b", FS_WALK_MAX, rec), 1);  /* and "." */
    EXPECT(walk(d, "a/b/f", 2, rec), 2);            /* max */
    EXPECT(walk(f, "a", FS_WALK_MAX, rec), -LX_ENOTDIR);
    EXPECT(walk(d, "a/b/f", 0, rec), -LX_EINVAL);
    EXPECT(walk(d, "a/b/f", FS_WALK_MAX + 1, rec), -LX_EINVAL);
    message_t m = {.type = FS_WALK,
                   .u.fs.walk = {.dir = d, .len = 1, .max = 1, .grant = 1ull << 40}};
    EXPECT(fs_call(&m), -LX_EFAULT);
    /* each record counted a reference: the file outlives its name until they all go back */
    struct fs_stat st;
    CHECK(fs_unlink(b, "f") == 0);
    for (int i = 0; i < 2; i++) { /* the two walks above that reached f */
        EXPECT(fs_stat(f, &st), 0);
        EXPECT(fs_putnode(f), 0);
    }
    EXPECT(fs_putnode(f), 0); /* mkfile's */
    EXPECT(fs_lookup(b, "f", &ino), -LX_ENOENT);
    EXPECT(fs_stat(f, &st), -LX_EINVAL);
    return 0;
}

/* FS_UNLINK or FS_RMDIR of name in dir that also gives back one reference to put. */
static int64_t remove_put(int type, uint64_t dir, const char *name, uint64_t put)
{
    uint64_t len = strlen(name);
    message_t m = {.type = type, .u.fs.unlink = {.dir = dir, .name_len = len, .put = put}};
    return fs_call_granted(&m, &m.u.fs.unlink.name_grant, name, len, GRANT_READ);
}

/* UNLINK and RMDIR with `put`: the reference goes back with the removal (even a failed one). */
static int removals_put(void)
{
    uint64_t d, f, e, g;
    struct fs_stat st;
    CHECK(fs_scratch("rmput", &d) == 0);
    CHECK(fs_mkfile(d, "f", "x", 1, &f) == 0 && fs_mkdir(d, "e", &e) == 0);
    EXPECT(remove_put(FS_UNLINK, d, "f", f), 0);
    EXPECT(fs_stat(f, &st), -LX_EINVAL); /* no name, no reference: gone */
    EXPECT(remove_put(FS_RMDIR, d, "e", e), 0);
    EXPECT(fs_stat(e, &st), -LX_EINVAL);
    CHECK(fs_mkfile(d, "g", "x", 1, &g) == 0 && fs_lookup(d, "g", &g) == 0);
    EXPECT(remove_put(FS_UNLINK, d, "none", g), -LX_ENOENT); /* failed, but put */
    EXPECT(fs_unlink(d, "g"), 0);
    EXPECT(fs_stat(g, &st), 0); /* one reference left */
    EXPECT(fs_putnode(g), 0);
    EXPECT(fs_stat(g, &st), -LX_EINVAL);
    return 0;
}

const struct fstest name_tests[] = {
    {"create_kinds", create_kinds},
    {"unlink_rmdir", unlink_rmdir},
    {"link_counts", link_counts},
    {"rename_files", rename_files},
    {"rename_dirs", rename_dirs},
    {"symlinks", symlinks},
    {"walks", walks},
    {"removals_put", removals_put},
    {0, 0},
};
