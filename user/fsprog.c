/* fsprog: a file-system test program (issue 10), run on Samsara's ext2 root and on Linux.
 *
 * Usage: fsprog [DIR]   (default /fsprog.d; made, used, emptied and removed)
 *
 * Each check prints "ok NAME" or "FAIL NAME: what (line)"; the last line is
 * "fsprog: N passed, M failed". The checks (table `checks` below): create/write/read back,
 * rename (plain, over an existing file, across directories, directories, refusals), unlink
 * (also of an open file, whose blocks come back at its last close), mkdir/rmdir (ENOTEMPTY),
 * a 64-level tree, a sparse file past 4 GiB (triple-indirect range at 4 KiB blocks; holes
 * read as zeros), 2,000 small files, hard links, fast and slow symlinks, permissions (as root,
 * then in a child that is uid/gid 1000: refused where Linux refuses), truncate shrink/grow
 * (the cut-off bytes come back as zeros), utimensat. The same binary passes on Linux
 * (tools/suite_fsprog.py runs it on both and compares the lists of passed checks). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failed_line;
static char failed_what[160];

/* EXPECT(cond, fmt, ...): on failure remember the first reason and return 1 from the check. */
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(failed_what, sizeof failed_what, __VA_ARGS__);                                \
            failed_line = __LINE__;                                                                \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)
/* A call that must fail with errno e. */
#define REFUSED(call, e) EXPECT((call) < 0 && errno == (e), #call ": errno %d, want %d", errno, e)
#define OK(call) EXPECT((call) >= 0, #call ": errno %d", errno)
/* REMOVED(path, ...): a check's clean-up, in order: each file, link or empty directory removed
 * (unlink, or rmdir for a directory), the first failure named. */
#define REMOVED(...)                                                                               \
    do {                                                                                           \
        static const char *const removed_[] = {__VA_ARGS__, 0};                                    \
        for (const char *const *p_ = removed_; *p_; p_++)                                          \
            EXPECT(remove(*p_) == 0, "remove %s: errno %d", *p_, errno);                           \
    } while (0)

