/*
 * libblockdriver's pure checks (range.c), without the system library so
 * that tests/host/test_blockdriver.c can run them on the host.
 */
#ifndef BLOCKDRIVER_PARTITION_H
#define BLOCKDRIVER_PARTITION_H

#include <stdint.h>
#include <samsara/bdev.h>
#include <samsara/errno.h>

/* Pure helpers, tested on the host (tests/host/test_blockdriver.c). */
struct blockdriver_minor {
    uint64_t start, size; /* bytes on the whole disk; size 0: no such partition */
};
/* Parse an MBR sector (512 bytes) of a disk of disk_size bytes into minors 1..4 of m (m[0]:
 * the whole disk): entries of type 0, or lying outside the disk, or not sector-aligned, are
 * left empty (logged as `name`). Returns how many partitions were taken. */
int blockdriver_parse_mbr(const char *name, const uint8_t *sector, uint64_t disk_size,
                          uint32_t sector_size, struct blockdriver_minor m[BDEV_MINORS]);
/* Check a transfer of len bytes at position of a minor of `size` bytes: 0, E_INVAL (not sector
 * multiples, too long) or E_RANGE (past the end, or a sum that overflows). */
int blockdriver_check_range(uint64_t position, uint64_t len, uint64_t size, uint32_t sector_size);

#endif
