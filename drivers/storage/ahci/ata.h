/*
 * The ATA side of the ahci driver (ATA8-ACS): IDENTIFY DEVICE's data, the
 * register host-to-device FISes of the commands the driver uses (SATA 3.x,
 * 10.5.5), and the check of a run against the disk. Pure functions without
 * libsys, so tests/host/test_ata.c runs them on the host.
 */
#ifndef AHCI_ATA_H
#define AHCI_ATA_H

#include <stdint.h>
#include <samsara/errno.h>

#define ATA_FIS_LEN 20
#define ATA_IDENTIFY 0xec
#define ATA_READ_DMA 0xc8
#define ATA_READ_DMA_EXT 0x25
#define ATA_WRITE_DMA 0xca
#define ATA_WRITE_DMA_EXT 0x35
#define ATA_FLUSH_CACHE 0xe7
#define ATA_FLUSH_CACHE_EXT 0xea
#define ATA_LBA28_COUNT_MAX 256u   /* sectors in one 28-bit command */
#define ATA_LBA48_COUNT_MAX 65536u /* sectors in one 48-bit command */
#define ATA_SECTOR_SIZE_MAX 32768u /* the largest logical sector taken */

/* What IDENTIFY DEVICE told. */
struct ata_disk {
    uint64_t sectors;     /* addressable logical sectors */
    uint32_t sector_size; /* logical sector size in bytes */
    int lba48;            /* the 48-bit commands are used */
    int flush;            /* FLUSH CACHE (EXT) is supported */
    char model[41];
};

/* IDENTIFY DEVICE's 256 words into d: 0, or E_IO with *why saying what makes no sense (a
 * failed integrity checksum, no LBA, no sectors, an unsupported logical sector size). */
int ata_parse_identify(const uint16_t id[256], struct ata_disk *d, const char **why);
/* The FIS of IDENTIFY DEVICE; of READ/WRITE DMA (EXT) of count sectors at lba; of FLUSH CACHE
 * (EXT). ata_fis_rw wants a run ata_check_run accepted. */
void ata_fis_identify(uint8_t fis[ATA_FIS_LEN]);
void ata_fis_rw(uint8_t fis[ATA_FIS_LEN], const struct ata_disk *d, int write, uint64_t lba,
                uint32_t count);
void ata_fis_flush(uint8_t fis[ATA_FIS_LEN], const struct ata_disk *d);
/* A run of count sectors at lba: 0, or E_RANGE (past the disk's end, or more than one command
 * moves), computed without overflow. */
int ata_check_run(const struct ata_disk *d, uint64_t lba, uint64_t count);

#endif
