/*
 * The name cache: (directory vnode, name) -> the vnode the name leads to, or
 * "no such name" (a negative entry), so that a path walk asks a file server
 * only for names it has not seen. An entry holds one reference on its
 * directory and one on its child, so neither vnode is freed, reused or put
 * to its server while the entry lives: the server hears FS_PUTNODE only when
 * an entry is evicted, not once per component of every walk.
 *
 * No stale hit: every request that changes a name of a directory goes
 * through vnode.c's helpers (fs_create, fs_symlink, fs_link, fs_remove,
 * fs_rename), which forget the names they touch before they ask the
 * server, so a name is never cached across a change it might have seen.
 * rmdir also forgets the names in the removed directory. Mount points are
 * crossed after the cache (path.c: vnode.mounted), so mount and umount
 * change nothing here; umount forgets its server's entries first (the
 * references they hold would make it busy), and a restarted server's
 * entries all go (mount.c). "." and ".." are never cached, nor names in
 * /proc (vfs's own, changing with the processes), nor names longer than
 * NAMECACHE_NAME_MAX. Permissions are checked by the walk on every
 * component from the vnodes' mode and owner, which chmod and chown keep
 * current (vnode_attrs_spread).
 *
 * Bounded: NAMECACHE_ENTRIES entries; a new one takes the place of one
 * the clock hand finds unused since it last passed (second chance).
 */
#include "vfs.h"

#define NAMECACHE_ENTRIES 1024
#define NAMECACHE_BUCKET_BITS 10
#define NAMECACHE_NAME_MAX 38 /* longer names go to the server every time */

struct name_entry {
    struct vnode *dir;       /* held; 0: a free entry */
    struct vnode *child;     /* held; 0: the name does not exist */
    struct name_entry *next; /* the chain of names hashing alike */
    uint32_t hash;
    uint8_t len;
    uint8_t used; /* looked up since the clock hand last passed */
    char name[NAMECACHE_NAME_MAX];
};

static struct name_entry entries[NAMECACHE_ENTRIES];
static struct name_entry *chains[1 << NAMECACHE_BUCKET_BITS];
static int hand; /* the clock hand: the next entry eviction looks at */
static struct namecache_stats {
    uint64_t hits, negative_hits, misses, evictions, walks, walked;
} stats;

static uint32_t name_hash(const struct vnode *dir, const char *name, size_t len)
{
    uint64_t h = (uint64_t)(uintptr_t)dir * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
    return (uint32_t)(h >> 32);
}

static struct name_entry **chain_of(uint32_t hash)
{
    return &chains[hash >> (32 - NAMECACHE_BUCKET_BITS)];
}

