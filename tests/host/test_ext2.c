/*
 * The ext2 file system's code (fs/ext2, all but the server's main.c) on the
 * host, against real images: each test makes an image with
 * `mke2fs -t ext2 -d STAGING`, works on it through the ext2_* calls, and
 * has `e2fsck -fn` check the image after every kind of operation (after a
 * sync while mounted, and after unmount); some contents are read back with
 * debugfs, a reader that is not ours. Every test runs with 1 KiB and with
 * 4 KiB blocks. The hostile tests corrupt copies of a good image (with
 * debugfs and by patching bytes) and mount them: each is refused or read
 * safely, nothing hangs, and the image is never written past its end
 * (AddressSanitizer watches our memory). The cache has 64 buffers here, so
 * eviction writes back all the time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include "ext2.h"
#include "check.h"

#define WORK "build/ext2-host-work" /* not in build/host: the runner runs all there is there */
static uint32_t BS = 1024;
static char IMG[128], STAGE[128];

/* ---- a disk on a file; writes past the end are counted, never done; requests are counted */
static struct file_disk {
    struct ext2_disk d;
    FILE *f;
    long outside, writes, fail_writes;
    uint64_t fail_blk;       /* a block whose every write fails (0: none) */
    long reads, read_blocks; /* read requests, and the blocks they asked for */
} disk;

static int fd_read(struct ext2_disk *d, uint64_t off, void *buf, uint64_t len)
{
    struct file_disk *fd = (struct file_disk *)d;
    if (off % 512 || len % 512 || off + len > d->size) {
        fd->outside++;
        return -LX_EIO;
    }
    fd->reads++;
    fd->read_blocks += (long)(len / BS);
    return fseeko(fd->f, (off_t)off, SEEK_SET) || fread(buf, 1, len, fd->f) != len ? -LX_EIO : 0;
}

/* A write of off..off+len covers the block the disk refuses. */
static int refused(const struct file_disk *fd, uint64_t off, uint64_t len)
{
    return fd->fail_blk && off <= fd->fail_blk * BS && fd->fail_blk * BS < off + len;
}

static int fd_write(struct ext2_disk *d, uint64_t off, const void *buf, uint64_t len)
{
    struct file_disk *fd = (struct file_disk *)d;
    if (off % 512 || len % 512 || off + len > d->size) {
        fd->outside++;
        return -LX_EIO;
    }
    if (fd->fail_writes || refused(fd, off, len))
        return -LX_EIO;
    fd->writes++;
    return fseeko(fd->f, (off_t)off, SEEK_SET) || fwrite(buf, 1, len, fd->f) != len ? -LX_EIO : 0;
}

/* A vector as one request: each piece at the offset where the one before it ended. */
static int fd_xfer(struct ext2_disk *d, int write, uint64_t off, const struct ext2_iov *v,
                   uint32_t n)
{
    struct file_disk *fd = (struct file_disk *)d;
    uint64_t len = 0;
    for (uint32_t i = 0; i < n; i++)
        len += v[i].len;
    if (!n || off % 512 || len % 512 || off + len > d->size) {
        fd->outside++;
        return -LX_EIO;
    }
    if (write && (fd->fail_writes || refused(fd, off, len)))
        return -LX_EIO;
    if (write)
        fd->writes++;
    else
        fd->reads++, fd->read_blocks += (long)(len / BS);
    if (fseeko(fd->f, (off_t)off, SEEK_SET))
        return -LX_EIO;
    for (uint32_t i = 0; i < n; i++)
        if ((write ? fwrite(v[i].buf, 1, v[i].len, fd->f) : fread(v[i].buf, 1, v[i].len, fd->f)) !=
            v[i].len)
            return -LX_EIO;
    return 0;
}

static int fd_flush(struct ext2_disk *d)
{
    return fflush(((struct file_disk *)d)->f) ? -LX_EIO : 0;
}

static uint64_t host_now(void)
{
    return (uint64_t)time(0);
}

static int mount_img(const char *path)
{
    disk = (struct file_disk){
        .d = {.read = fd_read, .write = fd_write, .flush = fd_flush, .xfer = fd_xfer},
        .f = fopen(path, "r+b")};
    if (!disk.f)
        return -LX_ENOENT;
    fseeko(disk.f, 0, SEEK_END);
    disk.d.size = (uint64_t)ftello(disk.f);
    int r = ext2_mount(&disk.d, 0, host_now);
    if (r < 0) {
        fclose(disk.f);
        disk.f = 0;
    }
    return r;
}

static int umount_img(void)
{
    int r = ext2_unmount();
    if (disk.f)
        fclose(disk.f);
    disk.f = 0;
    CHECK(disk.outside == 0);
    return r;
}

static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int r = system(cmd);
    return r == -1 ? -1 : (r >> 8) & 0xff;
}

/* e2fsck -fn on the image: no errors. Mounted images are synced first. */
static int fsck_ok(const char *what)
{
    if (ext2.mounted)
        CHECK(ext2_sync() == 0);
    int r = sh("e2fsck -fn %s > " WORK "/fsck.log 2>&1", IMG);
    if (r != 0) {
        printf("  e2fsck after %s: exit %d\n", what, r);
        sh("sed 's/^/  | /' " WORK "/fsck.log | head -30");
    }
    return r == 0;
}
#define FSCK(what) CHECK(fsck_ok(what))

/* ---- memory as a requester's buffer */
struct mem_io {
    struct ext2_io io;
    uint8_t *p;
    uint64_t cap;
};

static int mem_copy(const struct ext2_io *io, uint64_t off, void *buf, uint64_t len, int out)
{
    const struct mem_io *m = (const struct mem_io *)io;
    if (off > m->cap || len > m->cap - off)
        return -LX_EFAULT;
    if (out)
        memcpy(m->p + off, buf, len);
    else
        memcpy(buf, m->p + off, len);
    return 0;
}

static int mem_copyv(const struct ext2_io *io, uint64_t off, const struct ext2_iov *v, uint32_t n,
                     int out)
{
    const struct mem_io *m = (const struct mem_io *)io;
    uint64_t len = 0;
    CHECK(n <= EXT2_COPY_MAX);
    for (uint32_t i = 0; i < n; i++)
        len += v[i].len;
    if (off > m->cap || len > m->cap - off) /* all or nothing, as KC_SAFECOPY_VEC */
        return -LX_EFAULT;
    for (uint32_t i = 0; i < n; off += v[i].len, i++)
        mem_copy(io, off, v[i].buf, v[i].len, out);
    return 0;
}

static struct mem_io mem(void *p, uint64_t cap)
{
    return (struct mem_io){{mem_copy, mem_copyv}, p, cap};
}

/* ---- paths */
static int lookup1(uint32_t dir, const char *name, uint32_t *ino)
{
    struct ext2_node n;
    int r = ext2_lookup(dir, name, (uint32_t)strlen(name), &n);
    if (r < 0)
        return r;
    *ino = (uint32_t)n.ino;
    ext2_putnode(*ino);
    return 0;
}

/* The inode of path (no leading /), and of its parent and last name. */
static int walk2(const char *path, uint32_t *parent, const char **last, uint32_t *ino)
{
    char part[256];
    uint32_t cur = EXT2_ROOT_INO;
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        memcpy(part, p, n);
        part[n] = 0;
        if (!slash) {
            if (parent)
                *parent = cur;
            if (last)
                *last = p;
            return ino ? lookup1(cur, part, ino) : 0;
        }
        int r = lookup1(cur, part, &cur);
        if (r < 0)
            return r;
        p = slash + 1;
    }
}

static int walk(const char *path, uint32_t *ino)
{
    return walk2(path, 0, 0, ino);
}

static int mk(const char *path, uint32_t mode)
{
    uint32_t dir;
    const char *last;
    struct ext2_node n;
    int r = walk2(path, &dir, &last, 0);
    if (r < 0 || (r = ext2_create(dir, last, (uint32_t)strlen(last), mode, 0, 0, 0, &n)) < 0)
        return r;
    ext2_putnode((uint32_t)n.ino);
    return 0;
}

static int64_t wfile(const char *path, uint64_t off, const void *data, uint64_t len)
{
    uint32_t ino;
    int r = walk(path, &ino);
    if (r == -LX_ENOENT && (r = mk(path, S_IFREG | 0644)) == 0)
        r = walk(path, &ino);
    if (r < 0)
        return r;
    struct mem_io m = mem((void *)data, len);
    return ext2_write(ino, off, &m.io, len);
}

static int64_t rfile(const char *path, uint64_t off, void *buf, uint64_t len)
{
    uint32_t ino;
    int r = walk(path, &ino);
    if (r < 0)
        return r;
    struct mem_io m = mem(buf, len);
    return ext2_read(ino, off, &m.io, len);
}

static int unlink_path(const char *path)
{
    uint32_t dir;
    const char *last;
    int r = walk2(path, &dir, &last, 0);
    return r < 0 ? r : ext2_unlink(dir, last, (uint32_t)strlen(last));
}

