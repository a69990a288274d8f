/*
 * What outlives the server (docs/EXT2.md, "Restarts"): the region (struct ext2_state, ext2.h)
 * holds the cache's blocks and buffer headers (cache.c works in it), two copies of the file
 * system's state `ext2` and the undo log of the change in progress.
 *
 * A change (a request that may write: its callback in main.c opens it, lib/fsdriver's commit
 * hook, main.c's fs_commit, closes it) is a transaction: ext2_txn_begin opens it; bget logs each
 * buffer it hands out the first time (cache.c: cache_log, its contents before any change, or that
 * the block was not cached), so every write into a buffer has its undo; ext2_txn_commit copies
 * `ext2` (what a change may alter of it) and the record of the request (exact replay: docs/
 * FILESYSTEMS.md, "Replay") into the copies not in use and then, by one 8-byte store of
 * `commit`, names those copies and empties the log. A server that dies in between leaves the log
 * full: the next one undoes it (the last entry first) and takes the copies `commit` names, so its
 * cache, `ext2` and the record are those after the last whole change, dirty blocks included.
 * Write-back needs nothing: a buffer is marked clean only after its write, and one being read has
 * no block yet (cache_rebuild drops it).
 */
#include "ext2.h"

void (*ext2_txn_hook)(void);
static struct ext2_state *S;
static int adopted; /* the last mount carried on a dead instance's state (ext2_state_kept) */

static uint64_t header_check(const struct ext2_state_header *h)
{
    uint64_t x = 0xcbf29ce484222325ull;
    const uint8_t *b = (const uint8_t *)h;
    for (size_t n = 0; n < offsetof(struct ext2_state_header, check); n++)
        x = (x ^ b[n]) * 0x100000001b3ull; /* FNV-1a */
    return x;
}

void ext2_state_attach(struct ext2_state *s)
{
    S = s;
    cache_attach(s);
}

/* `ext2` into copy f, which holds it as of an earlier commit: only what a change may alter (the
 * fields before the superblock, and the superblock's first EXT2_SB_HOT bytes: its counts, times,
 * state and features), in one piece; the rest of the superblock changes only at a mount, which
 * fills both copies. The whole struct (1.1 KiB) was a large part of a change's cost.
 */
static void keep(struct ext2_fs *f)
{
    _Static_assert(offsetof(struct ext2_fs, sb) + sizeof(ext2.sb) == sizeof(ext2), "sb last");
    memcpy(f, &ext2, offsetof(struct ext2_fs, sb) + EXT2_SB_HOT);
}

void ext2_txn_begin(void)
{
    if (S && ext2.mounted)
        cache_txn(1);
}

void ext2_txn_end(void)
{
    ext2_txn_commit(0);
}

/* The record of the last request goes with the copy of `ext2` a commit names (a new one, or the
 * one before carried over). */
void ext2_txn_commit(const uint64_t *rec)
{
    if (!S)
        return;
    uint32_t to = !((S->commit >> 32) & 1);
    /* Nothing logged, so no block changed, and no corruption found: `ext2` is as kept (its
     * counts change only with the bitmaps), and the copy is not made again. */
    if (!rec && (uint32_t)S->commit == 0 && ext2.corrupt_logged == S->fs[!to].corrupt_logged) {
        S->seq++;
        cache_txn(0);
        return;
    }
    keep(&S->fs[to]);
    memcpy(S->last[to], rec ? rec : S->last[!to], sizeof(S->last[to]));
    __asm__ volatile("" ::: "memory");
    *(volatile uint64_t *)&S->commit = (uint64_t)to << 32; /* the commit: no entries left */
    S->seq++;
    cache_txn(0);
}

const uint64_t *ext2_last(void)
{
    return S ? S->last[(S->commit >> 32) & 1] : 0;
}

void ext2_state_forget(void)
{
    if (S)
        memset(&S->h, 0, sizeof(S->h));
    adopted = 0;
}

/* 1 when the file system was mounted from a dead instance's state with its change in progress
 * undone (lib/fsdriver's `kept`: vfs then replays every request in flight, unsafe ones too). */
