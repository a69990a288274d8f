/*
 * The manifest parser and bundle walker (lib/manifest), and every *.conf in
 * the tree (found from the current directory: run from the repository root,
 * as tools/test.py does). Inputs are copied to buffers of their exact size,
 * so AddressSanitizer catches any read past the end.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <samsara/kcall.h>
#include "../../lib/manifest/manifest.h"
#include "check.h"

#define K(n) KC_BIT(n)
#define BASIC (K(KC_EXIT) | K(KC_UPTIME) | K(KC_TSC) | K(KC_BOOTTIME) | K(KC_LOG))
#define PROCS (K(KC_PROC_INFO) | K(KC_PROC_REAP) | K(KC_PROC_KILL))
#define GRANTS (K(KC_SETGRANT) | K(KC_SAFECOPY_FROM) | K(KC_SAFECOPY_TO) | K(KC_SAFECOPY_VEC))

static struct manifest m;
static char err[256];

/* Parse len bytes from an exactly sized copy. */
static int parse_n(const char *text, size_t len, const char *file)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    memset(err, 'x', sizeof(err));
    int r = manifest_parse(len ? copy : NULL, len, file, &m, err, sizeof(err));
    free(copy);
    return r;
}

static int parse(const char *text)
{
    return parse_n(text, strlen(text), "t.conf");
}