static int rmdir_path(const char *path)
{
    uint32_t dir;
    const char *last;
    int r = walk2(path, &dir, &last, 0);
    return r < 0 ? r : ext2_rmdir(dir, last, (uint32_t)strlen(last));
}

static int rename_path(const char *from, const char *to)
{
    uint32_t od, nd;
    const char *ol, *nl;
    int r = walk2(from, &od, &ol, 0);
    if (r < 0 || (r = walk2(to, &nd, &nl, 0)) < 0)
        return r;
    return ext2_rename(od, ol, (uint32_t)strlen(ol), nd, nl, (uint32_t)strlen(nl));
}

static int stat_path(const char *path, struct fs_stat *st)
{
    uint32_t ino;
    int r = walk(path, &ino);
    return r < 0 ? r : ext2_stat(ino, st);
}

static uint8_t pattern(uint64_t i, unsigned seed)
{
    return (uint8_t)(i * 7 + i / 251 + seed);
}

static uint8_t *patterned(uint64_t len, unsigned seed)
{
    uint8_t *b = malloc(len ? len : 1);
    for (uint64_t i = 0; i < len; i++)
        b[i] = pattern(i, seed);
    return b;
}

/* The file at path holds len bytes of pattern seed, through our reader. */
static int holds(const char *path, uint64_t len, unsigned seed)
{
    uint8_t *b = malloc(len + 16);
    int64_t n = rfile(path, 0, b, len + 16);
    int ok = n == (int64_t)len;
    for (uint64_t i = 0; ok && i < len; i++)
        ok = b[i] == pattern(i, seed);
    free(b);
    return ok;
}

/* The same through debugfs (the image unmounted or synced). */
static int debugfs_holds(const char *path, uint64_t len, unsigned seed)
{
    if (sh("debugfs -R 'dump /%s " WORK "/dump' %s > /dev/null 2>&1", path, IMG) != 0)
        return 0;
    size_t n;
    char *b = host_read_file(WORK "/dump", &n);
    int ok = b && n == len;
    for (uint64_t i = 0; ok && i < len; i++)
        ok = (uint8_t)b[i] == pattern(i, seed);
    free(b);
    return ok;
}

static void write_stage_file(const char *name, uint64_t len, unsigned seed)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", STAGE, name);
    FILE *f = fopen(path, "wb");
    uint8_t *b = patterned(len, seed);
    fwrite(b, 1, len, f);
    fclose(f);
    free(b);
}

static const char *slow_target(void)
{
    static char t[120];
    memset(t, 'a', 100);
    memcpy(t + 100, "/slow/target", 13);
    return t;
}

/*
 * The standard image: small (100 B), medium (300,000 B: past the single indirect block with 1
 * KiB blocks) and its hard link, a fast and a slow symlink, an empty file, a fifo, dir/ with
 * 300 files, and `owned` (1000:50, 0640). SIZE KiB.
 */
static int make_image_opts(unsigned size_kib, const char *opts)
{
    snprintf(IMG, sizeof(IMG), WORK "/b%u.img", BS);
    snprintf(STAGE, sizeof(STAGE), WORK "/stage");
    sh("rm -rf %s %s && mkdir -p %s/dir", STAGE, IMG, STAGE);
    write_stage_file("small", 100, 1);
    write_stage_file("medium", 300000, 2);
    write_stage_file("empty", 0, 0);
    write_stage_file("owned", 10, 3);
    sh("cd %s && ln medium hard && ln -s small fast && ln -s %s slow && mkfifo fifo && "
       "chown 1000:50 owned && chmod 0640 owned",
       STAGE, slow_target());
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof(name), "dir/f%04d", i);
        write_stage_file(name, 10, (unsigned)i);
    }
    return sh("mke2fs -q -F -t ext2 -b %u %s -d %s %s %uk > " WORK "/mkfs.log 2>&1", BS, opts,
              STAGE, IMG, size_kib);
}

static int make_image(unsigned size_kib)
{
    return make_image_opts(size_kib, "");
}

static int std_mount(void)
{
    int r = make_image(16384);
    CHECK(r == 0);
    return r == 0 ? mount_img(IMG) : -1;
}

/* Names in directory ino through getdents with a small buffer; "." and ".." counted. */
static int count_entries(uint32_t ino, int *dots)
{
    uint8_t buf[200];
    uint64_t cookie = 0;
    int n = 0;
    *dots = 0;
    for (;;) {
        struct mem_io m = mem(buf, sizeof(buf));
        int64_t got = ext2_getdents(ino, &cookie, &m.io, sizeof(buf));
        if (got <= 0)
            return got < 0 ? (int)got : n;
        for (int64_t off = 0; off < got;) {
            uint16_t reclen;
            memcpy(&reclen, buf + off + 16, 2);
            const char *name = (const char *)buf + off + 19;
            if (!strcmp(name, ".") || !strcmp(name, ".."))
                (*dots)++;
            n++;
            off += reclen;
        }
    }
}

/* ---- tests */
static void staging_read(void)
{
    if (std_mount() < 0)
        return;
    struct fs_stat st, st2;
    char buf[256];
    CHECK(holds("small", 100, 1));
    CHECK(holds("medium", 300000, 2));
    CHECK(holds("hard", 300000, 2));
    CHECK(holds("empty", 0, 0));
    CHECK(stat_path("medium", &st) == 0 && st.nlink == 2 && st.size == 300000);
    CHECK(stat_path("hard", &st2) == 0 && st2.ino == st.ino);
    CHECK(stat_path("owned", &st) == 0 && st.uid == 1000 && st.gid == 50 &&
          st.mode == (S_IFREG | 0640));
    CHECK(stat_path("fifo", &st) == 0 && (st.mode & S_IFMT) == S_IFIFO);
    CHECK(stat_path("dir", &st) == 0 && st.nlink == 2 && (st.mode & S_IFMT) == S_IFDIR);
    CHECK(ext2_stat(EXT2_ROOT_INO, &st) == 0 && st.nlink == 4); /* ., .., lost+found, dir */
    uint32_t ino;
    CHECK(walk("fast", &ino) == 0);
    struct mem_io m = mem(buf, sizeof(buf));
    CHECK(ext2_readlink(ino, &m.io, sizeof(buf)) == 5 && !memcmp(buf, "small", 5));
    CHECK(walk("slow", &ino) == 0);
    CHECK(ext2_readlink(ino, &m.io, sizeof(buf)) == (int64_t)strlen(slow_target()) &&
          !memcmp(buf, slow_target(), strlen(slow_target())));
    CHECK(ext2_readlink(ino, &m.io, 3) == 3);
    CHECK(walk("dir/f0123", &ino) == 0);
    int dots;
    CHECK(walk("dir", &ino) == 0 && count_entries(ino, &dots) == 302 && dots == 2);
    CHECK(walk("dir/f0299", &ino) == 0 && walk("dir/f0300", &ino) == -LX_ENOENT);
    uint32_t up;
    CHECK(walk("dir/..", &up) == 0 && up == EXT2_ROOT_INO);
    CHECK(lookup1(EXT2_ROOT_INO, "..", &up) == 0 && up == EXT2_ROOT_INO);
    struct fs_statfs sf;
    CHECK(ext2_statfs(&sf) == 0 && sf.type == 0xef53 && sf.bsize == BS && sf.bfree < sf.blocks);
    CHECK(umount_img() == 0);
    FSCK("mount and unmount");
}

static void write_files(void)
{
    if (std_mount() < 0)
        return;
    uint8_t *big = patterned(2 << 20, 9), *mid = patterned(1000, 5);
    CHECK(wfile("new1", 0, big, 5000) == 5000);
    CHECK(wfile("new2", 0, big, 1) == 1);
    for (uint64_t off = 0; off < (2 << 20); off += 3000) { /* odd chunks across every seam */
        uint64_t n = (2 << 20) - off < 3000 ? (2 << 20) - off : 3000;
        CHECK(wfile("big", off, big + off, n) == (int64_t)n);
    }
    CHECK(wfile("medium", 12345, mid, 1000) == 1000); /* inside: the hard link sees it */
    uint8_t *more = patterned(200, 1);
    CHECK(wfile("small", 100, more + 100, 100) == 100); /* append, pattern continues */
    FSCK("writes (synced, mounted)");
    CHECK(holds("big", 2 << 20, 9) && holds("new1", 5000, 9) && holds("small", 200, 1));
    uint8_t back[1000];
    CHECK(rfile("hard", 12345, back, 1000) == 1000 && !memcmp(back, mid, 1000));
    CHECK(umount_img() == 0);
    FSCK("writes");
    CHECK(debugfs_holds("big", 2 << 20, 9));
    CHECK(debugfs_holds("small", 200, 1));
    CHECK(mount_img(IMG) == 0);
    CHECK(holds("big", 2 << 20, 9));
    CHECK(umount_img() == 0);
    free(big), free(mid), free(more);
}