int ext2_state_kept(void)
{
    return adopted && ext2.mounted;
}

/* Why the region cannot be used for this file system, or 0 (uuid: the disk's). "" for a region
 * never used (all zeros: a first start, or after an unmount), which is not logged. */
static const char *unusable(const struct ext2_state_id *id)
{
    const struct ext2_state_header *h = &S->h;
    static const struct ext2_state_header zero;
    if (!memcmp(h, &zero, sizeof(zero)))
        return "";
    if (h->check != header_check(h))
        return "header checksum";
    if (h->magic != EXT2_STATE_MAGIC)
        return "magic";
    if (h->version != EXT2_STATE_VERSION || h->len != sizeof(struct ext2_state))
        return "layout version or length";
    if (memcmp(h->id.dev, id->dev, sizeof(id->dev)) || h->id.minor != id->minor ||
        h->id.size != id->size)
        return "another device";
    if (memcmp(h->id.uuid, id->uuid, sizeof(id->uuid)))
        return "another file system (uuid)";
    uint32_t n = (uint32_t)S->commit, which = (uint32_t)(S->commit >> 32);
    const struct ext2_fs *f = &S->fs[which & 1];
    if (n > EXT2_LOG_ENTRIES || which > 1 || !f->mounted || f->log_bs < 10 || f->log_bs > 12 ||
        f->bs != 1u << f->log_bs || memcmp(f->sb.uuid, id->uuid, sizeof(id->uuid)))
        return "state";
    return 0;
}

static int fresh(struct ext2_disk *disk, int flags, uint64_t (*now)(void),
                 const struct ext2_state_id *id)
{
    ext2_state_forget(); /* a death while mounting leaves nothing to adopt */
    adopted = 0;
    S->commit = 0;
    S->split = 0;
    S->seq++;                            /* never 0, an unlogged buffer's mark */
    memset(S->last, 0, sizeof(S->last)); /* no request committed yet */
    int r = ext2_mount(disk, flags, now);
    if (r < 0)
        return r;
    S->fs[0] = S->fs[1] = ext2; /* both whole: a commit copies only a part (keep) */
    S->h = (struct ext2_state_header){EXT2_STATE_MAGIC, EXT2_STATE_VERSION,
                                      (uint32_t)sizeof(struct ext2_state), *id, 0};
    memcpy(S->h.id.uuid, ext2.sb.uuid, sizeof(S->h.id.uuid));
    S->h.check = header_check(&S->h);
    return 0;
}

int ext2_state_mount(struct ext2_disk *disk, int flags, uint64_t (*now)(void),
                     const struct ext2_state_id *id_in)
{
    static struct ext2_super s __attribute__((aligned(8)));
    struct ext2_state_id id = *id_in;
    if (!S)
        return -LX_EINVAL;
    cache_txn(0); /* a transaction the dead instance left open is undone below */
    if (disk->size >= EXT2_SUPER_OFFSET + sizeof(s) &&
        disk->read(disk, EXT2_SUPER_OFFSET, &s, sizeof(s)) == 0 && s.magic == EXT2_MAGIC)
        memcpy(id.uuid, s.uuid, sizeof(id.uuid));
    const char *why = unusable(&id);
    if (why) {
        if (*why)
            printf("ext2: state region unusable (%s): mounting afresh\n", why);
        return fresh(disk, flags, now, &id);
    }
    uint32_t n = (uint32_t)S->commit, which = (uint32_t)(S->commit >> 32);
    ext2 = S->fs[which];
    S->fs[!which] = ext2; /* both whole again (keep) */
    ext2.disk = disk;
    ext2.now = now;
    uint32_t undone = cache_undo(n), used, dirty, dropped;
    S->commit = (uint64_t)which << 32;
    S->seq++;
    cache_rebuild(&used, &dirty, &dropped);
    ext2_refs_reset();
    adopted = 1;
    printf("ext2: state kept across a restart: %u blocks cached, %u dirty, %u undone (a change in "
           "progress), %u dropped\n",
           used, dirty, undone, dropped);
    return 0;
}