#define OK(text)                                                                                   \
    do {                                                                                           \
        if (parse(text) != 0) {                                                                    \
            printf("  %s:%d: refused: %s\n", __FILE__, __LINE__, err);                             \
            check_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

/* Refused with exactly this message. */
#define ERR(text, msg)                                                                             \
    do {                                                                                           \
        int r_ = parse(text);                                                                      \
        if (r_ != -1 || strcmp(err, msg)) {                                                        \
            printf("  %s:%d: result %d, \"%s\", want \"%s\"\n", __FILE__, __LINE__, r_,            \
                   r_ ? err : "", msg);                                                            \
            check_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

/* Refused at this line, whatever the message. */
#define ERR_AT(text, line)                                                                         \
    do {                                                                                           \
        char want_[32];                                                                            \
        snprintf(want_, sizeof(want_), "t.conf:%d: ", line);                                       \
        int r_ = parse(text);                                                                      \
        if (r_ != -1 || strncmp(err, want_, strlen(want_))) {                                      \
            printf("  %s:%d: result %d, \"%s\", want \"%s...\"\n", __FILE__, __LINE__, r_,         \
                   r_ ? err : "", want_);                                                          \
            check_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

static void defaults(void)
{
    OK("label x\n");
    CHECK(!strcmp(m.label, "x"));
    CHECK(!strcmp(m.program, "x"));
    CHECK(m.args[0] == '\0');
    CHECK(m.priority == 3);
    CHECK(m.kcalls == 0);
    CHECK(m.flags == 0);
    CHECK(m.nr_ipc == 0 && m.nr_io == 0 && m.nr_mem == 0 && m.nr_pci == 0);
    CHECK(m.irqs == 0);
    CHECK(m.max_pages == 16384);
    CHECK(m.heartbeat_ms == 0);
    CHECK(m.restart == RESTART_NEVER);
    CHECK(m.restart_limit == 0 && m.denial_limit == 0);
    CHECK(m.may_manage == 0);
    CHECK(m.policy[0] == '\0');
    OK("label x"); /* no final newline */
    CHECK(!strcmp(m.label, "x"));
}

static void key_label(void)
{
    OK("label abc-def_0123456\n"); /* 15 characters */
    CHECK(!strcmp(m.label, "abc-def_0123456"));
    ERR("label abc-def_01234567\n",
        "t.conf:1: bad label 'abc-def_01234567' for 'label' (1-15 characters from a-z 0-9 _ -)");
    ERR("label Tty\n", "t.conf:1: bad label 'Tty' for 'label' (1-15 characters from a-z 0-9 _ -)");
    /* ds keys ep.LABEL are rs's: a service labelled ep would own them */
    ERR("label ep\n", "t.conf:1: labels 'ep' and 'owner' are reserved (rs's keys in ds)");
    ERR("label owner\n", "t.conf:1: labels 'ep' and 'owner' are reserved (rs's keys in ds)");
    OK("label ep1\n");
    ERR_AT("label a.b\n", 1);
    ERR_AT("label a/b\n", 1);
    ERR_AT("label \xc3\xa9\n", 1);
    ERR("label\n", "t.conf:1: missing value for 'label'");
    ERR("label   \t \n", "t.conf:1: missing value for 'label'");
    ERR("label a b\n", "t.conf:1: extra value 'b' for 'label' (it takes one)");
    ERR("label a\nlabel a\n", "t.conf:2: duplicate key 'label'");
}

/* modules: the boot data modules a service may borrow (rs lends no other). */
static void key_modules(void)
{
    OK("label a\nmodules initramfs.cpio fstest-sample.cpio\nmodules manifests\n");
    CHECK(m.nr_modules == 3 && !strcmp(m.modules[0], "initramfs.cpio") &&
          !strcmp(m.modules[1], "fstest-sample.cpio") && !strcmp(m.modules[2], "manifests"));
    OK("label a\n");
    CHECK(m.nr_modules == 0); /* by default: none */
    ERR("label a\nmodules a b c d e\n", "t.conf:2: too many modules (at most 4)");
    ERR("label a\nmodules a/b\n",
        "t.conf:2: bad module name 'a/b' for 'modules' (1-31 characters from a-z A-Z 0-9 . _ -)");
    ERR_AT("label a\nmodules 0123456789abcdef0123456789abcdef\n", 2); /* 32 characters */
    OK("label a\nmodules 0123456789abcdef0123456789abcde\n");         /* 31 */
    ERR("label a\nmodules\n", "t.conf:2: missing value for 'modules'");
}

static void key_dev(void)
{
    OK("label a\ndev char 4,5 terminal\ndev block 3\ndev char 240 241\n");
    CHECK(m.nr_devs == 5);
    CHECK(m.devs[0].dev_class == MANIFEST_DEV_CHAR && m.devs[0].major == 4 && m.devs[0].terminal);
    CHECK(m.devs[1].dev_class == MANIFEST_DEV_CHAR && m.devs[1].major == 5 && m.devs[1].terminal);
    CHECK(m.devs[2].dev_class == MANIFEST_DEV_BLOCK && m.devs[2].major == 3 && !m.devs[2].terminal);
    CHECK(m.devs[3].major == 240 && m.devs[4].major == 241 && !m.devs[4].terminal);
    OK("label a\ndev char terminal 4\n");
    CHECK(m.nr_devs == 1 && m.devs[0].terminal); /* the word may stand anywhere after the class */
    OK("label a\ndev char 0xff\ndev block 4\n"); /* the classes have majors of their own */
    CHECK(m.nr_devs == 2 && m.devs[0].major == 255);
    OK("label a\n");
    CHECK(m.nr_devs == 0);
    ERR("label a\ndev\n", "t.conf:2: missing value for 'dev'");
    ERR("label a\ndev char\n", "t.conf:2: no major for 'dev'");
    ERR("label a\ndev char terminal\n", "t.conf:2: no major for 'dev'");
    ERR("label a\ndev tty 4\n", "t.conf:2: 'dev' takes char or block, not 'tty'");
    ERR("label a\ndev char 4,\n", "t.conf:2: bad major '4,' for 'dev'");
    ERR("label a\ndev char ,4\n", "t.conf:2: bad major ',4' for 'dev'");
    ERR("label a\ndev char 4-5\n", "t.conf:2: bad major '4-5' for 'dev'");
    ERR("label a\ndev char -1\n", "t.conf:2: bad major '-1' for 'dev'");
    ERR("label a\ndev char 0\n", "t.conf:2: major 0 out of range 1..255");
    ERR("label a\ndev char 256\n", "t.conf:2: major 256 out of range 1..255");
    ERR("label a\ndev char 99999999999999999999\n",
        "t.conf:2: bad major '99999999999999999999' for 'dev'");
    ERR("label a\ndev char 1\n",
        "t.conf:2: char major 1 is vfs's own (1: null, zero; 10: service)");
    ERR("label a\ndev char 4,10\n",
        "t.conf:2: char major 10 is vfs's own (1: null, zero; 10: service)");
    OK("label a\ndev block 1,10\n"); /* only the char majors are vfs's */
    ERR("label a\ndev char 4,4\n", "t.conf:2: major 4 listed twice");
    ERR("label a\ndev char 4\ndev char 5 4\n", "t.conf:3: major 4 listed twice");
    ERR("label a\ndev block 4 terminal\n", "t.conf:2: 'terminal' is for char devices only");
    ERR("label a\ndev char 2,3,4,5,6,7,7\n", "t.conf:2: major 7 listed twice");
    ERR("label a\ndev char 2,3,4,5,6,7,8,9,11\n", "t.conf:2: too many device majors (at most 8)");
}

static void key_node(void)
{
    OK("label a\ndev char 4,5\nnode console 5,1 0620 5\nnode ttyS0 4,64 600\n");
    CHECK(m.nr_nodes == 2 && !strcmp(m.nodes[0].name, "console") && m.nodes[0].major == 5 &&
          m.nodes[0].minor == 1 && m.nodes[0].mode == 0620 && m.nodes[0].gid == 5);
    CHECK(!strcmp(m.nodes[1].name, "ttyS0") && m.nodes[1].minor == 64 && m.nodes[1].mode == 0600 &&
          m.nodes[1].gid == 0);
    OK("label a\ndev char 240\nnode a.b-c_D 240,255 0 65535\n");
    CHECK(m.nodes[0].minor == 255 && m.nodes[0].mode == 0 && m.nodes[0].gid == 65535);
    ERR("label a\nnode x 4,0 600\n",
        "t.conf:2: node 'x': major 4 is not one of this manifest's 'dev char' majors");
    ERR("label a\ndev block 4\nnode x 4,0 600\n",
        "t.conf:3: node 'x': major 4 is not one of this manifest's 'dev char' majors");
    ERR("label a\nnode x 4,0 600\ndev char 4\n", /* the dev line comes first */
        "t.conf:2: node 'x': major 4 is not one of this manifest's 'dev char' majors");
    ERR("label a\ndev char 4\nnode x 4,0\n",
        "t.conf:3: 'node' takes NAME MAJOR,MINOR MODE [GROUP]");
    ERR("label a\ndev char 4\nnode ../x 4,0 600\n",
        "t.conf:3: bad node name '../x' (1-15 characters from A-Z a-z 0-9 _ - ., not starting with "
        ".)");
    ERR("label a\ndev char 4\nnode .x 4,0 600\n", "t.conf:3: bad node name '.x' (1-15 characters "
                                                  "from A-Z a-z 0-9 _ - ., not starting with .)");
    ERR("label a\ndev char 4\nnode 0123456789abcdef 4,0 600\n",
        "t.conf:3: bad node name '0123456789abcdef' (1-15 characters from A-Z a-z 0-9 _ - ., not "
        "starting with .)");
    ERR("label a\ndev char 4\nnode x 4 600\n",
        "t.conf:3: bad device number '4' for 'node' (MAJOR,MINOR)");
    ERR("label a\ndev char 4\nnode x 4,256 600\n",
        "t.conf:3: bad device number '4,256' for 'node' (MAJOR,MINOR)");
    ERR("label a\ndev char 4\nnode x 4,-1 600\n",
        "t.conf:3: bad device number '4,-1' for 'node' (MAJOR,MINOR)");
    ERR("label a\ndev char 4\nnode x 4,0 1000\n",
        "t.conf:3: bad mode '1000' for 'node' (octal, at most 0777)");
    ERR("label a\ndev char 4\nnode x 4,0 0648\n",
        "t.conf:3: bad mode '0648' for 'node' (octal, at most 0777)");
    ERR("label a\ndev char 4\nnode x 4,0 600 65536\n",
        "t.conf:3: bad group '65536' for 'node' (one number, 0..65535)");
    ERR("label a\ndev char 4\nnode x 4,0 600 5 6\n",
        "t.conf:3: bad group '6' for 'node' (one number, 0..65535)");
    ERR("label a\ndev char 4\nnode x 4,0 600\nnode x 4,1 600\n", "t.conf:4: node 'x' listed twice");
    ERR("label a\ndev char 4\nnode a 4,0 0\nnode b 4,0 0\nnode c 4,0 0\nnode d 4,0 0\nnode e 4,0 "
        "0\n"
        "node f 4,0 0\nnode g 4,0 0\nnode h 4,0 0\nnode i 4,0 0\n",
        "t.conf:11: too many nodes (at most 8)");
}

static void key_program(void)
{
    OK("label a\nprogram ktest\n");
    CHECK(!strcmp(m.label, "a") && !strcmp(m.program, "ktest"));
    OK("program ktest\nlabel a\n"); /* order does not matter */
    CHECK(!strcmp(m.program, "ktest"));
    ERR_AT("label a\nprogram K\n", 2);
    ERR("label a\nprogram\n", "t.conf:2: missing value for 'program'");
    ERR("label a\nprogram b\nprogram c\n", "t.conf:3: duplicate key 'program'");
}

static void key_args(void)
{
    OK("label a\nargs  /sbin/init  -v\t x  \n");
    CHECK(!strcmp(m.args, "/sbin/init  -v\t x"));
    OK("label a\nargs h:echo:1 # a comment\n");
    CHECK(!strcmp(m.args, "h:echo:1"));
    OK("label a\nargs 012345678901234567890123456789012345678901234567890123456789012\n");
    CHECK(strlen(m.args) == 63);
    ERR("label a\nargs 0123456789012345678901234567890123456789012345678901234567890123\n",
        "t.conf:2: 'args' too long (64 characters, at most 63)");
    ERR("label a\nargs\n", "t.conf:2: missing value for 'args'");
    ERR("label a\nargs # only a comment\n", "t.conf:2: missing value for 'args'");
    ERR("label a\nargs x\nargs y\n", "t.conf:3: duplicate key 'args'");
}

/*
 * A key that takes one number 0..max into an int or uint32_t field at offset in struct manifest:
 * both ends, a hex value, and each way to get it wrong.
 */
static void number_key(const char *key, uint64_t max, size_t offset)
{
    char text[160], want[200];
    const uint64_t values[] = {0, max, max / 2};
    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), i < 2 ? "label a\n%s %llu\n" : "label a\n%s 0x%llx\n", key,
                 (unsigned long long)values[i]);
        uint32_t v;
        OK(text);
        memcpy(&v, (const char *)&m + offset, sizeof(v));
        CHECK(v == values[i]);
    }
    snprintf(text, sizeof(text), "label a\n%s %llu\n", key, (unsigned long long)max + 1);
    snprintf(want, sizeof(want), "t.conf:2: %s %llu out of range 0..%llu", key,
             (unsigned long long)max + 1, (unsigned long long)max);
    ERR(text, want);
    snprintf(text, sizeof(text), "label a\n%s -1\n", key);
    snprintf(want, sizeof(want), "t.conf:2: bad number '-1' for '%s'", key);
    ERR(text, want);
    snprintf(text, sizeof(text), "label a\n%s 2 3\n", key);
    snprintf(want, sizeof(want), "t.conf:2: extra value '3' for '%s' (it takes one)", key);
    ERR(text, want);
    snprintf(text, sizeof(text), "label a\n%s\n", key);
    snprintf(want, sizeof(want), "t.conf:2: missing value for '%s'", key);
    ERR(text, want);
    snprintf(text, sizeof(text), "label a\n%s 1\n%s 1\n", key, key);
    snprintf(want, sizeof(want), "t.conf:3: duplicate key '%s'", key);
    ERR(text, want);
}

static void key_priority(void)
{
    _Static_assert(sizeof(m.priority) == 4, "number_key reads 4 bytes");
    number_key("priority", 7, offsetof(struct manifest, priority));
    ERR("label a\npriority 12abc\n", "t.conf:2: bad number '12abc' for 'priority'");
}

static void numbers(void)
{
    static const char *bad[] = {"",
                                "x",
                                "0x",
                                "0X",
                                "12abc",
                                "1.5",
                                "+1",
                                "-0",
                                "0x1g",
                                "1e3",
                                "18446744073709551616",
                                "99999999999999999999999",
                                "0x10000000000000000",
                                "0xffffffffffffffffff",
                                "1_000",
                                "0b1"};
    char text[128];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "label a\nrestart_limit %s\n", bad[i]);
        if (!bad[i][0])
            ERR(text, "t.conf:2: missing value for 'restart_limit'");
        else
            ERR_AT(text, 2);
        if (bad[i][0] && !strstr(err, "bad number")) {
            printf("  \"%s\": %s\n", bad[i], err);
            check_failed = 1;
        }
    }
    OK("label a\nrestart_limit 4294967295\n");
    CHECK(m.restart_limit == 4294967295u);
    OK("label a\nrestart_limit 0xFFFFffff\n");
    CHECK(m.restart_limit == 4294967295u);
    OK("label a\nrestart_limit 007\n"); /* decimal, not octal */
    CHECK(m.restart_limit == 7);
    ERR("label a\nrestart_limit 4294967296\n",
        "t.conf:2: restart_limit 4294967296 out of range 0..4294967295");
    ERR("label a\nrestart_limit 18446744073709551615\n",
        "t.conf:2: restart_limit 18446744073709551615 out of range 0..4294967295");
}

static void key_kcalls(void)
{
    char text[128];
    for (int n = KC_LOG; n < NR_KCALLS; n++) {
        if (KC_BIT(n) & KC_IPC_MASK) /* KC_REPLY_RECEIVE: an IPC operation */
            continue;
        const char *name = manifest_kcall_name(n);
        CHECK(name != NULL);
        if (!name)
            continue;
        snprintf(text, sizeof(text), "label a\nkcalls %s\n", name);
        if (n == KC_PRIV_SET || n == KC_LINUX_SERVERS || n == KC_PRIV_IPC) {
            ERR_AT(text, 2);
            CHECK(strstr(err, "root's alone") != NULL);
        } else {
            OK(text);
            CHECK(m.kcalls == K(n));
        }
    }
    CHECK(manifest_kcall_name(-1) == NULL && manifest_kcall_name(NR_KCALLS) == NULL);
    CHECK(!strcmp(manifest_kcall_name(KC_SAFECOPY_FROM), "safecopy_from"));
    CHECK(!strcmp(manifest_kcall_name(KC_MEM_PROTECT), "mem_protect"));
    OK("label a\nkcalls basic\n");
    CHECK(m.kcalls == BASIC);
    OK("label a\nkcalls grants\n");
    CHECK(m.kcalls == GRANTS);
    OK("label a\nkcalls basic log exit\nkcalls grants\n\nkcalls alarm ioport alarm\n");
    CHECK(m.kcalls == (BASIC | GRANTS | K(KC_ALARM) | K(KC_IOPORT)));
    ERR("label a\nkcalls priv_set\n",
        "t.conf:2: kernel call 'priv_set' is root's alone and cannot be granted");
    ERR("label a\nkcalls log linux_servers\n",
        "t.conf:2: kernel call 'linux_servers' is root's alone and cannot be granted");
    ERR("label a\nkcalls sendrec\n",
        "t.conf:2: 'sendrec' is an IPC operation, not a kernel call (see 'ipc')");
    ERR_AT("label a\nkcalls send\n", 2);
    ERR_AT("label a\nkcalls receive\n", 2);
    ERR_AT("label a\nkcalls notify\n", 2);
    ERR_AT("label a\nkcalls sendnb\n", 2);
    ERR("label a\nkcalls log foo\n", "t.conf:2: unknown kernel call 'foo'");
    ERR("label a\nkcalls LOG\n", "t.conf:2: unknown kernel call 'LOG'");
    ERR("label a\nkcalls KC_LOG\n", "t.conf:2: unknown kernel call 'KC_LOG'");
    ERR("label a\nkcalls lo\n", "t.conf:2: unknown kernel call 'lo'");
    ERR("label a\nkcalls logs\n", "t.conf:2: unknown kernel call 'logs'");
    ERR("label a\nkcalls\n", "t.conf:2: missing value for 'kcalls'");
}

static void key_ipc(void)
{
    OK("label a\nipc all\n");
    CHECK(m.flags == PRIV_IPC_ALL && m.nr_ipc == 0);
    OK("label a\nipc vfs tty\nipc pm vfs\n"); /* accumulates, a repeat counts once */
    CHECK(m.flags == 0 && m.nr_ipc == 3);
    CHECK(!strcmp(m.ipc[0], "vfs") && !strcmp(m.ipc[1], "tty") && !strcmp(m.ipc[2], "pm"));
    OK("label a\nipc a0 a1 a2 a3 a4 a5 a6 a7\nipc a8 a9 a10 a11 a12 a13 a14 a15 a0\n");
    CHECK(m.nr_ipc == MANIFEST_IPC_MAX && !strcmp(m.ipc[15], "a15"));
    ERR("label a\nipc a0 a1 a2 a3 a4 a5 a6 a7\nipc a8 a9 a10 a11 a12 a13 a14 a15 a16\n",
        "t.conf:3: too many ipc labels (at most 16)");
    ERR("label a\nipc all tty\n", "t.conf:2: 'ipc all' takes no labels");
    /* on lines of their own, both: reach everyone, depend on the labels named */
    OK("label a\nipc all\nipc demo ds\n");
    CHECK(m.flags == PRIV_IPC_ALL && m.nr_ipc == 2 && !strcmp(m.ipc[1], "ds"));
    ERR("label a\nipc tty all\n", "t.conf:2: 'ipc all' takes no labels");
    ERR("label a\nipc Tty\n",
        "t.conf:2: bad label 'Tty' for 'ipc' (1-15 characters from a-z 0-9 _ -)");
    ERR("label a\nipc\n", "t.conf:2: missing value for 'ipc'");
    /* parent, rs and drivers are words of the ipc list, never a service's label */
    OK("label a\nipc rs parent vfs drivers\n");
    CHECK(m.flags == 0 && m.nr_ipc == 4 && !strcmp(m.ipc[0], "rs") && !strcmp(m.ipc[1], "parent") &&
          !strcmp(m.ipc[3], "drivers"));
    ERR("label parent\n",
        "t.conf:1: label 'parent' is reserved ('ipc parent', 'ipc rs', 'ipc drivers')");
    ERR("label rs\n", "t.conf:1: label 'rs' is reserved ('ipc parent', 'ipc rs', 'ipc drivers')");
    ERR("label drivers\n",
        "t.conf:1: label 'drivers' is reserved ('ipc parent', 'ipc rs', 'ipc drivers')");
}

static void key_users(void)
{
    OK("label a\nusers yes\n");
    CHECK(m.flags == PRIV_USERS);
    OK("label a\nusers no\n");
    CHECK(m.flags == 0);
    OK("label a\nipc all\nusers yes\n");
    CHECK(m.flags == (PRIV_IPC_ALL | PRIV_USERS));
    CHECK(!(m.flags & PRIV_ROOT));
    ERR("label a\nusers maybe\n", "t.conf:2: 'users' takes yes or no, not 'maybe'");
    ERR("label a\nusers YES\n", "t.conf:2: 'users' takes yes or no, not 'YES'");
    ERR("label a\nusers yes\nusers yes\n", "t.conf:3: duplicate key 'users'");
}

/* text is accepted, and its ranges of `field` (io or mem) are exactly these {base, len}. */
#define RANGES(text, field, ...)                                                                   \
    do {                                                                                           \
        static const uint64_t want_[][2] = {__VA_ARGS__};                                          \
        const uint32_t n_ = sizeof(want_) / sizeof(want_[0]);                                      \
        OK(text);                                                                                  \
        CHECK(m.nr_##field == n_);                                                                 \
        for (uint32_t i_ = 0; i_ < n_ && i_ < m.nr_##field; i_++)                                  \
            CHECK(m.field[i_].base == want_[i_][0] && m.field[i_].len == want_[i_][1]);            \
    } while (0)

static void key_io(void)
{
    RANGES("label a\nio 0x3f8-0x3ff\n", io, {0x3f8, 8});
    RANGES("label a\nio 0x501\n", io, {0x501, 1});
    RANGES("label a\nio 112-113 0x60\nio 0-0xffff\n", io, {0x70, 2}, {0x60, 1}, {0, 0x10000});
    RANGES("label a\nio 0xffff\n", io, {0xffff, 1});
    RANGES("label a\nio 1 2 3 4\nio 5 6 7 8\n", io, {1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 1},
           {7, 1}, {8, 1});
    ERR("label a\nio 1 2 3 4\nio 5 6 7 8\nio 9\n", "t.conf:4: too many io ranges (at most 8)");
    ERR("label a\nio 0x10000\n", "t.conf:2: port 0x10000 out of range 0..0xffff");
    ERR("label a\nio 0xfff0-0x10000\n", "t.conf:2: port 0x10000 out of range 0..0xffff");
    ERR("label a\nio 0x3ff-0x3f8\n",
        "t.conf:2: bad range '0x3ff-0x3f8' for 'io': end before start");
    ERR("label a\nio 0x3f8-\n", "t.conf:2: bad range '0x3f8-' for 'io'");
    ERR("label a\nio -5\n", "t.conf:2: bad range '-5' for 'io'");
    ERR("label a\nio 1-2-3\n", "t.conf:2: bad range '1-2-3' for 'io'");
    ERR("label a\nio com1\n", "t.conf:2: bad range 'com1' for 'io'");
    ERR("label a\nio 0x3f8 - 0x3ff\n", "t.conf:2: bad range '-' for 'io'");
    ERR("label a\nio\n", "t.conf:2: missing value for 'io'");
}

static void key_irq(void)
{
    OK("label a\nirq 4\n");
    CHECK(m.irqs == 1u << 4);
    OK("label a\nirq 1 3 15\nirq 8 8\n");
    CHECK(m.irqs == ((1u << 1) | (1u << 3) | (1u << 15) | (1u << 8)));
    ERR("label a\nirq 0\n", "t.conf:2: irq 0 belongs to the kernel (0: timer, 2: cascade)");
    ERR("label a\nirq 4 2\n", "t.conf:2: irq 2 belongs to the kernel (0: timer, 2: cascade)");
    ERR("label a\nirq 16\n", "t.conf:2: irq 16 out of range 0..15");
    ERR("label a\nirq four\n", "t.conf:2: bad number 'four' for 'irq'");
    ERR("label a\nirq\n", "t.conf:2: missing value for 'irq'");
}

static void key_mem(void)
{
    RANGES("label a\nmem 0xfee00000-0xfee00fff\n", mem, {0xfee00000, 4096});
    RANGES("label a\nmem 0-0xfff 0x100000000-0x1ffffffff\n", mem, {0, 4096},
           {0x100000000ull, 0x100000000ull});
    OK("label a\nmem 0-0xfff 0-0xfff 0-0xfff 0-0xfff\nmem 0-0xfff 0-0xfff 0-0xfff 0-0xfff\n");
    CHECK(m.nr_mem == PRIV_MAX_MEM);
    ERR("label a\nmem 0-0xfff 0-0xfff 0-0xfff 0-0xfff\nmem 0-0xfff 0-0xfff 0-0xfff 0-0xfff\n"
        "mem 0-0xfff\n",
        "t.conf:4: too many mem ranges (at most 8)");
    ERR("label a\nmem 0xfee00001-0xfee00fff\n",
        "t.conf:2: mem '0xfee00001-0xfee00fff' not page aligned (START and END+1 must be)");
    ERR("label a\nmem 0xfee00000-0xfee01000\n",
        "t.conf:2: mem '0xfee00000-0xfee01000' not page aligned (START and END+1 must be)");
    ERR("label a\nmem 0xfee00000\n", "t.conf:2: bad range '0xfee00000' for 'mem' (want START-END)");
    ERR("label a\nmem 0x2000-0xfff\n",
        "t.conf:2: bad range '0x2000-0xfff' for 'mem': end before start");
    ERR("label a\nmem 0-0xffffffffffffffff\n",
        "t.conf:2: mem '0-0xffffffffffffffff' beyond the physical address space");
    ERR("label a\nmem\n", "t.conf:2: missing value for 'mem'");
}

static void key_pci(void)
{
    OK("label a\npci 8086:100e 10ec:8139\npci 1af4:1000\n");
    CHECK(m.nr_pci == 3);
    CHECK(m.pci[0].vendor == 0x8086 && m.pci[0].device == 0x100e);
    CHECK(m.pci[1].vendor == 0x10ec && m.pci[1].device == 0x8139);
    CHECK(m.pci[2].vendor == 0x1af4 && m.pci[2].device == 0x1000);
    OK("label a\npci FFFF:0\n");
    CHECK(m.pci[0].vendor == 0xffff && m.pci[0].device == 0);
    OK("label a\npci 1:1 1:2 1:3 1:4 1:5 1:6 1:7 1:8\n");
    CHECK(m.nr_pci == MANIFEST_PCI_MAX);
    ERR("label a\npci 1:1 1:2 1:3 1:4 1:5 1:6 1:7 1:8 1:9\n",
        "t.conf:2: too many pci ids (at most 8)");
    ERR("label a\npci 8086\n", "t.conf:2: bad PCI id '8086' (want VVVV:DDDD in hex)");
    ERR_AT("label a\npci 18086:100e\n", 2);
    ERR_AT("label a\npci 8086:\n", 2);
    ERR_AT("label a\npci :100e\n", 2);
    ERR_AT("label a\npci 0x8086:0x100e\n", 2);
    ERR_AT("label a\npci 8086:100g\n", 2);
    ERR_AT("label a\npci 8086:100e:1\n", 2);
    ERR("label a\npci\n", "t.conf:2: missing value for 'pci'");
    CHECK(m.nr_pci_class == 0);
}

/* `pci class CC:SS[:PP]`: class codes, beside the ids. */
static void key_pci_class(void)
{
    OK("label a\npci class 02:00 01:06:01\npci 8086:100e\npci class ff:FF\n");
    CHECK(m.nr_pci_class == 3 && m.nr_pci == 1);
    CHECK(m.pci_class[0].base == 2 && m.pci_class[0].sub == 0 && m.pci_class[0].any_prog_if);
    CHECK(m.pci_class[1].base == 1 && m.pci_class[1].sub == 6 && m.pci_class[1].prog_if == 1 &&
          !m.pci_class[1].any_prog_if);
    CHECK(m.pci_class[2].base == 0xff && m.pci_class[2].sub == 0xff);
    OK("label a\npci class 01:01 01:02 01:03 01:04 01:05 01:06 01:07 01:08\npci 1:1\n");
    CHECK(m.nr_pci_class == MANIFEST_PCI_MAX && m.nr_pci == 1);
    ERR("label a\npci class 01:01 01:02 01:03 01:04 01:05 01:06 01:07 01:08 01:09\n",
        "t.conf:2: too many pci classes (at most 8)");
    ERR("label a\npci class\n", "t.conf:2: missing value for 'pci class'");
    ERR("label a\npci class 2:00\n",
        "t.conf:2: bad PCI class '2:00' (want CC:SS or CC:SS:PP in hex)");
    ERR_AT("label a\npci class 02\n", 2);
    ERR_AT("label a\npci class 02:\n", 2);
    ERR_AT("label a\npci class 02:00:\n", 2);
    ERR_AT("label a\npci class 02:00:00:00\n", 2);
    ERR_AT("label a\npci class 02:0g\n", 2);
    ERR_AT("label a\npci class 002:00\n", 2);
    ERR_AT("label a\npci class 8086:100e\n", 2); /* ids and classes do not mix on one line */
    ERR_AT("label a\npci 8086:100e class 02:00\n", 2);
}

static void key_memory(void)
{
    OK("label a\nmemory 64M\n");
    CHECK(m.max_pages == 16384);
    OK("label a\nmemory 4K\n");
    CHECK(m.max_pages == 1);
    OK("label a\nmemory 8192\n");
    CHECK(m.max_pages == 2);
    OK("label a\nmemory 1024M\n");
    CHECK(m.max_pages == 262144);
    OK("label a\nmemory 0x10000\n");
    CHECK(m.max_pages == 16);
    ERR("label a\nmemory 1000\n", "t.conf:2: memory '1000' is not a positive multiple of 4K");
    ERR("label a\nmemory 6K\n", "t.conf:2: memory '6K' is not a positive multiple of 4K");
    ERR("label a\nmemory 0\n", "t.conf:2: memory '0' is not a positive multiple of 4K");
    ERR("label a\nmemory 0M\n", "t.conf:2: memory '0M' is not a positive multiple of 4K");
    ERR("label a\nmemory 64m\n", "t.conf:2: bad size '64m' for 'memory' (a number, then K or M)");
    ERR("label a\nmemory 64G\n", "t.conf:2: bad size '64G' for 'memory' (a number, then K or M)");
    ERR("label a\nmemory M\n", "t.conf:2: bad size 'M' for 'memory' (a number, then K or M)");
    ERR("label a\nmemory 64MM\n", "t.conf:2: bad size '64MM' for 'memory' (a number, then K or M)");
    ERR("label a\nmemory 64 M\n", "t.conf:2: extra value 'M' for 'memory' (it takes one)");
    ERR("label a\nmemory 17592186044416M\n", "t.conf:2: memory '17592186044416M' out of range");
    ERR("label a\nmemory 64M\nmemory 64M\n", "t.conf:3: duplicate key 'memory'");
}

static void key_state(void)
{
    OK("label a\n");
    CHECK(m.state_len == 0);
    OK("label a\nstate 320K\n");
    CHECK(m.state_len == 320 * 1024 && !m.state_grow);
    OK("label a\nstate 1M\n");
    OK("label a\nstate 128M\n");
    CHECK(m.state_len == MANIFEST_STATE_MAX);
    ERR("label a\nstate 131076K\n", "t.conf:2: state 134221824 bytes is more than 134217728");
    ERR("label a\nstate 6K\n", "t.conf:2: state '6K' is not a positive multiple of 4K");
    ERR("label a\nstate 0\n", "t.conf:2: state '0' is not a positive multiple of 4K");
    OK("label a\nstate 64M grow\n");
    CHECK(m.state_len == 64ull << 20 && m.state_grow);
    ERR("label a\nstate 64M big\n", "t.conf:2: 'state' takes a size and maybe 'grow', not 'big'");
    ERR("label a\nstate 64M grow now\n", "t.conf:2: extra value 'now' for 'state'");
    ERR("label a\nstate 129M grow\n", "t.conf:2: state 135266304 bytes is more than 134217728");
    ERR("label a\nstate 64m\n", "t.conf:2: bad size '64m' for 'state' (a number, then K or M)");
    ERR("label a\nstate 4K\nstate 4K\n", "t.conf:3: duplicate key 'state'");
}

static void key_heartbeat(void)
{
    number_key("heartbeat", 60000, offsetof(struct manifest, heartbeat_ms));
    ERR("label a\nheartbeat 1s\n", "t.conf:2: bad number '1s' for 'heartbeat'");
}

static void key_restart(void)
{
    OK("label a\nrestart never\n");
    CHECK(m.restart == RESTART_NEVER);
    OK("label a\nrestart immediate\n");
    CHECK(m.restart == RESTART_IMMEDIATE);
    OK("label a\nrestart backoff\n");
    CHECK(m.restart == RESTART_BACKOFF);
    ERR("label a\nrestart always\n",
        "t.conf:2: 'restart' takes never, immediate or backoff, not 'always'");
    ERR("label a\nrestart\n", "t.conf:2: missing value for 'restart'");
    ERR("label a\nrestart never\nrestart backoff\n", "t.conf:3: duplicate key 'restart'");
    OK("label a\nrestart_limit 5000\ndenial_limit 8\n");
    CHECK(m.restart_limit == 5000 && m.denial_limit == 8);
    number_key("restart_limit", UINT32_MAX, offsetof(struct manifest, restart_limit));
    number_key("denial_limit", UINT32_MAX, offsetof(struct manifest, denial_limit));
}

static void key_manage_policy(void)
{
    OK("label a\nmanage yes\n");
    CHECK(m.may_manage == 1);
    OK("label a\nmanage no\n");
    CHECK(m.may_manage == 0);
    ERR("label a\nmanage 1\n", "t.conf:2: 'manage' takes yes or no, not '1'");
    OK("label a\npolicy /etc/rs/tty.sh\n");
    CHECK(!strcmp(m.policy, "/etc/rs/tty.sh"));
    char text[128] = "label a\npolicy /";
    memset(text + strlen(text), 'p', 62);
    strcat(text, "\n"); /* 63 characters */
    OK(text);
    CHECK(strlen(m.policy) == 63 && m.policy[0] == '/' && m.policy[62] == 'p');
    strcpy(text + strlen(text) - 1, "p\n");
    ERR(text, "t.conf:2: 'policy' too long (64 characters, at most 63)");
    ERR("label a\npolicy etc/rs/tty.sh\n",
        "t.conf:2: 'policy' must be an absolute path, not 'etc/rs/tty.sh'");
    ERR("label a\npolicy /a b\n", "t.conf:2: extra value 'b' for 'policy' (it takes one)");
}

/* `lost`: free text to the end of the line (a comment cut off), for rs's refusals */
static void key_lost(void)
{
    OK("label a\n");
    CHECK(m.lost[0] == '\0');
    OK("label a\nlost  every file in /,  and more \t# not this\n");
    CHECK(!strcmp(m.lost, "every file in /,  and more"));
    char text[160] = "label a\nlost ";
    memset(text + strlen(text), 'x', MANIFEST_LOST_MAX - 1);
    strcat(text, "\n");
    OK(text);
    CHECK(strlen(m.lost) == MANIFEST_LOST_MAX - 1);
    strcpy(text + strlen(text) - 1, "x\n");
    ERR(text, "t.conf:2: 'lost' too long (112 characters, at most 111)");
    ERR("label a\nlost\n", "t.conf:2: missing value for 'lost'");
    ERR("label a\nlost a\nlost b\n", "t.conf:3: duplicate key 'lost'");
}

static void layout(void)
{
    /* comments, blank lines, indentation, tabs, CRLF */
    OK("# a comment\n\n   \n\t\n  label\ttty   # trailing comment\r\n"
       "priority 1\r\n\r\n#priority 5\r\nkcalls log#exit\r\n");
    CHECK(!strcmp(m.label, "tty") && m.priority == 1 && m.kcalls == K(KC_LOG));
    OK("label x\r\nargs a b \r\n");
    CHECK(!strcmp(m.args, "a b"));
    OK("label x\n# \x01 control characters are fine in comments \x7f\n");
    ERR("label#x\n", "t.conf:1: missing value for 'label'");
    ERR("label a\nirqq 4\n", "t.conf:2: unknown key 'irqq'");
    ERR("label a\nLabel b\n", "t.conf:2: unknown key 'Label'");
    ERR("label a\nio\x01 1\n", "t.conf:2: control character 0x1");
    ERR("label a\x7f\n", "t.conf:1: control character 0x7f");
    ERR("label a\nx\x0b\n", "t.conf:2: control character 0xb");
    static const char nul[] = "label a\nargs x\0y\n";
    CHECK(parse_n(nul, sizeof(nul) - 1, "t.conf") == -1);
    CHECK(!strcmp(err, "t.conf:2: control character 0x0"));
    /* a long unknown key is quoted shortened */
    ERR("label a\nabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij 1\n",
        "t.conf:2: unknown key 'abcdefghijabcdefghijabcdefghijabcdefghij...'");
    ERR("label a\n\xff\n", "t.conf:2: unknown key '?'");
}

static void missing_label(void)
{
    ERR("", "t.conf:0: missing 'label'");
    ERR("priority 2\n", "t.conf:2: missing 'label'");
    ERR("priority 2", "t.conf:2: missing 'label'");
    ERR("priority 2\n\n# end\n", "t.conf:4: missing 'label'");
    ERR("\n", "t.conf:2: missing 'label'");
}

static void error_buffer(void)
{
    const char *t = "label a\nirqq 4\n";
    char small[8];
    memset(small, 'x', sizeof(small));
    CHECK(manifest_parse(t, strlen(t), "t.conf", &m, small, sizeof(small)) == -1);
    CHECK(!strcmp(small, "t.conf:"));
    char one[1] = {'x'};
    CHECK(manifest_parse(t, strlen(t), "t.conf", &m, one, 1) == -1);
    CHECK(one[0] == '\0');
    CHECK(manifest_parse(t, strlen(t), "t.conf", &m, one, 0) == -1);
    CHECK(manifest_parse(t, strlen(t), "t.conf", &m, NULL, 100) == -1);
    CHECK(manifest_parse(t, strlen(t), NULL, &m, err, sizeof(err)) == -1);
    CHECK(!strcmp(err, "manifest:2: unknown key 'irqq'"));
    CHECK(manifest_parse(NULL, 0, "t.conf", &m, err, sizeof(err)) == -1);
    CHECK(!strcmp(err, "t.conf:0: missing 'label'"));
    CHECK(manifest_parse(NULL, 5, "t.conf", &m, err, sizeof(err)) == -1);
    CHECK(manifest_parse("label a", 7, "drivers/tty/tty.conf", &m, err, sizeof(err)) == 0);
    CHECK(err[0] == '\0');
    /* only len bytes count */
    CHECK(manifest_parse("label a\nirqq", 7, "t.conf", &m, err, sizeof(err)) == 0);
    CHECK(manifest_parse("label abcdef", 8, "t.conf", &m, err, sizeof(err)) == 0);
    CHECK(!strcmp(m.label, "ab"));
    CHECK(parse_n("label a\nirqq 4\n", 15, "drivers/tty/tty.conf") == -1);
    CHECK(!strcmp(err, "drivers/tty/tty.conf:2: unknown key 'irqq'"));
}

static const char full_text[] = "# blk: a block driver with everything a manifest can say.\n"
                                "label blk\n"
                                "program ahci\n"
                                "args -q --port 0\n"
                                "priority 1\n"
                                "kcalls basic grants\n"
                                "kcalls irqctl ioport mapphys dmaalloc alarm sysinfo\n"
                                "ipc vfs pm\n"
                                "ipc tty\n"
                                "io 0x1f0-0x1f7 0x3f6\n"
                                "irq 14 15\n"
                                "mem 0xfebf0000-0xfebf1fff\n"
                                "pci 8086:2922 8086:2829\n"
                                "memory 16M\n"
                                "heartbeat 1000\n"
                                "restart backoff\n"
                                "restart_limit 10\n"
                                "denial_limit 100\n"
                                "manage no\n"
                                "policy /etc/rs/blk.sh\n";

static void full_manifest(void)
{
    OK(full_text);
    CHECK(!strcmp(m.label, "blk") && !strcmp(m.program, "ahci"));
    CHECK(!strcmp(m.args, "-q --port 0"));
    CHECK(m.priority == 1);
    CHECK(m.kcalls == (BASIC | GRANTS | K(KC_IRQCTL) | K(KC_IOPORT) | K(KC_MAPPHYS) |
                       K(KC_DMAALLOC) | K(KC_ALARM) | K(KC_SYSINFO)));
    CHECK(m.flags == 0);
    CHECK(m.nr_ipc == 3 && !strcmp(m.ipc[0], "vfs") && !strcmp(m.ipc[1], "pm") &&
          !strcmp(m.ipc[2], "tty"));
    CHECK(m.nr_io == 2 && m.io[0].base == 0x1f0 && m.io[0].len == 8 && m.io[1].base == 0x3f6 &&
          m.io[1].len == 1);
    CHECK(m.irqs == ((1u << 14) | (1u << 15)));
    CHECK(m.nr_mem == 1 && m.mem[0].base == 0xfebf0000 && m.mem[0].len == 0x2000);
    CHECK(m.nr_pci == 2 && m.pci[1].vendor == 0x8086 && m.pci[1].device == 0x2829);
    CHECK(m.max_pages == 4096);
    CHECK(m.heartbeat_ms == 1000);
    CHECK(m.restart == RESTART_BACKOFF && m.restart_limit == 10 && m.denial_limit == 100);
    CHECK(m.may_manage == 0);
    CHECK(!strcmp(m.policy, "/etc/rs/blk.sh"));

    struct priv v;
    memset(&v, 0xaa, sizeof(v));
    manifest_priv(&m, &v);
    CHECK(v.flags == 0 && v.kcalls == m.kcalls && v.irqs == m.irqs);
    CHECK(v.ipc_to[0] == 0 && v.ipc_to[1] == 0);
    CHECK(v.nr_io == 2 && v.io[1].base == 0x3f6 && v.io[1].len == 1);
    CHECK(v.nr_mem == 1 && v.mem[0].base == 0xfebf0000 && v.mem[0].len == 0x2000);
    CHECK(v.max_pages == 4096);
}

/* ---- the bundle ---- */

static int walk(const char *b, size_t len, int max, const char **files, size_t *file_lens,
                const char **texts, size_t *text_lens)
{
    const char *cur = b, *end = b + len;
    int n = 0, r;
    for (;;) {
        const char *f, *t;
        uint64_t fl, tl;
        r = manifest_bundle_next(&cur, end, &f, &fl, &t, &tl);
        if (r != 1)
            break;
        CHECK(t >= b && t + tl <= end && f >= b && f + fl <= end);
        if (n < max) {
            files[n] = f, file_lens[n] = fl, texts[n] = t, text_lens[n] = tl;
        }
        n++;
    }
    return r < 0 ? -1 : n;
}

static int walk_copy(const char *s, size_t len)
{
    const char *f[8], *t[8];
    size_t fl[8], tl[8];
    char *copy = malloc(len ? len : 1);
    memcpy(copy, s, len);
    int n = walk(copy, len, 8, f, fl, t, tl);
    free(copy);
    return n;
}

static void bundle(void)
{
    static const char b[] = "@manifest servers/pm/pm.conf 9\nlabel pm\n"
                            "@manifest empty.conf 0\n"
                            "@manifest drivers/tty/tty.conf 10\nlabel tty\n"
                            "@manifest x 7\nlabel x";
    const char *f[8], *t[8];
    size_t fl[8], tl[8];
    CHECK(walk(b, sizeof(b) - 1, 8, f, fl, t, tl) == 4);
    CHECK(fl[0] == 18 && !memcmp(f[0], "servers/pm/pm.conf", 18));
    CHECK(tl[0] == 9 && !memcmp(t[0], "label pm\n", 9));
    CHECK(fl[1] == 10 && !memcmp(f[1], "empty.conf", 10) && tl[1] == 0);
    CHECK(fl[2] == 20 && tl[2] == 10 && !memcmp(t[2], "label tty\n", 10));
    CHECK(fl[3] == 1 && tl[3] == 7 && !memcmp(t[3], "label x", 7));
    CHECK(manifest_parse(t[2], tl[2], "tty.conf", &m, err, sizeof(err)) == 0);
    CHECK(!strcmp(m.label, "tty"));

    /* contents are taken by length, whatever they hold */
    static const char odd[] = "@manifest a 21\n@manifest b 3\nabc\n\n\n\n@manifest c 1\n@";
    CHECK(walk(odd, sizeof(odd) - 1, 8, f, fl, t, tl) == 2);
    CHECK(tl[0] == 21 && fl[1] == 1 && f[1][0] == 'c' && tl[1] == 1 && t[1][0] == '@');

    CHECK(walk_copy("", 0) == 0);
    CHECK(walk_copy("@manifest a 0\n", 14) == 1);
    static const char *bad[] = {
        "@manifest a 3\nab",                      /* short */
        "@manifest a 3",                          /* no newline */
        "@manifest a\n",                          /* no length */
        "@manifest a \n",                         /* empty length */
        "@manifest  1\nx",                        /* empty path */
        "@manifest 1\nx",                         /* no path */
        "@manifest a b 1\nx",                     /* two spaces */
        "@manifest a 1 \nx",                      /* trailing space */
        "@manifest a -1\nx",                      /* sign */
        "@manifest a 0x1\nx",                     /* hex */
        "@manifest a 1\r\nx",                     /* CR */
        "@manifest a 99999999999999999999999\nx", /* overflow */
        "@manifest a 18446744073709551615\nx",
        "@Manifest a 1\nx",
        "@manifest",
        "@manifes",
        "\n@manifest a 1\nx",
        "@manifest a 1\nx\n", /* a stray byte after the last entry */
        "@manifest a 1\nxjunk",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (walk_copy(bad[i], strlen(bad[i])) != -1) {
            printf("  accepted bad bundle %zu\n", i);
            check_failed = 1;
        }

    /* malformed: -1 and the cursor stays */
    const char *cur = bad[0], *ff = NULL, *tt = NULL;
    uint64_t a = 7, c = 7;
    CHECK(manifest_bundle_next(&cur, bad[0] + strlen(bad[0]), &ff, &a, &tt, &c) == -1);
    CHECK(cur == bad[0] && a == 7 && c == 7);
    cur = b + 5;
    CHECK(manifest_bundle_next(&cur, b, &ff, &a, &tt, &c) == -1); /* cursor past the end */
    cur = NULL;
    CHECK(manifest_bundle_next(&cur, b, &ff, &a, &tt, &c) == -1);
}

/* The bundle parsed entry by entry: paths truncated to fit, broken manifests told apart. */
static void bundle_parse(void)
{
    static const char b[] = "@manifest servers/pm/pm.conf 9\nlabel pm\n"
                            "@manifest bad.conf 8\nlabel A\n"
                            "@manifest x 7\nlabel x"
                            "@manifest y";
    const char *cur = b, *end = b + sizeof(b) - 1;
    char path[8];
    CHECK(manifest_bundle_parse(&cur, end, path, sizeof(path), &m, err, sizeof(err)) == 1);
    CHECK(!strcmp(path, "servers") && !strcmp(m.label, "pm"));
    CHECK(manifest_bundle_parse(&cur, end, path, sizeof(path), &m, err, sizeof(err)) == 2);
    CHECK(!strcmp(path, "bad.con") && !strcmp(err, "bad.con:1: bad label 'A' for 'label' "
                                                   "(1-15 characters from a-z 0-9 _ -)"));
    CHECK(manifest_bundle_parse(&cur, end, path, sizeof(path), &m, 0, 0) == 1);
    CHECK(!strcmp(path, "x") && !strcmp(m.label, "x"));
    const char *before = cur;
    CHECK(manifest_bundle_parse(&cur, end, path, sizeof(path), &m, 0, 0) == -1 && cur == before);
    cur = end;
    CHECK(manifest_bundle_parse(&cur, end, 0, 0, &m, 0, 0) == 0);
}

/* ---- fuzz ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fuzz_one(const char *text, size_t len)
{
    int r = parse_n(text, len, "f.conf");
    CHECK(r == 0 || r == -1);
    if (r == 0) {
        CHECK(m.label[0] && memchr(m.label, 0, sizeof(m.label)));
        CHECK(memchr(m.program, 0, sizeof(m.program)) && memchr(m.args, 0, sizeof(m.args)));
        CHECK(memchr(m.policy, 0, sizeof(m.policy)) != NULL);
        CHECK(m.priority >= 0 && m.priority <= 7);
        CHECK(m.nr_io <= PRIV_MAX_IO && m.nr_mem <= PRIV_MAX_MEM);
        CHECK(m.nr_ipc >= 0 && m.nr_ipc <= MANIFEST_IPC_MAX);
        CHECK(m.nr_pci >= 0 && m.nr_pci <= MANIFEST_PCI_MAX);
        CHECK(m.nr_pci_class >= 0 && m.nr_pci_class <= MANIFEST_PCI_MAX);
        CHECK(!(m.kcalls & (KC_IPC_MASK | K(KC_PRIV_SET) | K(KC_LINUX_SERVERS))));
        CHECK(!(m.kcalls >> NR_KCALLS));
        CHECK(!(m.flags & PRIV_ROOT));
        CHECK(!(m.irqs & 0xffff0005u));
        CHECK(m.max_pages > 0 && m.heartbeat_ms <= 60000);
        for (uint32_t i = 0; i < m.nr_io; i++)
            CHECK(m.io[i].len > 0 && m.io[i].base + m.io[i].len <= 0x10000);
        for (uint32_t i = 0; i < m.nr_mem; i++)
            CHECK(m.mem[i].len > 0 && !(m.mem[i].base % 4096) && !(m.mem[i].len % 4096));
    } else {
        CHECK(memchr(err, 0, sizeof(err)) != NULL);
        CHECK(!strncmp(err, "f.conf:", 7));
    }
}

static void fuzz(void)
{
    static const char *words[] = {"label",
                                  "program",
                                  "args",
                                  "priority",
                                  "kcalls",
                                  "ipc",
                                  "users",
                                  "io",
                                  "irq",
                                  "mem",
                                  "pci",
                                  "memory",
                                  "heartbeat",
                                  "restart",
                                  "restart_limit",
                                  "denial_limit",
                                  "manage",
                                  "policy",
                                  "yes",
                                  "no",
                                  "all",
                                  "basic",
                                  "grants",
                                  "log",
                                  "priv_set",
                                  "never",
                                  "backoff",
                                  "0x3f8-0x3ff",
                                  "0xfee00000-0xfee00fff",
                                  "8086:100e",
                                  "64M",
                                  "4K",
                                  "/p",
                                  "7",
                                  "15",
                                  "2",
                                  "0",
                                  "18446744073709551616",
                                  "-",
                                  ":",
                                  "#",
                                  " ",
                                  "\t",
                                  "\r",
                                  "\n",
                                  "\n",
                                  "\n",
                                  "a",
                                  "\0",
                                  "\xff"};
    char buf[512];
    for (int iter = 0; iter < 100000; iter++) { /* random bytes */
        size_t len = rnd() % 300;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)rnd();
        fuzz_one(buf, len);
    }
    for (int iter = 0; iter < 20000; iter++) { /* random words */
        size_t len = 0;
        if (rnd() % 2) {
            memcpy(buf, "label a\n", 8);
            len = 8;
        }
        while (len < 400) {
            const char *w = words[rnd() % (sizeof(words) / sizeof(words[0]))];
            size_t n = w[0] ? strlen(w) : 1;
            memcpy(buf + len, w, n);
            len += n;
            if (rnd() % 3)
                buf[len++] = rnd() % 4 ? ' ' : '\n';
            if (rnd() % 16 == 0)
                break;
        }
        fuzz_one(buf, len);
    }
    size_t flen = sizeof(full_text) - 1;
    for (size_t cut = 0; cut <= flen; cut++) /* every truncation */
        fuzz_one(full_text, cut);
    for (int iter = 0; iter < 100000; iter++) { /* mutations */
        memcpy(buf, full_text, flen);
        for (int k = 1 + (int)(rnd() % 4); k > 0; k--)
            buf[rnd() % flen] = rnd() % 4 ? (char)rnd() : " \n#-:x0"[rnd() % 7];
        fuzz_one(buf, rnd() % (flen + 1));
    }

    /* the bundle walker on truncations, mutations and random bytes */
    static const char b[] = "@manifest servers/pm/pm.conf 9\nlabel pm\n"
                            "@manifest drivers/tty/tty.conf 10\nlabel tty\n";
    size_t blen = sizeof(b) - 1;
    for (size_t cut = 0; cut <= blen; cut++) {
        int n = walk_copy(b, cut);
        CHECK(n == (cut == 0 ? 0 : cut == 40 ? 1 : cut == blen ? 2 : -1));
    }
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(buf, b, blen);
        for (int k = 1 + (int)(rnd() % 3); k > 0; k--)
            buf[rnd() % blen] = rnd() % 2 ? (char)rnd() : "@ \n019"[rnd() % 6];
        int n = walk_copy(buf, rnd() % (blen + 1));
        CHECK(n >= -1 && n <= 8);
    }
    for (int iter = 0; iter < 5000; iter++) {
        size_t len = rnd() % 64;
        memcpy(buf, "@manifest ", 10);
        for (size_t i = 10; i < len; i++)
            buf[i] = "a1 \n0@"[rnd() % 6];
        walk_copy(buf, len);
    }
}

