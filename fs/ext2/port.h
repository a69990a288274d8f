/*
 * What the ext2 code needs from its surroundings, on the host (EXT2_HOST:
 * the test program) and in Samsara (lib/sys): memcpy and friends, printf
 * for log lines, and errno values (samsara/linux.h's LX_*, the values the
 * FS protocol answers with).
 */
#ifndef EXT2_PORT_H
#define EXT2_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <samsara/fs.h>
#include <samsara/linux.h>
#ifdef EXT2_HOST
#include <stdio.h>
#include <string.h>
#else
#include "sys.h"
#endif

#endif