static void sparse_large(void)
{
    if (std_mount() < 0)
        return;
    struct fs_statfs before, after;
    CHECK(ext2_statfs(&before) == 0);
    uint64_t p = BS / 4;
    uint64_t offs[] = {0,
                       12 * BS,
                       (12 + p) * BS,
                       (12 + p + p * p) * BS - 10,
                       (12 + p + p * p + 3 * p * p + 5) * BS,
                       5ull << 30};
    uint8_t *blk = patterned(BS, 4), *back = malloc(BS);
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
        CHECK(wfile("sparse", offs[i], blk, BS) == BS);
    struct fs_stat st;
    uint64_t end = 0;
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
        end = offs[i] + BS > end ? offs[i] + BS : end;
    CHECK(stat_path("sparse", &st) == 0 && st.size == end);
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
        CHECK(rfile("sparse", offs[i], back, BS) == BS && !memcmp(back, blk, BS));
    CHECK(rfile("sparse", 3ull << 30, back, BS) == BS && back[0] == 0 && back[BS - 1] == 0);
    FSCK("sparse writes through the triple indirect block");
    uint64_t cuts[] = {(12 + p + p * p) * BS + 5, 12 * BS + 1, 100, 0};
    for (unsigned i = 0; i < 4; i++) {
        uint32_t ino;
        CHECK(walk("sparse", &ino) == 0 && ext2_trunc(ino, cuts[i]) == 0);
        CHECK(stat_path("sparse", &st) == 0 && st.size == cuts[i]);
        FSCK("truncate");
    }
    /* grow by truncate (3 GiB, large_file), then by a write past the end: zeros between */
    uint32_t ino;
    CHECK(walk("sparse", &ino) == 0 && ext2_trunc(ino, 3ull << 30) == 0);
    CHECK(rfile("sparse", (3ull << 30) - BS, back, BS) == BS && back[5] == 0);
    CHECK(ext2_trunc(ino, 10) == 0);
    CHECK(wfile("sparse", 0, blk, 10) == 10 && ext2_trunc(ino, 5) == 0);
    CHECK(wfile("sparse", 20, blk, 10) == 10);
    CHECK(rfile("sparse", 0, back, 100) == 30 && back[7] == 0 && back[19] == 0 &&
          back[20] == blk[0]);
    FSCK("grow and shrink");
    CHECK(unlink_path("sparse") == 0);
    CHECK(ext2_statfs(&after) == 0 && after.bfree == before.bfree && after.ffree == before.ffree);
    CHECK(ext2_trunc(ino, 0) == -LX_EINVAL); /* gone */
    CHECK(wfile("huge", ext2.max_size, blk, 1) == -LX_EFBIG);
    CHECK(umount_img() == 0);
    FSCK("sparse file removed");
    free(blk), free(back);
}

static void names(void)
{
    if (std_mount() < 0)
        return;
    struct fs_stat st;
    uint32_t ino, ino2;
    CHECK(mk("a", S_IFDIR | 0755) == 0 && mk("a/b", S_IFDIR | 0700) == 0);
    CHECK(mk("a/b/c", S_IFDIR | 0755) == 0 && mk("x", S_IFDIR | 0755) == 0);
    CHECK(mk("a", S_IFDIR | 0755) == -LX_EEXIST && mk("small", S_IFREG) == -LX_EEXIST);
    CHECK(stat_path("a", &st) == 0 && st.nlink == 3);
    CHECK(stat_path("a/b", &st) == 0 && st.mode == (S_IFDIR | 0700));
    CHECK(ext2_stat(EXT2_ROOT_INO, &st) == 0 && st.nlink == 6);
    CHECK(wfile("a/f", 0, "hello", 5) == 5 && wfile("a/g", 0, "world", 5) == 5);
    CHECK(rename_path("a/f", "a/f2") == 0 && walk("a/f", &ino) == -LX_ENOENT);
    CHECK(rename_path("a/f2", "x/f3") == 0 && walk("x/f3", &ino) == 0);
    CHECK(rename_path("a/g", "x/f3") == 0); /* replaces x/f3, which is freed */
    char buf[8];
    CHECK(rfile("x/f3", 0, buf, 8) == 5 && !memcmp(buf, "world", 5));
    CHECK(rename_path("a/b", "x/b") == 0);
    CHECK(walk("x/b/c/../..", &ino) == 0 && walk("x", &ino2) == 0 && ino == ino2);
    CHECK(stat_path("a", &st) == 0 && st.nlink == 2);
    CHECK(stat_path("x", &st) == 0 && st.nlink == 3);
    FSCK("renames");
    CHECK(rename_path("x", "x/b/c/x") == -LX_EINVAL);
    CHECK(mk("a/empty", S_IFDIR | 0755) == 0);
    CHECK(rename_path("x/b", "a/empty") == 0); /* a directory over an empty one */
    CHECK(stat_path("a", &st) == 0 && st.nlink == 3 && stat_path("x", &st) == 0 && st.nlink == 2);
    CHECK(mk("x/full", S_IFDIR | 0755) == 0 && mk("x/full/f", S_IFREG | 0644) == 0);
    CHECK(rename_path("a/empty", "x/full") == -LX_ENOTEMPTY);
    CHECK(rename_path("small", "x/full") == -LX_EISDIR);
    CHECK(rename_path("x/full", "small") == -LX_ENOTDIR);
    CHECK(rename_path("hard", "medium") == 0 && walk("hard", &ino) == 0); /* one inode: no-op */
    CHECK(rename_path("x/.", "y") == -LX_EBUSY);
    CHECK(rmdir_path("x/full") == -LX_ENOTEMPTY && rmdir_path("small") == -LX_ENOTDIR);
    CHECK(unlink_path("x/full") == -LX_EISDIR && unlink_path("x/..") == -LX_EISDIR);
    CHECK(rmdir_path("x/.") == -LX_EINVAL && rmdir_path("x/..") == -LX_ENOTEMPTY);
    CHECK(unlink_path("x/full/f") == 0 && rmdir_path("x/full") == 0);
    CHECK(rename_path("a/empty/c", "a/c") == 0 && rmdir_path("a/empty") == 0);
    CHECK(walk("a/c", &ino) == 0);
    CHECK(ext2_link(EXT2_ROOT_INO, "dirlink", 7, ino) == -LX_EPERM);
    CHECK(mk("dev", S_IFCHR | 0600) == 0 && mk("sock", S_IFSOCK | 0600) == 0);
    CHECK(ext2_create(EXT2_ROOT_INO, "tty", 3, S_IFCHR | 0620, DEV_MAKE(4, 1), 0, 5,
                      &(struct ext2_node){0}) == 0);
    CHECK(stat_path("tty", &st) == 0 && st.rdev == DEV_MAKE(4, 1) && st.gid == 5);
    CHECK(ext2_create(EXT2_ROOT_INO, "bad", 3, 0, 0, 0, 0, &(struct ext2_node){0}) == -LX_EINVAL);
    CHECK(umount_img() == 0);
    FSCK("directories");
    CHECK(mount_img(IMG) == 0);
    CHECK(stat_path("tty", &st) == 0 && st.rdev == DEV_MAKE(4, 1));
    CHECK(umount_img() == 0);
}

static void links_symlinks(void)
{
    if (std_mount() < 0)
        return;
    struct fs_stat st;
    uint32_t ino, dir;
    struct ext2_node n;
    CHECK(walk("medium", &ino) == 0 && walk("dir", &dir) == 0);
    CHECK(ext2_link(dir, "m2", 2, ino) == 0 && ext2_link(dir, "m2", 2, ino) == -LX_EEXIST);
    CHECK(stat_path("medium", &st) == 0 && st.nlink == 3);
    CHECK(unlink_path("medium") == 0 && unlink_path("hard") == 0);
    CHECK(stat_path("dir/m2", &st) == 0 && st.nlink == 1 && holds("dir/m2", 300000, 2));
    FSCK("hard links");
    char target[4096], back[4096];
    memset(target, 'z', sizeof(target));
    CHECK(ext2_symlink(dir, "s59", 3, target, 59, 7, 8, &n) == 0 &&
          ext2_putnode((uint32_t)n.ino) == 0);
    CHECK(ext2_symlink(dir, "s60", 3, target, 60, 0, 0, &n) == 0 &&
          ext2_putnode((uint32_t)n.ino) == 0);
    CHECK(ext2_symlink(dir, "smax", 4, target, BS - 1, 0, 0, &n) == 0);
    ext2_putnode((uint32_t)n.ino);
    CHECK(ext2_symlink(dir, "slong", 5, target, BS, 0, 0, &n) == -LX_ENAMETOOLONG);
    CHECK(ext2_symlink(dir, "s0", 2, target, 0, 0, 0, &n) == -LX_ENOENT);
    CHECK(stat_path("dir/s59", &st) == 0 && st.uid == 7 && st.gid == 8 && st.size == 59 &&
          st.mode == (S_IFLNK | 0777));
    struct mem_io m = mem(back, sizeof(back));
    CHECK(walk("dir/s60", &ino) == 0 && ext2_readlink(ino, &m.io, sizeof(back)) == 60 &&
          !memcmp(back, target, 60));
    CHECK(walk("dir/smax", &ino) == 0 && ext2_readlink(ino, &m.io, sizeof(back)) == BS - 1);
    CHECK(ext2_readlink(dir, &m.io, sizeof(back)) == -LX_EINVAL);
    FSCK("symlinks");
    CHECK(unlink_path("dir/s59") == 0 && unlink_path("dir/s60") == 0 &&
          unlink_path("dir/smax") == 0 && unlink_path("slow") == 0);
    CHECK(umount_img() == 0);
    FSCK("symlinks removed");
}

