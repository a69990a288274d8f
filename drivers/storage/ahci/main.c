/*
 * ahci: the block driver of the first ATA disk on an AHCI controller (q35's
 * ICH9), on libblockdriver. hba.c resets and runs the controller, ata.c
 * speaks ATA; this file is the driver's callback table.
 *
 * One command at a time: a transfer copies the client's data into the
 * bounce buffer (a write), issues READ/WRITE DMA EXT for the run, and waits
 * in blockdriver_wait (heartbeats answered, interrupts handed to interrupt())
 * until PxCI clears or an error bit shows; then copies a read's data out to
 * the client. An error restarts the port (hba.c: ahci_recover) and fails the
 * run with E_IO; the client's lib/bdev tries again. No completion within
 * COMMAND_TIMEOUT_MS: the driver exits, and rs's new instance resets the HBA.
 */
#include "ahci.h"
#include "blockdriver/blockdriver.h"

/* A command not done by then means a hung controller or disk: the driver exits and its successor
 * resets the whole HBA; lib/bdev (which waits BDEV_REQUEST_MS, 10 s) reissues the request. */
#define COMMAND_TIMEOUT_MS 5000

#define IDENTIFY_TIMEOUT_MS 5000

static struct ata_disk disk;

/* IDENTIFY DEVICE, polled (the IRQ line is not ours yet): 0 or an error. */
static int identify(void)
{
    struct ahci_command c = {.len = 512};
    ata_fis_identify(c.fis);
    memset(ahci_bounce, 0, 512);
    int r = ahci_run(&c, IDENTIFY_TIMEOUT_MS);
    if (r < 0) {
        printf("ahci: IDENTIFY DEVICE failed (%s)\n", strerror_s(r));
        return r;
    }
    uint16_t id[256];
    memcpy(id, ahci_bounce, sizeof(id));
    const char *why = "";
    if ((r = ata_parse_identify(id, &disk, &why)) < 0)
        printf("ahci: IDENTIFY DEVICE: %s\n", why);
    return r;
}

static int init(struct blockdriver_info *info)
{
    int r = ahci_start();
    if (r < 0 || (r = identify()) < 0)
        return r;
    if (disk.sectors > UINT64_MAX / disk.sector_size) {
        printf("ahci: a disk of %lu sectors does not fit in 64 bits of bytes\n",
               (unsigned long)disk.sectors);
        return -E_INVAL;
    }
    info->size = disk.sectors * disk.sector_size;
    info->sector_size = disk.sector_size;
    info->max_transfer = AHCI_BOUNCE_SIZE - AHCI_BOUNCE_SIZE % disk.sector_size;
    if (!disk.lba48 && info->max_transfer > (uint64_t)ATA_LBA28_COUNT_MAX * disk.sector_size)
        info->max_transfer = (uint64_t)ATA_LBA28_COUNT_MAX * disk.sector_size;
    if ((r = sys_irqctl(IRQ_ENABLE, ahci_irq)) < 0)
        return r;
    printf("ahci: \"%s\", %lu sectors of %u bytes (%lu MiB), %s%s\n", disk.model,
           (unsigned long)disk.sectors, disk.sector_size, (unsigned long)(info->size >> 20),
           disk.lba48 ? "48-bit LBA" : "28-bit LBA", disk.flush ? ", cache flush" : "");
    return 0;
}

/* Issue c and wait for it: 0, or E_IO (the port restarted). */
static int run(const struct ahci_command *c)
{
    uint64_t until = sys_uptime() + COMMAND_TIMEOUT_MS;
    int r = ahci_issue(c);
    while (r == 0 && (r = ahci_poll()) == 1) {
        uint64_t now = sys_uptime();
        if (now >= until) {
            printf("ahci: command 0x%02x not done in %d ms: exiting, for a full reset\n", c->fis[2],
                   COMMAND_TIMEOUT_MS);
            sys_exit(1);
        }
        blockdriver_wait(until - now); /* an interrupt (perhaps another device's), or the end */
        r = 0;                         /* poll again */
    }
    if (r < 0) {
        ahci_recover();
        return -E_IO;
    }
    return 0;
}

static int64_t transfer(int write, uint64_t position, const struct blockdriver_request *rq,
                        uint64_t offset, uint64_t len)
{
    uint64_t ss = disk.sector_size, lba = position / ss, count = len / ss;
    /* The library checked these; a driver does not trust what it cannot afford to be wrong. */
    if (position % ss || len % ss || len > AHCI_BOUNCE_SIZE || ata_check_run(&disk, lba, count))
        return -E_RANGE;
    int64_t r;
    if (write && (r = blockdriver_copy_from(rq, offset, ahci_bounce, len)) < 0)
        return r;
    struct ahci_command c = {.write = write, .len = len};
    ata_fis_rw(c.fis, &disk, write, lba, (uint32_t)count);
    if ((r = run(&c)) < 0)
        return r;
    if (!write && (r = blockdriver_copy_to(rq, offset, ahci_bounce, len)) < 0)
        return r;
    return (int64_t)len;
}

static int flush(void)
{
    if (!disk.flush)
        return 0;
    struct ahci_command c = {0};
    ata_fis_flush(c.fis, &disk);
    return run(&c);
}

static void interrupt(uint32_t irqs)
{
    (void)irqs;
    ahci_interrupt(); /* the completion itself is seen by run()'s ahci_poll */
    driver_irq_ack("ahci", ahci_irq);
}

static const struct blockdriver ahci = {
    .name = "ahci",
    .init = init,
    .transfer = transfer,
    .flush = flush,
    .interrupt = interrupt,
};

BLOCKDRIVER_MAIN(ahci);
