/*
 * The ext2 server: `ext2 [DRIVER [MINOR [ro|rw [NAME]]]]` (default virtio_blk 0
 * rw ext2; NAME: its name in log lines, for a second instance such as ext2b)
 * opens that block device through lib/bdev, mounts the ext2 file system on
 * it (super.c checks it; a refused image is logged with the reason, and
 * FS_MOUNT answers the error) and serves the FS protocol (samsara/fs.h) to
 * vfs through lib/fsdriver. Inode numbers are ext2's own: the root is 2,
 * which FS_MOUNT answers. Block I/O goes through lib/bdev, which waits for a
 * restarted driver and reissues the request; what it gives up on (E_IO) is
 * EIO to the client.
 *
 * vfs's FS_MOUNT gets the root (fs_mount; the file system is read again
 * after an FS_UNMOUNT), FS_UNMOUNT (umount, reboot and poweroff) writes
 * everything out and marks the file system clean (fs_unmount).
 *
 * Write-back: a request that leaves dirty blocks sets the alarm for 5 s
 * after the last sync; when it rings, or at the first request past that
 * time, everything dirty is written and the disk flushed. FS_SYNC (sync,
 * fsync, fdatasync, syncfs) does it at once.
 */
#include "bdev/bdev.h"
#include "ext2.h"
#include "fsdriver/fsdriver.h"
#include <samsara/manifest.h>

GRANT_TABLE(300); /* lib/bdev's grants of our buffers to the driver */

#define FLUSH_MS 5000

static struct bdev dev;
static struct ext2_state_id dev_id; /* the device, for the state region's header */
/* The state region (ext2.conf's `state`): the cache and the changes' undo log (state.c). */
static struct ext2_state *const region = (struct ext2_state *)MANIFEST_STATE_VADDR;
#define STATE_LEN (6u << 20)
_Static_assert(sizeof(struct ext2_state) <= STATE_LEN, "ext2.conf's state is too small");
static int mount_flags;    /* EXT2_MOUNT_RO from the argument */
static int opened;         /* the block device is open (bdev_open) */
static uint64_t base_time; /* seconds: the superblock's last write or mount time */
static uint64_t last_sync_ms;

static int dev_read(struct ext2_disk *d, uint64_t off, void *buf, uint64_t len)
{
    (void)d;
    return bdev_read(&dev, off, buf, len) == (int64_t)len ? 0 : -LX_EIO;
}

static int dev_write(struct ext2_disk *d, uint64_t off, const void *buf, uint64_t len)
{
    (void)d;
    return bdev_write(&dev, off, buf, len) == (int64_t)len ? 0 : -LX_EIO;
}

/* The cache's runs: up to CACHE_RUN_MAX buffers in one request (lib/bdev cuts at 1 MiB). */
static int dev_xfer(struct ext2_disk *d, int write, uint64_t off, const struct ext2_iov *v,
                    uint32_t n)
{
    _Static_assert(CACHE_RUN_MAX <= BDEV_BUFS_MAX, "a run fits one bdev_transfer");
    static struct bdev_buf bufs[BDEV_BUFS_MAX];
    (void)d;
    uint64_t len = 0;
    if (n > BDEV_BUFS_MAX)
        return -LX_EINVAL;
    for (uint32_t i = 0; i < n; i++) {
        bufs[i] = (struct bdev_buf){v[i].buf, v[i].len};
        len += v[i].len; /* at most CACHE_RUN_MAX blocks: no overflow */
    }
    return bdev_transfer(&dev, write, off, bufs, (int)n) == (int64_t)len ? 0 : -LX_EIO;
}

static int dev_flush(struct ext2_disk *d)
{
    (void)d;
    return bdev_flush(&dev) < 0 ? -LX_EIO : 0;
}

static struct ext2_disk disk = {dev_read, dev_write, dev_flush, 0, dev_xfer};

/* Seconds for times: the time of day (fsdriver_now) once pm has given the kernel the boot time;
 * before that, the superblock's latest time (read at mount) plus the seconds since boot. */
static uint64_t now(void)
{
    if (sys_boottime())
        return fsdriver_now();
    if (!base_time)
        base_time = ext2.sb.wtime > ext2.sb.mtime ? ext2.sb.wtime : ext2.sb.mtime;
    return base_time + sys_uptime() / 1000;
}

/* Everything written. A block whose write failed stays dirty (cache.c) and is tried again
 * FLUSH_MS later, by the alarm, even if no request comes meanwhile (the driver's next
 * instance may be up by then); the failure is the caller's result (fsync, syncfs: EIO). */