static void attributes(void)
{
    if (std_mount() < 0)
        return;
    struct fs_stat st;
    uint32_t ino;
    CHECK(walk("small", &ino) == 0);
    CHECK(ext2_chmod(ino, 04604) == 0);
    CHECK(ext2_chown(ino, 1234567, 7654321, 0640) == 0); /* 32-bit owners */
    CHECK(ext2_utime(ino, 1000000, 2000000) == 0);
    CHECK(umount_img() == 0);
    FSCK("attributes");
    CHECK(mount_img(IMG) == 0);
    CHECK(ext2_stat(ino, &st) == 0 && st.mode == (S_IFREG | 0640) && st.uid == 1234567 &&
          st.gid == 7654321 && st.atime == 1000000 && st.mtime == 2000000 &&
          st.ctime + 5 >= (uint64_t)time(0));
    CHECK(ext2_utime(ino, FS_TIME_OMIT, FS_TIME_NOW) == 0);
    CHECK(ext2_stat(ino, &st) == 0 && st.atime == 1000000 && st.mtime + 5 >= (uint64_t)time(0));
    CHECK(ext2_chmod(999999, 0) == -LX_EINVAL && ext2_stat(0, &st) == -LX_EINVAL);
    CHECK(ext2_stat(5, &st) == -LX_EINVAL); /* reserved */
    CHECK(umount_img() == 0);
    FSCK("utime");
}

static void many_entries(void)
{
    if (std_mount() < 0)
        return;
    uint32_t dir;
    int dots, ok = 1;
    char name[64];
    CHECK(mk("many", S_IFDIR | 0755) == 0 && walk("many", &dir) == 0);
    for (int i = 0; i < 2000 && ok; i++) {
        snprintf(name, sizeof(name), "many/entry-%05d", i);
        ok = mk(name, S_IFREG | 0644) == 0;
    }
    CHECK(ok);
    CHECK(count_entries(dir, &dots) == 2002);
    for (int i = 0; i < 2000 && ok; i += 2) {
        snprintf(name, sizeof(name), "many/entry-%05d", i);
        ok = unlink_path(name) == 0;
    }
    CHECK(ok && count_entries(dir, &dots) == 1002);
    for (int i = 0; i < 300 && ok; i++) {
        snprintf(name, sizeof(name), "many/a-longer-name-that-needs-more-room-%05d", i);
        ok = mk(name, S_IFREG | 0644) == 0;
    }
    CHECK(ok && count_entries(dir, &dots) == 1302);
    FSCK("many entries");
    CHECK(rmdir_path("many") == -LX_ENOTEMPTY);
    for (int i = 1; i < 2000 && ok; i += 2) {
        snprintf(name, sizeof(name), "many/entry-%05d", i);
        ok = unlink_path(name) == 0;
    }
    for (int i = 0; i < 300 && ok; i++) {
        snprintf(name, sizeof(name), "many/a-longer-name-that-needs-more-room-%05d", i);
        ok = unlink_path(name) == 0;
    }
    CHECK(ok && count_entries(dir, &dots) == 2 && rmdir_path("many") == 0);
    CHECK(umount_img() == 0);
    FSCK("many entries removed");
}

static void open_unlinked(void)
{
    if (std_mount() < 0)
        return;
    struct fs_statfs before, after;
    struct fs_stat st;
    struct ext2_node n;
    CHECK(ext2_statfs(&before) == 0);
    CHECK(ext2_create(EXT2_ROOT_INO, "tmp", 3, S_IFREG | 0600, 0, 0, 0, &n) == 0);
    uint32_t ino = (uint32_t)n.ino;
    CHECK(ext2_refs(ino) == 1);
    uint8_t *b = patterned(100000, 6);
    struct mem_io m = mem(b, 100000);
    CHECK(ext2_write(ino, 0, &m.io, 100000) == 100000);
    CHECK(unlink_path("tmp") == 0 && walk("tmp", &ino) == -LX_ENOENT);
    CHECK(ext2_stat(ino, &st) == 0 && st.nlink == 0 && st.size == 100000);
    CHECK(ext2_write(ino, 100000, &m.io, 5000) == 5000);
    memset(b, 0, 100000);
    CHECK(ext2_read(ino, 0, &m.io, 100000) == 100000 && b[99999] == pattern(99999, 6));
    CHECK(ext2_putnode(ino) == 0 && ext2_stat(ino, &st) == -LX_EINVAL);
    CHECK(ext2_putnode(ino) == 0); /* none left: no-op */
    CHECK(ext2_statfs(&after) == 0 && after.bfree == before.bfree && after.ffree == before.ffree);
    /* a removed directory still referenced: "." works, nothing else */
    CHECK(ext2_create(EXT2_ROOT_INO, "gone", 4, S_IFDIR | 0755, 0, 0, 0, &n) == 0);
    CHECK(rmdir_path("gone") == 0);
    struct ext2_node n2;
    CHECK(ext2_lookup((uint32_t)n.ino, ".", 1, &n2) == 0 && ext2_putnode((uint32_t)n2.ino) == 0);
    CHECK(ext2_lookup((uint32_t)n.ino, "..", 2, &n2) == -LX_ENOENT);
    CHECK(ext2_create((uint32_t)n.ino, "f", 1, S_IFREG, 0, 0, 0, &n2) == -LX_ENOENT);
    int dots;
    CHECK(count_entries((uint32_t)n.ino, &dots) == 0);
    /* one left open at unmount is freed then */
    CHECK(ext2_create(EXT2_ROOT_INO, "tmp2", 4, S_IFREG | 0600, 0, 0, 0, &n2) == 0);
    CHECK(ext2_write((uint32_t)n2.ino, 0, &m.io, 50000) == 50000 && unlink_path("tmp2") == 0);
    CHECK(umount_img() == 0);
    FSCK("unlinked while referenced");
    CHECK(mount_img(IMG) == 0 && ext2_statfs(&after) == 0 && after.bfree == before.bfree);
    CHECK(umount_img() == 0);
    free(b);
}

static void enospc(void)
{
    CHECK(make_image_opts(4096, "-N 1024") == 0);
    CHECK(mount_img(IMG) == 0);
    struct fs_statfs before, sf;
    CHECK(ext2_statfs(&before) == 0);
    uint8_t *b = patterned(64 * 1024, 3);
    int64_t r;
    uint64_t total = 0;
    while ((r = wfile("fill", total, b, 64 * 1024)) == 64 * 1024)
        total += (uint64_t)r;
    CHECK(r == -LX_ENOSPC || (r > 0 && r < 64 * 1024));
    if (r > 0)
        total += (uint64_t)r, r = wfile("fill", total, b, 100);
    CHECK(r == -LX_ENOSPC);
    CHECK(ext2_statfs(&sf) == 0 && sf.bfree == 0);
    CHECK(mk("d", S_IFDIR | 0755) == -LX_ENOSPC && walk("d", &(uint32_t){0}) == -LX_ENOENT);
    FSCK("disk full");
    CHECK(unlink_path("fill") == 0);
    CHECK(ext2_statfs(&sf) == 0 && sf.bfree == before.bfree);
    char name[32];
    int i = 0;
    while ((r = mk((snprintf(name, sizeof(name), "i%d", i), name), S_IFREG | 0644)) == 0)
        i++;
    CHECK(r == -LX_ENOSPC && ext2_statfs(&sf) == 0 && sf.ffree == 0 && i > 100);
    FSCK("inodes full");
    while (i-- > 0)
        CHECK(unlink_path((snprintf(name, sizeof(name), "i%d", i), name)) == 0);
    CHECK(umount_img() == 0);
    FSCK("inodes freed");
    free(b);
}

/* A byte patch at off of the image. */
static void patch(uint64_t off, const void *bytes, size_t n)
{
    FILE *f = fopen(IMG, "r+b");
    fseeko(f, (off_t)off, SEEK_SET);
    fwrite(bytes, 1, n, f);
    fclose(f);
}

/* The image's superblock state (s_state: EXT2_VALID_FS, EXT2_ERROR_FS). */
static uint16_t sb_state(void)
{
    struct ext2_super s = {0};
    FILE *f = fopen(IMG, "rb");
    fseeko(f, 1024, SEEK_SET);
    CHECK(fread(&s, 1, sizeof(s), f) == sizeof(s));
    fclose(f);
    return s.state;
}

static void patch32(uint64_t off, uint32_t v)
{
    patch(off, &v, 4);
}

