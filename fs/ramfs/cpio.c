/*
 * Filling the tree from a cpio "newc" archive (the initramfs) that root
 * lends through a read grant. The archive is never copied whole: headers,
 * names and symlink targets are copied into small buffers, and file data
 * goes straight from the grant into the file's blocks (ramfs_write).
 *
 * Format: each entry is a 110-byte header ("070701", or "070702" with a
 * checksum we ignore, then 13 eight-digit hex fields), the name (namesize
 * bytes with its NUL) padded so the data starts on a multiple of 4, the
 * data padded to a multiple of 4; "TRAILER!!!" ends the archive.
 *
 * Names are relative to the root ("bin/sh"; a leading "/" or "./" is
 * dropped, "." or "" is the root itself, whose permission bits it sets).
 * Missing parent directories are created (0755, owner 0). Every entry
 * takes its owner (uid, gid) from the header. Kinds: directories,
 * regular files, symlinks, character devices (rdev = major << 8 | minor),
 * fifos and sockets; others are skipped with a log line. An entry whose
 * name exists replaces it, except that a directory is only updated.
 * Regular files with nlink > 1 that share the header's inode number are
 * hard links to one file (newc stores the data with the last of them).
 * A broken archive stops the loading but keeps what came before.
 */
#include "ramfs.h"
#include "fsdriver/fsdriver.h"

#define HDR_LEN 110
#define PATH_LEN 4096
#define NR_HARDLINKS 256

struct src {
    endpoint_t ep;
    grant_id_t g;
    uint64_t size;
};

struct entry {
    uint64_t ino, mode, uid, gid, nlink, filesize, major, minor, rmajor, rminor, namesize;
    uint64_t data_off;
};

static struct {
    uint64_t cino, dev;
    uint32_t ino;
} hardlinks[NR_HARDLINKS];
static int nr_hardlinks;
static char path[PATH_LEN];
static char target[RAMFS_SYMLINK_MAX + 1];
static uint64_t loaded, skipped;

static int src_read(const struct src *s, uint64_t off, void *buf, uint64_t len)
{
    if (off > s->size || len > s->size - off)
        return -1;
    return sys_safecopy_from(s->ep, s->g, off, buf, len) < 0 ? -1 : 0;
}

