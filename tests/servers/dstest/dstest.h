/* dstest's parts shared between its files (main.c: the table; campaign.c: the kill campaign). */
#ifndef DSTEST_H
#define DSTEST_H

#include <stdint.h>

void sleep_ms(uint64_t ms);
void test_kill_campaign(void);

#endif