static void features(void)
{
    CHECK(make_image(8192) == 0);
    struct ext2_super s;
    FILE *f = fopen(IMG, "rb");
    fseeko(f, 1024, SEEK_SET);
    CHECK(fread(&s, 1, sizeof(s), f) == sizeof(s));
    fclose(f);
    CHECK(s.feature_incompat == EXT2_INCOMPAT_FILETYPE);
    CHECK(s.feature_ro_compat == (EXT2_RO_COMPAT_SPARSE_SUPER | EXT2_RO_COMPAT_LARGE_FILE));
    CHECK(s.feature_compat ==
          (EXT2_COMPAT_EXT_ATTR | EXT2_COMPAT_RESIZE_INODE | EXT2_COMPAT_DIR_INDEX));
    patch32(1024 + offsetof(struct ext2_super, feature_ro_compat), s.feature_ro_compat | 0x4000);
    CHECK(mount_img(IMG) == 0 && ext2.readonly);
    CHECK(holds("medium", 300000, 2));
    CHECK(mk("new", S_IFREG) == -LX_EROFS && unlink_path("small") == -LX_EROFS);
    CHECK(wfile("small", 0, "x", 1) == -LX_EROFS);
    CHECK(umount_img() == 0 && disk.writes == 0);
    patch32(1024 + offsetof(struct ext2_super, feature_ro_compat), s.feature_ro_compat);
    patch32(1024 + offsetof(struct ext2_super, feature_incompat),
            s.feature_incompat | EXT2_INCOMPAT_EXTENTS);
    CHECK(mount_img(IMG) == -LX_EINVAL);
    patch32(1024 + offsetof(struct ext2_super, feature_incompat), s.feature_incompat);
    FSCK("feature bits put back");
    /* read-only by request; a disk without xfer (the cache's runs go piece by piece) */
    disk = (struct file_disk){.d = {.read = fd_read, .write = fd_write, .flush = fd_flush},
                              .f = fopen(IMG, "r+b")};
    fseeko(disk.f, 0, SEEK_END);
    disk.d.size = (uint64_t)ftello(disk.f);
    CHECK(ext2_mount(&disk.d, EXT2_MOUNT_RO, host_now) == 0 && mk("n", S_IFREG) == -LX_EROFS);
    CHECK(umount_img() == 0 && disk.writes == 0);
    /* the disk failing writes: the operations report EIO at sync, nothing crashes */
    CHECK(mount_img(IMG) == 0);
    disk.fail_writes = 1;
    uint8_t *b = patterned(300000, 1);
    for (int i = 0; i < 5; i++)
        wfile("w", (uint64_t)i * 300000, b, 300000);
    CHECK(ext2_sync() == -LX_EIO);
    disk.fail_writes = 0;
    CHECK(ext2_sync() == 0);
    CHECK(umount_img() == 0);
    FSCK("failed writes, then written");
    free(b);
}

/* ---- read-ahead and clustered write-back (cache.c, file.c); the cache has 64 buffers here, so a
 * run is at most 16 blocks (a quarter of the cache) when read, and what eviction finds when
 * written */

/* The disk block of file block lblk of path (0: a hole or an error). */
static uint32_t block_of(const char *path, uint64_t lblk)
{
    uint32_t ino, pblk = 0;
    struct ext2_buf *b;
    struct ext2_inode *ip;
    if (walk(path, &ino) < 0 || iget(ino, &b, &ip) < 0)
        return 0;
    if (bmap(ino, ip, lblk, 0, &pblk) < 0)
        pblk = 0;
    bput(b);
    return pblk;
}

static void readahead(void)
{
    /* the window: 8, then 8 times larger up to 256, for a miss at 0 or right after the last
     * block read; nothing for a miss elsewhere */
    CHECK(ra_window(0, 0, 0) == 8 && ra_window(8, 8, 8) == 64 && ra_window(64, 72, 72) == 256);
    CHECK(ra_window(256, 500, 500) == 256 && ra_window(0, 3, 3) == 8);
    CHECK(ra_window(64, 100, 72) == 0 && ra_window(0, 5, 0) == 0 && ra_window(256, 0, 9) == 8);
    if (std_mount() < 0)
        return;
    uint64_t len = (1 << 20) - 100, blocks = (len + BS - 1) / BS;
    uint8_t *big = patterned(len, 11), *back = malloc(len), *other = patterned(BS, 12);
    CHECK(wfile("seq", 0, big, len) == (int64_t)len);
    CHECK(wfile("after", 0, other, BS) == BS); /* something on the disk past seq's end */
    CHECK(umount_img() == 0 && mount_img(IMG) == 0);
    /* one block per read, in order: runs of blocks in few requests */
    disk.reads = 0;
    for (uint64_t off = 0; off < len; off += BS)
        CHECK(rfile("seq", off, back + off, len - off < BS ? len - off : BS) > 0);
    CHECK(!memcmp(back, big, len));
    CHECK(disk.reads <= (long)(blocks / 8 + 8));
    /* nothing read that no file holds: the run went on into the next file (made right after it,
     * its block the next on the disk), and stopped at that file's end */
    uint32_t last = block_of("seq", blocks - 1), after = block_of("after", 0);
    CHECK(last != 0 && after == last + 1 && cache_has(after));
    for (uint32_t k = 1; k <= 16; k++)
        CHECK(!cache_has(after + k));
    /* the whole file in one read */
    CHECK(umount_img() == 0 && mount_img(IMG) == 0);
    disk.reads = disk.read_blocks = 0;
    memset(back, 0, len);
    CHECK(rfile("seq", 0, back, len) == (int64_t)len && !memcmp(back, big, len));
    CHECK(disk.reads <= (long)(blocks / 8 + 8));
    CHECK(disk.read_blocks <= (long)(blocks + 16)); /* the data once, some metadata */
    /* a block written and not yet on the disk is not read over by the read-ahead around it */
    CHECK(umount_img() == 0 && mount_img(IMG) == 0);
    CHECK(wfile("seq", 5 * BS, other, BS) == BS);
    memcpy(big + 5 * BS, other, BS);
    memset(back, 0, len);
    CHECK(rfile("seq", 0, back, len) == (int64_t)len && !memcmp(back, big, len));
    /* reads out of order are right too */
    for (uint64_t i = 0; i < 40; i++) {
        uint64_t off = (i * 7919 * BS + i * 13) % len, n = len - off < 3000 ? len - off : 3000;
        CHECK(rfile("seq", off, back, n) == (int64_t)n && !memcmp(back, big + off, n));
    }
    /* small files read in the order they were made: few requests (the runs cross files) */
    CHECK(mk("many", S_IFDIR | 0755) == 0);
    char name[32];
    for (unsigned i = 0; i < 60; i++) {
        snprintf(name, sizeof(name), "many/f%u", i);
        uint8_t *f = patterned(BS, 100 + i);
        CHECK(wfile(name, 0, f, BS) == BS);
        free(f);
    }
    CHECK(umount_img() == 0 && mount_img(IMG) == 0);
    disk.reads = 0;
    for (unsigned i = 0; i < 60; i++) {
        snprintf(name, sizeof(name), "many/f%u", i);
        CHECK(holds(name, BS, 100 + i));
    }
    CHECK(disk.reads <= 30);
    CHECK(umount_img() == 0);
    FSCK("reads with read-ahead");
    free(big), free(back), free(other);
}

static void clustered_writes(void)
{
    if (std_mount() < 0)
        return;
    uint64_t len = 2 << 20, blocks = len / BS;
    uint8_t *big = patterned(len, 13);
    CHECK(ext2_sync() == 0);
    disk.writes = 0;
    for (uint64_t off = 0; off < len; off += 65536)
        CHECK(wfile("cw", off, big + off, 65536) == 65536);
    long evicted = disk.writes; /* the cache (64 buffers) was full many times over */
    CHECK(evicted > 0 && evicted <= (long)(blocks / 8));
    CHECK(ext2_sync() == 0 && disk.writes <= (long)(blocks / 8 + 16));
    CHECK(holds("cw", len, 13));
    CHECK(umount_img() == 0);
    FSCK("clustered writes");
    CHECK(debugfs_holds("cw", len, 13));
    /* a whole block whose copy fails (the requester's buffer ends): it holds its old bytes or
     * zeros, never what its cache buffer held before (blocks of another file, read just now) */
    CHECK(mount_img(IMG) == 0 && holds("medium", 300000, 2));
    uint32_t ino;
    uint8_t *back = malloc(BS), *one = patterned(BS, 14);
    struct mem_io m = mem(one, BS);
    CHECK(walk("cw", &ino) == 0 && ext2_write(ino, 0, &m.io, 2 * BS) == BS);
    CHECK(rfile("cw", BS, back, BS) == BS);
    uint32_t stale = 0;
    for (uint32_t i = 0; i < BS; i++)
        stale += back[i] != 0 && back[i] != big[BS + i];
    CHECK(stale == 0);
    /* the same in a new file, whose blocks are copied 16 at a time: the copy stops where the
     * buffer ends, as one block at a time would, and nothing stays past the end */
    uint8_t *four = patterned(4 * BS, 15);
    struct mem_io part = mem(four, 2 * BS + BS / 2);
    struct fs_stat st;
    CHECK(mk("nf", S_IFREG | 0644) == 0 && walk("nf", &ino) == 0);
    CHECK(ext2_write(ino, 0, &part.io, 4 * BS) == 2 * BS);
    CHECK(stat_path("nf", &st) == 0 && st.size == 2 * BS && holds("nf", 2 * BS, 15));
    CHECK(umount_img() == 0);
    FSCK("a failed copy");
    free(four);
    free(big), free(back), free(one);
}

