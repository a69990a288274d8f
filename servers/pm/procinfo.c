/*
 * What pm tells vfs for /proc/PID/stat, status and maps (vfs serves /proc,
 * but a process's memory and pm's view of its state are pm's). vfs never
 * asks pm directly (blocking sends go pm -> vfs only): a reader of those
 * files waits in vfs, which queues VFS_SIG_PROCINFO among the signals pm
 * pulls; pm answers each with VFS_PM_PROCINFO, a grant of one struct
 * pm_procinfo (samsara/msg/vfs_pm.h), and vfs runs the reader's call again.
 */
#include "pm.h"

static const uint8_t region_kinds[] = {
    [R_ANON] = PM_REGION_ANON,      [R_SHARED] = PM_REGION_SHARED, [R_BRK] = PM_REGION_HEAP,
    [R_STACK] = PM_REGION_STACK,    [R_IMAGE] = PM_REGION_IMAGE,   [R_FILE] = PM_REGION_ANON,
    [R_FSHARED] = PM_REGION_SHARED,
};

/* mp's state and memory into *out, its regions in address order (as many as fit). */
static void procinfo_fill(const struct mproc *mp, struct pm_procinfo *out)
{
    *out = (struct pm_procinfo){
        .pid = mp->pid,
        .ppid = mp->ppid,
        .threads = 1,
        .state = mp->state == M_ZOMBIE ? 'Z'
                 : mp->stopped         ? 'T'
                 : mp->wait != W_NONE  ? 'S'
                                       : 'R',
        .vm_pages = mp->vm_pages,
        .data_pages = mp->data_pages,
        .brk_start = mp->brk_start,
        .brk = mp->brk,
        .start_tick = mp->start_tick,
        .sig_pending = mp->pending,
        .sig_blocked = mp->sigmask,
    };
    for (int sig = 1; sig < NSIG; sig++) {
        uint64_t h = mp->act[sig].handler, bit = 1ull << (sig - 1);
        out->sig_ignored |= h == SIG_IGN ? bit : 0;
        out->sig_caught |= h != SIG_IGN && h != SIG_DFL ? bit : 0;
    }
    for (const struct region *r = mp->regions.next; r != &mp->regions; r = r->next) {
        uint64_t pages = (r->end - r->start) / PAGE;
        if (r->kind == R_STACK)
            out->stack_pages += pages;
        if (r->kind == R_IMAGE)
            out->image_pages += pages;
        if (out->nregions < PM_PROCINFO_REGIONS) {
            uint64_t dev = 0, ino = 0;
            int file = r->kind == R_FILE || r->kind == R_FSHARED;
            if (file)
                mfile_id(r->file, &dev, &ino);
            out->region[out->nregions] = (struct pm_procinfo_region){
                .start = r->start,
                .end = r->end,
                .off = file ? r->off : 0,
                .ino = ino,
                .dev = (uint32_t)dev,
                .prot = r->prot & (PROT_R | PROT_W | PROT_X),
                .kind = r->kind < sizeof(region_kinds) ? region_kinds[r->kind] : PM_REGION_ANON,
            };
        }
        out->nregions++;
    }
    out->threads = 0; /* its threads that still run (an exited main thread does not) */
    for (const struct mproc *t = group_next(mp, 0); t; t = group_next(mp, t))
        out->threads += t->wait != W_GONE;
    if (!out->threads)
        out->threads = 1;
}

/*
 * VFS_SIG_PROCINFO, pulled from vfs: the process reader (an endpoint, as
 * vfs named it) waits for what pm knows of pid. An unknown pid (it was
 * reaped meanwhile) is answered with no grant; vfs then says ENOENT.
 */
void procinfo_send(int pid, endpoint_t reader)
{
    static struct pm_procinfo info;
    const struct mproc *mp = pid > 0 ? mproc_by_pid(pid) : 0;
    grant_id_t g = -1;
    uint64_t len = 0;
    if (mp) {
        procinfo_fill(mp, &info);
        len = offsetof(struct pm_procinfo, region) +
              (info.nregions < PM_PROCINFO_REGIONS ? info.nregions : PM_PROCINFO_REGIONS) *
                  sizeof(info.region[0]);
        g = grant_alloc(vfs_ep, &info, len, GRANT_READ);
    }
    message_t m = {.type = VFS_PM_PROCINFO,
                   .u.vfs_pm.procinfo = {.reader = reader, .pid = pid, .grant = g, .len = len}};
    if (g < 0)
        m.u.vfs_pm.procinfo.len = 0;
    vfs_request(&m, 0);
    if (g >= 0)
        grant_free(g);
}
