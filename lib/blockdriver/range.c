/*
 * libblockdriver's pure checks, tested on the host
 * (tests/host/test_blockdriver.c): a transfer's range against its minor,
 * and the MBR's partition table.
 *
 * MBR: 446 bytes of boot code, four 16-byte entries, then 0x55 0xaa. An
 * entry: status, CHS of the first sector, type (0: empty), CHS of the last,
 * LBA of the first sector (32 bits, little-endian), sector count (32 bits).
 * Extended partitions (types 0x05, 0x0f, 0x85) are taken as plain ranges:
 * their logical partitions are not minors.
 */
#include "partition.h"

int printf(const char *fmt, ...); /* lib/sys's, or the host's */

#define MBR_SIZE 512
#define MBR_TABLE 446
#define MBR_ENTRY 16

int blockdriver_check_range(uint64_t position, uint64_t len, uint64_t size, uint32_t sector_size)
{
    if (sector_size == 0 || position % sector_size || len % sector_size)
        return -E_INVAL;
    if (len > BDEV_TRANSFER_MAX)
        return -E_INVAL;
    if (position > size || len > size - position) /* no sum: it could wrap */
        return -E_RANGE;
    return 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int blockdriver_parse_mbr(const char *name, const uint8_t *sector, uint64_t disk_size,
                          uint32_t sector_size, struct blockdriver_minor m[BDEV_MINORS])
{
    m[0] = (struct blockdriver_minor){0, disk_size};
    for (int i = 1; i < BDEV_MINORS; i++)
        m[i] = (struct blockdriver_minor){0, 0};
    if (sector[MBR_SIZE - 2] != 0x55 || sector[MBR_SIZE - 1] != 0xaa)
        return 0; /* no partition table: only the whole disk */
    int taken = 0;
    for (int i = 1; i < BDEV_MINORS && i <= 4; i++) {
        const uint8_t *e = sector + MBR_TABLE + (i - 1) * MBR_ENTRY;
        uint64_t first = le32(e + 8), count = le32(e + 12);
        if (e[4] == 0 || count == 0)
            continue;
        /* 32-bit first and count times a sector size of at most 2^31: no 64-bit overflow */
        uint64_t start = first * sector_size, size = count * sector_size;
        if (first == 0 || start > disk_size || size > disk_size - start) {
            printf("%s: partition %d (sectors %lu+%lu) lies outside the disk: ignored\n", name, i,
                   (unsigned long)first, (unsigned long)count);
            continue;
        }
        m[i] = (struct blockdriver_minor){start, size};
        taken++;
    }
    return taken;
}