/* Walk the whole tree: stat, read (bounded), readlink, list; depth and entries bounded. */
static void crawl(uint32_t dir, int depth)
{
    uint8_t buf[4096], copy[4096]; /* each level its own */
    uint64_t cookie = 0;
    int64_t got;
    int rounds = 0;
    if (depth > 8)
        return;
    struct mem_io m = mem(buf, sizeof(buf));
    while (rounds++ < 64 && (got = ext2_getdents(dir, &cookie, &m.io, sizeof(buf))) > 0) {
        memcpy(copy, buf, (size_t)got);
        for (int64_t off = 0; off < got;) {
            uint16_t reclen;
            memcpy(&reclen, copy + off + 16, 2);
            const char *name = (const char *)copy + off + 19;
            off += reclen;
            if (!strcmp(name, ".") || !strcmp(name, ".."))
                continue;
            struct ext2_node n;
            if (ext2_lookup(dir, name, (uint32_t)strlen(name), &n) < 0)
                continue;
            uint32_t ino = (uint32_t)n.ino;
            struct fs_stat st;
            static uint8_t data[8192];
            struct mem_io dm = mem(data, sizeof(data));
            ext2_stat(ino, &st);
            ext2_read(ino, 0, &dm.io, sizeof(data));
            ext2_read(ino, 1ull << 40, &dm.io, sizeof(data));
            ext2_readlink(ino, &dm.io, sizeof(data));
            if ((n.mode & S_IFMT) == S_IFDIR)
                crawl(ino, depth + 1);
            ext2_putnode(ino);
        }
    }
}

/* Changes on a damaged image: each may fail, none may crash or hang. */
static void mutate(void)
{
    uint8_t b[3000] = {1};
    struct mem_io m = mem(b, sizeof(b));
    struct ext2_node n;
    uint32_t ino;
    if (ext2_create(EXT2_ROOT_INO, "newfile", 7, S_IFREG | 0644, 0, 0, 0, &n) == 0) {
        ext2_write((uint32_t)n.ino, 0, &m.io, sizeof(b));
        ext2_write((uint32_t)n.ino, 100000, &m.io, sizeof(b));
        ext2_putnode((uint32_t)n.ino);
    }
    const char *names[] = {"small", "medium", "dir", "slow", "fast", "loop", "newfile"};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (walk(names[i], &ino) == 0) {
            ext2_write(ino, 5, &m.io, sizeof(b));
            ext2_trunc(ino, 1);
        }
    rename_path("dir", "dir/loop/moved");
    rename_path("small", "dir/small2");
    ext2_create(EXT2_ROOT_INO, "d2", 2, S_IFDIR | 0755, 0, 0, 0, &n);
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        unlink_path(names[i]);
        rmdir_path(names[i]);
    }
    ext2_sync();
}

/* Where a corruption's patch goes: a field of the superblock, of group 0's descriptor, or of
 * directory entry `entry` in the first block of directory `dir`. */
enum patch_place { NO_PATCH, SUPER, GROUP0, ENTRY };

struct corruption {
    const char *name;
    int refused;            /* the mount must fail */
    const char *debugfs;    /* a debugfs -w command, or 0 */
    enum patch_place place; /* or a patch of ours: */
    uint32_t field;         /* the byte offset in the place */
    uint32_t value;
    uint32_t width; /* bytes of value written (little-endian): 1, 2 or 4 */
    const char *dir, *entry;
};

#define SUPER_FIELD(f, v, w)                                                                       \
    .place = SUPER, .field = offsetof(struct ext2_super, f), .value = v, .width = w
#define GROUP0_FIELD(off, v) .place = GROUP0, .field = off, .value = v, .width = 4
#define ENTRY_FIELD(d, e, off, v, w)                                                               \
    .place = ENTRY, .field = off, .value = v, .width = w, .dir = d, .entry = e

/* The number a debugfs command prints, picked by a shell filter (0: none). */
static uint64_t debugfs_number(const char *command, const char *filter)
{
    if (sh("debugfs -R '%s' %s 2>/dev/null | %s > " WORK "/number", command, IMG, filter) != 0)
        return 0;
    size_t n;
    char *t = host_read_file(WORK "/number", &n);
    uint64_t v = t ? strtoull(t, 0, 10) : 0;
    free(t);
    return v;
}

/* Byte offset of entry `name` in the first block of directory path (debugfs tells the block). */
static uint64_t entry_off(const char *dir, const char *name)
{
    char command[96];
    snprintf(command, sizeof(command), "bmap %s 0", dir);
    uint64_t blk = debugfs_number(command, "cat");
    uint8_t *b = malloc(BS);
    FILE *f = fopen(IMG, "rb");
    fseeko(f, (off_t)(blk * BS), SEEK_SET);
    uint64_t found = 0;
    if (blk && fread(b, 1, BS, f) == BS)
        for (uint32_t off = 0; off + 8 <= BS;) {
            struct ext2_dirent *de = (struct ext2_dirent *)(b + off);
            if (de->name_len == strlen(name) && !memcmp(de->name, name, de->name_len)) {
                found = blk * BS + off;
                break;
            }
            if (de->rec_len < 8)
                break;
            off += de->rec_len;
        }
    fclose(f);
    free(b);
    return found;
}

static void apply_patch(const struct corruption *c)
{
    uint64_t base = c->place == SUPER    ? 1024
                    : c->place == GROUP0 ? (uint64_t)(BS == 1024 ? 2 : 1) * BS
                                         : entry_off(c->dir, c->entry);
    CHECK(base != 0);
    uint8_t v[4] = {(uint8_t)c->value, (uint8_t)(c->value >> 8), (uint8_t)(c->value >> 16),
                    (uint8_t)(c->value >> 24)};
    if (base)
        patch(base + c->field, v, c->width);
}

static const struct corruption corruptions[] = {
    {"bad_magic", 1, SUPER_FIELD(magic, 0x1234, 4)},
    {"block_size_128k", 1, SUPER_FIELD(log_block_size, 7, 4)},
    {"blocks_past_device", 1, SUPER_FIELD(blocks_count, 0x10000000, 4)},
    {"inodes_count_lies", 1, SUPER_FIELD(inodes_count, 0xffffffff, 4)},
    {"zero_inodes_per_group", 1, SUPER_FIELD(inodes_per_group, 0, 4)},
    {"tiny_blocks_per_group", 1, SUPER_FIELD(blocks_per_group, 3, 4)},
    {"odd_inode_size", 1, SUPER_FIELD(inode_size, 200, 2)},
    {"first_ino_zero", 1, SUPER_FIELD(first_ino, 0, 4)},
    {"group_itable_outside", 1, GROUP0_FIELD(8, 0xfffffff0)},
    {"group_bitmap_zero", 1, GROUP0_FIELD(0, 0)},
    {"group_bitmap_in_other_group", 1, .debugfs = "set_bg 0 block_bitmap 9000"},
    {"group_free_count_huge", 1, .debugfs = "set_bg 0 free_blocks_count 60000"},
    {"rec_len_zero", 0, ENTRY_FIELD("/", "small", 4, 0, 2)},
    {"rec_len_past_block", 0, ENTRY_FIELD("/dir", "f0010", 4, 0xfffc, 2)}, /* any BS */
    {"name_len_lies", 0, ENTRY_FIELD("/dir", "f0010", 6, 250, 1)},
    {"entry_inode_huge", 0, ENTRY_FIELD("/", "small", 0, 0x7fffffff, 4)},
    {"entry_inode_reserved", 0, ENTRY_FIELD("/", "medium", 0, 7, 4)},
    {"entry_inode_free", 0, ENTRY_FIELD("/", "medium", 0, 2000, 4)},
    {"looping_directory", 0, .debugfs = "link / /dir/loop"},
    {"dir_entry_is_itself", 0, .debugfs = "link /dir /dir/self"},
    {"file_block_out_of_range", 0, .debugfs = "sif /medium block[0] 0xfffffff0"},
    {"file_block_on_metadata", 0, .debugfs = "sif /medium block[0] 1"},
    {"file_indirect_out_of_range", 0, .debugfs = "sif /medium block[IND] 0x7ffffff0"},
    {"file_dind_loops_to_itself", .refused = 0}, /* set up in hostile() */
    {"file_size_huge", 0, .debugfs = "sif /small size 0xffffffff"},
    {"file_size_high_huge", 0, .debugfs = "sif /small size 0xffffffffffffffff"},
    {"dir_size_huge", 0, .debugfs = "sif /dir size 0xfffff000"},
    {"dir_hole", 0, .debugfs = "sif /dir block[0] 0"},
    {"symlink_size_huge", 0, .debugfs = "sif /slow size 70000"},
    {"fast_symlink_size_lies", 0, .debugfs = "sif /fast size 59"},
    {"symlink_no_block", 0, .debugfs = "sif /slow block[0] 0"},
    {"root_not_a_directory", 1, .debugfs = "sif <2> mode 0100644"},
    {"root_without_blocks", 1, .debugfs = "sif <2> blocks 0"},
    {"root_no_links", 0, .debugfs = "sif <2> links_count 0"},
    {"bitmap_says_metadata_free", 0, .debugfs = "freeb 1 40"},
    {"bitmaps_all_free", .refused = 0}, /* set up in hostile() */
    {"xattr_block_garbage", 0, .debugfs = "sif /small file_acl 100"},
    {0},
};

