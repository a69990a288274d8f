/*
 * The block interface under the ext2 code: how blocks arrive is not its
 * business. A disk is byte-addressed; every offset and length the ext2 code
 * passes is a multiple of 512 and lies inside [0, size). The host test
 * (tests/host/test_ext2.c) gives a file; the server (main.c) gives a block
 * device reached through lib/bdev.
 *
 * read and write move len bytes at offset off; flush asks the device to put
 * what it holds in volatile caches on stable storage. xfer (optional) moves
 * the n buffers of v, in order, to (write = 1) or from the disk bytes at
 * off in one request where it can (the cache's runs of blocks: read-ahead,
 * clustered write-back); without it the cache calls read or write once per
 * buffer. Each returns 0 or a negative errno (LX_*); the ext2 code reports
 * EIO to its callers for any failure and never retries itself (lib/bdev
 * does).
 */
#ifndef EXT2_DISK_H
#define EXT2_DISK_H

#include <stdint.h>

struct ext2_iov {
    void *buf;
    uint64_t len;
};

struct ext2_disk {
    int (*read)(struct ext2_disk *d, uint64_t off, void *buf, uint64_t len);
    int (*write)(struct ext2_disk *d, uint64_t off, const void *buf, uint64_t len);
    int (*flush)(struct ext2_disk *d);
    uint64_t size; /* bytes */
    int (*xfer)(struct ext2_disk *d, int write, uint64_t off, const struct ext2_iov *v, uint32_t n);
};

#endif
