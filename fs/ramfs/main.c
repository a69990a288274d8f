/*
 * ramfs start-up and its callbacks for the file-server loop (lib/fsdriver).
 * `ramfs [MODULE [CLIENT [LABEL]]]`: main borrows the data module MODULE
 * (default "initramfs.cpio") from root with ROOT_MODULE and fills the tree
 * from it (cpio.c), or starts with an empty root if there is none (MODULE
 * "-": empty on purpose, as the tmpfs instance mounted on /tmp). LABEL
 * (default "ramfs") names the instance in its log lines. Then
 * fsdriver_task answers FS_* requests (samsara/fs.h) forever, from one
 * client: the service labelled CLIENT (default "vfs", which checks
 * permissions; fstest in its suite). Anyone else gets EPERM, counted and
 * logged.
 *
 * The library checks grants, names, lengths and 32-bit owners; the
 * callbacks here check inode numbers (EINVAL for no live inode) and kinds.
 * Replies that hand over an inode (LOOKUP, CREATE, SYMLINK) count one
 * reference, which the requester gives back with FS_PUTNODE.
 */
#include "ramfs.h"
#include "fsdriver/fsdriver.h"

#define DEFAULT_MODULE "initramfs.cpio"

/* Log ip's reference count: with nlink, one aligned word (log.c's cheapest record). */
static void log_refs(const struct ramfs_inode *ip)
{
    _Static_assert(offsetof(struct ramfs_inode, refs) == offsetof(struct ramfs_inode, nlink) + 4 &&
                       offsetof(struct ramfs_inode, nlink) % 8 == 0,
                   "nlink and refs share a word");
    ramfs_log(&ip->nlink, 8);
}

/* Hand an inode to the requester, who now holds one more reference. */
static int give(struct ramfs_inode *ip, struct fsdriver_node *n)
{
    struct fs_stat st;
    ramfs_fill_stat(ip, &st);
    log_refs(ip);
    if (ip->refs < 0xffffffffu)
        ip->refs++;
    *n = (struct fsdriver_node){ip->ino, ip->mode, ip->rdev, st.size, ip->uid, ip->gid};
    return 0;
}

/* A directory of a request: EINVAL if no live inode, ENOTDIR if not a directory. */
static int dir_arg(uint64_t ino, struct ramfs_inode **dir)
{
    if (!(*dir = ramfs_iget(ino)))
        return -LX_EINVAL;
    return RAMFS_ISDIR(*dir) ? 0 : -LX_ENOTDIR;
}

static int fs_lookup(uint64_t d, const char *name, uint64_t len, struct fsdriver_node *n)
{
    struct ramfs_inode *dir, *ip;
    int rc = dir_arg(d, &dir);
    if (rc < 0 || (rc = ramfs_lookup(dir, name, len, &ip)) < 0)
        return rc;
    return give(ip, n);
}

/* A new inode *ip (if rc is 0) gets its owner, and the requester a reference. */
static int give_owned(int rc, struct ramfs_inode *const *ip, uint32_t uid, uint32_t gid,
                      struct fsdriver_node *n)
{
    if (rc < 0)
        return rc;
    ramfs_log_inode(*ip);
    (*ip)->uid = uid;
    (*ip)->gid = gid;
    return give(*ip, n);
}

static int fs_create(uint64_t d, const char *name, uint64_t len, uint32_t mode, uint64_t rdev,
                     uint32_t uid, uint32_t gid, struct fsdriver_node *n)
{
    struct ramfs_inode *dir, *ip = 0;
    int rc = dir_arg(d, &dir);
    return give_owned(rc ? rc : ramfs_create(dir, name, len, mode, rdev, &ip), &ip, uid, gid, n);
}

static int fs_symlink(uint64_t d, const char *name, uint64_t len, const char *target, uint64_t tlen,
                      uint32_t uid, uint32_t gid, struct fsdriver_node *n)
{
    struct ramfs_inode *dir, *ip = 0;
    int rc = dir_arg(d, &dir);
    rc = rc ? rc : ramfs_symlink(dir, name, len, target, tlen, &ip);
    return give_owned(rc, &ip, uid, gid, n);
}

static int fs_link(uint64_t d, const char *name, uint64_t len, uint64_t ino)
{
    struct ramfs_inode *dir, *ip;
    int rc = dir_arg(d, &dir);
    if (rc < 0)
        return rc;
    if (!(ip = ramfs_iget(ino)))
        return -LX_EINVAL;
    return ramfs_link(dir, name, len, ip);
}

static int fs_unlink(uint64_t d, const char *name, uint64_t len)
{
    struct ramfs_inode *dir;
    int rc = dir_arg(d, &dir);
    return rc < 0 ? rc : ramfs_unlink(dir, name, len);
}

