/*
 * Host tests of the ahci driver's ATA side (drivers/storage/ahci/ata.c):
 * IDENTIFY DEVICE's data as QEMU's ide-hd and other disks give it, hostile
 * data (bad checksum, no LBA, absurd sizes), the command FISes' bytes, and
 * the check of a run against the disk's end and a command's count.
 */
#include <string.h>
#include "check.h"
#include "../../drivers/storage/ahci/ata.h"

static uint16_t id[256];

/* A disk as QEMU's ide-hd describes one: LBA, 48-bit addressing and both flushes. */
static void identify_base(uint64_t sectors)
{
    memset(id, 0, sizeof(id));
    id[49] = 1u << 9;
    id[83] = 0x4000 | 1u << 13 | 1u << 12 | 1u << 10;
    id[60] = (uint16_t)(sectors > 0x0fffffff ? 0xffff : sectors);
    id[61] = (uint16_t)(sectors > 0x0fffffff ? 0x0fff : sectors >> 16);
    for (int i = 0; i < 4; i++)
        id[100 + i] = (uint16_t)(sectors >> (16 * i));
    const char *model = "QEMU HARDDISK                           "; /* 40 bytes */
    for (int i = 0; i < 20; i++)
        id[27 + i] = (uint16_t)(model[2 * i] << 8 | model[2 * i + 1]);
}

static int parse(struct ata_disk *d)
{
    const char *why = 0;
    int r = ata_parse_identify(id, d, &why);
    CHECK((r == 0) == (why == 0));
    return r;
}

static void test_identify_qemu(void)
{
    struct ata_disk d;
    identify_base(131072);
    CHECK(parse(&d) == 0);
    CHECK(d.sectors == 131072 && d.sector_size == 512 && d.lba48 && d.flush);
    CHECK(strcmp(d.model, "QEMU HARDDISK") == 0);
}

static void test_identify_lba28(void)
{
    struct ata_disk d;
    identify_base(1ull << 30); /* words 60-61 cap at 0x0fffffff */
    id[83] = 0x4000;           /* no 48-bit addressing, no flush */
    CHECK(parse(&d) == 0);
    CHECK(!d.lba48 && !d.flush && d.sectors == 0x0fffffff);
    id[83] = 0x8000 | 1u << 10; /* word 83 not valid (bits 15:14 not 01): nothing from it */
    CHECK(parse(&d) == 0 && !d.lba48);
}

static void test_identify_checksum(void)
{
    struct ata_disk d;
    identify_base(1000);
    id[255] = 0xa5; /* the signature, then the byte making the sum 0 */
    uint8_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
    id[255] |= (uint16_t)((uint8_t)(0x100 - sum) << 8);
    CHECK(parse(&d) == 0);
    id[100] ^= 1; /* one bit off */
    CHECK(parse(&d) == -E_IO);
}

static void test_identify_hostile(void)
{
    struct ata_disk d;
    identify_base(1000);
    id[49] = 0; /* no LBA */
    CHECK(parse(&d) == -E_IO);
    identify_base(0);
    CHECK(parse(&d) == -E_IO);
    identify_base(1000);
    id[103] = 0x0001; /* 2^48 sectors and more */
    CHECK(parse(&d) == -E_IO);
    identify_base(1000);
    for (int i = 0; i < 20; i++)
        id[27 + i] = 0x01ff; /* unprintable model bytes are replaced */
    CHECK(parse(&d) == 0 && strlen(d.model) == 40 && d.model[0] == '?');
}

static void test_identify_sector_size(void)
{
    struct ata_disk d;
    identify_base(1000);
    id[106] = 0x4000 | 1u << 12;
    id[117] = 2048; /* words: 4096 bytes */
    CHECK(parse(&d) == 0 && d.sector_size == 4096);
    uint32_t bad[] = {0, 1, 128, 255, 384, 32768, 0x10000};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        id[117] = (uint16_t)bad[i];
        id[118] = (uint16_t)(bad[i] >> 16);
        CHECK(parse(&d) == -E_IO);
    }
    id[106] = 1u << 12; /* word 106 not valid: 512 */
    CHECK(parse(&d) == 0 && d.sector_size == 512);
}