static int cacheable(const struct vnode *dir, const char *name, size_t len)
{
    if (dir->fs == NONE || dir->fs == PROCFS_EP || len == 0 || len >= NAMECACHE_NAME_MAX)
        return 0;
    return !(name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')));
}

static struct name_entry *find(const struct vnode *dir, const char *name, size_t len, uint32_t hash)
{
    for (struct name_entry *e = *chain_of(hash); e; e = e->next)
        if (e->hash == hash && e->dir == dir && e->len == len && !memcmp(e->name, name, len))
            return e;
    return 0;
}

/* Free entry e: out of its chain, its two references given back. */
static void drop(struct name_entry *e)
{
    for (struct name_entry **at = chain_of(e->hash); *at; at = &(*at)->next)
        if (*at == e) {
            *at = e->next;
            break;
        }
    struct vnode *dir = e->dir, *child = e->child;
    e->dir = e->child = 0;
    dir->cached_names--;
    vnode_put(child); /* may be the last reference: FS_PUTNODE */
    vnode_put(dir);
}

/* An entry to fill: a free one, or the first the clock hand finds unused. */
static struct name_entry *take(void)
{
    for (int n = 0; n < 2 * NAMECACHE_ENTRIES; n++) {
        struct name_entry *e = &entries[hand];
        hand = (hand + 1) % NAMECACHE_ENTRIES;
        if (!e->dir)
            return e;
        if (e->used) {
            e->used = 0;
            continue;
        }
        stats.evictions++;
        drop(e);
        return e;
    }
    return 0; /* cannot be: the second round finds every bit cleared */
}

/* Remember that name in dir leads to child (held by the caller; 0: to nothing). */
static void remember(struct vnode *dir, const char *name, size_t len, struct vnode *child)
{
    uint32_t hash = name_hash(dir, name, len);
    if (!cacheable(dir, name, len) || find(dir, name, len, hash))
        return;
    struct name_entry *e = take();
    if (!e)
        return;
    vnode_hold(dir);
    vnode_hold(child);
    *e = (struct name_entry){.dir = dir, .child = child, .hash = hash, .len = (uint8_t)len};
    memcpy(e->name, name, len);
    struct name_entry **head = chain_of(hash);
    e->next = *head;
    *head = e;
    dir->cached_names++;
}

/* Servers that answered FS_WALK with ENOSYS: asked one name at a time. */
static endpoint_t no_walk[8];

static int walks(endpoint_t fs)
{
    for (size_t i = 0; i < sizeof(no_walk) / sizeof(no_walk[0]); i++)
        if (no_walk[i] == fs)
            return 0;
    return 1;
}

/* The length of the next component of path (after its slashes, which *path skips). */
static size_t next_name(const char **path)
{
    while (**path == '/')
        (*path)++;
    size_t n = 0;
    while ((*path)[n] && (*path)[n] != '/')
        n++;
    return n;
}

/*
 * A miss on the first component of path (len bytes; the rest of the path after it) in dir:
 * FS_WALK asks dir's server for as many components as it can find at once, and each found is
 * remembered (a name not found after them too), so the walk's next steps hit the cache. The
 * first component's vnode, held, into *out; 1 if the server does not walk (ask FS_LOOKUP).
 */
static int64_t walk_miss(struct vnode *dir, const char *path, size_t len, struct vnode **out)
{
    static uint8_t buf[FS_WALK_RECORDS(PATH_MAX) + FS_WALK_MAX * sizeof(struct fs_walk_record)];
    size_t plen = strlen(path);
    if (plen >= PATH_MAX)
        return 1;
    memcpy(buf, path, plen);
    message_t m = {.type = FS_WALK,
                   .u.fs.walk = {.dir = dir->ino, .len = plen, .max = FS_WALK_MAX}};
    int64_t r =
        fs_buffer_call(dir->fs, &m, &m.u.fs.walk.grant, buf, sizeof(buf), GRANT_READ | GRANT_WRITE);
    if (r == -LX_ENOSYS) {
        for (size_t i = 0; i < sizeof(no_walk) / sizeof(no_walk[0]); i++)
            if (!no_walk[i] || i + 1 == sizeof(no_walk) / sizeof(no_walk[0])) {
                no_walk[i] = dir->fs;
                break;
            }
        return 1;
    }
    stats.walks++;
    stats.walked += r > 0 ? (uint64_t)r : 0;
    if (r == 0)
        return 1; /* stopped before the first name: asked alone */
    if (r == -LX_ENOENT && !fswait_answer_replayed())
        remember(dir, path, len, 0);
    if (r < 0)
        return r;
    if (r > FS_WALK_MAX)
        return -LX_EIO;
    int64_t error = m.u.fs.walked.error;
    struct fs_walk_record rec[FS_WALK_MAX];
    memcpy(rec, buf + FS_WALK_RECORDS(plen), (size_t)r * sizeof(rec[0]));
    struct vnode *cur = dir;
    const char *name = path;
    size_t n = len;
    int64_t i = 0;
    vnode_hold(cur);
    for (; i < r; i++) {
        struct fs_node node = {rec[i].ino, rec[i].mode, rec[i].rdev, rec[i].uid, rec[i].gid};
        struct vnode *v = vnode_child(cur, &node); /* takes the record's reference */
        if (!v)
            break;
        remember(cur, name, n, v);
        if (i == 0) {
            *out = v;
            vnode_hold(v);
        }
        vnode_put(cur);
        cur = v;
        name += n;
        n = next_name(&name);
    }
    if (i == r && error == -LX_ENOENT && n && !fswait_answer_replayed())
        remember(cur, name, n, 0);
    for (int64_t k = i + 1; k < r; k++) /* no room for a vnode: the rest go back */
        fs_putnode(dir->fs, rec[k].ino);
    vnode_put(cur);
    return *out ? 0 : -LX_ENFILE;
}

int64_t namecache_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
    return namecache_walk(dir, name, len, 0, out);
}

/*
 * The entry path[0..len) of directory dir: 0 and *out held, or -errno
 * (-ENOENT for a name known not to exist). Asks dir's server only if the
 * cache does not know; with walk, path goes on (NUL-terminated) with the
 * rest of the path after the name, and a miss asks the server for several
 * components at once (FS_WALK).
 */
