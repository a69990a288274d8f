/*
 * ramfs's restarts (docs/RAMFS.md, "Restarts"): its files live in its state region, so a new
 * instance finds them; a write it died in the middle of is undone; a garbled header makes it
 * start fresh from its initramfs. fstest is a manager (`manage yes`): it kills ramfs with
 * ROOT_SERVICE, and writes at offsets 0x7e57c0de........ make the ramfs of this suite (started
 * with `crash-hook`) die before it commits. These run last: the last one wipes the tree.
 */
#include "fstest.h"

#define CRASH_MAGIC (0x7e57c0deull << 32) /* fs/ramfs/main.c: RAMFS_CRASH_MAGIC */
#define CRASH_AT (0x7e57deadull << 32)    /* RAMFS_CRASH_AT_MAGIC */
#define OLD_SIZE (100u << 10)
#define NEW_SIZE (200u << 10) /* one transaction: at most RAMFS_WRITE_STEP */

static uint8_t buf[NEW_SIZE];

/* Wait (up to 5 s) for ramfs's next instance after endpoint old; 0 when it is there. */
static int new_ramfs(endpoint_t old)
{
    uint64_t deadline = sys_uptime() + 5000;
    while (sys_uptime() < deadline) {
        endpoint_t ep = root_lookup("ramfs");
        if (ep > 0 && ep != old) {
            fs_ep = ep;
            return 0;
        }
    }
    printf("fstest: ramfs did not come back\n");
    return -1;
}

static int kill_ramfs(uint64_t flags)
{
    endpoint_t old = fs_ep;
    EXPECT(root_service(SVC_KILL | flags, "ramfs", 0), 0);
    return new_ramfs(old);
}

/* size bytes of pattern(seed) in ino, and nothing after */
static int holds(uint64_t ino, uint64_t size, uint64_t seed)
{
    EXPECT(fs_size(ino), size);
    for (uint64_t off = 0; off < size; off += sizeof(big)) {
        uint64_t n = size - off < sizeof(big) ? size - off : sizeof(big);
        EXPECT(fs_read(ino, off, big, n), (int64_t)n);
        for (uint64_t i = 0; i < n; i++)
            if (big[i] != pattern(off + i, seed)) {
                printf("fstest: byte %lu differs\n", off + i);
                return 1;
            }
    }
    EXPECT(fs_read(ino, size, big, 1), 0);
    return 0;
}

static void fill(uint64_t len, uint64_t seed, uint64_t at)
{
    for (uint64_t i = 0; i < len; i++)
        buf[i] = pattern(at + i, seed);
}

/* Killed between requests: names, kinds, contents, links, versions, references all there. */
static int restart_keeps_files(void)
{
    uint64_t d, sub, f, l, ino;
    struct fs_stat before, after;
    struct fs_statfs sf1, sf2;
    EXPECT(fs_scratch("keep", &d), 0);
    EXPECT(fs_mkdir(d, "sub", &sub), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0640, 0, &f), 0);
    fill(NEW_SIZE, 7, 0);
    EXPECT(fs_write(f, 0, buf, NEW_SIZE), NEW_SIZE);
    EXPECT(fs_link(sub, "hard", f), 0);
    EXPECT(fs_symlink(d, "l", "sub/hard", &l), 0);
    EXPECT(fs_create(d, "gone", S_IFREG | 0600, 0, &ino), 0);
    EXPECT(fs_unlink(d, "gone"), 0); /* unlinked, still referenced: kept for its holder */
    EXPECT(fs_write(ino, 0, "held", 4), 4);
    EXPECT(fs_stat(f, &before), 0);
    EXPECT(fs_statfs(&sf1), 0);
    if (kill_ramfs(0))
        return 1;
    uint64_t d2, f2;
    EXPECT(fs_lookup(FS_ROOT_INO, "keep", &d2), 0);
    EXPECT(d2, d);
    EXPECT(fs_walk("keep/sub/hard", &f2), 0);
    EXPECT(f2, f);
    EXPECT(fs_stat(f, &after), 0);
    CHECK(after.size == before.size && after.mode == before.mode && after.nlink == 2 &&
          after.version == before.version && after.mtime == before.mtime);
    if (holds(f, NEW_SIZE, 7))
        return 1;
    char target[16] = {0};
    EXPECT(fs_readlink(l, target, sizeof(target)), 8);
    CHECK(!memcmp(target, "sub/hard", 8));
    EXPECT(fs_read(ino, 0, big, 16), 4); /* the unlinked file our reference kept */
    CHECK(!memcmp(big, "held", 4));
    EXPECT(fs_statfs(&sf2), 0);
    CHECK(sf2.bfree == sf1.bfree && sf2.ffree == sf1.ffree);
    uint64_t etc;
    EXPECT(fs_lookup(FS_ROOT_INO, "etc", &etc), 0); /* the sample's */
    EXPECT(fs_putnode(ino), 0);                     /* our reference, counted by the old one */
    CHECK(sf2.ffree + 1 == (fs_statfs(&sf1), sf1.ffree));
    /* and it works as before */
    EXPECT(fs_write(f, NEW_SIZE, "z", 1), 1);
    EXPECT(fs_size(f), NEW_SIZE + 1);
    return 0;
}

