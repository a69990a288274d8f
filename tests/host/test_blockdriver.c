/*
 * libblockdriver's pure checks (lib/blockdriver/range.c): a transfer's
 * range against its minor, and the MBR's partition table read into minors.
 */
#include <stdint.h>
#include <string.h>
#include "../../lib/blockdriver/partition.h"
#include "check.h"

#define MiB (1ull << 20)

static void range_sector_multiples(void)
{
    CHECK(blockdriver_check_range(0, 512, MiB, 512) == 0);
    CHECK(blockdriver_check_range(0, 0, MiB, 512) == 0); /* zero length */
    CHECK(blockdriver_check_range(100, 512, MiB, 512) == -E_INVAL);
    CHECK(blockdriver_check_range(512, 100, MiB, 512) == -E_INVAL);
    CHECK(blockdriver_check_range(0, 4096, MiB, 4096) == 0);
    CHECK(blockdriver_check_range(512, 4096, MiB, 4096) == -E_INVAL);
    CHECK(blockdriver_check_range(0, 512, MiB, 0) == -E_INVAL);
}

static void range_end_and_overflow(void)
{
    CHECK(blockdriver_check_range(MiB - 512, 512, MiB, 512) == 0); /* the last sector */
    CHECK(blockdriver_check_range(MiB, 512, MiB, 512) == -E_RANGE);
    CHECK(blockdriver_check_range(MiB, 0, MiB, 512) == 0); /* nothing, at the end */
    CHECK(blockdriver_check_range(MiB - 512, 1024, MiB, 512) == -E_RANGE);
    CHECK(blockdriver_check_range(UINT64_MAX - 511, 1024, UINT64_MAX - 511, 512) == -E_RANGE);
    CHECK(blockdriver_check_range(UINT64_MAX - 511, 512, UINT64_MAX, 512) ==
          -E_RANGE);                                                            /* one byte short */
    CHECK(blockdriver_check_range(-(uint64_t)512, 1024, MiB, 512) == -E_RANGE); /* wraps */
    CHECK(blockdriver_check_range(0, BDEV_TRANSFER_MAX, 4 * MiB, 512) == 0);
    CHECK(blockdriver_check_range(0, BDEV_TRANSFER_MAX + 512, 4 * MiB, 512) == -E_INVAL);
}

static void put_entry(uint8_t *mbr, int i, uint8_t type, uint32_t first, uint32_t count)
{
    uint8_t *e = mbr + 446 + 16 * i;
    memset(e, 0, 16);
    e[4] = type;
    for (int b = 0; b < 4; b++) {
        e[8 + b] = (uint8_t)(first >> (8 * b));
        e[12 + b] = (uint8_t)(count >> (8 * b));
    }
}

static void mbr_partitions(void)
{
    uint8_t mbr[512] = {0};
    struct blockdriver_minor m[BDEV_MINORS];
    uint64_t disk = 96 * MiB; /* 196608 sectors */
    put_entry(mbr, 0, 0x83, 2048, 81920);
    put_entry(mbr, 1, 0x0c, 83968, 16384);
    put_entry(mbr, 2, 0x83, 190000, 10000);                    /* past the end */
    put_entry(mbr, 3, 0x00, 1, 10);                            /* empty */
    CHECK(blockdriver_parse_mbr("t", mbr, disk, 512, m) == 0); /* no signature: no table */
    CHECK(m[0].start == 0 && m[0].size == disk && m[1].size == 0);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    CHECK(blockdriver_parse_mbr("t", mbr, disk, 512, m) == 2);
    CHECK(m[1].start == 2048 * 512ull && m[1].size == 81920 * 512ull);
    CHECK(m[2].start == 83968 * 512ull && m[2].size == 16384 * 512ull);
    CHECK(m[3].size == 0 && m[4].size == 0);
    put_entry(mbr, 0, 0x83, 0, 10);                  /* starts on the MBR itself */
    put_entry(mbr, 1, 0x83, 0xffffffff, 0xffffffff); /* huge: no overflow, outside */
    put_entry(mbr, 2, 0x83, 196607, 1);              /* the very last sector: inside */
    put_entry(mbr, 3, 0x83, 196607, 2);              /* one sector past the end */
    CHECK(blockdriver_parse_mbr("t", mbr, disk, 512, m) == 1);
    CHECK(m[1].size == 0 && m[2].size == 0 && m[4].size == 0);
    CHECK(m[3].start == 196607 * 512ull && m[3].size == 512);
}

int main(void)
{
    static const struct host_test tests[] = {
        {"range_sector_multiples", range_sector_multiples},
        {"range_end_and_overflow", range_end_and_overflow},
        {"mbr_partitions", mbr_partitions},
        {0, 0},
    };
    return run_host_tests(tests);
}