int64_t namecache_walk(struct vnode *dir, const char *path, size_t len, int walk,
                       struct vnode **out)
{
    const char *name = path;
    *out = 0;
    uint32_t hash = 0;
    int use_cache = cacheable(dir, name, len);
    if (use_cache) {
        hash = name_hash(dir, name, len);
        struct name_entry *e = find(dir, name, len, hash);
        if (e) {
            e->used = 1;
            fswait_cached_lookup(dir->fs, dir->ino, e->child ? 0 : -LX_ENOENT);
            if (!e->child) {
                stats.negative_hits++;
                return -LX_ENOENT;
            }
            stats.hits++;
            vnode_hold(e->child);
            *out = e->child;
            return 0;
        }
        stats.misses++;
        const char *rest = path + len;
        if (walk && next_name(&rest) && walks(dir->fs)) {
            int64_t r = walk_miss(dir, path, len, out);
            if (r <= 0)
                return r;
        }
    }
    struct fs_node node;
    int64_t r = fs_lookup(dir, name, len, &node);
    if (r == -LX_ENOENT && use_cache && !fswait_answer_replayed()) /* a replay may be old */
        remember(dir, name, len, 0);
    if (r < 0)
        return r;
    struct vnode *v = vnode_child(dir, &node);
    if (!v)
        return -LX_ENFILE;
    if (use_cache)
        remember(dir, name, len, v);
    *out = v;
    return 0;
}

/* Is name (len bytes) in dir known to exist? 1: yes, 0: known not to, -1: not known. Asks no one.
 */
int namecache_known(struct vnode *dir, const char *name, size_t len)
{
    if (!cacheable(dir, name, len))
        return -1;
    struct name_entry *e = find(dir, name, len, name_hash(dir, name, len));
    return e ? e->child != 0 : -1;
}

/* A name just made in dir (create, mkdir, mknod, symlink) leads to v: remember it. */
void namecache_enter(struct vnode *dir, const char *name, struct vnode *v)
{
    remember(dir, name, strlen(name), v);
}

/* Forget every name in dir (it is being removed). */
static void forget_dir(struct vnode *dir, void *unused)
{
    (void)unused;
    for (int i = 0; i < NAMECACHE_ENTRIES && dir->cached_names > 0; i++)
        if (entries[i].dir == dir)
            drop(&entries[i]);
}

struct forgetting {
    const char *name;
    size_t len;
    int removed_dir;
    endpoint_t fs;
    uint64_t put; /* a server reference the caller gives back (namecache_forget) */
};

/* Forget the name in dir (one vnode of the directory). */
static void forget_in(struct vnode *dir, void *arg)
{
    struct forgetting *f = arg;
    struct name_entry *e = find(dir, f->name, f->len, name_hash(dir, f->name, f->len));
    if (!e)
        return;
    struct vnode *child = e->child;
    vnode_hold(child);
    drop(e);
    if (child && f->removed_dir)
        vnode_each_alias(child, forget_dir, 0);
    if (!f->put && child && child->fs == f->fs)
        f->put = vnode_put_later(child);
    else
        vnode_put(child);
}

/*
 * name (len bytes) in dir is about to change: forget what the cache knows of it, through every
 * mount of dir (a bind mount's vnodes are the same directory's), and with removed_dir (rmdir)
 * the names cached in the directory it leads to. The cache's last reference to the file the
 * name led to, if it had it, is the caller's to give back: its inode number (else 0).
 */
uint64_t namecache_forget(struct vnode *dir, const char *name, size_t len, int removed_dir)
{
    struct forgetting f = {name, len, removed_dir, dir->fs, 0};
    if (cacheable(dir, name, len))
        vnode_each_alias(dir, forget_in, &f);
    return f.put;
}

/* Forget every entry with a vnode of server fs (umount; fs restarted; 0: all servers). */
void namecache_forget_fs(endpoint_t fs)
{
    for (int i = 0; i < NAMECACHE_ENTRIES; i++) {
        struct name_entry *e = &entries[i];
        if (e->dir && (!fs || e->dir->fs == fs || (e->child && e->child->fs == fs)))
            drop(e);
    }
}

/* The vnode table is full: let an eighth of the cache go (least recently looked up first).
 * 1 if any entry went. */
int namecache_shrink(void)
{
    int freed = 0;
    for (int n = 0; n < 2 * NAMECACHE_ENTRIES && freed < NAMECACHE_ENTRIES / 8; n++) {
        struct name_entry *e = &entries[hand];
        hand = (hand + 1) % NAMECACHE_ENTRIES;
        if (e->dir && !e->used) {
            drop(e);
            freed++;
        } else if (e->dir) {
            e->used = 0;
        }
    }
    return freed > 0;
}

/* /proc/namecache: the counters, one "name value" line each. */
int64_t namecache_text(char *buf, size_t size)
{
    int used = 0;
    for (int i = 0; i < NAMECACHE_ENTRIES; i++)
        used += entries[i].dir != 0;
    return snprintf_s(buf, size,
                      "entries %d\nsize %d\nhits %lu\nnegative_hits %lu\nmisses %lu\n"
                      "evictions %lu\nwalks %lu\nwalked %lu\n",
                      used, NAMECACHE_ENTRIES, stats.hits, stats.negative_hits, stats.misses,
                      stats.evictions, stats.walks, stats.walked);
}