/* Killed in the middle of a write that overwrites and extends a file: the file as before. */
static int restart_mid_write_undone(void)
{
    uint64_t d, f;
    struct fs_stat before, after;
    struct fs_statfs sf1, sf2;
    EXPECT(fs_scratch("mid", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    fill(OLD_SIZE, 3, 0);
    EXPECT(fs_write(f, 0, buf, OLD_SIZE), OLD_SIZE);
    EXPECT(fs_stat(f, &before), 0);
    EXPECT(fs_statfs(&sf1), 0);
    endpoint_t old = fs_ep;
    fill(NEW_SIZE, 9, OLD_SIZE / 2);
    CHECK(fs_write(f, (OLD_SIZE / 2) | CRASH_MAGIC, buf, NEW_SIZE) <= IPC_FAILED); /* it died */
    if (new_ramfs(old))
        return 1;
    EXPECT(fs_stat(f, &after), 0);
    CHECK(after.size == OLD_SIZE && after.version == before.version && after.mtime == before.mtime);
    if (holds(f, OLD_SIZE, 3))
        return 1;
    EXPECT(fs_statfs(&sf2), 0);
    CHECK(sf2.bfree == sf1.bfree); /* the blocks it had taken are free again */
    /* the same write, now without the hook, is whole */
    EXPECT(fs_write(f, OLD_SIZE / 2, buf, NEW_SIZE), NEW_SIZE);
    EXPECT(fs_size(f), OLD_SIZE / 2 + NEW_SIZE);
    EXPECT(fs_read(f, OLD_SIZE / 2 - 1, big, 2), 2);
    CHECK(big[0] == pattern(OLD_SIZE / 2 - 1, 3) && big[1] == pattern(OLD_SIZE / 2, 9));
    return 0;
}

/* A garbled header (SVC_SCRAMBLE): the next ramfs starts fresh from its initramfs. */
static int restart_bad_header_fresh(void)
{
    uint64_t ino;
    EXPECT(fs_lookup(FS_ROOT_INO, "keep", &ino), 0);
    if (kill_ramfs(SVC_SCRAMBLE))
        return 1;
    EXPECT(fs_lookup(FS_ROOT_INO, "keep", &ino), -LX_ENOENT);
    EXPECT(fs_lookup(FS_ROOT_INO, "mid", &ino), -LX_ENOENT);
    EXPECT(fs_walk("etc/hostname", &ino), 0); /* the sample again */
    EXPECT(fs_create(FS_ROOT_INO, "new", S_IFREG | 0644, 0, &ino), 0);
    return 0;
}

/* Only a service whose manifest says `state SIZE grow` may grow its region: fstest may not. */
static int state_grow_refused(void)
{
    EXPECT(root_state_grow(4096), -E_PERM);
    EXPECT(root_state_grow(0), -E_PERM);
    return 0;
}

/* FNV-1a of n bytes into h */
static uint64_t mix(uint64_t h, const void *p, uint64_t n)
{
    const uint8_t *b = p;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* A hash of the tree under directory `from`: names in slot order, each inode's stat but atime
 * (reads change it), file contents, link targets, and statfs's free counts (which see any block
 * or inode allocated or freed anywhere). 0 if a request failed. */
static uint64_t snapshot(uint64_t from)
{
    static uint64_t stack[512];
    static uint8_t dents[4096];
    uint64_t h = 14695981039346656037ull;
    int top = 0;
    stack[top++] = from;
    while (top) {
        uint64_t dir = stack[--top], cookie = 0;
        int64_t n;
        while ((n = fs_getdents(dir, &cookie, dents, sizeof(dents))) > 0) {
            for (int64_t off = 0; off < n;) {
                struct dirent64 *e = (struct dirent64 *)(dents + off);
                off += e->d_reclen;
                struct fs_stat st;
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                if (fs_stat(e->d_ino, &st) < 0)
                    return 0;
                h = mix(h, e->d_name, strlen(e->d_name));
                uint64_t f[] = {st.ino, st.mode,  st.nlink, st.size,    st.uid,
                                st.gid, st.mtime, st.ctime, st.version, st.rdev};
                h = mix(h, f, sizeof(f));
                if ((st.mode & S_IFMT) == S_IFDIR && top < 512)
                    stack[top++] = e->d_ino;
                for (uint64_t at = 0; (st.mode & S_IFMT) == S_IFREG && at < st.size;
                     at += sizeof(big)) {
                    int64_t got = fs_read(e->d_ino, at, big, sizeof(big));
                    if (got <= 0)
                        return 0;
                    h = mix(h, big, (uint64_t)got);
                }
                if ((st.mode & S_IFMT) == S_IFLNK)
                    h = mix(h, big, (uint64_t)fs_readlink(e->d_ino, (char *)big, sizeof(big)));
            }
        }
        if (n < 0)
            return 0;
    }
    struct fs_statfs sf;
    if (fs_statfs(&sf) < 0)
        return 0;
    uint64_t f[] = {sf.bfree, sf.ffree};
    return mix(h, f, sizeof(f));
}

/* The files the steps below work on (inode numbers stay the same across a rollback). */
static uint64_t st_dir, st_sub, st_big;

static int64_t step_create(void)
{
    uint64_t ino;
    return fs_create(st_dir, "c", S_IFREG | 0600, 0, &ino);
}
static int64_t step_mkdir(void)
{
    uint64_t ino;
    return fs_mkdir(st_dir, "d2", &ino);
}
static int64_t step_symlink(void)
{
    uint64_t ino;
    return fs_symlink(st_dir, "s", "c", &ino);
}
static int64_t step_link(void)
{
    return fs_link(st_sub, "h", st_big);
}
static int64_t step_overwrite(void)
{
    return fs_write(st_big, 1000, buf, 3 * 4096);
}
static int64_t step_extend(void)
{
    return fs_write(st_big, fs_size(st_big) - 100, buf, 9000);
}
static int64_t step_shrink(void)
{
    return fs_trunc(st_big, 5000);
}
static int64_t step_rename_over(void)
{
    return fs_rename(st_dir, "c", st_sub, "h"); /* replaces a name of big */
}
static int64_t step_rename_dir(void)
{
    return fs_rename(st_dir, "d2", st_sub, "moved");
}
static int64_t step_chmod(void)
{
    return fs_chmod(st_big, 0640);
}
static int64_t step_unlink(void)
{
    return fs_unlink(st_dir, "big"); /* its last name: our reference keeps it */
}
static int64_t step_putnode(void)
{
    return fs_putnode(st_big); /* the last reference: its blocks go */
}
static int64_t step_rmdir(void)
{
    return fs_rmdir(st_sub, "moved");
}

/*
 * Every kind of change, stopped at every step: the hook makes ramfs die before the k-th undo
 * record of the next request, for k = 1, 2, ... until the request gets through; after each
 * death the steps' directory and the free counts must hash as before the request.
 */
static int restart_undo_every_step(void)
{
    static int64_t (*const steps[])(void) = {
        step_create, step_mkdir,   step_symlink,     step_link,       step_overwrite,
        step_extend, step_shrink,  step_rename_over, step_rename_dir, step_chmod,
        step_unlink, step_putnode, step_rmdir};
    uint64_t deaths = 0;
    EXPECT(fs_scratch("steps", &st_dir), 0);
    EXPECT(fs_mkdir(st_dir, "sub", &st_sub), 0);
    EXPECT(fs_create(st_dir, "big", S_IFREG | 0644, 0, &st_big), 0);
    fill(NEW_SIZE, 5, 0);
    EXPECT(fs_write(st_big, 0, buf, 40 * 4096), 40 * 4096);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        uint64_t before = snapshot(st_dir); /* each death is undone: the same before each k */
        CHECK(before != 0);
        for (uint64_t k = 1;; k++) {
            CHECK(k < 4000);
            EXPECT(fs_write(st_big, CRASH_AT | k, "x", 1), 0); /* armed for the next request */
            endpoint_t old = fs_ep;
            int64_t r = steps[i]();
            if (r > IPC_FAILED) {
                CHECK(r >= 0);
                break; /* it got through: k was past its last record */
            }
            deaths++;
            if (new_ramfs(old))
                return 1;
            if (snapshot(st_dir) != before) {
                printf("fstest: step %lu stopped before record %lu: the tree changed\n", i, k);
                return 1;
            }
        }
    }
    printf("fstest: 13 kinds of change stopped at every step: %lu deaths, each undone\n", deaths);
    CHECK(deaths > 13);
    return 0;
}

/* Exact replay's record (lib/fsdriver: struct fsdriver_last; docs/FILESYSTEMS.md, "Replay"). */
static int64_t tagged(int type, uint64_t dir, const char *name, uint64_t mode, uint64_t seq)
{
    uint64_t len = strlen(name);
    message_t m = {.type = type};
    if (type == FS_CREATE)
        m.u.fs.create = (struct msg_fs_create){.dir = dir, .name_len = len, .mode = mode};
    else
        m.u.fs.unlink = (struct msg_fs_remove){.dir = dir, .name_len = len};
    m.u.fs.tag.seq = seq;
    return fs_call_granted(
        &m, type == FS_CREATE ? &m.u.fs.create.name_grant : &m.u.fs.unlink.name_grant, name, len,
        GRANT_READ);
}

static int64_t last_of(uint64_t seq, int type)
{
    message_t m = {.type = FS_LAST, .u.fs.last = {seq, (uint64_t)type}};
    return fs_call(&m);
}

/*
 * ramfs records the last request with a sequence number in the commit of its changes: FS_LAST
 * names it, the same request again is answered the recorded reply (an unlink done: 0, not
 * ENOENT), the record survives a kill, a death before the commit undoes it with the change, and
 * a death right after the commit (the test hook: before the answer) leaves the change and its
 * reply, which the new instance gives for the request sent again (a mkdir: 0, not EEXIST).
 */
static int restart_record_exact(void)
{
    uint64_t d, w, ino, ino2;
    const uint64_t s = 0x5eed0000000ull; /* not vfs's: fstest is ramfs's client here */
    EXPECT(fs_scratch("exact", &d), 0);
    EXPECT(fs_create(d, "w", S_IFREG | 0644, 0, &w), 0); /* the crash hook's writes */
    EXPECT(tagged(FS_CREATE, d, "a", S_IFREG | 0644, s + 1), 0);
    ino = fs_last.u.fs.node.ino;
    EXPECT(last_of(s + 1, FS_CREATE), 0);
    CHECK(fs_last.u.fs.node.ino == ino);
    EXPECT(last_of(s + 2, FS_CREATE), FS_NOT_LAST);
    EXPECT(last_of(s + 1, FS_UNLINK), FS_NOT_LAST);
    EXPECT(fs_putnode(ino), 0);
    EXPECT(tagged(FS_UNLINK, d, "a", 0, s + 2), 0);
    EXPECT(tagged(FS_UNLINK, d, "a", 0, s + 2), 0); /* the record answers: done once */
    EXPECT(tagged(FS_UNLINK, d, "a", 0, s + 3), -LX_ENOENT);
    EXPECT(last_of(s + 2, FS_UNLINK), FS_NOT_LAST);
    if (kill_ramfs(0))
        return 1;
    EXPECT(last_of(s + 3, FS_UNLINK), -LX_ENOENT); /* kept across the kill */
    /* a death before the commit: the change and its record undone */
    EXPECT(fs_write(w, CRASH_AT | 1, "x", 1), 0);
    endpoint_t old = fs_ep;
    CHECK(tagged(FS_CREATE, d, "b", S_IFDIR | 0755, s + 4) <= IPC_FAILED);
    if (new_ramfs(old))
        return 1;
    EXPECT(last_of(s + 4, FS_CREATE), FS_NOT_LAST);
    EXPECT(last_of(s + 3, FS_UNLINK), -LX_ENOENT);
    EXPECT(fs_lookup(d, "b", &ino), -LX_ENOENT);
    /* a death after the commit, before the answer: the change and its reply kept */
    EXPECT(fs_lookup(d, ".die-after-commit", &ino), -LX_ENOENT); /* arms the hook */
    old = fs_ep;
    CHECK(tagged(FS_CREATE, d, "b", S_IFDIR | 0755, s + 5) <= IPC_FAILED);
    if (new_ramfs(old))
        return 1;
    EXPECT(last_of(s + 5, FS_CREATE), 0);
    ino = fs_last.u.fs.node.ino;
    EXPECT(tagged(FS_CREATE, d, "b", S_IFDIR | 0755, s + 5), 0); /* not EEXIST */
    CHECK(fs_last.u.fs.node.ino == ino);
    EXPECT(fs_lookup(d, "b", &ino2), 0);
    CHECK(ino2 == ino);
    EXPECT(fs_putnode(ino2), 0);
    EXPECT(fs_putnode(ino), 0); /* the create's one reference */
    EXPECT(tagged(FS_CREATE, d, "b", S_IFDIR | 0755, s + 6), -LX_EEXIST); /* a new request */
    return 0;
}

/* 1 if the page holds pattern(seed) of file offset at, but "new!" at 100 if marked */
static int page_is(const uint8_t *page, uint64_t at, uint64_t seed, int marked)
{
    for (uint64_t i = 0; i < 4096; i++)
        if (page[i] !=
            (marked && i - 100 < 4 ? (uint8_t) "new!"[i - 100] : pattern(at + i, seed))) {
            printf("fstest: lent page: byte %lu differs\n", i);
            return 0;
        }
    return 1;
}

/*
 * A whole block read into a whole page of ours is lent, not copied (the kernel's region_twin,
 * docs/REINCARNATION.md "Lent region pages"): ramfs's next store into it must leave our page
 * as it was and reach the region (rs's mapping) too, so the next instance finds it; a page lent
 * before a kill stays ours while the new instance writes the block.
 */
static int restart_lent_pages(void)
{
    static uint8_t lent[3][4096] __attribute__((aligned(4096)));
    uint64_t d, f;
    char got[8];
    EXPECT(fs_scratch("lent", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    fill(8192, 3, 0);
    EXPECT(fs_write(f, 0, buf, 8192), 8192);
    EXPECT(fs_read(f, 0, lent[0], 4096), 4096);
    EXPECT(fs_write(f, 100, "new!", 4), 4); /* a store into the lent block */
    CHECK(page_is(lent[0], 0, 3, 0));
    EXPECT(fs_read(f, 0, lent[1], 4096), 4096);
    CHECK(page_is(lent[1], 0, 3, 1));
    EXPECT(fs_read(f, 4096, lent[2], 4096), 4096);
    fill(4096, 9, 4096);
    EXPECT(fs_write(f, 4096, buf, 4096), 4096); /* a whole block: shadowed, the old one freed */
    CHECK(page_is(lent[2], 4096, 3, 0));
    if (kill_ramfs(0))
        return 1;
    EXPECT(fs_read(f, 100, got, 4), 4); /* the region has the store */
    CHECK(!memcmp(got, "new!", 4));
    EXPECT(fs_read(f, 0, lent[2], 4096), 4096); /* lent by the new instance */
    EXPECT(fs_write(f, 100, "more", 4), 4);     /* lent[1] too was lent by the old one */
    CHECK(page_is(lent[1], 0, 3, 1) && page_is(lent[2], 0, 3, 1) && page_is(lent[0], 0, 3, 0));
    if (kill_ramfs(0))
        return 1;
    EXPECT(fs_read(f, 0, big, 8192), 8192);
    CHECK(!memcmp(big + 100, "more", 4) && page_is(big + 4096, 4096, 9, 0));
    return 0;
}

const struct fstest restart_tests[] = {
    {"state_grow_refused", state_grow_refused},
    {"restart_keeps_files", restart_keeps_files},
    {"restart_mid_write_undone", restart_mid_write_undone},
    {"restart_undo_every_step", restart_undo_every_step},
    {"restart_record_exact", restart_record_exact},
    {"restart_lent_pages", restart_lent_pages},
    {"restart_bad_header_fresh", restart_bad_header_fresh},
    {0, 0},
};
