/*
 * ahci: the block driver of the first ATA disk on an AHCI controller (q35's
 * ICH9), on libblockdriver. hba.c resets and runs the controller, ata.c
 * speaks ATA; this file is the driver's callback table.
 *
 * One command at a time: a transfer copies the client's data into the
 * bounce buffer (a write), issues READ/WRITE DMA EXT for the run, and waits
 * in blockdriver_wait (heartbeats answered, interrupts handed to interrupt())
 * until PxCI clears, an error bit shows, or COMMAND_TIMEOUT_MS passes; then
 * copies a read's data out to the client. An error or a timeout restarts the
 * port (hba.c: ahci_recover) and fails the run with E_IO; the client's
 * lib/bdev tries again.
 */
#include "ahci.h"
#include "blockdriver/blockdriver.h"

#define COMMAND_TIMEOUT_MS 10000 /* TCG on a loaded host is slow; a real disk answers in ~30 s */

static struct ata_disk disk;

static int init(struct blockdriver_info *info)
{
    int r = ahci_start();
    if (r < 0 || (r = ata_identify(&disk)) < 0)
        return r;
    if (disk.sectors > UINT64_MAX / disk.sector_size) {
        printf("ahci: a disk of %lu sectors does not fit in 64 bits of bytes\n",
               (unsigned long)disk.sectors);
        return -E_INVAL;
    }
    info->size = disk.sectors * disk.sector_size;
    info->sector_size = disk.sector_size;
    info->max_transfer = AHCI_BOUNCE_SIZE - AHCI_BOUNCE_SIZE % disk.sector_size;
    if (!disk.lba48 && info->max_transfer > 256ull * disk.sector_size)
        info->max_transfer = 256ull * disk.sector_size; /* a 28-bit command's count */
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
    int r = ahci_issue(c);
    uint64_t until = sys_uptime() + COMMAND_TIMEOUT_MS;
    while (r == 0 && (r = ahci_poll()) == 1) {
        uint64_t now = sys_uptime();
        if (now >= until) {
            printf("ahci: command 0x%02x timed out after %d ms\n", c->fis[2], COMMAND_TIMEOUT_MS);
            r = -E_IO;
            break;
        }
        blockdriver_wait(until - now); /* an interrupt (perhaps another device's), or the end */
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
    if (position % ss || len % ss || !len || len > AHCI_BOUNCE_SIZE || lba > disk.sectors ||
        count > disk.sectors - lba || (!disk.lba48 && count > 256))
        return -E_RANGE;
    int64_t r;
    if (write && (r = blockdriver_copy_from(rq, offset, ahci_bounce, len)) < 0)
        return r;
    struct ahci_command c;
    ata_rw(&c, &disk, write, lba, (uint32_t)count);
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
    struct ahci_command c;
    ata_flush(&c, &disk);
    return run(&c);
}

static void interrupt(uint32_t irqs)
{
    (void)irqs;
    ahci_interrupt(); /* the completion itself is seen by run()'s ahci_poll */
    sys_irqctl(IRQ_ACK, ahci_irq);
}

static const struct blockdriver ahci = {
    .name = "ahci",
    .init = init,
    .transfer = transfer,
    .flush = flush,
    .interrupt = interrupt,
};

BLOCKDRIVER_MAIN(ahci);
