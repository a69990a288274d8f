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
 * struct pm_run (samsara/msg/pm.h: the grant of its argv and their length).
 * Reply type PM_REPLY, result = pid or a negative Linux errno. When it exits,
 * pm notifies the asker, which collects the status with PM_RESULTS. */
#define PM_RUN (PM_RQ_BASE + 0x52)
/* Reply struct pm_results_reply: pid of a finished PM_RUN process (0: none left), its status. */
#define PM_RESULTS (PM_RQ_BASE + 0x53)
#define PM_REPLY (PM_RQ_BASE + 0xff)
_Static_assert(IS_PM_RQ(PM_REPLY), "pm types stay in the PM range");

#endif