static void hostile(void)
{
    CHECK(make_image(8192) == 0);
    char good[160];
    snprintf(good, sizeof(good), "%s.good", IMG);
    sh("cp %s %s", IMG, good);
    for (const struct corruption *c = corruptions; c->name; c++) {
        sh("cp %s %s", good, IMG);
        if (c->debugfs)
            /* debugfs exits 0 on a bad request: anything it says but its banner is an error */
            CHECK(sh("debugfs -w -R '%s' %s 2>&1 >/dev/null | grep -v '^debugfs [0-9]' | grep -q .",
                     c->debugfs, IMG) != 0);
        if (c->place != NO_PATCH)
            apply_patch(c);
        if (!strcmp(c->name, "file_dind_loops_to_itself")) {
            /* the double indirect block's first entry points at itself */
            uint32_t dind =
                (uint32_t)debugfs_number("stat /medium", "grep -o '(DIND):[0-9]*' | cut -d: -f2");
            if (dind)
                patch32((uint64_t)dind * BS, dind);
            else if (BS == 1024)
                CHECK(!"no double indirect block in /medium");
        }
        if (!strcmp(c->name, "bitmaps_all_free")) {
            uint8_t zero[4096] = {0};
            /* group 0's block bitmap: the block after the inode bitmap is not known here; take
             * it from debugfs */
            uint64_t bb = debugfs_number(
                "stats", "grep -o 'block bitmap at [0-9]*' | head -1 | grep -o '[0-9]*$'");
            CHECK(bb != 0);
            if (bb)
                patch(bb * BS, zero, BS);
        }
        FILE *f = fopen(IMG, "rb");
        fseeko(f, 0, SEEK_END);
        long size = (long)ftello(f);
        fclose(f);
        int r = mount_img(IMG);
        if (c->refused) {
            if (r == 0) {
                printf("  %s: mounted, should be refused\n", c->name);
                check_failed = 1;
                umount_img();
            }
            continue;
        }
        if (r < 0) {
            printf("  %s: refused (%d), should mount\n", c->name, r);
            check_failed = 1;
            continue;
        }
        if (!strcmp(c->name, "file_block_on_metadata")) { /* read, never written */
            char x[16] = "overwrite";
            CHECK(rfile("medium", 0, x, sizeof(x)) == (int64_t)sizeof(x));
            CHECK(wfile("medium", 0, x, sizeof(x)) == -LX_EIO);
        }
        if (!strcmp(c->name, "file_size_high_huge")) { /* past the largest file: EIO */
            struct ext2_node e;
            CHECK(ext2_lookup(EXT2_ROOT_INO, "small", 5, &e) == -LX_EIO);
        }
        if (!strcmp(c->name, "looping_directory") || !strcmp(c->name, "dir_entry_is_itself")) {
            /* a hard link to a directory (to the root, to itself) is EIO, never followed */
            struct ext2_node d, e;
            CHECK(ext2_lookup(EXT2_ROOT_INO, "dir", 3, &d) == 0);
            CHECK(ext2_lookup(d.ino, c->name[0] == 'l' ? "loop" : "self", 4, &e) == -LX_EIO);
            ext2_putnode(d.ino);
        }
        crawl(EXT2_ROOT_INO, 0);
        mutate();
        crawl(EXT2_ROOT_INO, 0);
        int seen = ext2.corrupt_logged != 0;
        umount_img();
        /* corruption found is flagged in the superblock for e2fsck (EXT2_ERROR_FS) */
        if (seen && !(sb_state() & EXT2_ERROR_FS)) {
            printf("  %s: corruption seen, the superblock's state is 0x%x\n", c->name, sb_state());
            check_failed = 1;
        }
        f = fopen(IMG, "rb");
        fseeko(f, 0, SEEK_END);
        CHECK((long)ftello(f) == size);
        fclose(f);
    }
}

/* Each test with 1 KiB and with 4 KiB blocks; a test that stopped half way is unmounted. */
/* ---- restarts: the state region (state.c) kept across a simulated death */
static struct ext2_state region __attribute__((aligned(4096))); /* the server's state region */
static const struct ext2_state_id host_id = {"filedisk", 0, 0, 0, {0}};
static jmp_buf crashed;
static int crash_at, logged_count; /* the server dies at the crash_at'th buffer logged */

static void count_log(void)
{
    if (++logged_count == crash_at)
        longjmp(crashed, 1);
}

/* Mount through the region (adopting its state if it names this image). */
static int state_mount(void)
{
    struct ext2_state_id id = host_id;
    id.size = disk.d.size;
    return ext2_state_mount(&disk.d, 0, host_now, &id);
}

static int state_mount_img(void)
{
    int r = mount_img(IMG); /* opens the file; mounted plainly, then forgotten */
    if (r == 0) {
        CHECK(ext2_unmount() == 0);
        r = state_mount();
    }
    return r;
}

/* The server dies: its own memory (`ext2`, the hash, the references) is gone, the disk and the
 * region stay; the next instance mounts through the region. */
static int die_and_restart(void)
{
    ext2_txn_hook = 0;
    memset(&ext2, 0, sizeof(ext2));
    disk.reads = 0;
    return state_mount();
}

/* The region's current copy of `ext2` is all of it, byte for byte (a commit copies only what a
 * change may alter: state.c, keep). */
static int kept_whole(void)
{
    if (memcmp(&region.fs[(region.commit >> 32) & 1], &ext2, sizeof(ext2)) == 0)
        return 1;
    printf("  the region's copy of `ext2` differs from it after a commit\n");
    check_failed = 1;
    return 0;
}

/* Each change as the server makes it: a transaction, and the copy checked. */
#define TXN(x) (ext2_txn_begin(), txn_r = (x), ext2_txn_end(), kept_whole(), txn_r)
static int64_t txn_r;

static void restart_keeps_cache(void)
{
    if (make_image(16384) != 0 || state_mount_img() < 0)
        return;
    uint8_t *a = patterned(300000, 21), *b = patterned(5000, 22);
    CHECK(TXN(wfile("a", 0, a, 300000)) == 300000);
    CHECK(TXN(mk("d", S_IFDIR | 0755)) == 0 && TXN(wfile("d/x", 0, b, 5000)) == 5000);
    CHECK(TXN(rename_path("small", "d/small2")) == 0 && TXN(unlink_path("medium")) == 0);
    CHECK(cache_dirty_count() > 0);
    uint32_t dirty = cache_dirty_count();
    CHECK(die_and_restart() == 0 && cache_dirty_count() == dirty);
    CHECK(disk.reads == 1); /* the superblock's uuid; the cache was not read again */
    CHECK(holds("a", 300000, 21) && holds("d/x", 5000, 22) && holds("d/small2", 100, 1));
    FSCK("a restart with dirty blocks kept");
    CHECK(umount_img() == 0);
    FSCK("a restart, unmounted");
    CHECK(debugfs_holds("a", 300000, 21) && debugfs_holds("d/x", 5000, 22));
    CHECK(debugfs_holds("d/small2", 100, 1) && !debugfs_holds("medium", 300000, 2));
    /* a scrambled header, another image, another device: a fresh mount */
    CHECK(state_mount_img() == 0 && TXN(wfile("lost", 0, b, 5000)) == 5000);
    region.h.magic ^= 1;
    CHECK(die_and_restart() == 0 && disk.reads > 1 && walk("lost", &(uint32_t){0}) == -LX_ENOENT);
    CHECK(TXN(wfile("lost", 0, b, 5000)) == 5000);
    memset(&ext2, 0, sizeof(ext2));
    struct ext2_state_id other = host_id;
    other.minor = 1;
    other.size = disk.d.size;
    CHECK(ext2_state_mount(&disk.d, 0, host_now, &other) == 0);
    CHECK(walk("lost", &(uint32_t){0}) == -LX_ENOENT);
    CHECK(umount_img() == 0);
    ext2_state_forget();
    FSCK("fresh mounts");
    free(a), free(b);
}

