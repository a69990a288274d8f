/*
 * The one reply convention, for every protocol: a reply's type is its
 * protocol's REPLY type (BASE + 0xff, samsara/msgtypes.h), and its first
 * word is the result: 0 or a count on success, a negative error otherwise
 * (Linux errno values for the fs, cdev and vfs_pm protocols; samsara/errno.h
 * values for root, ds and pm). A reply with more to say puts its other
 * fields after `result` in a struct of its own whose first member is
 * `int64_t result`.
 */
#ifndef SAMSARA_MSG_REPLY_H
#define SAMSARA_MSG_REPLY_H

#include <stdint.h>

struct msg_reply {
    int64_t result;
};

/* A message body must fit in the 56 bytes after source and type. */
#define MSG_BODY_FITS(T) _Static_assert(sizeof(T) <= 56, #T " fits in a message body")

#endif