static int sync_all(void)
{
    last_sync_ms = sys_uptime();
    int r = ext2_sync();
    if (ext2.mounted && !ext2.readonly && (cache_dirty_count() || ext2.sb_dirty))
        sys_alarm(FLUSH_MS);
    return r;
}

/* A change's transaction (state.c), opened by its callback, ends after it, before its answer
 * leaves (lib/fsdriver's commit), with the record of the request (exact replay: docs/
 * FILESYSTEMS.md, "Replay") in the same commit. */
_Static_assert(sizeof(struct fsdriver_last) == EXT2_LAST_WORDS * sizeof(uint64_t), "record");

static void fs_commit(const struct fsdriver_last *rec)
{
    static uint64_t words[EXT2_LAST_WORDS];
    ext2_txn_hook = 0;
    if (rec && ext2.mounted)
        memcpy(words, rec, sizeof(words));
    ext2_txn_commit(rec && ext2.mounted ? words : 0);
}

static const struct fsdriver_last *fs_last(void)
{
    static struct fsdriver_last last;
    const uint64_t *w = ext2_last();
    if (!w)
        return 0;
    memcpy(&last, w, sizeof(last));
    return &last;
}

/* ---- the callbacks: client inode numbers to ext2's */
#define INO(x) ext2_ino_of_client(x)

struct data_io {
    struct ext2_io io;
    const struct fsdriver_data *d;
};

static int data_copy(const struct ext2_io *io, uint64_t off, void *buf, uint64_t len, int out)
{
    const struct data_io *x = (const struct data_io *)io;
    return out ? fsdriver_copyout(x->d, off, buf, len) : fsdriver_copyin(x->d, off, buf, len);
}

/* The pieces in one KC_SAFECOPY_VEC, to the requester (out) or from it. */
static int data_copyv(const struct ext2_io *io, uint64_t off, const struct ext2_iov *v, uint32_t n,
                      int out)
{
    _Static_assert(EXT2_COPY_MAX <= SAFECOPY_VEC_MAX, "one kernel call");
    const struct data_io *x = (const struct data_io *)io;
    struct safecopy_piece p[EXT2_COPY_MAX];
    if (n > EXT2_COPY_MAX)
        return -LX_EINVAL;
    for (uint32_t i = 0; i < n; off += v[i].len, i++) /* off + len: inside the request's length */
        p[i] = (struct safecopy_piece){x->d->ep, x->d->grant, off, (uint64_t)v[i].buf, v[i].len};
    return sys_safecopy_vec(out ? GRANT_WRITE : GRANT_READ, p, n) < 0 ? -LX_EFAULT : 0;
}

static void node_out(const struct ext2_node *e, struct fsdriver_node *n)
{
    *n = (struct fsdriver_node){e->ino, e->mode, e->rdev, e->size, e->uid, e->gid};
}

static int fs_lookup(uint64_t dir, const char *name, uint64_t len, struct fsdriver_node *n)
{
    struct ext2_node e;
    int r = ext2_lookup(INO(dir), name, (uint32_t)len, &e);
    if (r == 0)
        node_out(&e, n);
    return r;
}

/* The test hook (only with the argument `crashtest`, which no ordinary boot gives): creating
 * a file named ext2-die-K makes the server fault in the middle of the change, at the Kth buffer
 * it logs (state.c), so the next instance must undo it (tools/suite_ext2.py). */
static int crash_test, crash_at, crash_count;

static void crash_hook(void)
{
    if (++crash_count == crash_at) {
        printf("ext2: crashtest: dying in a change, at buffer %d\n", crash_at);
        region->test_died = 1;
        *(volatile int *)0 = 1; /* a fault: rs restarts the server */
    }
}

static void crash_arm(const char *name, uint64_t len)
{
    static const char prefix[] = "ext2-die-";
    ext2_txn_hook = 0;
    if (!crash_test || len < sizeof(prefix) || memcmp(name, prefix, sizeof(prefix) - 1))
        return;
    if (region->test_died) { /* the same request again (vfs replays it): served */
        region->test_died = 0;
        return;
    }
    crash_at = 0;
    for (uint64_t i = sizeof(prefix) - 1;
         i < len && name[i] >= '0' && name[i] <= '9' && crash_at < 1000; i++)
        crash_at = crash_at * 10 + (name[i] - '0');
    crash_count = 0;
    ext2_txn_hook = crash_at > 0 && crash_at < 1000 ? crash_hook : 0;
}