static void fill(char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)((i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

static int put(const char *path, const char *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, data, n);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

/* The file's content into buf (at most cap bytes); its length, or -1. */
static ssize_t get(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t r;
    while (got < cap && (r = read(fd, buf + got, cap - got)) > 0)
        got += (size_t)r;
    close(fd);
    return (ssize_t)got;
}

static int is(const char *path, const char *text)
{
    char buf[256];
    ssize_t n = get(path, buf, sizeof buf);
    return n == (ssize_t)strlen(text) && memcmp(buf, text, (size_t)n) == 0;
}

static int all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static long long free_blocks(void)
{
    struct statvfs s;
    return statvfs(".", &s) < 0 ? -1 : (long long)s.f_bfree;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static ino_t ino(const char *path)
{
    struct stat st;
    return lstat(path, &st) < 0 ? 0 : st.st_ino;
}

static nlink_t nlink(const char *path)
{
    struct stat st;
    return lstat(path, &st) < 0 ? 0 : st.st_nlink;
}

static int t_create_write_read(void)
{
    static char a[20000], b[20000];
    fill(a, sizeof a, 1);
    int fd = open("cw", O_RDWR | O_CREAT | O_EXCL, 0644);
    OK(fd);
    EXPECT(write(fd, a, sizeof a) == (ssize_t)sizeof a, "write");
    EXPECT(lseek(fd, 0, SEEK_SET) == 0, "lseek");
    EXPECT(read(fd, b, sizeof b) == (ssize_t)sizeof b && !memcmp(a, b, sizeof a), "read back");
    EXPECT(read(fd, b, 1) == 0, "read at the end is not 0");
    EXPECT(pread(fd, b, 100, 9000) == 100 && !memcmp(a + 9000, b, 100), "pread");
    EXPECT(pwrite(fd, "XYZ", 3, 4095) == 3 && pread(fd, b, 3, 4095) == 3 && !memcmp(b, "XYZ", 3),
           "pwrite across a block boundary");
    close(fd);
    REFUSED(open("cw", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST);
    fd = open("cw", O_WRONLY | O_APPEND);
    OK(fd);
    EXPECT(write(fd, "end", 3) == 3, "append");
    close(fd);
    struct stat st;
    OK(stat("cw", &st));
    EXPECT(st.st_size == (off_t)sizeof a + 3 && S_ISREG(st.st_mode), "size %lld",
           (long long)st.st_size);
    REFUSED(open("nonexistent", O_RDONLY), ENOENT);
    REFUSED(open("cw/x", O_RDONLY), ENOTDIR);
    OK(unlink("cw"));
    return 0;
}

static int t_rename(void)
{
    OK(put("r1", "one", 3));
    ino_t i1 = ino("r1");
    OK(rename("r1", "r2"));
    REFUSED(access("r1", F_OK), ENOENT);
    EXPECT(is("r2", "one") && ino("r2") == i1, "r2 after rename");
    OK(put("r3", "three", 5));
    OK(rename("r2", "r3")); /* over an existing file: it is replaced */
    EXPECT(is("r3", "one") && ino("r3") == i1 && nlink("r3") == 1, "r3 replaced");
    REFUSED(access("r2", F_OK), ENOENT);
    OK(rename("r3", "r3")); /* onto itself: nothing happens */
    EXPECT(is("r3", "one"), "rename onto itself");
    REFUSED(rename("missing", "r4"), ENOENT);
    OK(unlink("r3"));
    return 0;
}

static int t_rename_dirs(void)
{
    OK(mkdir("ra", 0755));
    OK(mkdir("rb", 0755));
    OK(put("ra/f", "f", 1));
    OK(rename("ra/f", "rb/g")); /* across directories */
    EXPECT(entries("ra") == 0 && is("rb/g", "f"), "file moved across directories");
    OK(mkdir("ra/sub", 0755));
    EXPECT(nlink("ra") == 3 && nlink("rb") == 2, "link counts before: %d %d", (int)nlink("ra"),
           (int)nlink("rb"));
    OK(rename("ra/sub", "rb/sub")); /* a directory across directories: its .. follows */
    EXPECT(nlink("ra") == 2 && nlink("rb") == 3, "link counts after: %d %d", (int)nlink("ra"),
           (int)nlink("rb"));
    EXPECT(ino("rb/sub/..") == ino("rb"), "rb/sub/.. is not rb");
    REFUSED(rename("rb", "rb/sub/x"), EINVAL); /* into itself */
    OK(mkdir("ra/empty", 0755));
    OK(rename("rb/sub", "ra/empty")); /* over an empty directory */
    EXPECT(nlink("ra") == 3 && nlink("rb") == 2, "link counts after over-empty");
    OK(mkdir("rb/full", 0755));
    OK(put("rb/full/x", "x", 1));
    REFUSED(rename("ra/empty", "rb/full"), ENOTEMPTY);
    REFUSED(rename("ra/empty", "rb/g"), ENOTDIR);
    REFUSED(rename("rb/g", "ra/empty"), EISDIR);
    REMOVED("rb/full/x", "rb/full", "rb/g", "ra/empty", "ra", "rb");
    return 0;
}

static int t_unlink(void)
{
    OK(put("u", "u", 1));
    OK(unlink("u"));
    REFUSED(access("u", F_OK), ENOENT);
    REFUSED(unlink("u"), ENOENT);
    OK(mkdir("ud", 0755));
    REFUSED(unlink("ud"), EISDIR);
    OK(rmdir("ud"));
    return 0;
}

static int t_open_unlinked(void)
{
    static char a[256 * 1024], b[sizeof a];
    fill(a, sizeof a, 2);
    sync();
    long long before = free_blocks();
    int fd = open("ou", O_RDWR | O_CREAT | O_TRUNC, 0644);
    OK(fd);
    EXPECT(write(fd, a, sizeof a) == (ssize_t)sizeof a, "write");
    OK(unlink("ou"));
    REFUSED(access("ou", F_OK), ENOENT);
    struct stat st;
    OK(fstat(fd, &st));
    EXPECT(st.st_nlink == 0 && st.st_size == (off_t)sizeof a, "fstat: nlink %d size %lld",
           (int)st.st_nlink, (long long)st.st_size);
    EXPECT(free_blocks() < before, "blocks freed while still open");
    EXPECT(pread(fd, b, sizeof b, 0) == (ssize_t)sizeof b && !memcmp(a, b, sizeof a),
           "read back after unlink");
    EXPECT(pwrite(fd, "more", 4, sizeof a) == 4, "write after unlink");
    OK(close(fd));
    sync();
    EXPECT(free_blocks() == before, "blocks not given back at close: %lld, before %lld",
           free_blocks(), before);
    return 0;
}

static int t_mkdir_rmdir(void)
{
    OK(mkdir("m", 0755));
    REFUSED(mkdir("m", 0755), EEXIST);
    struct stat st;
    OK(stat("m", &st));
    EXPECT(S_ISDIR(st.st_mode) && st.st_nlink == 2 && (st.st_mode & 07777) == 0755,
           "mode %o nlink %d", st.st_mode, (int)st.st_nlink);
    OK(mkdir("m/n", 0700));
    EXPECT(nlink("m") == 3, "parent's link count %d", (int)nlink("m"));
    OK(put("m/n/f", "f", 1));
    REFUSED(rmdir("m"), ENOTEMPTY);
    REFUSED(rmdir("m/n"), ENOTEMPTY);
    REFUSED(rmdir("m/n/f"), ENOTDIR);
    REFUSED(mkdir("m/n/f/x", 0755), ENOTDIR);
    REFUSED(mkdir("m/missing/x", 0755), ENOENT);
    REFUSED(rmdir("m/n/."), EINVAL);
    OK(unlink("m/n/f"));
    OK(rmdir("m/n"));
    EXPECT(nlink("m") == 2, "parent's link count after rmdir %d", (int)nlink("m"));
    OK(rmdir("m"));
    REFUSED(rmdir("m"), ENOENT);
    return 0;
}

enum { DEPTH = 64 };

static int t_deep_tree(void)
{
    char top[512];
    EXPECT(getcwd(top, sizeof top), "getcwd");
    for (int i = 0; i < DEPTH; i++) {
        OK(mkdir("deep", 0755));
        OK(chdir("deep"));
    }
    OK(put("leaf", "bottom", 6));
    char cwd[4096];
    EXPECT(getcwd(cwd, sizeof cwd) && strlen(cwd) == strlen(top) + DEPTH * 5,
           "getcwd at the bottom");
    OK(chdir(top));
    char path[DEPTH * 5 + 8] = "";
    for (int i = 0; i < DEPTH; i++)
        strcat(path, "deep/");
    strcat(path, "leaf");
    EXPECT(is(path, "bottom"), "the leaf through a 64-level path");
    OK(unlink(path));
    REFUSED(rmdir("deep"), ENOTEMPTY);
    for (int i = DEPTH; i > 0; i--) { /* the deepest first */
        path[i * 5 - 1] = 0;
        OK(rmdir(path));
    }
    REFUSED(access("deep", F_OK), ENOENT);
    return 0;
}

static int t_large_sparse(void)
{
    /* offsets: a direct block, the double-indirect range, past 4 GiB (triple indirect at
     * 4 KiB blocks), and the last one straddles a block boundary past 5 GiB */
    static const long long at[] = {20480, 3LL << 30, (4LL << 30) + 4096 * 7, (5LL << 30) + 4000};
    static char a[8192], b[8192];
    sync();
    long long before = free_blocks();
    int fd = open("big", O_RDWR | O_CREAT | O_TRUNC, 0644);
    OK(fd);
    for (unsigned i = 0; i < sizeof at / sizeof at[0]; i++) {
        fill(a, sizeof a, 10 + i);
        EXPECT(pwrite(fd, a, sizeof a, at[i]) == (ssize_t)sizeof a, "pwrite at %lld: errno %d",
               at[i], errno);
    }
    struct stat st;
    OK(fstat(fd, &st));
    long long end = at[3] + (long long)sizeof a;
    EXPECT(st.st_size == end, "size %lld, want %lld", (long long)st.st_size, end);
    EXPECT(st.st_blocks > 0 && st.st_blocks < 400, "st_blocks %lld: not sparse",
           (long long)st.st_blocks);
    for (unsigned i = 0; i < sizeof at / sizeof at[0]; i++) {
        fill(a, sizeof a, 10 + i);
        EXPECT(pread(fd, b, sizeof b, at[i]) == (ssize_t)sizeof b && !memcmp(a, b, sizeof a),
               "read back at %lld", at[i]);
    }
    static const long long holes[] = {
        0, 4096, 1LL << 30, (3LL << 30) - 8192, 4LL << 30, (5LL << 30) - 8192};
    for (unsigned i = 0; i < sizeof holes / sizeof holes[0]; i++)
        EXPECT(pread(fd, b, sizeof b, holes[i]) == (ssize_t)sizeof b && all_zero(b, sizeof b),
               "the hole at %lld is not zeros", holes[i]);
    EXPECT(pread(fd, b, sizeof b, end - 100) == 100, "read across the end");
    EXPECT(pread(fd, b, sizeof b, end + 5) == 0, "read past the end");
    EXPECT(lseek(fd, 0, SEEK_END) == end, "SEEK_END");
    OK(ftruncate(fd, 2LL << 30)); /* cut off the two last pieces */
    OK(fstat(fd, &st));
    EXPECT(st.st_size == 2LL << 30, "size after truncate %lld", (long long)st.st_size);
    EXPECT(pread(fd, b, sizeof b, 20480) == (ssize_t)sizeof b, "read after truncate");
    OK(ftruncate(fd, end)); /* grown again: the old data must not come back */
    EXPECT(pread(fd, b, sizeof b, at[3]) == (ssize_t)sizeof b && all_zero(b, sizeof b),
           "data past a truncate came back");
    close(fd);
    OK(unlink("big"));
    sync();
    EXPECT(free_blocks() == before, "blocks not given back: %lld, before %lld", free_blocks(),
           before);
    return 0;
}

enum { SMALL = 2000 };

static int t_many_small(void)
{
    char name[32], buf[64];
    OK(mkdir("many", 0755));
    for (int i = 0; i < SMALL; i++) {
        snprintf(name, sizeof name, "many/f%04d", i);
        EXPECT(put(name, name, strlen(name)) == 0, "create %s: errno %d", name, errno);
    }
    EXPECT(entries("many") == SMALL, "readdir counts %d", entries("many"));
    for (int i = 0; i < SMALL; i++) {
        snprintf(name, sizeof name, "many/f%04d", i);
        ssize_t n = get(name, buf, sizeof buf);
        EXPECT(n == (ssize_t)strlen(name) && !memcmp(buf, name, (size_t)n), "read %s", name);
    }
    for (int i = 0; i < SMALL; i += 2) { /* every other one, then the rest */
        snprintf(name, sizeof name, "many/f%04d", i);
        OK(unlink(name));
    }
    EXPECT(entries("many") == SMALL / 2, "readdir after half removed: %d", entries("many"));
    EXPECT(is("many/f1999", "many/f1999"), "a survivor");
    for (int i = 1; i < SMALL; i += 2) {
        snprintf(name, sizeof name, "many/f%04d", i);
        OK(unlink(name));
    }
    EXPECT(entries("many") == 0, "readdir after all removed: %d", entries("many"));
    OK(rmdir("many"));
    return 0;
}

static int t_hard_links(void)
{
    OK(put("h1", "hard", 4));
    OK(link("h1", "h2"));
    struct stat s1, s2;
    OK(stat("h1", &s1));
    OK(stat("h2", &s2));
    EXPECT(s1.st_ino == s2.st_ino && s1.st_nlink == 2 && s2.st_nlink == 2, "nlink %d %d",
           (int)s1.st_nlink, (int)s2.st_nlink);
    OK(mkdir("hd", 0755));
    OK(link("h2", "hd/h3"));
    EXPECT(nlink("h1") == 3, "nlink after a third link %d", (int)nlink("h1"));
    int fd = open("hd/h3", O_WRONLY | O_APPEND);
    OK(fd);
    EXPECT(write(fd, "!", 1) == 1, "write");
    close(fd);
    EXPECT(is("h1", "hard!"), "a write through one name seen through another");
    REFUSED(link("h1", "h2"), EEXIST);
    REFUSED(link("hd", "hd2"), EPERM); /* no links to directories */
    REFUSED(link("missing", "h4"), ENOENT);
    OK(unlink("h1"));
    EXPECT(nlink("h2") == 2 && is("h2", "hard!"), "after unlinking one name");
    OK(rename("h2", "hd/h3")); /* two names of one file: rename does nothing */
    EXPECT(nlink("hd/h3") == 2, "rename between links of one file");
    REMOVED("h2", "hd/h3", "hd");
    return 0;
}

static int t_symlinks(void)
{
    char buf[512];
    OK(put("target", "pointed", 7));
    OK(symlink("target", "fast")); /* in the inode: up to 60 bytes */
    ssize_t n = readlink("fast", buf, sizeof buf);
    EXPECT(n == 6 && !memcmp(buf, "target", 6), "readlink fast: %zd", n);
    struct stat st;
    OK(lstat("fast", &st));
    EXPECT(S_ISLNK(st.st_mode) && st.st_size == 6, "lstat fast");
    OK(stat("fast", &st));
    EXPECT(S_ISREG(st.st_mode) && st.st_size == 7, "stat follows");
    EXPECT(is("fast", "pointed"), "open through a fast link");
    /* slow: a target longer than 60 bytes, in a data block */
    char dir1[101], dir2[81], slow[256];
    memset(dir1, 'a', 100), dir1[100] = 0;
    memset(dir2, 'b', 80), dir2[80] = 0;
    OK(mkdir(dir1, 0755));
    snprintf(slow, sizeof slow, "%s/%s", dir1, dir2);
    OK(mkdir(slow, 0755));
    strcat(slow, "/f");
    OK(put(slow, "far", 3));
    OK(symlink(slow, "slow"));
    n = readlink("slow", buf, sizeof buf);
    EXPECT(n == (ssize_t)strlen(slow) && !memcmp(buf, slow, (size_t)n), "readlink slow: %zd", n);
    OK(lstat("slow", &st));
    EXPECT(S_ISLNK(st.st_mode) && st.st_size == (off_t)strlen(slow), "lstat slow");
    EXPECT(is("slow", "far"), "open through a slow link");
    EXPECT(readlink("slow", buf, 10) == 10 && !memcmp(buf, slow, 10), "readlink truncates");
    OK(symlink("nowhere", "dangling"));
    REFUSED(open("dangling", O_RDONLY), ENOENT);
    REFUSED(open("fast", O_RDONLY | O_NOFOLLOW), ELOOP);
    REFUSED(readlink("target", buf, sizeof buf), EINVAL);
    REFUSED(symlink("x", "fast"), EEXIST);
    OK(symlink("loop", "loop"));
    REFUSED(open("loop", O_RDONLY), ELOOP);
    OK(unlink("fast")); /* removes the link, not the target */
    EXPECT(is("target", "pointed"), "target after unlinking its link");
    OK(unlink("slow"));
    OK(unlink(slow));
    slow[strlen(slow) - 2] = 0;
    OK(rmdir(slow));
    OK(rmdir(dir1));
    REMOVED("dangling", "loop", "target");
    return 0;
}

static int t_truncate(void)
{
    static char a[10000], b[20000];
    fill(a, sizeof a, 3);
    OK(put("t", a, sizeof a));
    OK(truncate("t", 3000));
    EXPECT(get("t", b, sizeof b) == 3000 && !memcmp(a, b, 3000), "shrunk to 3000");
    OK(truncate("t", 20000));
    EXPECT(get("t", b, sizeof b) == 20000 && !memcmp(a, b, 3000) && all_zero(b + 3000, 17000),
           "grown to 20000: the tail is not zeros");
    int fd = open("t", O_RDWR);
    OK(fd);
    OK(ftruncate(fd, 0));
    struct stat st;
    OK(fstat(fd, &st));
    EXPECT(st.st_size == 0 && st.st_blocks == 0, "ftruncate 0: size %lld blocks %lld",
           (long long)st.st_size, (long long)st.st_blocks);
    OK(ftruncate(fd, 5000));
    EXPECT(pread(fd, b, sizeof b, 0) == 5000 && all_zero(b, 5000), "regrown: zeros");
    close(fd);
    REFUSED(truncate("t", -1), EINVAL);
    OK(mkdir("td", 0755));
    REFUSED(truncate("td", 0), EISDIR);
    OK(rmdir("td"));
    OK(unlink("t"));
    return 0;
}

static int t_times(void)
{
    OK(put("tm", "t", 1));
    struct timespec ts[2] = {{1000000000, 0}, {981173106, 0}};
    OK(utimensat(AT_FDCWD, "tm", ts, 0));
    struct stat st;
    OK(stat("tm", &st));
    EXPECT(st.st_atime == 1000000000 && st.st_mtime == 981173106, "atime %lld mtime %lld",
           (long long)st.st_atime, (long long)st.st_mtime);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {7777, 0}};
    OK(utimensat(AT_FDCWD, "tm", omit, 0));
    OK(stat("tm", &st));
    EXPECT(st.st_atime == 1000000000 && st.st_mtime == 7777, "UTIME_OMIT");
    /* "now" is the file server's clock, the time of day as time() gives it */
    struct timespec nows[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    time_t before = time(0);
    OK(utimensat(AT_FDCWD, "tm", nows, 0));
    OK(stat("tm", &st));
    EXPECT(st.st_atime == 1000000000 && st.st_mtime == st.st_ctime && st.st_mtime >= before - 1 &&
               st.st_mtime <= time(0) + 1,
           "UTIME_NOW: mtime %lld ctime %lld, time() %lld", (long long)st.st_mtime,
           (long long)st.st_ctime, (long long)before);
    time_t now = st.st_mtime;
    OK(utimensat(AT_FDCWD, "tm", ts, 0));
    int fd = open("tm", O_WRONLY | O_APPEND);
    OK(fd);
    EXPECT(write(fd, "x", 1) == 1, "write");
    close(fd);
    OK(stat("tm", &st));
    EXPECT(st.st_mtime >= now && st.st_ctime >= now, "a write sets mtime and ctime");
    OK(symlink("tm", "tl")); /* AT_SYMLINK_NOFOLLOW: the link's own times */
    OK(utimensat(AT_FDCWD, "tl", ts, AT_SYMLINK_NOFOLLOW));
    OK(lstat("tl", &st));
    EXPECT(st.st_mtime == 981173106, "link's mtime %lld", (long long)st.st_mtime);
    OK(stat("tl", &st));
    EXPECT(st.st_mtime != 981173106, "the target's mtime changed through NOFOLLOW");
    OK(unlink("tl"));
    OK(unlink("tm"));
    return 0;
}

/* As root: modes set and read back; then the refusals as uid/gid 1000 in a child. */
static int t_chmod(void)
{
    OK(put("p", "secret", 6));
    OK(chmod("p", 0600));
    struct stat st;
    OK(stat("p", &st));
    EXPECT((st.st_mode & 07777) == 0600, "mode %o", st.st_mode & 07777);
    OK(chmod("p", 04755));
    OK(stat("p", &st));
    EXPECT((st.st_mode & 07777) == 04755 && S_ISREG(st.st_mode), "mode %o", st.st_mode);
    OK(chown("p", 1000, 1000));
    OK(stat("p", &st));
    EXPECT(st.st_uid == 1000 && st.st_gid == 1000, "owner %d:%d", (int)st.st_uid, (int)st.st_gid);
    OK(unlink("p"));
    return 0;
}

static int as_user_checks(void)
{
    char buf[16];
    /* set up by the parent: root's p600 (0600), p644 (0644), rdir (0755, holds f), pub (0777),
     * sticky (01777, holds root's rf) */
    REFUSED(open("p600", O_RDONLY), EACCES);
    EXPECT(is("p644", "r"), "read of a 0644 file");
    REFUSED(open("p644", O_WRONLY), EACCES);
    REFUSED(truncate("p644", 0), EACCES);
    REFUSED(chmod("p644", 0666), EPERM);
    REFUSED(chown("p644", 1000, 1000), EPERM);
    struct timespec ts[2] = {{1, 0}, {2, 0}};
    REFUSED(utimensat(AT_FDCWD, "p644", ts, 0), EPERM);
    REFUSED(utimensat(AT_FDCWD, "p644", NULL, 0), EACCES);
    REFUSED(open("rdir/new", O_WRONLY | O_CREAT, 0644), EACCES);
    REFUSED(unlink("rdir/f"), EACCES);
    REFUSED(mkdir("rdir/d", 0755), EACCES);
    REFUSED(rename("rdir/f", "pub/f"), EACCES);
    REFUSED(symlink("x", "rdir/s"), EACCES);
    REFUSED(chmod("rdir", 0700), EPERM);
    int fd = open("pub/mine", O_RDWR | O_CREAT, 0600);
    OK(fd);
    close(fd);
    struct stat st;
    OK(stat("pub/mine", &st));
    EXPECT(st.st_uid == 1000 && st.st_gid == 1000, "new file's owner %d:%d", (int)st.st_uid,
           (int)st.st_gid);
    OK(chmod("pub/mine", 0640));
    OK(utimensat(AT_FDCWD, "pub/mine", ts, 0));
    REFUSED(chown("pub/mine", 0, 0), EPERM);
    REFUSED(link("pub/mine", "rdir/l"), EACCES);
    REFUSED(unlink("sticky/rf"), EPERM); /* sticky: only the owner removes */
    REFUSED(rename("sticky/rf", "sticky/rg"), EPERM);
    OK(unlink("pub/mine"));
    REFUSED(open("rdir/f", O_WRONLY | O_TRUNC), EACCES);
    EXPECT(get("p600", buf, sizeof buf) < 0, "p600 readable");
    return 0;
}

static int t_permissions_as_user(void)
{
    if (geteuid() != 0)
        EXPECT(0, "not root: cannot switch to uid 1000");
    OK(put("p600", "s", 1));
    OK(chmod("p600", 0600));
    OK(put("p644", "r", 1));
    OK(mkdir("rdir", 0755));
    OK(put("rdir/f", "f", 1));
    OK(mkdir("pub", 0777));
    OK(chmod("pub", 0777));
    OK(mkdir("sticky", 01777));
    OK(chmod("sticky", 01777));
    OK(put("sticky/rf", "rf", 2));
    OK(chmod("sticky/rf", 0666));
    fflush(stdout);
    int pfd[2];
    OK(pipe(pfd));
    pid_t pid = fork();
    OK(pid);
    if (pid == 0) {
        close(pfd[0]);
        int r = 1;
        if (setgroups(0, NULL) == 0 && setgid(1000) == 0 && setuid(1000) == 0)
            r = as_user_checks();
        else
            snprintf(failed_what, sizeof failed_what, "setuid: errno %d", errno);
        char msg[200];
        snprintf(msg, sizeof msg, "%d %d %s", r, failed_line, failed_what);
        if (write(pfd[1], msg, strlen(msg) + 1) < 0)
            _exit(2);
        _exit(0);
    }
    close(pfd[1]);
    char msg[200] = "";
    ssize_t n = read(pfd[0], msg, sizeof msg - 1);
    close(pfd[0]);
    int status;
    EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "the child failed");
    msg[n > 0 ? n : 0] = 0;
    int r = 1, line = 0, used = 0;
    EXPECT(sscanf(msg, "%d %d %n", &r, &line, &used) >= 2, "no answer from the child");
    EXPECT(r == 0, "as uid 1000: %s (line %d)", msg + used, line);
    /* the root-owned files are as they were */
    EXPECT(is("rdir/f", "f") && is("p644", "r") && is("sticky/rf", "rf"), "files changed");
    REMOVED("rdir/f", "rdir", "pub", "sticky/rf", "sticky", "p600", "p644");
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(void);
} checks[] = {
    {"create_write_read", t_create_write_read},
    {"rename", t_rename},
    {"rename_directories", t_rename_dirs},
    {"unlink", t_unlink},
    {"open_unlinked", t_open_unlinked},
    {"mkdir_rmdir", t_mkdir_rmdir},
    {"deep_tree_64", t_deep_tree},
    {"large_sparse_5gib", t_large_sparse},
    {"many_small_2000", t_many_small},
    {"hard_links", t_hard_links},
    {"symlinks_fast_slow", t_symlinks},
    {"truncate", t_truncate},
    {"times_utimensat", t_times},
    {"chmod_chown", t_chmod},
    {"permissions_uid1000", t_permissions_as_user},
};

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/fsprog.d";
    umask(022);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        printf("fsprog: mkdir %s: %s\nfsprog: 0 passed, 1 failed\n", dir, strerror(errno));
        return 1;
    }
    if (chmod(dir, 0755) < 0 || chdir(dir) < 0) {
        printf("fsprog: %s: %s\nfsprog: 0 passed, 1 failed\n", dir, strerror(errno));
        return 1;
    }
    int passed = 0, failed = 0;
    for (unsigned i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        failed_line = 0;
        if (checks[i].fn() == 0) {
            printf("ok %s\n", checks[i].name);
            passed++;
        } else {
            printf("FAIL %s: %s (line %d)\n", checks[i].name, failed_what, failed_line);
            failed++;
        }
        fflush(stdout);
    }
    int left = entries(".");
    if (left != 0) {
        printf("FAIL left_empty: %d entries left in %s\n", left, dir);
        failed++;
    } else {
        printf("ok left_empty\n");
        passed++;
        if (chdir("/") == 0)
            rmdir(dir);
    }
    printf("fsprog: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
