/* C start-up for system programs: learn who we are, run main, exit. */
#include "sys.h"

endpoint_t self_ep;
char self_name[PROC_NAME_LEN];

int main(uint64_t arg);

_Noreturn void sys_exit(int code)
{
    log_flush();
    kcall1(KC_EXIT, (uint64_t)code);
    for (;;)
        __asm__ volatile("ud2"); /* not reached: KC_EXIT does not return */
}

_Noreturn void sys_start(uint64_t arg)
{
    struct proc_info info;
    if (sys_proc_info(SELF, &info) == 0) {
        self_ep = info.ep;
        memcpy(self_name, info.name, PROC_NAME_LEN);
    }
    sys_exit(main(arg));
}