/* One change, and how to tell it was made. */
struct change {
    const char *what;
    int (*run)(void);
    int (*done)(void);
};
static uint8_t *chg_data;
static int exists(const char *p)
{
    uint32_t ino;
    return walk(p, &ino) == 0;
}
static int size_is(const char *p, uint64_t size)
{
    struct fs_stat st;
    return stat_path(p, &st) == 0 && st.size == size;
}
static int c_create(void)
{
    return mk("n1", S_IFREG | 0644);
}
static int d_create(void)
{
    return exists("n1");
}
static int c_write(void) /* new blocks, past the direct ones: an indirect block too */
{
    return wfile("n1", 10 * BS, chg_data, 4 * BS) == 4 * BS ? 0 : -1;
}
static int d_write(void)
{
    return size_is("n1", 14 * BS);
}
static int c_mkdir(void)
{
    return mk("dd", S_IFDIR | 0755);
}
static int d_mkdir(void)
{
    return exists("dd");
}
static int c_rename(void)
{
    return rename_path("n1", "dd/n2");
}
static int d_rename(void)
{
    return exists("dd/n2") && !exists("n1");
}
static int c_unlink(void)
{
    return unlink_path("medium");
}
static int d_unlink(void)
{
    return !exists("medium");
}
static int c_trunc(void)
{
    uint32_t ino;
    return walk("dd/n2", &ino) < 0 ? -1 : ext2_trunc(ino, 0);
}
static int d_trunc(void)
{
    return size_is("dd/n2", 0);
}
static int c_rmdir(void)
{
    return rmdir_path("dir") == -LX_ENOTEMPTY && unlink_path("dd/n2") == 0 ? rmdir_path("dd") : -1;
}
static int d_rmdir(void)
{
    return !exists("dd");
}

/* The cached blocks before a change (snapshot), to check that its undo gave every one of them
 * back byte for byte (undone_exactly): e2fsck does not read everything (a free inode's bytes). */
static uint8_t *snap;
static uint32_t snap_blk[EXT2_NBUF], snap_n;

static void snapshot(void)
{
    snap_n = 0;
    for (uint32_t i = 0; i < EXT2_NBUF; i++)
        if (region.bufs[i].used) {
            snap_blk[snap_n] = region.bufs[i].blk;
            memcpy(snap + (size_t)snap_n++ * BS, region.memory[i], BS);
        }
}

static int undone_exactly(void)
{
    for (uint32_t i = 0; i < EXT2_NBUF; i++)
        for (uint32_t k = 0; region.bufs[i].used && k < snap_n; k++)
            if (snap_blk[k] == region.bufs[i].blk &&
                memcmp(snap + (size_t)k * BS, region.memory[i], BS)) {
                printf("  block %u differs from before the change\n", snap_blk[k]);
                return 0;
            }
    return 1;
}

/* Bytes 160.. of the first free inodes set to 0xa5, as another implementation may leave them (an
 * in-inode attribute of a deleted file): what inode_new zeroes there must come back at an undo. */
static void scribble_free_tails(void)
{
    struct ext2_buf *gb, *mb, *b;
    struct ext2_group *gd;
    if (group_get(0, &gb, &gd) < 0)
        return;
    CHECK(bget(gd->inode_bitmap, BGET_READ | BGET_NOLOG, &mb) == 0);
    for (uint32_t i = ext2.first_ino - 1, n = 0; n < 16 && i < ext2.sb.inodes_per_group; i++) {
        if (mb->data[i / 8] & (1u << (i % 8)))
            continue;
        CHECK(bget(gd->inode_table + i / ext2.inodes_per_block, BGET_READ | BGET_NOLOG, &b) == 0);
        uint8_t *ip = b->data + (i % ext2.inodes_per_block) * ext2.inode_size;
        memset(ip + EXT2_INODE_LOGGED, 0xa5, ext2.inode_size - EXT2_INODE_LOGGED);
        bdirty(b);
        bput(b);
        n++;
    }
    bput(mb);
    bput(gb);
}

/* A block the disk refuses to write (a bad sector): its sync fails (EIO), its bytes stay in the
 * cache, and the rest of the file system goes on: a file read through more blocks than the cache
 * holds evicts past the unwritable buffer (a clean one is taken instead). Once the disk takes it,
 * a sync writes it. */
static void bad_block(void)
{
    CHECK(make_image(8192) == 0);
    CHECK(mount_img(IMG) == 0);
    uint8_t *b = patterned(200, 22);
    disk.fail_blk = debugfs_number("bmap /small 0", "cat");
    CHECK(disk.fail_blk > 0);
    CHECK(wfile("small", 0, b, 200) == 200);
    CHECK(ext2_sync() == -LX_EIO);
    CHECK(holds("medium", 300000, 2)); /* more blocks than the 64 buffers */
    CHECK(holds("small", 200, 22));
    CHECK(ext2_sync() == -LX_EIO && cache_dirty_count() >= 1);
    disk.fail_blk = 0;
    CHECK(ext2_sync() == 0 && cache_dirty_count() == 0);
    CHECK(umount_img() == 0);
    CHECK(debugfs_holds("small", 200, 22));
    FSCK("a refused block, then written");
    free(b);
}

/* A death at each buffer a change logs: the next instance has the state before the change
 * (undone: every block cached before it as it was), e2fsck finds it clean; then the change runs
 * whole. Inodes of 256 bytes, as mke2fs makes for a disk of a usual size: iget logs 160 of them,
 * inode_new the rest (scribble_free_tails makes that rest worth checking). */
static void crash_in_change(void)
{
    static const struct change changes[] = {
        {"create", c_create, d_create}, {"write", c_write, d_write},
        {"mkdir", c_mkdir, d_mkdir},    {"rename", c_rename, d_rename},
        {"unlink", c_unlink, d_unlink}, {"trunc", c_trunc, d_trunc},
        {"rmdir", c_rmdir, d_rmdir},    {0, 0, 0},
    };
    if (make_image_opts(16384, "-I 256") != 0 || state_mount_img() < 0)
        return;
    CHECK(ext2.inode_size == 256);
    scribble_free_tails();
    chg_data = patterned(4 * BS, 23);
    snap = malloc((size_t)EXT2_NBUF * BS);
    int deaths = 0;
    for (const struct change *c = changes; c->what; c++) {
        for (crash_at = 1;; crash_at++) {
            logged_count = 0;
            ext2_txn_hook = count_log;
            snapshot();
            if (setjmp(crashed) == 0) {
                int r = (int)TXN(c->run());
                ext2_txn_hook = 0;
                CHECK(r == 0 && c->done());
                break;
            }
            deaths++;
            CHECK(die_and_restart() == 0);
            if (!undone_exactly()) {
                printf("  %s: death at buffer %d\n", c->what, crash_at);
                CHECK(0);
            }
            if (c->done()) {
                printf("  %s: done after a death at buffer %d\n", c->what, crash_at);
                CHECK(0);
            }
            if (!fsck_ok(c->what)) {
                printf("  %s: death at buffer %d\n", c->what, crash_at);
                CHECK(0);
            }
        }
    }
    CHECK(deaths >= 14);
    CHECK(umount_img() == 0);
    ext2_state_forget();
    FSCK("changes undone");
    free(chg_data);
    free(snap);
}

static void run_with(uint32_t bs, void (*fn)(void))
{
    BS = bs;
    fn();
    if (ext2.mounted)
        umount_img();
}
#define BOTH(fn)                                                                                   \
    static void b1k_##fn(void)                                                                     \
    {                                                                                              \
        run_with(1024, fn);                                                                        \
    }                                                                                              \
    static void b4k_##fn(void)                                                                     \
    {                                                                                              \
        run_with(4096, fn);                                                                        \
    }
BOTH(staging_read)
BOTH(write_files)
BOTH(sparse_large)
BOTH(names)
BOTH(links_symlinks)
BOTH(attributes)
BOTH(many_entries)
BOTH(open_unlinked)
BOTH(enospc)
BOTH(features)
BOTH(hostile)
BOTH(readahead)
BOTH(clustered_writes)
BOTH(restart_keeps_cache)
BOTH(crash_in_change)
BOTH(bad_block)
#define TESTS(fn)                                                                                  \
    {"b1k_" #fn, b1k_##fn},                                                                        \
    {                                                                                              \
        "b4k_" #fn, b4k_##fn                                                                       \
    }
static const struct host_test tests[] = {
    TESTS(staging_read),
    TESTS(write_files),
    TESTS(sparse_large),
    TESTS(names),
    TESTS(links_symlinks),
    TESTS(attributes),
    TESTS(many_entries),
    TESTS(open_unlinked),
    TESTS(enospc),
    TESTS(features),
    TESTS(hostile),
    TESTS(readahead),
    TESTS(clustered_writes),
    TESTS(restart_keeps_cache),
    TESTS(crash_in_change),
    TESTS(bad_block),
    {0, 0},
};

int main(void)
{
    if (sh("command -v mke2fs > /dev/null && command -v e2fsck > /dev/null && "
           "command -v debugfs > /dev/null") != 0) {
        printf("TEST ext2_tools FAIL (mke2fs, e2fsck and debugfs: make deps installs e2fsprogs)\n");
        return 1;
    }
    sh("mkdir -p " WORK);
    ext2_state_attach(&region);
    setvbuf(stdout, 0, _IONBF, 0);
    static struct host_test chosen[sizeof(tests) / sizeof(tests[0])];
    const char *only = getenv("EXT2_ONLY"); /* a part of the names to run, when debugging */
    size_t n = 0;
    for (const struct host_test *t = tests; t->name; t++)
        if (!only || strstr(t->name, only))
            chosen[n++] = *t;
    return run_host_tests(chosen);
}