/* ---- the manifests in the tree ---- */

#define MAX_CONFS 256
static char confs[MAX_CONFS][256];
static int nr_confs;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void find_confs(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        char path[256];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
            continue;
        if (stat(path, &st))
            continue;
        size_t n = strlen(path);
        if (S_ISDIR(st.st_mode))
            find_confs(path);
        else if (n > 5 && !strcmp(path + n - 5, ".conf") && nr_confs < MAX_CONFS)
            strcpy(confs[nr_confs++], path);
    }
    closedir(d);
}

/* m's ipc labels are exactly `want` (space-separated, in order). */
static int same_ipc(const struct manifest *mf, const char *want)
{
    char have[MANIFEST_IPC_MAX * MANIFEST_LABEL_MAX] = "";
    for (int i = 0; i < mf->nr_ipc; i++) {
        if (i)
            strcat(have, " ");
        strcat(have, mf->ipc[i]);
    }
    if (strcmp(have, want))
        printf("  %s: ipc '%s', expected '%s'\n", mf->label, have, want);
    return !strcmp(have, want);
}

/*
 * What each manifest must grant: the privileges of the former profile table
 * (servers/root/profiles.c, now replaced by these files), kept here so that a
 * change to a manifest's privileges is a deliberate change to this test too.
 */
