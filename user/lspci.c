/*
 * lspci: the PCI functions the pci server found, one per line, as it lists
 * them in /dev/pci (docs/PCI.md): address, class, vendor:device, IRQ line,
 * the driver that reserved it, and its BARs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char buf[4096];
    ssize_t n;
    int fd = open("/dev/pci", O_RDONLY);
    if (fd < 0) {
        perror("lspci: /dev/pci");
        return 1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (write(1, buf, (size_t)n) != n)
            return 1;
    if (n < 0) {
        perror("lspci: read");
        return 1;
    }
    close(fd);
    return 0;
}
