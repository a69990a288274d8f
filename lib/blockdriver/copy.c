/*
 * libblockdriver's copies between a driver's own buffer and a request's
 * pieces (the client's grants), with KC_SAFECOPY_VEC: bytes [offset,
 * offset+len) of the request, cut where pieces meet, at most
 * SAFECOPY_VEC_MAX kernel pieces per call. A request of the library's own
 * (rq->local: the MBR) is a plain memcpy.
 */
#include "blockdriver.h"

static int64_t copy(uint32_t dir, const struct blockdriver_request *rq, uint64_t offset,
                    uint64_t addr, uint64_t len)
{
    if (offset > rq->len || len > rq->len - offset)
        return -E_RANGE;
    if (rq->local) {
        uint8_t *local = (uint8_t *)rq->local + offset;
        if (dir == GRANT_READ)
            memcpy((void *)addr, local, len);
        else
            memcpy(local, (const void *)addr, len);
        return (int64_t)len;
    }
    struct safecopy_piece v[SAFECOPY_VEC_MAX];
    uint32_t n = 0, p = 0;
    uint64_t skip = offset, done = 0;
    while (p < rq->count && skip >= rq->piece[p].len) /* the piece where offset falls */
        skip -= rq->piece[p++].len;
    for (; done < len && p < rq->count; p++, skip = 0) {
        uint64_t part = rq->piece[p].len - skip;
        if (part > len - done)
            part = len - done;
        if (part == 0)
            continue;
        v[n++] = (struct safecopy_piece){rq->client, rq->piece[p].grant, rq->piece[p].offset + skip,
                                         addr + done, part};
        done += part;
        if (n == SAFECOPY_VEC_MAX || done == len) {
            int64_t r = sys_safecopy_vec(dir, v, n);
            if (r < 0)
                return r;
            n = 0;
        }
    }
    return (int64_t)done;
}

int64_t blockdriver_copy_from(const struct blockdriver_request *rq, uint64_t offset, void *buf,
                              uint64_t len)
{
    return copy(GRANT_READ, rq, offset, (uint64_t)buf, len);
}

int64_t blockdriver_copy_to(const struct blockdriver_request *rq, uint64_t offset, const void *buf,
                            uint64_t len)
{
    return copy(GRANT_WRITE, rq, offset, (uint64_t)buf, len);
}
