/*
 * ahci: the driver of an AHCI SATA controller (q35's built-in ICH9 AHCI,
 * 8086:2922, class 01:06:01, at 00:1f.2), internal interface.
 *
 *   QEMU: -drive file=IMG,if=none,id=d0,format=raw -device ide-hd,drive=d0,bus=ide.0
 *         (q35's built-in controller; bus=ide.N is port N, 0..5)
 *   spec: Serial ATA AHCI 1.3 (3 "HBA Memory Registers", 4 "System Memory
 *         Structures", 10 "Software Initialization and Reset"); ATA8-ACS
 *         (IDENTIFY DEVICE, READ/WRITE DMA EXT, FLUSH CACHE EXT).
 *
 * hba.c owns the controller and the port: reset, the DMA areas, one command
 * at a time in slot 0, its completion, error recovery. ata.c (ata.h: pure,
 * tested on the host) builds the ATA commands, reads IDENTIFY and checks
 * runs against the disk. main.c is the block driver on lib/blockdriver.
 */
#ifndef AHCI_H
#define AHCI_H

#include <stdint.h>
#include "sys.h"
#include "ata.h"

/* Generic host control (AHCI 1.3, 3.1). */
#define HBA_CAP 0x00
#define HBA_GHC 0x04
#define HBA_IS 0x08 /* interrupt pending, one bit per port: write 1 to clear */
#define HBA_PI 0x0c /* ports implemented */
#define HBA_VS 0x10
#define HBA_CAP2 0x24
#define HBA_BOHC 0x28                            /* BIOS/OS hand-off */
#define CAP_NCS(cap) ((((cap) >> 8) & 0x1f) + 1) /* command slots */
#define CAP_SSS (1u << 27)                       /* staggered spin-up: PxCMD.SUD is ours */
#define CAP_S64A (1u << 31)                      /* 64-bit addresses */
#define GHC_HR (1u << 0)                         /* HBA reset: self-clearing */
#define GHC_IE (1u << 1)                         /* interrupt enable */
#define GHC_AE (1u << 31)                        /* AHCI enable */
#define CAP2_BOH (1u << 0)                       /* BIOS/OS hand-off supported */
#define BOHC_BOS (1u << 0)                       /* BIOS owns */
#define BOHC_OOS (1u << 1)                       /* OS owns */
#define BOHC_BB (1u << 4)                        /* BIOS busy */

/* Port registers (AHCI 1.3, 3.3): 0x80 bytes each from 0x100. */
#define PORT_BASE(n) (0x100u + 0x80u * (uint32_t)(n))
#define PX_CLB 0x00
#define PX_CLBU 0x04
#define PX_FB 0x08
#define PX_FBU 0x0c
#define PX_IS 0x10
#define PX_IE 0x14
#define PX_CMD 0x18
#define PX_TFD 0x20
#define PX_SIG 0x24
#define PX_SSTS 0x28
#define PX_SCTL 0x2c
#define PX_SERR 0x30
#define PX_SACT 0x34
#define PX_CI 0x38
#define PORTS_MAX 32

#define PXCMD_ST (1u << 0)   /* start: process the command list */
#define PXCMD_SUD (1u << 1)  /* spin-up device */
#define PXCMD_POD (1u << 2)  /* power on device */
#define PXCMD_FRE (1u << 4)  /* FIS receive enable */
#define PXCMD_FR (1u << 14)  /* FIS receive running */
#define PXCMD_CR (1u << 15)  /* command list running */
#define PXIS_DHRS (1u << 0)  /* device-to-host register FIS */
#define PXIS_PSS (1u << 1)   /* PIO setup FIS */
#define PXIS_DSS (1u << 2)   /* DMA setup FIS */
#define PXIS_SDBS (1u << 3)  /* set device bits FIS */
#define PXIS_UFS (1u << 4)   /* unknown FIS */
#define PXIS_DPS (1u << 5)   /* descriptor processed */
#define PXIS_PCS (1u << 6)   /* port connect change */
#define PXIS_PRCS (1u << 22) /* PhyRdy change */
#define PXIS_OFS (1u << 24)  /* overflow */
#define PXIS_INFS (1u << 26) /* interface non-fatal error */
#define PXIS_IFS (1u << 27)  /* interface fatal error */
#define PXIS_HBDS (1u << 28) /* host bus data error */
#define PXIS_HBFS (1u << 29) /* host bus fatal error */
#define PXIS_TFES (1u << 30) /* task file error: the device set ERR */
#define PXIS_ERRORS (PXIS_UFS | PXIS_OFS | PXIS_INFS | PXIS_IFS | PXIS_HBDS | PXIS_HBFS | PXIS_TFES)
#define PXIS_USED (PXIS_DHRS | PXIS_PSS | PXIS_DSS | PXIS_SDBS | PXIS_PCS | PXIS_PRCS | PXIS_ERRORS)
#define TFD_ERR 0x01
#define TFD_DRQ 0x08
#define TFD_BSY 0x80
#define SSTS_DET(v) ((v)&0xf)
#define SSTS_DET_PRESENT 3      /* device present, communication established */
#define SCTL_DET_COMRESET 1     /* hold: the port sends COMRESET */
#define SCTL_IPM_NONE (3u << 8) /* no transitions to partial or slumber */
#define SIG_ATA 0x00000101u     /* a disk (0xeb140101: ATAPI, not ours) */

/* System memory structures (AHCI 1.3, 4.2). */
struct ahci_cmd_header {     /* one of 32 in the command list */
    uint16_t flags;          /* CFL (FIS length in dwords) 4:0, A 5, W 6 (host to device), P 7 */
    uint16_t prdtl;          /* entries in the PRD table */
    volatile uint32_t prdbc; /* bytes transferred, written by the HBA */
    uint64_t ctba;           /* command table, 128-byte aligned */
    uint32_t reserved[4];
};
#define CMDH_CFL_H2D 5 /* a register host-to-device FIS is 5 dwords */
#define CMDH_WRITE (1u << 6)

struct ahci_prd { /* physical region descriptor */
    uint64_t dba; /* data base address, even */
    uint32_t reserved;
    uint32_t dbc; /* byte count - 1 (bit 0 set: even counts), 21:0; bit 31: interrupt */
};
#define PRD_MAX_BYTES (4u << 20)

struct ahci_cmd_table {
    uint8_t cfis[64]; /* the command FIS */
    uint8_t acmd[16]; /* ATAPI command: unused */
    uint8_t reserved[48];
    struct ahci_prd prd[8];
};
#define PRD_ENTRIES 8

/* One ATA command for hba.c to run in slot 0. */
struct ahci_command {
    uint8_t fis[ATA_FIS_LEN]; /* a register host-to-device FIS (ata.c) */
    int write;                /* data from memory to the device */
    uint64_t len;             /* data bytes (in the bounce buffer), 0 for none */
};

/* hba.c */
#define AHCI_BOUNCE_SIZE (256u * 1024) /* the largest transfer one command moves */
extern uint8_t *ahci_bounce;           /* the driver's DMA buffer: all data goes through it */
extern int ahci_irq;
int ahci_start(void); /* the whole reset and bring-up, up to the disk */
int ahci_run(const struct ahci_command *c, uint64_t timeout_ms); /* bounded, polls: 0 or error */
int ahci_issue(const struct ahci_command *c); /* start it (slot 0 must be free) */
int ahci_poll(void);                          /* 1: still running; 0: done; < 0: failed */
void ahci_recover(void);                      /* after an error or a timeout: port restarted */
uint32_t ahci_interrupt(void);                /* acknowledge: the port's interrupt bits */

#endif
