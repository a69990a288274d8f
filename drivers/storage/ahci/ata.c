/*
 * ATA commands and IDENTIFY DEVICE (ata.h). The 48-bit commands are used
 * when IDENTIFY says the feature set is there (word 83 bit 10; QEMU's
 * ide-hd always); otherwise the 28-bit ones, whose LBA has 28 bits and
 * whose count is at most 256.
 */
#include "ata.h"

#define DEVICE_LBA 0x40      /* the device register's LBA bit */
#define FIS_TYPE_H2D 0x27    /* register FIS, host to device */
#define FIS_H2D_COMMAND 0x80 /* byte 1, the C bit: this FIS carries a command */

static void fis_h2d(uint8_t *f, uint8_t command, uint64_t lba, uint32_t count, int lba48)
{
    for (int i = 0; i < ATA_FIS_LEN; i++)
        f[i] = 0;
    f[0] = FIS_TYPE_H2D;
    f[1] = FIS_H2D_COMMAND;
    f[2] = command;
    f[4] = (uint8_t)lba;
    f[5] = (uint8_t)(lba >> 8);
    f[6] = (uint8_t)(lba >> 16);
    f[7] = DEVICE_LBA | (lba48 ? 0 : (uint8_t)(lba >> 24 & 0xf));
    if (lba48) {
        f[8] = (uint8_t)(lba >> 24);
        f[9] = (uint8_t)(lba >> 32);
        f[10] = (uint8_t)(lba >> 40);
        f[13] = (uint8_t)(count >> 8);
    }
    f[12] = (uint8_t)count; /* 0 means 256 (28-bit) or 65536 (48-bit) sectors */
}

void ata_fis_identify(uint8_t fis[ATA_FIS_LEN])
{
    fis_h2d(fis, ATA_IDENTIFY, 0, 0, 0);
    fis[7] = 0;
}

void ata_fis_rw(uint8_t fis[ATA_FIS_LEN], const struct ata_disk *d, int write, uint64_t lba,
                uint32_t count)
{
    uint8_t command = d->lba48 ? (write ? ATA_WRITE_DMA_EXT : ATA_READ_DMA_EXT)
                               : (write ? ATA_WRITE_DMA : ATA_READ_DMA);
    fis_h2d(fis, command, lba, count, d->lba48);
}

void ata_fis_flush(uint8_t fis[ATA_FIS_LEN], const struct ata_disk *d)
{
    fis_h2d(fis, d->lba48 ? ATA_FLUSH_CACHE_EXT : ATA_FLUSH_CACHE, 0, 0, d->lba48);
}

int ata_check_run(const struct ata_disk *d, uint64_t lba, uint64_t count)
{
    uint64_t most = d->lba48 ? ATA_LBA48_COUNT_MAX : ATA_LBA28_COUNT_MAX;
    if (count == 0 || count > most || lba > d->sectors || count > d->sectors - lba)
        return -E_RANGE;
    return 0;
}

/* IDENTIFY's strings: pairs of bytes swapped, padded with spaces. */
static void ata_string(char *out, const uint16_t *words, int count)
{
    int n = 0;
    for (int i = 0; i < count; i++) {
        char c1 = (char)(words[i] >> 8), c2 = (char)words[i];
        out[n++] = c1 >= 0x20 && c1 < 0x7f ? c1 : '?';
        out[n++] = c2 >= 0x20 && c2 < 0x7f ? c2 : '?';
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = 0;
}

int ata_parse_identify(const uint16_t id[256], struct ata_disk *d, const char **why)
{
    if ((id[255] & 0xff) == 0xa5) { /* the integrity word: all 512 bytes sum to 0 */
        uint8_t sum = 0;
        for (int i = 0; i < 256; i++)
            sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
        if (sum) {
            *why = "IDENTIFY data fail their checksum";
            return -E_IO;
        }
    }
    if (!(id[49] & (1u << 9))) {
        *why = "no LBA addressing";
        return -E_IO;
    }
    ata_string(d->model, id + 27, 20);
    d->lba48 = (id[83] & 0xc000) == 0x4000 && (id[83] & (1u << 10));
    if (d->lba48)
        d->sectors = (uint64_t)id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 |
                     (uint64_t)id[103] << 48;
    else
        d->sectors = ((uint64_t)id[60] | (uint64_t)id[61] << 16) & ((1u << 28) - 1);
    if (d->sectors >> 48) { /* words 100-103 hold a 48-bit count */
        *why = "more sectors than 48 bits address";
        return -E_IO;
    }
    d->flush = (id[83] & 0xc000) == 0x4000 && (id[83] & (3u << 12));
    d->sector_size = 512;
    if ((id[106] & 0xc000) == 0x4000 && (id[106] & (1u << 12))) { /* words 117-118 valid */
        uint64_t bytes = 2 * ((uint64_t)id[117] | (uint64_t)id[118] << 16);
        if (bytes < 512 || bytes > ATA_SECTOR_SIZE_MAX || (bytes & (bytes - 1))) {
            *why = "a logical sector size other than 512..32768 bytes, a power of two";
            return -E_IO;
        }
        d->sector_size = (uint32_t)bytes;
    }
    if (d->sectors == 0) {
        *why = "no sectors";
        return -E_IO;
    }
    return 0;
}
