/*
 * reboot(2): power off, halt or restart the machine, for root (euid 0).
 * First vfs syncs and unmounts every file system (VFS_PM_SHUTDOWN: each
 * file server writes everything out and stops serving), then pm stops the
 * machine through the chipset, as QEMU's q35 (ICH9) has it:
 *   power off, halt: ACPI sleep type 0 with SLP_EN (0x2000) into PM1a_CNT,
 *     at 0x604 (PMBASE 0x600, which SeaBIOS programs); QEMU then exits
 *     with status 0;
 *   restart: reset control register 0xcf9 <- 0x06 (full reset); with
 *     QEMU's -no-reboot that too ends QEMU.
 * BusyBox's poweroff, halt and reboot signal init (pid 1), which syncs and
 * calls this; with -f they call it themselves: the unmount is done here
 * either way. Linux's magic numbers are checked as Linux does.
 */
#include "pm.h"

#define REBOOT_MAGIC1 0xfee1deadu
#define CMD_RESTART 0x01234567u
#define CMD_HALT 0xcdef0123u
#define CMD_POWER_OFF 0x4321fedcu
#define CMD_CAD_ON 0x89abcdefu /* ctrl-alt-del: no keyboard here, accepted and ignored */
#define CMD_CAD_OFF 0u
#define ICH9_PM1A_CNT 0x604
#define ACPI_SLP_EN 0x2000
#define RESET_CONTROL 0xcf9
#define RESET_FULL 0x06

int64_t do_reboot(struct mproc *mp, const uint64_t *a)
{
    static const uint32_t magic2[] = {672274793u, 85072278u, 369367448u, 537993216u};
    int known = 0;
    for (size_t i = 0; i < sizeof(magic2) / sizeof(magic2[0]); i++)
        known |= (uint32_t)a[1] == magic2[i];
    if ((uint32_t)a[0] != REBOOT_MAGIC1 || !known)
        return -LX_EINVAL;
    if (mp->cred.euid != 0)
        return -LX_EPERM;
    uint32_t cmd = (uint32_t)a[2];
    if (cmd == CMD_CAD_ON || cmd == CMD_CAD_OFF)
        return 0;
    if (cmd != CMD_RESTART && cmd != CMD_HALT && cmd != CMD_POWER_OFF)
        return -LX_EINVAL;
    message_t m = {.type = VFS_PM_SHUTDOWN};
    int64_t r;
    vfs_request(&m, &r);
    printf("pm: %s (file systems unmounted: %s)\n", cmd == CMD_RESTART ? "restart" : "power off",
           r < 0 ? "with errors" : "clean");
    if (cmd == CMD_RESTART)
        sys_ioport(IO_OUT8, RESET_CONTROL, RESET_FULL);
    else
        sys_ioport(IO_OUT16, ICH9_PM1A_CNT, ACPI_SLP_EN);
    printf("pm: the machine did not stop (no ICH9 power management here?)\n");
    return -LX_EIO;
}