static int fs_rmdir(uint64_t d, const char *name, uint64_t len)
{
    struct ramfs_inode *dir;
    int rc = dir_arg(d, &dir);
    return rc < 0 ? rc : ramfs_rmdir(dir, name, len);
}

static int fs_rename(uint64_t od, const char *oname, uint64_t olen, uint64_t nd, const char *nname,
                     uint64_t nlen)
{
    struct ramfs_inode *odir = ramfs_iget(od), *ndir = ramfs_iget(nd);
    if (!odir || !ndir)
        return -LX_EINVAL;
    if (!RAMFS_ISDIR(odir) || !RAMFS_ISDIR(ndir))
        return -LX_ENOTDIR;
    return ramfs_rename(odir, oname, olen, ndir, nname, nlen);
}

/* READ, WRITE, TRUNC: regular files only. */
static int file_arg(uint64_t ino, struct ramfs_inode **ip)
{
    if (!(*ip = ramfs_iget(ino)))
        return -LX_EINVAL;
    if (RAMFS_ISDIR(*ip))
        return -LX_EISDIR;
    return RAMFS_ISREG(*ip) ? 0 : -LX_EINVAL;
}

static int64_t fs_read(uint64_t ino, uint64_t off, const struct fsdriver_data *d, uint64_t len)
{
    struct ramfs_inode *ip;
    int rc = file_arg(ino, &ip);
    return rc < 0 ? rc : ramfs_read(ip, off, d->ep, d->grant, len);
}

/*
 * The test hook (docs/RAMFS.md, "Restarts"): when ramfs was started with the word `crash-hook`
 * (only a boot's configuration can say it: the ramfs suite's), a write at an offset whose top 32
 * bits are RAMFS_CRASH_MAGIC is done at the low 32 bits' offset, and then ramfs dies before the
 * commit, its undo log full of the write's records: the next instance must give back the file
 * as it was. A write at an offset whose top 32 bits are RAMFS_CRASH_AT_MAGIC writes nothing
 * and makes ramfs die before the k-th undo record of the next request (k: the low 32 bits), so
 * a test can stop every kind of request at every step. Without the word such offsets are past
 * any file (EFBIG).
 */
#define RAMFS_CRASH_MAGIC 0x7e57c0deull
/* low 32 bits: k for ramfs_crash_at; nothing is written */
#define RAMFS_CRASH_AT_MAGIC 0x7e57deadull
static int crash_hook;
static struct fsdriver ramfs; /* below: its label is in the hook's line */

static int64_t fs_write(uint64_t ino, uint64_t off, const struct fsdriver_data *d, uint64_t len)
{
    struct ramfs_inode *ip;
    int crash = crash_hook && off >> 32 == RAMFS_CRASH_MAGIC;
    if (crash_hook && off >> 32 == RAMFS_CRASH_AT_MAGIC) {
        ramfs_crash_at(off & 0xffffffffu);
        return 0;
    }
    int rc = file_arg(ino, &ip);
    if (rc < 0)
        return rc;
    int64_t r = ramfs_write(ip, crash ? off & 0xffffffffu : off, d->ep, d->grant, 0, len);
    if (crash) {
        printf("%s: test hook: dying in the middle of a write (%ld bytes written, not committed)\n",
               ramfs.label, r);
        sys_exit(71);
    }
    return r;
}

static int fs_trunc(uint64_t ino, uint64_t size)
{
    struct ramfs_inode *ip;
    int rc = file_arg(ino, &ip);
    return rc < 0 ? rc : ramfs_truncate(ip, size);
}

static int64_t fs_getdents(uint64_t ino, uint64_t *cookie, const struct fsdriver_data *d,
                           uint64_t len)
{
    struct ramfs_inode *dir;
    int rc = dir_arg(ino, &dir);
    return rc < 0 ? rc : ramfs_getdents(dir, cookie, d->ep, d->grant, len);
}

static int64_t fs_readlink(uint64_t ino, const struct fsdriver_data *d, uint64_t len)
{
    struct ramfs_inode *ip = ramfs_iget(ino);
    if (!ip)
        return -LX_EINVAL;
    if (!RAMFS_ISLNK(ip) || len == 0)
        return -LX_EINVAL;
    uint64_t n = len < ip->size ? len : ip->size;
    if (fsdriver_copyout(d, 0, ip->target, n) < 0)
        return -LX_EFAULT;
    ramfs_touch(ip);
    return (int64_t)n;
}

static int fs_stat(uint64_t ino, struct fs_stat *st)
{
    struct ramfs_inode *ip = ramfs_iget(ino);
    if (!ip)
        return -LX_EINVAL;
    ramfs_fill_stat(ip, st);
    return 0;
}

