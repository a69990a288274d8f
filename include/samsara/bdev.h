/*
 * Protocol between block-device clients (file servers, through lib/bdev)
 * and block drivers (lib/blockdriver): the BDEV range of samsara/msgtypes.h,
 * bodies in samsara/msg/bdev.h (m.u.bdev.NAME). docs/BLOCK.md explains the
 * design; this is the reference.
 *
 * Synchronous: the client sends each request with a (bounded) sendrec and
 * waits; the driver answers with sendnb (type BDEV_REPLY, result first: a
 * count or 0, or a negative samsara/errno.h code) and never blocks on its
 * client. Data travels through grants the client makes to the driver's
 * endpoint; the driver copies with KC_SAFECOPY_VEC between them and DMA
 * buffers of its own (never DMA into a client's memory).
 *
 * A driver serves one disk; minor 0 is the whole disk, minors 1..4 its MBR
 * primary partitions (BDEV_MINORS). Positions are byte offsets in the
 * minor, multiples of the sector size, as are lengths.
 *
 * Only the labels the driver names as its clients may send requests
 * (E_PERM otherwise, nothing done). Every request but BDEV_OPEN names a
 * minor the sender has open in this driver instance: otherwise E_RESTARTED
 * (the driver restarted since the open, or there was none): the client
 * opens the minor again and reissues the request.
 *
 * BDEV_OPEN      open: minor, access (BDEV_R | BDEV_W). Reply geometry:
 *                the minor's size and sector size. E_NXIO: no such minor
 *                or an empty partition; E_INVAL: bad access bits. Opens
 *                are counted per client and minor.
 * BDEV_CLOSE     minor: one open of the sender's fewer. Reply: 0.
 * BDEV_READ      transfer: device -> client's pieces (write access).
 * BDEV_WRITE     transfer: client's pieces (read access) -> device.
 *                minor, position (bytes), pieces: inline (count <= 3,
 *                vec_grant = -1) or a vector of `count` struct bdev_piece
 *                (count <= BDEV_VEC_MAX) in the client's memory, granted
 *                for reading as vec_grant. Length = the pieces' sum, at
 *                most BDEV_TRANSFER_MAX. Reply: the length (all of it was
 *                moved), or an error: E_INVAL (position or a length not a
 *                multiple of the sector size, bad count, too long, a sum
 *                that overflows), E_RANGE (past the minor's end: nothing
 *                done), E_PERM (write to a minor opened read-only),
 *                E_BADGRANT/E_FAULT/E_RANGE from the copies (a bad grant),
 *                E_IO (the device failed; part of it may have been moved).
 *                A zero length is answered 0.
 * BDEV_FLUSH     minor: the device's volatile cache written to the medium
 *                (for the whole disk). Reply: 0 or E_IO.
 * BDEV_GEOMETRY  minor. Reply geometry (as BDEV_OPEN's).
 * BDEV_DEBUG_HANG  a test of the hang path (docs/BLOCK.md), only from the
 *                client labelled `blocktest` (E_PERM from anyone else,
 *                logged): reply 0, then the driver spins for ever in the
 *                middle of its next transfer of more than one run (after
 *                the first run), answering nothing (rs's heartbeat
 *                replaces it).
 * BDEV_DEBUG_DEAF  likewise blocktest's only: reply 0, then the driver
 *                answers no request of anyone (its heartbeats still) until
 *                it is replaced: lib/bdev's request timeout and complaint.
 */
#ifndef SAMSARA_BDEV_H
#define SAMSARA_BDEV_H

#include <stdint.h>
#include <samsara/msgtypes.h>

#define BDEV_OPEN (BDEV_RQ_BASE + 0x01)
#define BDEV_CLOSE (BDEV_RQ_BASE + 0x02)
#define BDEV_READ (BDEV_RQ_BASE + 0x03)
#define BDEV_WRITE (BDEV_RQ_BASE + 0x04)
#define BDEV_FLUSH (BDEV_RQ_BASE + 0x05)
#define BDEV_GEOMETRY (BDEV_RQ_BASE + 0x06)
#define BDEV_DEBUG_HANG (BDEV_RQ_BASE + 0x07)
#define BDEV_DEBUG_DEAF (BDEV_RQ_BASE + 0x08)
#define BDEV_REPLY (BDEV_RQ_BASE + 0xff)
_Static_assert(IS_BDEV_RQ(BDEV_REPLY), "bdev types stay in the BDEV range");

#define BDEV_MINORS 5                  /* 0: the whole disk; 1..4: MBR primary partitions */
#define BDEV_INLINE_PIECES 3           /* pieces carried in the message itself */
#define BDEV_VEC_MAX 256               /* pieces in a vector (vec_grant) */
#define BDEV_TRANSFER_MAX (1ull << 20) /* bytes in one BDEV_READ or BDEV_WRITE */

/* Access bits of BDEV_OPEN. */
#define BDEV_R 0x1
#define BDEV_W 0x2

/* One piece of a transfer: [offset, offset+len) of the client's grant `grant`. */
struct bdev_piece {
    int32_t grant;
    uint32_t offset;
    uint32_t len;
};

/* The ds key a driver announces its endpoint under: LABEL + this suffix. */
#define BDEV_DS_SUFFIX ".blk"

#endif