static int fs_create(uint64_t dir, const char *name, uint64_t len, uint32_t mode, uint64_t rdev,
                     uint32_t uid, uint32_t gid, struct fsdriver_node *n)
{
    struct ext2_node e;
    crash_arm(name, len);
    ext2_txn_begin();
    int r = ext2_create(INO(dir), name, (uint32_t)len, mode, rdev, uid, gid, &e);
    if (r == 0)
        node_out(&e, n);
    return r;
}

static int fs_symlink(uint64_t dir, const char *name, uint64_t len, const char *target,
                      uint64_t tlen, uint32_t uid, uint32_t gid, struct fsdriver_node *n)
{
    struct ext2_node e;
    ext2_txn_begin();
    int r = ext2_symlink(INO(dir), name, (uint32_t)len, target, (uint32_t)tlen, uid, gid, &e);
    if (r == 0)
        node_out(&e, n);
    return r;
}

static int fs_link(uint64_t dir, const char *name, uint64_t len, uint64_t ino)
{
    ext2_txn_begin();
    return ext2_link(INO(dir), name, (uint32_t)len, INO(ino));
}

static int fs_unlink(uint64_t dir, const char *name, uint64_t len)
{
    ext2_txn_begin();
    return ext2_unlink(INO(dir), name, (uint32_t)len);
}

static int fs_rmdir(uint64_t dir, const char *name, uint64_t len)
{
    ext2_txn_begin();
    return ext2_rmdir(INO(dir), name, (uint32_t)len);
}

static int fs_rename(uint64_t od, const char *on, uint64_t ol, uint64_t nd, const char *nn,
                     uint64_t nl)
{
    ext2_txn_begin();
    return ext2_rename(INO(od), on, (uint32_t)ol, INO(nd), nn, (uint32_t)nl);
}

static int64_t fs_read(uint64_t ino, uint64_t off, const struct fsdriver_data *d, uint64_t len)
{
    struct data_io x = {{data_copy, data_copyv}, d};
    return ext2_read(INO(ino), off, &x.io, len);
}

static int64_t fs_write(uint64_t ino, uint64_t off, const struct fsdriver_data *d, uint64_t len)
{
    struct data_io x = {{data_copy, data_copyv}, d};
    ext2_txn_begin();
    return ext2_write(INO(ino), off, &x.io, len);
}

static int fs_trunc(uint64_t ino, uint64_t size)
{
    ext2_txn_begin();
    return ext2_trunc(INO(ino), size);
}

static int64_t fs_getdents(uint64_t dir, uint64_t *cookie, const struct fsdriver_data *d,
                           uint64_t len)
{
    struct data_io x = {{data_copy, data_copyv}, d};
    return ext2_getdents(INO(dir), cookie, &x.io, len);
}

static int64_t fs_readlink(uint64_t ino, const struct fsdriver_data *d, uint64_t len)
{
    struct data_io x = {{data_copy, data_copyv}, d};
    return ext2_readlink(INO(ino), &x.io, len);
}

static int fs_stat(uint64_t ino, struct fs_stat *st)
{
    int r = ext2_stat(INO(ino), st);
    st->ino = ino;
    return r;
}

static int fs_statfs(struct fs_statfs *sf)
{
    return ext2_statfs(sf);
}

static int fs_chmod(uint64_t ino, uint32_t mode)
{
    ext2_txn_begin();
    return ext2_chmod(INO(ino), mode);
}

static int fs_chown(uint64_t ino, uint32_t uid, uint32_t gid, uint32_t mode)
{
    ext2_txn_begin();
    return ext2_chown(INO(ino), uid, gid, mode);
}

static int fs_utime(uint64_t ino, uint64_t atime, uint64_t mtime)
{
    ext2_txn_begin();
    return ext2_utime(INO(ino), atime, mtime);
}

static int fs_putnode(uint64_t ino)
{
    ext2_txn_begin();
    return ext2_putnode(INO(ino));
}

static int fs_sync(uint64_t ino)
{
    if (ino && !INO(ino))
        return -LX_EINVAL;
    return sync_all(); /* one file's blocks are not told apart: everything goes */
}

/* FS_HOLD: vfs holds ino from before the restart (the references died with the instance): an
 * inode unlinked while open is then freed at vfs's last FS_PUTNODE, as without the restart. */
static int fs_hold(uint64_t ino)
{
    return INO(ino) ? ref_add(INO(ino)) : -LX_EINVAL;
}

static struct fsdriver ext2_server;

/* The file system on the open device: 0 or why not (super.c logged it). */
static int mount_disk(void)
{
    int r = opened ? ext2_state_mount(&disk, mount_flags, now, &dev_id) : -LX_ENODEV;
    if (r < 0)
        return r;
    ext2_server.symlink_max = ext2.bs - 1;
    last_sync_ms = sys_uptime();
    if (cache_dirty_count()) /* a dead instance's dirty blocks: written within FLUSH_MS */
        sys_alarm(FLUSH_MS);
    return 0;
}