static int fs_statfs(struct fs_statfs *sf)
{
    ramfs_fill_statfs(sf);
    return 0;
}

static int fs_chmod(uint64_t ino, uint32_t mode)
{
    struct ramfs_inode *ip = ramfs_iget(ino);
    if (!ip)
        return -LX_EINVAL;
    ramfs_log_inode(ip);
    ip->mode = (ip->mode & S_IFMT) | mode;
    ip->ctime = ramfs_now();
    return 0;
}

static int fs_chown(uint64_t ino, uint32_t uid, uint32_t gid, uint32_t mode)
{
    struct ramfs_inode *ip = ramfs_iget(ino);
    if (!ip)
        return -LX_EINVAL;
    ramfs_log_inode(ip);
    ip->uid = uid;
    ip->gid = gid;
    ip->mode = (ip->mode & S_IFMT) | mode;
    ip->ctime = ramfs_now();
    return 0;
}

static int fs_utime(uint64_t ino, uint64_t atime, uint64_t mtime)
{
    struct ramfs_inode *ip = ramfs_iget(ino);
    if (!ip)
        return -LX_EINVAL;
    uint64_t now = ramfs_now();
    ramfs_log_inode(ip);
    if (atime != FS_TIME_OMIT)
        ip->atime = atime == FS_TIME_NOW ? now : atime;
    if (mtime != FS_TIME_OMIT)
        ip->mtime = mtime == FS_TIME_NOW ? now : mtime;
    ip->ctime = now;
    return 0;
}

/* One reference less (none left is not an error). */
static int fs_putnode(uint64_t ino)
{
    struct ramfs_inode *ip = ramfs_iget(ino);
    if (!ip)
        return -LX_EINVAL;
    log_refs(ip); /* a free logs what it changes (inode.c) */
    if (ip->refs)
        ip->refs--;
    ramfs_iput_check(ip);
    return 0;
}

static int state_kept; /* this instance carries on the last one's files (ramfs_heap_init) */

/* FS_MOUNT's answer 1: vfs replays every request in flight here, unsafe ones too, since the
 * one the dead instance had not committed was undone. ramfs kept vfs's references with the
 * files, so it has no FS_HOLD (vfs stops asking at its ENOSYS). */
static int fs_kept(void)
{
    return state_kept;
}

static struct fsdriver ramfs = {
    .label = "ramfs",
    .symlink_max = RAMFS_SYMLINK_MAX,
    .commit = ramfs_commit_request, /* before the answer goes out, with the request's record */
    .last = ramfs_last,
    .kept = fs_kept,
    FSDRIVER_FS_OPS,
};

/* Borrow the initramfs from root and load it. */
static void load(const char *module)
{
    grant_id_t grant;
    uint64_t size;
    if (!strcmp(module, "-")) { /* tmpfs: a root anyone may add to, sticky (Linux's 1777) */
        ramfs_iget(FS_ROOT_INO)->mode = S_IFDIR | 01777;
        return;
    }
    int r = root_module(module, &grant, &size);
    if (r < 0) {
        printf("ramfs: no module %s (%s): starting with an empty root\n", module, strerror_s(r));
        return;
    }
    ramfs_cpio_load(ROOT_EP, grant, size, module);
}

int main(uint64_t argp)
{
    const char *arg = (const char *)argp;
    /* MODULE CLIENT LABEL [crash-hook] */
    static char words[4][32] = {DEFAULT_MODULE, "vfs", "ramfs", ""};
    for (int i = 0; i < 4; i++) {
        while (*arg == ' ')
            arg++;
        size_t n = 0;
        while (arg[n] && arg[n] != ' ')
            n++;
        if (n && n < sizeof(words[i])) {
            memcpy(words[i], arg, n);
            words[i][n] = '\0';
        }
        arg += n;
    }
    const char *module = words[0], *client = words[1];
    ramfs.label = words[2];
    crash_hook = !strcmp(words[3], "crash-hook");
    fsdriver_test_hook(crash_hook);
    int kept = ramfs_heap_init(ramfs.label);
    if (kept < 0)
        return 1;
    state_kept = kept;
    if (!kept) { /* fresh: the tree from the initramfs, not a transaction (a death starts over) */
        if (ramfs_root_init() < 0) {
            printf("ramfs: no memory for the root directory\n");
            return 1;
        }
        load(module);
        RAMFS_ST->loaded = 1;
    }
    ramfs_log_on(1);
    service_startup(ramfs.label, 0); /* ready; rs's pings and save requests: service_receive */
    fsdriver_task(&ramfs, client);
}
