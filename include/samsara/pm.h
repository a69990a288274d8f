/*
 * What system servers may ask pm directly (besides the Linux calls that
 * reach it through the kernel). Only rs (ROOT_EP) may use these.
 */
#ifndef SAMSARA_PM_H
#define SAMSARA_PM_H

#include <samsara/msgtypes.h>

/* The PM range of samsara/msgtypes.h.
 *
 * Run a program as a new Linux process with the console as stdin/out/err:
 * w0 grant (read) of its argv as NUL-separated strings, w1 their length.
 * Reply type PM_REPLY, w0 = pid or a negative Linux errno. When it exits,
 * pm notifies the asker, which collects the status with PM_RESULTS. */
#define PM_RUN (PM_RQ_BASE + 0x52)
/* Reply w0 = pid of a finished PM_RUN process (0: none left), w1 = its wait status. */
#define PM_RESULTS (PM_RQ_BASE + 0x53)
#define PM_REPLY (PM_RQ_BASE + 0xff)
_Static_assert(IS_PM_RQ(PM_REPLY), "pm types stay in the PM range");

#endif