/* FS_MOUNT: the root, inode 2. The file system was mounted at the start; after an FS_UNMOUNT, or
 * a refusal, it is read from the disk again. A root that cannot be read is a refusal too: the
 * file system is forgotten, and the next FS_MOUNT reads the disk afresh. */
static int fs_mount(struct fsdriver_node *root)
{
    int r = ext2.mounted ? 0 : mount_disk();
    if (r == 0 && (r = fs_lookup(EXT2_ROOT_INO, ".", 1, root)) < 0)
        ext2_unmount();
    return r;
}

/* FS_UNMOUNT: orphans freed, everything written, the file system marked clean, the cache
 * forgotten; lib/fsdriver answers EIO until the next FS_MOUNT. */
static int fs_unmount(void)
{
    if (!ext2.mounted)
        return 0;
    ext2_txn_begin();
    int r = ext2_unmount();
    ext2_txn_end();
    return r;
}

static void fs_alarm(void)
{
    if (ext2.mounted && (cache_dirty_count() || ext2.sb_dirty))
        sync_all();
}

/* After each request: dirty blocks are written at most FLUSH_MS after the last sync. The
 * alarm is set again every time (lib/bdev's waits may have used it meanwhile). */
static void fs_after(void)
{
    if (!ext2.mounted || (!cache_dirty_count() && !ext2.sb_dirty))
        return;
    uint64_t since = sys_uptime() - last_sync_ms;
    if (since >= FLUSH_MS)
        sync_all();
    else
        sys_alarm(FLUSH_MS - since);
}

static struct fsdriver ext2_server = {
    .label = "ext2",
    FSDRIVER_FS_OPS,
    .mount = fs_mount,
    .sync = fs_sync,
    .unmount = fs_unmount,
    .pending = bdev_deferred,
    .alarm = fs_alarm,
    .after = fs_after,
    .kept = ext2_state_kept, /* vfs replays unsafe requests too on an instance that kept state */
    .commit = fs_commit,
    .last = fs_last,
    .hold = fs_hold,
};

/* The next word of *p into out (at most size - 1 bytes); "" at the end. */
static void word(const char **p, char *out, size_t size)
{
    size_t n = 0;
    while (**p == ' ')
        (*p)++;
    for (; **p && **p != ' '; (*p)++)
        if (n + 1 < size)
            out[n++] = **p;
    out[n] = '\0';
}

int main(uint64_t argp)
{
    const char *arg = (const char *)argp;
    static char name[16];
    char driver[16], minor_s[12], flag[8], test[12];
    word(&arg, driver, sizeof(driver));
    word(&arg, minor_s, sizeof(minor_s));
    word(&arg, flag, sizeof(flag));
    word(&arg, name, sizeof(name));
    word(&arg, test, sizeof(test));
    crash_test = !strcmp(test, "crashtest");
    fsdriver_test_hook(crash_test);
    if (name[0])
        ext2_server.label = name;
    if (!driver[0])
        strncpy_s(driver, "virtio_blk", sizeof(driver));
    uint32_t minor = 0;
    for (const char *p = minor_s; *p >= '0' && *p <= '9' && minor < 1000; p++)
        minor = minor * 10 + (uint32_t)(*p - '0');
    int ro = !strcmp(flag, "ro");
    mount_flags = ro ? EXT2_MOUNT_RO : 0;
    service_startup(ext2_server.label,
                    0); /* ready; heartbeats answered in service_receive and lib/bdev */
    /* Without a file system it still serves: FS_MOUNT answers why (an exit would only have rs
     * start it again, and again). */
    int r = bdev_open(&dev, driver, minor, ro ? BDEV_R : BDEV_R | BDEV_W);
    if (r < 0)
        printf("%s: cannot open %s minor %u: %s\n", ext2_server.label, driver, minor,
               strerror_s(r));
    opened = r == 0;
    disk.size = dev.size;
    strncpy_s(dev_id.dev, driver, sizeof(dev_id.dev));
    dev_id.minor = minor;
    dev_id.size = dev.size;
    ext2_state_attach(region);
    if (opened && (r = mount_disk()) < 0)
        printf("%s: %s minor %u not mounted (%d)\n", ext2_server.label, driver, minor, r);
    bdev_wait_hook = fsdriver_suspend; /* vfs serves others while we wait for the driver */
    fsdriver_task(&ext2_server, "vfs");
}
