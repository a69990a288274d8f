/* temporary: bring the controller up, read sector 0, print it */
#include "ahci.h"

static struct ata_disk disk;

int main(uint64_t arg)
{
    (void)arg;
    int r = ahci_start();
    if (r < 0 || (r = ata_identify(&disk)) < 0) {
        printf("ahci: start failed: %s\n", strerror_s(r));
        return 1;
    }
    printf("ahci: %s, %lu sectors of %u bytes, lba48 %d\n", disk.model, (unsigned long)disk.sectors,
           disk.sector_size, disk.lba48);
    struct ahci_command c;
    ata_rw(&c, &disk, 0, 0, 1);
    r = ahci_run(&c, 5000);
    printf("ahci: read sector 0: %d\n", r);
    for (int i = 0; i < 64; i += 16) {
        printf("ahci: %03x:", i);
        for (int j = 0; j < 16; j++)
            printf(" %02x", ahci_bounce[i + j]);
        printf("\n");
    }
    for (;;) {
        message_t m;
        service_receive(&m);
    }
}
