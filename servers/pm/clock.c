/*
 * The time Linux processes are told, and the page they read it from
 * without a system call (samsara/clock.h). The source of time is the TSC,
 * whose rate the kernel measured against the PIT at boot (struct sysinfo):
 * CLOCK_MONOTONIC is the cycles since then in ns, so it keeps true time
 * when clock ticks are lost (the kernel ran long with interrupts off). The
 * tick count stays what the kernel's alarms count in (timers: time.c).
 * CLOCK_REALTIME is the monotonic clock plus an offset: the CMOS RTC read at
 * pm's start, moved by settimeofday and clock_settime (root only).
 *
 * The clock page and the vDSO's pages (lib/vdso, carried in pm's image:
 * vdso_image.S) are pm's own; exec shares them read-only into every Linux
 * process (clock_map: the page at CLOCK_PAGE_ADDR, the vDSO after it, named
 * by AT_SYSINFO_EHDR), fork keeps them shared (the kernel shares
 * PTE_SHARED frames), and pm's writes to realtime_ns are seen at once.
 */
#include <samsara/clock.h>
#include "pm.h"

#define NS_PER_S 1000000000ull
#define VDSO_MAX_PAGES 2

extern const uint8_t vdso_image[], vdso_image_end[];

/* The clock page, then the vDSO's pages: shared into processes whole, so page-aligned. */
static struct {
    union {
        struct clock_page c;
        uint8_t bytes[PAGE];
    } page;
    uint8_t vdso[VDSO_MAX_PAGES * PAGE];
} area __attribute__((aligned(4096)));
static uint64_t vdso_len; /* the vDSO's bytes, in whole pages; 0: no vDSO (too big) */

static volatile struct clock_page *const clock_page = &area.page.c;

uint64_t now_ns(void)
{
    return clock_monotonic_ns(clock_page, clock_tsc());
}

uint64_t realtime_ns(void)
{
    return now_ns() + (uint64_t)clock_page->realtime_ns;
}

/* CLOCK_REALTIME becomes CLOCK_MONOTONIC + off, for the processes and the servers. */
static void set_offset(int64_t off)
{
    clock_page->seq++; /* odd: readers wait */
    __asm__ volatile("" ::: "memory");
    clock_page->realtime_ns = off;
    __asm__ volatile("" ::: "memory");
    clock_page->seq++;
    /* the servers' clock (KC_BOOTTIME, plus the kernel's ms: lib/fsdriver, vfs's mqueue):
     * the offset's whole seconds, rounded down, so that they are late if anything */
    uint64_t boot = off > 0 ? (uint64_t)off / NS_PER_S : 0;
    if (sys_set_boottime(boot) < 0)
        printf("pm: the kernel refused the boot time %lu\n", (unsigned long)boot);
}

/* The real-time clock reads ns from now on (0 <= ns < 2^62: checked by the callers). */
void clock_set_realtime(uint64_t ns)
{
    set_offset((int64_t)ns - (int64_t)now_ns());
}

/* The TSC's rate and origin from the kernel, the vDSO into its pages, the RTC's time. */
void clock_init(void)
{
    struct sysinfo s;
    uint64_t n = (uint64_t)(vdso_image_end - vdso_image);
    if (sys_sysinfo(&s) < 0 || s.tsc_hz < 1000000) {
        printf("pm: no TSC rate from the kernel; the clock assumes 1 GHz\n");
        s.tsc_hz = NS_PER_S, s.tsc_boot = clock_tsc();
    }
    clock_page->tsc_boot = s.tsc_boot;
    clock_page->tsc_hz = s.tsc_hz;
    clock_page->shift = 32;
    clock_page->mult = (NS_PER_S << 32) / s.tsc_hz; /* < 2^62 for rates of 1 MHz and more */
    if (n <= sizeof(area.vdso)) {
        memcpy(area.vdso, vdso_image, n);
        vdso_len = (n + PAGE - 1) & ~(PAGE - 1);
    } else {
        printf("pm: the vDSO (%lu bytes) does not fit its pages; none is mapped\n",
               (unsigned long)n);
    }
    /* the RTC's second began within the second now under way: the offset is whole seconds,
     * as the servers' clock is (set_offset) */
    uint64_t rtc = realtime_base(), up = now_ns() / NS_PER_S;
    set_offset((int64_t)((rtc > up ? rtc - up : 0) * NS_PER_S));
}

/*
 * The clock page and the vDSO into mp, whose exec emptied its address
 * space: the vDSO's address (for AT_SYSINFO_EHDR), or 0 if the program's
 * own segments hold the place or memory is short (musl then makes the
 * system calls).
 */
uint64_t clock_map(struct mproc *mp, uint64_t image_low, uint64_t image_end)
{
    uint64_t end = VDSO_ADDR + vdso_len;
    if (!vdso_len || (image_low < end && image_end > CLOCK_PAGE_ADDR) ||
        region_pages_in(mp, CLOCK_PAGE_ADDR, end, 0) || region_reserve(2) < 0)
        return 0;
    if (sys_mem_share(mp->ep, CLOCK_PAGE_ADDR, PAGE, PROT_R, (uint64_t)area.page.bytes) < 0 ||
        sys_mem_share(mp->ep, VDSO_ADDR, vdso_len, PROT_R | PROT_X, (uint64_t)area.vdso) < 0) {
        sys_mem_unmap(mp->ep, CLOCK_PAGE_ADDR, end - CLOCK_PAGE_ADDR);
        return 0;
    }
    region_add(mp, CLOCK_PAGE_ADDR, VDSO_ADDR,
               &(struct region){.prot = PROT_R, .kind = R_VDSO, .backed = 1});
    region_add(mp, VDSO_ADDR, end,
               &(struct region){.prot = PROT_R | PROT_X, .kind = R_VDSO, .backed = 1});
    return VDSO_ADDR;
}