static void test_fis_rw(void)
{
    struct ata_disk d48 = {.sectors = 1ull << 47, .sector_size = 512, .lba48 = 1};
    uint8_t f[ATA_FIS_LEN];
    ata_fis_rw(f, &d48, 1, 0x123456789abcull, 0x1234);
    uint8_t want48[ATA_FIS_LEN] = {
        0x27, 0x80, ATA_WRITE_DMA_EXT, 0, 0xbc, 0x9a, 0x78, 0x40, 0x56, 0x34, 0x12, 0, 0x34, 0x12};
    CHECK(memcmp(f, want48, sizeof(f)) == 0);
    ata_fis_rw(f, &d48, 0, 5, ATA_LBA48_COUNT_MAX); /* 65536 is count 0 */
    CHECK(f[2] == ATA_READ_DMA_EXT && f[12] == 0 && f[13] == 0 && f[4] == 5);
    struct ata_disk d28 = {.sectors = 0x0fffffff, .sector_size = 512};
    ata_fis_rw(f, &d28, 0, 0x0fedcba, ATA_LBA28_COUNT_MAX);
    uint8_t want28[ATA_FIS_LEN] = {0x27, 0x80, ATA_READ_DMA, 0, 0xba, 0xdc, 0xfe, 0x40 | 0x0};
    CHECK(memcmp(f, want28, sizeof(f)) == 0);
    ata_fis_rw(f, &d28, 1, 0x0abcdef1, 1);
    CHECK(f[2] == ATA_WRITE_DMA && f[7] == (0x40 | 0x0a) && f[8] == 0 && f[12] == 1);
    ata_fis_flush(f, &d48);
    CHECK(f[2] == ATA_FLUSH_CACHE_EXT && f[1] == 0x80);
    ata_fis_flush(f, &d28);
    CHECK(f[2] == ATA_FLUSH_CACHE);
    ata_fis_identify(f);
    CHECK(f[0] == 0x27 && f[2] == ATA_IDENTIFY && f[7] == 0);
}

static void test_check_run(void)
{
    struct ata_disk d = {.sectors = 1000, .sector_size = 512, .lba48 = 1};
    CHECK(ata_check_run(&d, 0, 1000) == 0);
    CHECK(ata_check_run(&d, 999, 1) == 0);
    CHECK(ata_check_run(&d, 999, 2) == -E_RANGE);
    CHECK(ata_check_run(&d, 1000, 1) == -E_RANGE);
    CHECK(ata_check_run(&d, 0, 0) == -E_RANGE);
    CHECK(ata_check_run(&d, UINT64_MAX, 2) == -E_RANGE);     /* lba + count wraps */
    CHECK(ata_check_run(&d, 2, UINT64_MAX - 1) == -E_RANGE); /* so does count */
    d.sectors = 1ull << 40;
    CHECK(ata_check_run(&d, 0, ATA_LBA48_COUNT_MAX) == 0);
    CHECK(ata_check_run(&d, 0, ATA_LBA48_COUNT_MAX + 1) == -E_RANGE);
    d.lba48 = 0;
    d.sectors = 0x0fffffff;
    CHECK(ata_check_run(&d, 0, ATA_LBA28_COUNT_MAX) == 0);
    CHECK(ata_check_run(&d, 0, ATA_LBA28_COUNT_MAX + 1) == -E_RANGE);
    CHECK(ata_check_run(&d, 0x0ffffffe, 1) == 0);
    CHECK(ata_check_run(&d, 0x0fffffff, 1) == -E_RANGE);
}

int main(void)
{
    static const struct host_test tests[] = {
        {"ata.identify_qemu", test_identify_qemu},
        {"ata.identify_lba28", test_identify_lba28},
        {"ata.identify_checksum", test_identify_checksum},
        {"ata.identify_hostile", test_identify_hostile},
        {"ata.identify_sector_size", test_identify_sector_size},
        {"ata.fis_rw", test_fis_rw},
        {"ata.check_run", test_check_run},
        {0, 0},
    };
    return run_host_tests(tests);
}
