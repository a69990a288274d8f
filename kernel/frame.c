/*
 * Physical frame allocator: one bit per 4 KiB frame below 4 GiB (the part
 * of RAM the direct map covers). Free regions come from the Multiboot
 * memory map; the kernel image and the boot modules stay reserved.
 * Frames are handed out zeroed, except by frame_alloc_dirty, for a caller that
 * overwrites the whole frame at once (a copy-on-write copy). A frame mapped in more than one place
 * (PTE_SHARED, KC_MEM_SHARE; a private page shared copy-on-write by fork)
 * has a count of its mappings in `shares` (a
 * table sized to RAM, taken from the frames once the boot modules are
 * reserved) and is freed when the last one goes.
 */
#include "kernel.h"

#define MAX_FRAMES (PHYS_MAP_LIMIT / PAGE_SIZE)

static uint64_t bitmap[MAX_FRAMES / 64]; /* 1 = in use */
static uint64_t nr_free, nr_total, search_hint;
uint64_t nr_frames;      /* one past the last frame of RAM (below 4 GiB) */
static uint16_t *shares; /* per frame below nr_frames: its mappings if shared, else 0 */
extern char _kernel_end[];

struct mb_mmap_entry {
    uint32_t size;
    uint64_t base, len;
    uint32_t type;
} __attribute__((packed));

static void mark(uint64_t frame, int used)
{
    int was = (bitmap[frame / 64] >> (frame % 64)) & 1;
    if (was == used)
        return;
    bitmap[frame / 64] ^= 1ull << (frame % 64);
    nr_free += used ? -1 : 1;
}

void frame_reserve(uint64_t start, uint64_t end)
{
    for (uint64_t f = start / PAGE_SIZE; f < (end + PAGE_SIZE - 1) / PAGE_SIZE; f++)
        if (f < MAX_FRAMES)
            mark(f, 1);
}

void frame_init(uint32_t mb_info)
{
    const uint32_t *mb = P2V(mb_info);
    memset(bitmap, 0xff, sizeof(bitmap));
    if (!(mb[0] & (1 << 6)))
        panic("boot loader gave no memory map");
    uint64_t p = mb[12], end = p + mb[11];
    while (p < end) {
        const struct mb_mmap_entry *e = P2V(p);
        if (e->type == 1) {
            uint64_t s = (e->base + PAGE_SIZE - 1) / PAGE_SIZE, t = (e->base + e->len) / PAGE_SIZE;
            for (uint64_t f = s; f < t && f < MAX_FRAMES; f++)
                if (f >= 256) { /* keep the first MiB: BIOS data, boot tables */
                    mark(f, 0);
                    nr_total++;
                    nr_frames = f + 1;
                }
        }
        p += e->size + 4;
    }
    frame_reserve(0x100000, V2P(_kernel_end));
}

static uint64_t take_run(uint64_t first, uint64_t n, int zero)
{
    for (uint64_t f = first; f < first + n; f++)
        mark(f, 1);
    if (zero)
        memset(P2V(first * PAGE_SIZE), 0, n * PAGE_SIZE);
    return first * PAGE_SIZE;
}

/* A frame whose old contents stay: the caller overwrites all of it before anyone sees it. */
uint64_t frame_alloc_dirty(void)
{
    for (uint64_t i = 0; i < MAX_FRAMES / 64; i++) {
        uint64_t w = (search_hint + i) % (MAX_FRAMES / 64);
        if (bitmap[w] != ~0ull) {
            search_hint = w;
            return take_run(w * 64 + __builtin_ctzll(~bitmap[w]), 1, 0);
        }
    }
    return 0;
}

uint64_t frame_alloc(void)
{
    uint64_t pa = frame_alloc_dirty();
    if (pa)
        memset(P2V(pa), 0, PAGE_SIZE);
    return pa;
}

uint64_t frame_alloc_contig(uint64_t n)
{
    uint64_t run = 0;
    if (n == 0 || n > nr_free)
        return 0;
    for (uint64_t f = 256; f < MAX_FRAMES; f++) {
        run = (bitmap[f / 64] >> (f % 64)) & 1 ? 0 : run + 1;
        if (run == n)
            return take_run(f + 1 - n, n, 1);
    }
    return 0;
}

void frame_free(uint64_t pa)
{
    uint64_t f = pa / PAGE_SIZE;
    if (f < 256 || f >= MAX_FRAMES || !((bitmap[f / 64] >> (f % 64)) & 1))
        panic("frame_free: bad frame %lx", pa);
    mark(f, 0);
}

/* One more mapping of the frame at pa (its first share counts the owner too); E_NOMEM at 65535. */
int frame_share(uint64_t pa)
{
    uint16_t *n = &shares[pa / PAGE_SIZE];
    if (*n == 0xffff)
        return -E_NOMEM;
    *n = *n ? *n + 1 : 2;
    return 0;
}

/* One mapping of the frame at pa is gone; the last one (or an unshared frame's only) frees it. */
void frame_unshare(uint64_t pa)
{
    uint16_t *n = &shares[pa / PAGE_SIZE];
    if (*n <= 1) {
        *n = 0;
        frame_free(pa);
    } else {
        --*n;
    }
}

/* How many mappings the frame at pa has (copy-on-write after fork, PTE_SHARED). */
uint64_t frame_mappings(uint64_t pa)
{
    return shares[pa / PAGE_SIZE] ? shares[pa / PAGE_SIZE] : 1;
}

/* The share counts, once the boot modules are reserved (the run would overwrite them before). */
void frame_init_shares(void)
{
    uint64_t table = frame_alloc_contig((nr_frames * sizeof(*shares) + PAGE_SIZE - 1) / PAGE_SIZE);
    if (!table)
        panic("no memory for the shared-frame counts");
    shares = P2V(table);
}

uint64_t frame_free_count(void)
{
    return nr_free;
}
uint64_t frame_total(void)
{
    return nr_total;
}

/* Self-check: the free counter matches the bitmap. */
int frame_check(void)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < MAX_FRAMES / 64; i++)
        for (uint64_t w = ~bitmap[i]; w; w &= w - 1)
            n++;
    return n == nr_free ? 0 : -E_INVAL;
}
