/*
 * libblockdriver: the message loop of a block driver (MINIX libblockdriver
 * style). A driver fills a struct blockdriver with callbacks and calls
 * blockdriver_task() (BLOCKDRIVER_MAIN), which never returns. The library
 * speaks the BDEV protocol of samsara/bdev.h with its clients (file servers
 * through lib/bdev, and the test client blocktest; docs/BLOCK.md):
 *
 *  - start-up: service_startup runs the driver's init callback, which
 *    resets the device in the safe order and starts it (fresh or after a
 *    crash: the same path) and says how big it is; the library reads the
 *    MBR (minors 1..4), then announces the driver in ds (LABEL.blk = its
 *    endpoint), which tells clients waiting in lib/bdev that a new instance
 *    is there to be re-opened;
 *  - only the labels in `clients` may send requests (E_PERM otherwise,
 *    counted and logged, nothing done); a request on a minor its sender has
 *    not opened in this instance gets E_RESTARTED;
 *  - every position and length is checked (sector multiples, no overflow,
 *    inside the minor, at most BDEV_TRANSFER_MAX) before the driver sees
 *    it; the library cuts a transfer into runs of at most max_transfer
 *    bytes (the driver's DMA buffer) and calls transfer() for each, with
 *    the position on the whole disk;
 *  - the driver copies between its own DMA buffer and the client's pieces
 *    with blockdriver_copy_from/to (KC_SAFECOPY_VEC): no DMA ever goes to a
 *    client's memory;
 *  - a driver waiting for its device calls blockdriver_wait(): the library
 *    receives meanwhile, answers rs's heartbeats, hands HARDWARE
 *    notifications to interrupt(), and keeps clients' requests for later
 *    (BLOCKDRIVER_DEFER_MAX; past that E_AGAIN);
 *  - replies go with sendnb: the library never blocks on a client.
 */
#ifndef BLOCKDRIVER_H
#define BLOCKDRIVER_H

#include <samsara/bdev.h>
#include "sys.h"
#include "partition.h"

#define BLOCKDRIVER_DEFER_MAX 8 /* client requests kept while the driver waits for its device */

/* What init (and geometry) tell the library. */
struct blockdriver_info {
    uint64_t size;         /* of the whole disk, in bytes (a multiple of sector_size) */
    uint32_t sector_size;  /* bytes: 512 or a power of two above */
    uint64_t max_transfer; /* bytes per transfer() call: its DMA buffer (a sector multiple) */
};

/* One BDEV_READ or BDEV_WRITE as the callbacks see it: the client's pieces, or a buffer of the
 * library's own (the MBR): the copy helpers know which. */
struct blockdriver_request {
    endpoint_t client; /* the granter of the pieces */
    uint32_t count;    /* pieces */
    uint64_t len;      /* their sum */
    void *local;       /* non-zero: the library's own buffer of len bytes (no pieces) */
    struct bdev_piece piece[BDEV_VEC_MAX];
};

struct blockdriver {
    const char *name; /* its label: log lines, and the announcement LABEL.blk */
    /* The labels that may send requests, 0-terminated (at most CLIENT_SET_MAX); 0 means
     * {"ext2", "ext2b", "blocktest", "blockpeer", 0}: the file servers (ext2b: a second disk's) and
     * the drivers' test clients. */
    const char *const *clients;
    /* Reset the device in the safe order and start it (interrupts masked, reset, wait, program
     * the queues, bus mastering on), fill info: 0, or an error and the driver exits (rs
     * restarts it). Called once, at start, fresh or after a crash. */
    int (*init)(struct blockdriver_info *info);
    /* A client opens or closes a minor (0: always allowed, may be 0). */
    int (*open)(uint32_t minor);
    void (*close)(uint32_t minor);
    /* Move bytes [offset, offset+len) of the request between the device at byte `position` of
     * the whole disk and the client (blockdriver_copy_from before a write, blockdriver_copy_to
     * after a read). len <= max_transfer, position and len sector multiples, inside the disk.
     * Returns len, or a negative error (E_IO, or the copy's). */
    int64_t (*transfer)(int write, uint64_t position, const struct blockdriver_request *rq,
                        uint64_t offset, uint64_t len);
    /* Write the device's volatile cache to the medium: 0 or E_IO (0: nothing to flush). */
    int (*flush)(void);
    /* Read the geometry again (BDEV_GEOMETRY of minor 0, opens of minor 0): 0 or an error
     * (0: it never changes). */
    int (*geometry)(struct blockdriver_info *info);
    void (*interrupt)(uint32_t irqs); /* HARDWARE notification: acknowledge, note completions */
    void (*alarm)(uint64_t now);      /* SYSTEM alarm (may be spurious: check your deadlines) */
};

_Noreturn void blockdriver_task(const struct blockdriver *driver);

#define BLOCKDRIVER_MAIN(table) DRIVER_MAIN(blockdriver_task, table) /* the driver's main() */

/* Copy bytes [offset, offset+len) of the request from the client into buf (before a write), or
 * from buf to the client (after a read): len, or a negative error (a bad grant: E_BADGRANT,
 * E_RANGE, E_PERM, E_FAULT). Vector copies of at most SAFECOPY_VEC_MAX pieces each. */
int64_t blockdriver_copy_from(const struct blockdriver_request *rq, uint64_t offset, void *buf,
                              uint64_t len);
int64_t blockdriver_copy_to(const struct blockdriver_request *rq, uint64_t offset, const void *buf,
                            uint64_t len);

/* Wait for the device: receive until a HARDWARE notification (handed to interrupt() first; 0)
 * or until timeout_ms passed (-E_TIMEDOUT). Heartbeats are answered, clients' requests kept. */
int blockdriver_wait(uint64_t timeout_ms);

#endif
