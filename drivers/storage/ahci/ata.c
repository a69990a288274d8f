/*
 * ATA commands over AHCI (ATA8-ACS): IDENTIFY DEVICE and what it tells,
 * READ/WRITE DMA (EXT) and FLUSH CACHE (EXT), each as a register
 * host-to-device FIS (SATA 3.x, 10.5.5) for hba.c to run in slot 0.
 *
 * The 48-bit commands are used when IDENTIFY says the feature set is there
 * (word 83 bit 10, QEMU's ide-hd always); otherwise the 28-bit ones, and the
 * disk's size is capped at what 28 bits address.
 */
#include "ahci.h"

#define ATA_IDENTIFY 0xec
#define ATA_READ_DMA 0xc8
#define ATA_READ_DMA_EXT 0x25
#define ATA_WRITE_DMA 0xca
#define ATA_WRITE_DMA_EXT 0x35
#define ATA_FLUSH_CACHE 0xe7
#define ATA_FLUSH_CACHE_EXT 0xea
#define DEVICE_LBA 0x40 /* the device register's LBA bit */
#define IDENTIFY_TIMEOUT_MS 5000

static void fis_h2d(struct ahci_command *c, uint8_t command, uint64_t lba, uint32_t count,
                    int lba48)
{
    memset(c, 0, sizeof(*c));
    uint8_t *f = c->fis;
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

/* IDENTIFY's strings: pairs of bytes swapped, padded with spaces. */
static void ata_string(char *out, const uint16_t *words, int count)
{
    int n = 0;
    for (int i = 0; i < count; i++) {
        out[n++] = (char)(words[i] >> 8);
        out[n++] = (char)words[i];
    }
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == 0))
        n--;
    out[n] = 0;
}

/* Read what IDENTIFY DEVICE returned into d: 0, or E_IO for data that makes no sense. */
static int parse_identify(const uint16_t *id, struct ata_disk *d)
{
    const uint8_t *bytes = (const uint8_t *)id;
    if ((id[255] & 0xff) == 0xa5) { /* the integrity word: every byte sums to 0 */
        uint8_t sum = 0;
        for (int i = 0; i < 512; i++)
            sum = (uint8_t)(sum + bytes[i]);
        if (sum) {
            printf("ahci: IDENTIFY data fail their checksum\n");
            return -E_IO;
        }
    }
    if (!(id[49] & (1u << 9))) {
        printf("ahci: the disk has no LBA addressing\n");
        return -E_IO;
    }
    ata_string(d->model, id + 27, 20);
    d->lba48 = (id[83] & (1u << 10)) != 0;
    d->sectors = d->lba48 ? (uint64_t)id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 |
                                (uint64_t)id[103] << 48
                          : (uint64_t)id[60] | (uint64_t)id[61] << 16;
    if (d->lba48 && d->sectors >> 48) /* words 102-103 hold only 48 bits of it */
        d->sectors &= (1ull << 48) - 1;
    d->flush = (id[83] & (1u << 12)) || (id[83] & (1u << 13));
    d->sector_size = 512;
    if ((id[106] & 0xc000) == 0x4000 && (id[106] & (1u << 12))) { /* words 117-118 valid */
        uint64_t bytes_per = 2 * ((uint64_t)id[117] | (uint64_t)id[118] << 16);
        if (bytes_per < 512 || bytes_per > 32768 || (bytes_per & (bytes_per - 1))) {
            printf("ahci: logical sector of %lu bytes not supported\n", (unsigned long)bytes_per);
            return -E_IO;
        }
        d->sector_size = (uint32_t)bytes_per;
    }
    if (d->sectors == 0) {
        printf("ahci: the disk has no sectors\n");
        return -E_IO;
    }
    return 0;
}

int ata_identify(struct ata_disk *d)
{
    struct ahci_command c;
    fis_h2d(&c, ATA_IDENTIFY, 0, 0, 0);
    c.fis[7] = 0;
    c.len = 512;
    memset(ahci_bounce, 0, 512);
    int r = ahci_run(&c, IDENTIFY_TIMEOUT_MS);
    if (r < 0) {
        printf("ahci: IDENTIFY DEVICE failed (%s)\n", strerror_s(r));
        return r;
    }
    uint16_t id[256];
    memcpy(id, ahci_bounce, sizeof(id));
    return parse_identify(id, d);
}

/* count sectors at lba: the caller has checked both against the disk and the bounce buffer. */
void ata_rw(struct ahci_command *c, const struct ata_disk *d, int write, uint64_t lba,
            uint32_t count)
{
    uint8_t command = d->lba48 ? (write ? ATA_WRITE_DMA_EXT : ATA_READ_DMA_EXT)
                               : (write ? ATA_WRITE_DMA : ATA_READ_DMA);
    fis_h2d(c, command, lba, count, d->lba48);
    c->write = write;
    c->len = (uint64_t)count * d->sector_size;
}

void ata_flush(struct ahci_command *c, const struct ata_disk *d)
{
    fis_h2d(c, d->lba48 ? ATA_FLUSH_CACHE_EXT : ATA_FLUSH_CACHE, 0, 0, d->lba48);
}
