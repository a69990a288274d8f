/* The first musl test program: proves a static musl binary built by
 * mk/userland.mk (build/musl/hello) runs, and prints through stdio. */
#include <stdio.h>

int main(void)
{
    printf("hello from musl\n");
    return 0;
}
