/*
 * Byte rings inside vfs: a pipe's buffer and a socket's receive queue.
 * Copies go between the ring and a Linux process's memory (copy_in and
 * copy_out, so sendfile's vfs-memory writes work too) or, with no
 * process, vfs's own memory (a datagram's header). A copy does not change
 * the ring: the caller commits what it wrote (ring_commit) or consumes
 * what it read (ring_consume) once the whole transfer stood, so a fault
 * part way loses nothing and a datagram goes in whole or not at all.
 */
#include "vfs.h"

/*
 * Copy len bytes between memory at addr (p's, or vfs's own if p is 0) and
 * the ring: into its free space from `at` bytes past the data's end
 * (into_ring), or out of its data from `at` bytes past the start. The caller
 * keeps at + len within ring_space() or the data. The bytes moved before a
 * fault (len if none).
 */
uint64_t ring_copy(struct ring *r, struct vproc *p, uint64_t at, uint64_t addr, uint64_t len,
                   int into_ring)
{
    uint64_t done = 0, start = r->head + (into_ring ? r->count : 0) + at;
    while (done < len) {
        uint32_t pos = (uint32_t)((start + done) % PIPE_SIZE);
        uint64_t chunk = len - done < PIPE_SIZE - pos ? len - done : PIPE_SIZE - pos;
        int bad = 0;
        if (!p && into_ring)
            memcpy(r->buf + pos, (const void *)(addr + done), chunk);
        else if (!p)
            memcpy((void *)(addr + done), r->buf + pos, chunk);
        else if (into_ring)
            bad = copy_in(p, addr + done, r->buf + pos, chunk) < 0;
        else
            bad = copy_out(p, addr + done, r->buf + pos, chunk) < 0;
        if (bad)
            break;
        done += chunk;
    }
    return done;
}

void ring_commit(struct ring *r, uint64_t n)
{
    keep_log(r, 8); /* head and count: a pipe's, undone after a vfs death (keep.c) */
    r->count += (uint32_t)n;
}

void ring_consume(struct ring *r, uint64_t n)
{
    keep_log(r, 8);
    r->head = (uint32_t)((r->head + n) % PIPE_SIZE);
    r->count -= (uint32_t)n;
}

uint64_t ring_space(const struct ring *r)
{
    return PIPE_SIZE - r->count;
}