static int hex8(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

static int parse_header(const char *h, struct entry *e)
{
    uint64_t f[13];
    if (memcmp(h, "070701", 6) && memcmp(h, "070702", 6))
        return -1;
    for (int i = 0; i < 13; i++)
        if (hex8(h + 6 + 8 * i, &f[i]) < 0)
            return -1;
    e->ino = f[0];
    e->mode = f[1];
    e->uid = f[2] & 0xffffffffu;
    e->gid = f[3] & 0xffffffffu;
    e->nlink = f[4];
    e->filesize = f[6];
    e->major = f[7];
    e->minor = f[8];
    e->rmajor = f[9];
    e->rminor = f[10];
    e->namesize = f[11];
    return 0;
}

/* Remove an existing non-directory name, so a new entry can take it. */
static int make_room(struct ramfs_inode *dir, const char *name, uint64_t len, int new_is_dir,
                     struct ramfs_inode **existing)
{
    *existing = 0;
    struct ramfs_inode *old;
    if (ramfs_lookup(dir, name, len, &old) < 0)
        return 0;
    if (RAMFS_ISDIR(old)) {
        *existing = old;
        return new_is_dir ? 0 : -1;
    }
    return ramfs_unlink(dir, name, len);
}

static uint32_t *hardlink_slot(const struct entry *e)
{
    uint64_t dev = e->major << 32 | e->minor;
    for (int i = 0; i < nr_hardlinks; i++)
        if (hardlinks[i].cino == e->ino && hardlinks[i].dev == dev)
            return &hardlinks[i].ino;
    if (nr_hardlinks == NR_HARDLINKS)
        return 0;
    hardlinks[nr_hardlinks].cino = e->ino;
    hardlinks[nr_hardlinks].dev = dev;
    hardlinks[nr_hardlinks].ino = 0;
    return &hardlinks[nr_hardlinks++].ino;
}

static int add_file(const struct src *s, struct ramfs_inode *dir, const char *name, uint64_t len,
                    const struct entry *e, struct ramfs_inode **out)
{
    uint32_t *link = e->nlink > 1 ? hardlink_slot(e) : 0;
    struct ramfs_inode *ip = link && *link ? ramfs_iget(*link) : 0;
    int r;
    *out = 0;
    if (ip)
        r = ramfs_link(dir, name, len, ip);
    else
        r = ramfs_create(dir, name, len, S_IFREG | (uint32_t)(e->mode & 07777), 0, &ip);
    if (r < 0)
        return r;
    if (link)
        *link = ip->ino;
    *out = ip;
    if (!e->filesize)
        return 0;
    ramfs_truncate(ip, 0);
    int64_t n = ramfs_write(ip, 0, s->ep, s->g, e->data_off, e->filesize);
    return n == (int64_t)e->filesize ? 0 : n < 0 ? (int)n : -LX_ENOSPC;
}

static void set_owner(struct ramfs_inode *ip, const struct entry *e)
{
    ip->uid = (uint32_t)e->uid;
    ip->gid = (uint32_t)e->gid;
}

static int add_entry(const struct src *s, const struct entry *e, char *name)
{
    while (*name == '/' || (name[0] == '.' && name[1] == '/'))
        name += name[0] == '/' ? 1 : 2;
    struct ramfs_inode *dir = ramfs_iget(FS_ROOT_INO), *ip;
    uint32_t type = (uint32_t)(e->mode & S_IFMT), perm = (uint32_t)(e->mode & 07777);
    for (;;) {
        char *end = name;
        while (*end && *end != '/')
            end++;
        uint64_t len = (uint64_t)(end - name);
        int last = !*end;
        while (!last && end[1] == '/')
            end++; /* "a//b" */
        if (!last && !end[1])
            last = 1; /* "a/" */
        if (len == 0 || (len == 1 && name[0] == '.')) {
            if (!last) {
                name = end + 1;
                continue;
            }
            if (dir->ino == FS_ROOT_INO && type == S_IFDIR) { /* "." is the root */
                dir->mode = S_IFDIR | perm;
                set_owner(dir, e);
            }
            return 0;
        }
        if ((len == 2 && name[0] == '.' && name[1] == '.') || fsdriver_name_ok(name, len) < 0)
            return -LX_EINVAL;
        if (!last) {
            int r = ramfs_lookup(dir, name, len, &ip);
            if (r == -LX_ENOENT)
                r = ramfs_create(dir, name, len, S_IFDIR | 0755, 0, &ip);
            if (r < 0)
                return r;
            if (!RAMFS_ISDIR(ip))
                return -LX_ENOTDIR;
            dir = ip;
            name = end + 1;
            continue;
        }
        struct ramfs_inode *old;
        int r;
        ip = 0;
        if (make_room(dir, name, len, type == S_IFDIR, &old) < 0)
            return -LX_EEXIST;
        switch (type) {
        case S_IFDIR:
            if (old) {
                old->mode = S_IFDIR | perm;
                ip = old;
                r = 0;
            } else {
                r = ramfs_create(dir, name, len, S_IFDIR | perm, 0, &ip);
            }
            break;
        case S_IFREG:
            r = add_file(s, dir, name, len, e, &ip);
            break;
        case S_IFLNK:
            if (e->filesize == 0 || e->filesize > RAMFS_SYMLINK_MAX)
                return -LX_ENAMETOOLONG;
            if (src_read(s, e->data_off, target, e->filesize) < 0)
                return -LX_EFAULT;
            r = ramfs_symlink(dir, name, len, target, e->filesize, &ip);
            break;
        case S_IFCHR:
            r = ramfs_create(dir, name, len, S_IFCHR | perm, e->rmajor << 8 | e->rminor, &ip);
            break;
        case S_IFIFO:
        case S_IFSOCK:
            r = ramfs_create(dir, name, len, type | perm, 0, &ip);
            break;
        default:
            return -LX_EINVAL;
        }
        if (ip) /* a regular file's data may have failed after it was made: it keeps its owner */
            set_owner(ip, e);
        return r;
    }
}

void ramfs_cpio_load(endpoint_t ep, grant_id_t g, uint64_t size, const char *label)
{
    struct src s = {ep, g, size};
    uint64_t off = 0;
    char hdr[HDR_LEN];
    const char *why = "no trailer";
    while (off + HDR_LEN <= size) {
        struct entry e;
        if (src_read(&s, off, hdr, HDR_LEN) < 0 || parse_header(hdr, &e) < 0) {
            why = "bad header";
            break;
        }
        if (e.namesize < 2 || e.namesize > PATH_LEN ||
            src_read(&s, off + HDR_LEN, path, e.namesize) < 0 || path[e.namesize - 1]) {
            why = "bad name";
            break;
        }
        if (!strcmp(path, "TRAILER!!!")) {
            why = 0;
            break;
        }
        e.data_off = (off + HDR_LEN + e.namesize + 3) & ~3ull;
        if (e.filesize > size || e.data_off > size - e.filesize) {
            why = "truncated";
            break;
        }
        int r = add_entry(&s, &e, path);
        if (r < 0) {
            printf("ramfs: %s: skipped %s: error %d\n", label, path, -r);
            skipped++;
        } else {
            loaded++;
        }
        off = (e.data_off + e.filesize + 3) & ~3ull;
    }
    if (why)
        printf("ramfs: %s: stopped at offset %lu: %s\n", label, off, why);
    printf("ramfs: loaded %lu entries from %s (%lu bytes), skipped %lu; %lu KiB in use\n", loaded,
           label, size, skipped, ramfs_heap_pages_used() * 4);
}