static const struct expect {
    const char *path;
    uint64_t kcalls;
    uint32_t flags;
    int nr_io;
    uint32_t io_base, io_len;
    uint32_t irqs;
    uint64_t mem_base, mem_len;
    int manage, priority, restart;
    uint32_t heartbeat_ms, denial_limit, restart_limit;
    const char *policy;
    const char *ipc;    /* labels named under ipc, in order, space-separated */
    uint64_t max_pages; /* 0: the default, 16384 */
} expected[] = {
    {"servers/pm/pm.conf",
     BASIC | PROCS | GRANTS | K(KC_PROC_CREATE) | K(KC_PROC_START) | K(KC_PROC_FORK) |
         K(KC_PROC_REGS) | K(KC_MEM_MAP) | K(KC_MEM_UNMAP) | K(KC_MEM_PROTECT) | K(KC_VCOPY) |
         K(KC_ALARM) | K(KC_SYSINFO) | K(KC_IOPORT) | K(KC_PROC_NAME) | K(KC_SET_BOOTTIME) |
         K(KC_MEM_MOVE) | K(KC_MEM_SHARE) | K(KC_PROC_HOLD) | K(KC_PROC_ADOPT),
     PRIV_USERS, 3, 0x70, 2, 0, 0, 0, 0, 2, RESTART_IMMEDIATE, 5000, 0, 0, "", "rs vfs ipc",
     262144}, /* 1 GiB: its own, and the files processes map shared (servers/pm/mapfile.c) */
    {"servers/ipc/ipc.conf", /* its objects in a state region: restartable (docs/IPC-SYSV.md) */
     BASIC | GRANTS | K(KC_VCOPY) | K(KC_MEM_UNMAP) | K(KC_MEM_SHARE) | K(KC_ALARM) |
         K(KC_PROC_INFO),
     PRIV_USERS, 0, 0, 0, 0, 0, 0, 0, 2, RESTART_IMMEDIATE, 1000, 0, 0, "", "rs", 65536},
    {"servers/vfs/vfs.conf",
     BASIC | GRANTS | K(KC_VCOPY) | K(KC_PROC_INFO) | K(KC_ALARM) | K(KC_SYSINFO), PRIV_USERS, 0, 0,
     0, 0, 0, 0, 0, 2, RESTART_IMMEDIATE, 5000, 0, 0, "",
     "rs pm ds inet ramfs tmpfs ext2 ext2b stallfs drivers", 0},
    /* ramfs and tmpfs: their memory is their state region's, from rs (docs/RAMFS.md) */
    {"fs/ramfs/ramfs.conf", BASIC | GRANTS, 0, 0, 0, 0, 0, 0, 0, 0, 2, RESTART_IMMEDIATE, 1000, 0,
     0, "", "rs", 17408},
    {"fs/ramfs/tmpfs.conf", BASIC | GRANTS, 0, 0, 0, 0, 0, 0, 0, 0, 2, RESTART_IMMEDIATE, 1000, 0,
     0, "", "rs", 17408},
    {"drivers/tty/tty.conf", BASIC | GRANTS | K(KC_IOPORT) | K(KC_IRQCTL) | K(KC_ALARM), 0, 1,
     0x3f8, 8, 1u << 4, 0, 0, 0, 1, RESTART_IMMEDIATE, 1000, 0, 0, "", "rs ds vfs ttytest", 0},
    {"tests/fixtures/demo/demo.conf", BASIC | GRANTS, 0, 0, 0, 0, 0, 0, 0, 0, 2, RESTART_IMMEDIATE,
     100, 64, 0, "/etc/rs/demo.policy", "rs ds vfs demotest rstest", 0},
    {"tests/fixtures/demo/crashy.conf", BASIC | GRANTS, 0, 0, 0, 0, 0, 0, 0, 0, 2, RESTART_BACKOFF,
     0, 0, 6, "", "rs ds", 0},
    {"tests/servers/rstest/rstest.conf",
     BASIC | GRANTS | K(KC_IOPORT) | K(KC_ALARM) | K(KC_PROC_REAP) | K(KC_PROC_INFO) |
         K(KC_PROC_KILL),
     0, 1, 0x501, 1, 0, 0, 0, 1, 2, RESTART_NEVER, 100, 0, 0, "",
     "rs rsother pci demo crashy ds slowstart", 0},
    {"tests/servers/demotest/demotest.conf",
     BASIC | GRANTS | K(KC_IOPORT) | K(KC_TSC) | K(KC_ALARM) | K(KC_SYSINFO), 0, 1, 0x501, 1, 0, 0,
     0, 1, 2, RESTART_NEVER, 0, 0, 0, "", "rs demo ds", 0},
    {"tests/kernel/ktest.conf",
     BASIC | PROCS | K(KC_SYSINFO) | K(KC_SELFCHECK) | K(KC_TRACE_READ) | K(KC_ALARM) | GRANTS |
         K(KC_IOPORT) | K(KC_PROC_NAME) | K(KC_PRIV_DEVICE) | K(KC_DMA_RELEASE) |
         K(KC_SET_BOOTTIME) | K(KC_PROC_HOLD) | K(KC_PROC_FORK) | K(KC_PROC_START) |
         K(KC_PROC_ADOPT),
     0, 1, 0x501, 1, 0, 0, 0, 1, 2, RESTART_NEVER, 0, 0, 0, "", "rs parent", 0},
    {"tests/kernel/peer.conf",
     BASIC | PROCS | K(KC_ALARM) | GRANTS | K(KC_SYSINFO) | K(KC_SELFCHECK), PRIV_IPC_ALL, 0, 0, 0,
     0, 0, 0, 1, 3, RESTART_NEVER, 0, 0, 0, "", "", 0},
    {"tests/kernel/rtcdrv.conf", BASIC | K(KC_IOPORT) | K(KC_IRQCTL) | K(KC_ALARM), 0, 1, 0x70, 2,
     1u << 8, 0, 0, 0, 3, RESTART_NEVER, 0, 0, 0, "", "parent", 0},
    {"tests/kernel/memdrv.conf",
     BASIC | K(KC_MEM_MAP) | K(KC_MEM_UNMAP) | K(KC_MEM_MOVE) | K(KC_MEM_PROTECT) | K(KC_DMAALLOC) |
         K(KC_MAPPHYS) | K(KC_PROC_CREATE) | K(KC_PROC_KILL) | K(KC_VCOPY) | K(KC_MEM_SHARE),
     0, 0, 0, 0, 0, 0xfee00000, 4096, 0, 3, RESTART_NEVER, 0, 0, 0, "", "", 0},
    {"tests/servers/fstest/fstest.conf",
     BASIC | GRANTS | K(KC_IOPORT) | K(KC_MEM_MAP) | K(KC_MEM_UNMAP) | K(KC_PROC_REAP), 0, 1, 0x501,
     1, 0, 0, 0, 1, 3, RESTART_NEVER, 0, 0, 0, "", "rs ramfs", 1u << 20},
    {"tests/servers/ttytest/ttytest.conf", BASIC | GRANTS | K(KC_ALARM) | K(KC_IOPORT), 0, 1, 0x501,
     1, 0, 0, 0, 0, 2, RESTART_NEVER, 0, 0, 0, "", "rs tty", 0},
    {"tests/kernel/devdrv.conf",
     BASIC | K(KC_IOPORT) | K(KC_IRQCTL) | K(KC_MAPPHYS) | K(KC_DMAALLOC) | K(KC_MEM_MAP) |
         K(KC_MEM_UNMAP) | K(KC_PROC_INFO),
     0, 0, 0, 0, 0, 0, 0, 0, 3, RESTART_NEVER, 0, 0, 0, "", "rs parent", 0},
    {"net/inet/inet.conf", BASIC | K(KC_ALARM) | GRANTS, 0, 0, 0, 0, 0, 0, 0, 0, 2,
     RESTART_IMMEDIATE, 1000, 0, 0, "", "rs ds vfs virtio_net e1000 rtl8139 badnet", 0},
    {"drivers/bus/pci/pci.conf",
     BASIC | K(KC_IOPORT) | GRANTS | K(KC_PRIV_DEVICE) | K(KC_PROC_INFO), 0, 1, 0xcf8, 8, 0, 0, 0,
     0, 1, RESTART_IMMEDIATE, 1000, 0, 0, "", "rs ds vfs", 0},
    {"tests/kernel/unpriv.conf", BASIC, 0, 0, 0, 0, 0, 0, 0, 0, 3, RESTART_NEVER, 0, 0, 0, "", "",
     0},
    {"tests/kernel/fuzz.conf", BASIC | K(KC_ALARM) | GRANTS | K(KC_PROC_INFO), 0, 0, 0, 0, 0, 0, 0,
     0, 4, RESTART_NEVER, 0, 0, 0, "", "", 0},
    {"tests/kernel/fuzz_ipc.conf", BASIC | K(KC_ALARM) | GRANTS | K(KC_PROC_INFO), PRIV_IPC_ALL, 0,
     0, 0, 0, 0, 0, 0, 4, RESTART_NEVER, 0, 0, 0, "", "", 0},
    {"tests/bench/kbench.conf", BASIC | PROCS | K(KC_IOPORT) | K(KC_SYSINFO) | K(KC_ALARM), 0, 1,
     0x501, 1, 0, 0, 0, 1, 2, RESTART_NEVER, 0, 0, 0, "", "rs parent", 0},
};
#define NR_EXPECTED (int)(sizeof(expected) / sizeof(expected[0]))

