/*
 * What system servers may ask pm directly (besides the Linux calls that
 * reach it through the kernel). Only rs (ROOT_EP) may use these.
 */
#ifndef SAMSARA_PM_H
#define SAMSARA_PM_H

/* Run a program as a new Linux process with the console as stdin/out/err:
 * w0 grant (read) of its argv as NUL-separated strings, w1 their length.
 * Reply type PM_REPLY, w0 = pid or a negative Linux errno. When it exits,
 * pm notifies the asker, which collects the status with PM_RESULTS. */
#define PM_RUN 0x5052
/* Reply w0 = pid of a finished PM_RUN process (0: none left), w1 = its wait status. */
#define PM_RESULTS 0x5053
#define PM_REPLY 0x50ff

#endif
