/*
 * A service's manifest: everything rs needs to start it and everything it
 * may touch. One text file per service, beside its source (e.g.
 * drivers/tty/tty.conf); the format is in docs/MANIFESTS.md and the parser
 * in lib/manifest/. All manifests travel to rs in one boot data module.
 */
#ifndef SAMSARA_MANIFEST_H
#define SAMSARA_MANIFEST_H

#include <stdint.h>
#include <samsara/priv.h>

#define MANIFEST_LABEL_MAX 16
#define MANIFEST_ARGS_MAX 64
#define MANIFEST_IPC_MAX 16
#define MANIFEST_PCI_MAX 8
#define MANIFEST_MODULES_MAX 4 /* data modules a service may borrow from rs */
#define MANIFEST_MODULE_MAX 32 /* a module name with its NUL (ROOT_MODULE's field) */
#define MANIFEST_PATH_MAX 64
#define MANIFEST_DEVS_MAX 8  /* device majors a driver serves */
#define MANIFEST_NODES_MAX 8 /* device nodes it names (`node`) */
/* `state SIZE`: at most this much; mapped at MANIFEST_STATE_VADDR in each instance */
#define MANIFEST_STATE_MAX (128ull * 1024 * 1024)
#define MANIFEST_STATE_VADDR 0x0000500000000000ull
#define MANIFEST_LOST_MAX 112 /* `lost`: what stopping it for good loses, with its NUL */

/* `node NAME MAJOR,MINOR MODE [GROUP]`: /dev/NAME, made by vfs (a character device). */
struct manifest_node {
    char name[MANIFEST_LABEL_MAX];
    uint8_t major, minor;
    uint16_t mode; /* permission bits */
    uint32_t gid;  /* its group; the owner is root */
};

/* `pci class CC:SS[:PP]`: every function of that class and subclass (and programming interface). */
struct manifest_pci_class {
    uint8_t base, sub, prog_if;
    uint8_t any_prog_if; /* 1: no PP given, any programming interface */
};

/* The class of a device number a driver serves (`dev CLASS ...`). */
enum manifest_dev_class {
    MANIFEST_DEV_CHAR = 1, /* character devices: vfs's device map */
    MANIFEST_DEV_BLOCK,    /* block devices: parsed now, mapped when block drivers come */
};
#define MANIFEST_IPC_PARENT "parent" /* `ipc parent`: the process that spawned a helper */
#define MANIFEST_IPC_RS "rs"         /* `ipc rs`: rs itself (ROOT_READY, lookups, complaints) */
/* `ipc drivers`: every service whose manifest has a `dev` key (vfs: its device map's drivers) */
#define MANIFEST_IPC_DRIVERS "drivers"

enum manifest_restart {
    RESTART_NEVER,     /* stays down when it fails */
    RESTART_IMMEDIATE, /* started again at once */
    RESTART_BACKOFF,   /* again after 1, 2, 4 ... ms while it keeps failing soon after start */
};

struct manifest {
    char label[MANIFEST_LABEL_MAX];   /* unique name; also the boot module to run */
    char program[MANIFEST_LABEL_MAX]; /* boot module name of the program (default: label) */
    char args[MANIFEST_ARGS_MAX];     /* its argument string */
    int priority;                     /* 0 (highest) .. 7 */
    uint64_t kcalls;                  /* kernel-call mask (KC_BIT) */
    uint32_t flags;                   /* PRIV_IPC_ALL, PRIV_USERS (never PRIV_ROOT) */
    char ipc[MANIFEST_IPC_MAX][MANIFEST_LABEL_MAX]; /* labels it may send to */
    int nr_ipc;
    uint32_t nr_io, nr_mem;
    struct {
        uint32_t base, len;
    } io[PRIV_MAX_IO];
    struct {
        uint64_t base, len;
    } mem[PRIV_MAX_MEM];
    uint32_t irqs; /* bit n: IRQ n */
    struct {
        uint16_t vendor, device;
    } pci[MANIFEST_PCI_MAX]; /* `pci VVVV:DDDD` */
    int nr_pci;
    struct manifest_pci_class pci_class[MANIFEST_PCI_MAX]; /* `pci class CC:SS[:PP]` */
    int nr_pci_class;
    uint64_t max_pages;    /* memory limit in 4 KiB pages */
    uint64_t state_len;    /* `state`: bytes rs keeps across its deaths (0: none) */
    int state_grow;        /* `state SIZE grow`: rs maps it as the service asks (ROOT_STATE_GROW) */
    uint32_t heartbeat_ms; /* 0: no heartbeats */
    enum manifest_restart restart;
    uint32_t restart_limit;         /* restarts before it stays down; 0: no limit */
    uint32_t denial_limit;          /* privilege denials that count as a failure; 0: off */
    int may_manage;                 /* may spawn helpers and send administrator requests */
    char policy[MANIFEST_PATH_MAX]; /* optional policy script (run by the shell) */
    char
        lost[MANIFEST_LOST_MAX]; /* optional: what is lost when it stops for good (restart never) */
    char modules[MANIFEST_MODULES_MAX][MANIFEST_MODULE_MAX]; /* boot data modules it may borrow */
    int nr_modules;
    struct {
        uint8_t dev_class; /* MANIFEST_DEV_* */
        uint8_t major;     /* 1..255; the driver serves all its minors */
        uint8_t terminal;  /* char: its devices are terminals (sessions, ^C to the foreground) */
    } devs[MANIFEST_DEVS_MAX];
    int nr_devs;
    struct manifest_node nodes[MANIFEST_NODES_MAX];
    int nr_nodes;
};

#endif