/* Every field, so a difference is named; then every byte. */
static void same_manifest(const char *what, const struct manifest *a, const struct manifest *b)
{
#define FIELD(f)                                                                                   \
    do {                                                                                           \
        if (memcmp(&a->f, &b->f, sizeof(a->f))) {                                                  \
            printf("  %s: field %s differs\n", what, #f);                                          \
            check_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)
    FIELD(label);
    FIELD(program);
    FIELD(args);
    FIELD(priority);
    FIELD(kcalls);
    FIELD(flags);
    FIELD(ipc);
    FIELD(nr_ipc);
    FIELD(nr_io);
    FIELD(nr_mem);
    FIELD(io);
    FIELD(mem);
    FIELD(irqs);
    FIELD(pci);
    FIELD(nr_pci);
    FIELD(pci_class);
    FIELD(nr_pci_class);
    FIELD(max_pages);
    FIELD(heartbeat_ms);
    FIELD(restart);
    FIELD(restart_limit);
    FIELD(denial_limit);
    FIELD(may_manage);
    FIELD(policy);
    FIELD(lost);
#undef FIELD
    CHECK(!memcmp(a, b, sizeof(*a)));
}

static int parse_file(const char *path)
{
    size_t len;
    char *text = host_read_file(path, &len);
    if (!text) {
        printf("  %s: cannot read\n", path);
        check_failed = 1;
        return -1;
    }
    int r = parse_n(text, len, path);
    if (r)
        printf("  %s\n", err);
    free(text);
    return r;
}

/* The args line of a profile: only inet's manifest has one (its interfaces, docs/INET.md). */
static const char *args_of(const char *path)
{
    if (!strcmp(path, "net/inet/inet.conf"))
        return "nic=virtio_net,e1000,rtl8139 ip=10.0.2.15/24 gw=10.0.2.2";
    if (!strcmp(path, "servers/vfs/vfs.conf"))
        return "root=ramfs"; /* its root file system (docs/FILESYSTEMS.md) */
    if (!strcmp(path, "fs/ramfs/tmpfs.conf"))
        return "- vfs tmpfs"; /* empty, for vfs, named tmpfs */
    return "";
}

static void tree_manifests(void)
{
    nr_confs = 0;
    find_confs("servers");
    find_confs("drivers");
    find_confs("tests");
    qsort(confs, (size_t)nr_confs, sizeof(confs[0]), cmp_str);
    if (nr_confs < NR_EXPECTED)
        printf("  found %d manifests (run from the repository root)\n", nr_confs);
    CHECK(nr_confs >= NR_EXPECTED);

    /* each parses; its label is its file's name; labels are unique */
    char labels[MAX_CONFS][MANIFEST_LABEL_MAX];
    struct {
        int dev_class, major;
        char label[MANIFEST_LABEL_MAX];
    } claims[MAX_CONFS];
    int nr_claims = 0;
    for (int i = 0; i < nr_confs; i++) {
        CHECK(parse_file(confs[i]) == 0);
        const char *base = strrchr(confs[i], '/') ? strrchr(confs[i], '/') + 1 : confs[i];
        if (strncmp(base, m.label, strlen(m.label)) || strcmp(base + strlen(m.label), ".conf")) {
            printf("  %s: label '%s'\n", confs[i], m.label);
            check_failed = 1;
        }
        memcpy(labels[i], m.label, sizeof(m.label));
        /* no two manifests serve one device major (vfs would keep only the first); vfsprobe,
         * the hostile service of the utest boot, claims tty's on purpose */
        for (int k = 0; k < m.nr_devs && strcmp(m.label, "vfsprobe"); k++) {
            for (int j = 0; j < nr_claims; j++)
                if (claims[j].dev_class == m.devs[k].dev_class &&
                    claims[j].major == m.devs[k].major) {
                    printf("  %s: major %d is %s's already\n", confs[i], m.devs[k].major,
                           claims[j].label);
                    check_failed = 1;
                }
            if (nr_claims < MAX_CONFS) {
                claims[nr_claims].dev_class = m.devs[k].dev_class;
                claims[nr_claims].major = m.devs[k].major;
                memcpy(claims[nr_claims++].label, m.label, sizeof(m.label));
            }
        }
        for (int j = 0; j < i; j++)
            CHECK(strcmp(labels[i], labels[j]) != 0);
        size_t len;
        char *text = host_read_file(confs[i], &len);
        CHECK(text && len > 2 && text[0] == '#'); /* starts with what the service is */
        /* `ipc all` is an exception, explained on its line */
        char *z = text ? strndup(text, len) : 0;
        for (const char *l = z; l && (l = strstr(l, "ipc all")); l++) {
            const char *eol = strchr(l, '\n'), *hash = strchr(l, '#');
            if ((l == z || l[-1] == '\n') && (!hash || (eol && hash > eol))) {
                printf("  %s: 'ipc all' without a comment saying why\n", confs[i]);
                check_failed = 1;
            }
        }
        free(z);
        free(text);
    }

    /* the profiles, translated exactly */
    for (int i = 0; i < NR_EXPECTED; i++) {
        const struct expect *e = &expected[i];
        if (parse_file(e->path)) {
            CHECK(0);
            continue;
        }
        int ok = m.kcalls == e->kcalls && m.flags == e->flags && (int)m.nr_io == e->nr_io &&
                 (!e->nr_io || (m.io[0].base == e->io_base && m.io[0].len == e->io_len)) &&
                 m.irqs == e->irqs && m.nr_mem == (e->mem_len ? 1u : 0u) &&
                 (!e->mem_len || (m.mem[0].base == e->mem_base && m.mem[0].len == e->mem_len)) &&
                 m.may_manage == e->manage && m.priority == e->priority &&
                 (int)m.restart == e->restart &&
                 m.max_pages == (e->max_pages ? e->max_pages : 16384) && same_ipc(&m, e->ipc) &&
                 m.nr_pci == 0 && m.heartbeat_ms == e->heartbeat_ms &&
                 m.denial_limit == e->denial_limit && m.restart_limit == e->restart_limit &&
                 !strcmp(m.program, m.label) && !strcmp(m.args, args_of(e->path)) &&
                 !strcmp(m.policy, e->policy);
        if (!ok) {
            printf("  %s does not match its profile\n", e->path);
            check_failed = 1;
        }
    }

    /* pm and tty, whole (static: every byte, padding too, is zero but what is named) */
    static struct manifest want_pm = {
        .label = "pm",
        .program = "pm",
        .priority = 2,
        .flags = PRIV_USERS,
        .ipc = {"rs", "vfs", "ipc"},
        .nr_ipc = 3,
        .nr_io = 3,
        .io = {{0x70, 2}, {0x604, 2}, {0xcf9, 1}}, /* the RTC; power off and reset (power.c) */
        .max_pages = 262144,
        .restart = RESTART_IMMEDIATE, /* kept: docs/REINCARNATION.md, "Core servers" */
        .heartbeat_ms = 5000,         /* answered by service_receive; 10 s silent: hung */
        .state_len = 64ull << 20,     /* its tables, then the region entries (keep.c) */
        .state_grow = 1,
    };
    want_pm.kcalls = expected[0].kcalls;
    if (parse_file("servers/pm/pm.conf") == 0)
        same_manifest("pm", &m, &want_pm);
    struct priv v, pv;
    manifest_priv(&m, &v);
    memset(&pv, 0, sizeof(pv)); /* what profile_to_priv gives for pm */
    pv.flags = PRIV_USERS;      /* ipc_to empty: rs fills in the slots of rs and vfs */
    pv.kcalls = expected[0].kcalls;
    pv.nr_io = 3;
    pv.io[0].base = 0x70;
    pv.io[0].len = 2;
    pv.io[1].base = 0x604;
    pv.io[1].len = 2;
    pv.io[2].base = 0xcf9;
    pv.io[2].len = 1;
    pv.max_pages = 262144;
    CHECK(!memcmp(&v, &pv, sizeof(v)));

    static const struct manifest want_tty = {
        .label = "tty",
        .program = "tty",
        .priority = 1,
        .kcalls = BASIC | GRANTS | K(KC_IOPORT) | K(KC_IRQCTL) | K(KC_ALARM),
        .ipc = {"rs", "ds", "vfs", "ttytest"},
        .nr_ipc = 4,
        .nr_io = 1,
        .io = {{0x3f8, 8}},
        .irqs = 1u << 4,
        .max_pages = 16384,
        .restart = RESTART_IMMEDIATE,
        .heartbeat_ms = 1000,
        .devs = {{MANIFEST_DEV_CHAR, 4, 1}, {MANIFEST_DEV_CHAR, 5, 1}}, /* dev char 4,5 terminal */
        .nr_devs = 2,
        .nodes = {{"console", 5, 1, 0620, 5}, {"tty", 5, 0, 0666, 5}, {"ttyS0", 4, 64, 0620, 5}},
        .nr_nodes = 3,
    };
    if (parse_file("drivers/tty/tty.conf") == 0)
        same_manifest("tty", &m, &want_tty);
}

/* tools/pack-manifests.sh over every manifest, read back with the walker. */
static void pack_script(void)
{
    char dir[] = "/tmp/test_manifest.XXXXXX", out[300], cmd[65536], spaced[300];
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(out, sizeof(out), "%s/bundle", dir);
    int n = snprintf(cmd, sizeof(cmd), "tools/pack-manifests.sh %s", out);
    for (int i = 0; i < nr_confs; i++)
        n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " %s", confs[i]);
    CHECK(nr_confs > 0 && n < (int)sizeof(cmd));
    CHECK(system(cmd) == 0);
    size_t len;
    char *b = host_read_file(out, &len);
    CHECK(b != NULL);
    if (b) {
        const char *cur = b, *end = b + len, *f, *t;
        uint64_t fl, tl;
        int count = 0, r;
        while ((r = manifest_bundle_next(&cur, end, &f, &fl, &t, &tl)) == 1) {
            char path[256];
            size_t flen, olen;
            CHECK(count < nr_confs && fl < sizeof(path));
            if (count >= nr_confs || fl >= sizeof(path))
                break;
            memcpy(path, f, fl);
            path[fl] = '\0';
            CHECK(!strcmp(path, confs[count]));
            char *orig = host_read_file(confs[count], &olen);
            CHECK(orig && olen == tl && !memcmp(orig, t, tl));
            free(orig);
            flen = tl;
            CHECK(manifest_parse(t, flen, path, &m, err, sizeof(err)) == 0);
            count++;
        }
        CHECK(r == 0 && count == nr_confs);
        free(b);
    }
    /* an empty file; a path with a space is refused */
    snprintf(spaced, sizeof(spaced), "%s/e.conf", dir);
    fclose(fopen(spaced, "w"));
    snprintf(cmd, sizeof(cmd), "tools/pack-manifests.sh %s %s", out, spaced);
    CHECK(system(cmd) == 0);
    b = host_read_file(out, &len);
    char want[400];
    snprintf(want, sizeof(want), "@manifest %s 0\n", spaced);
    CHECK(b && len == strlen(want) && !memcmp(b, want, len));
    free(b);
    unlink(spaced);
    snprintf(spaced, sizeof(spaced), "%s/a b.conf", dir);
    fclose(fopen(spaced, "w"));
    snprintf(cmd, sizeof(cmd), "tools/pack-manifests.sh %s/bad '%s' 2>/dev/null", dir, spaced);
    CHECK(system(cmd) != 0);
    snprintf(cmd, sizeof(cmd), "%s/bad", dir);
    CHECK(access(cmd, F_OK) != 0); /* nothing left behind */
    unlink(spaced);
    unlink(out);
    rmdir(dir);
}

int main(void)
{
    static const struct host_test tests[] = {
        {"defaults", defaults},
        {"key_label", key_label},
        {"key_modules", key_modules},
        {"key_dev", key_dev},
        {"key_node", key_node},
        {"key_program", key_program},
        {"key_args", key_args},
        {"key_priority", key_priority},
        {"numbers", numbers},
        {"key_kcalls", key_kcalls},
        {"key_ipc", key_ipc},
        {"key_users", key_users},
        {"key_io", key_io},
        {"key_irq", key_irq},
        {"key_mem", key_mem},
        {"key_pci", key_pci},
        {"key_pci_class", key_pci_class},
        {"bundle_parse", bundle_parse},
        {"key_memory", key_memory},
        {"key_state", key_state},
        {"key_heartbeat", key_heartbeat},
        {"key_restart", key_restart},
        {"key_manage_policy", key_manage_policy},
        {"key_lost", key_lost},
        {"layout", layout},
        {"missing_label", missing_label},
        {"error_buffer", error_buffer},
        {"full_manifest", full_manifest},
        {"bundle", bundle},
        {"fuzz", fuzz},
        {"tree_manifests", tree_manifests},
        {"pack_script", pack_script},
        {0, 0},
    };
    return run_host_tests(tests);
}
