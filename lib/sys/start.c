/* C start-up for system programs: learn who we are, run main, exit. */
#include "sys.h"

endpoint_t self_ep, parent_ep;

int main(uint64_t arg);

_Noreturn void sys_exit(int code)
{
    log_flush();
    kcall1(KC_EXIT, (uint64_t)code);
    for (;;)
        __asm__ volatile("ud2"); /* not reached: KC_EXIT does not return */
}

/* The kernel starts us with rdi = argument, rsi = our endpoint, rdx = parent. */
_Noreturn void sys_start(uint64_t arg, endpoint_t self, endpoint_t parent)
{
    self_ep = self;
    parent_ep = parent;
    sys_exit(main(arg));
}
