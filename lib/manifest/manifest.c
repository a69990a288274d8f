/*
 * See manifest.h; the format is in docs/MANIFESTS.md. The text is never
 * copied or changed: lines and tokens are (pointer, length) pairs within
 * it, and every read is checked against its end.
 */
#include "manifest.h"
#include <stdarg.h>
#include <stdint.h>
#include <samsara/kcall.h>
#include <samsara/fs.h>

#define PAGE 4096ull
#define DEFAULT_PRIORITY 3
#define DEFAULT_PAGES (64ull * 1024 * 1024 / PAGE) /* 64 MiB */
#define HEARTBEAT_MAX 60000
#define PORT_MAX 0xffffull
#define PHYS_TOP (1ull << 52) /* x86-64's widest physical address */
#define QUOTE_MAX 40          /* longest token quoted in a message */

struct tok {
    const char *p;
    uint64_t n;
};

struct ctx {
    const char *file;
    uint64_t line;
    char *err;
    uint64_t errlen, errpos;
    struct manifest *m;
    uint32_t seen; /* single-value keys met so far, bit = index in keys[] */
};

/* ---- small string helpers (no libc) ---- */

static void manifest_zero(void *d, uint64_t n)
{
    volatile uint8_t *p = d; /* volatile: keep the compiler from calling memset */
    while (n--)
        *p++ = 0;
}

/* Token equals the NUL-terminated word s. */
static int manifest_is(struct tok t, const char *s)
{
    uint64_t i = 0;
    for (; i < t.n; i++)
        if (s[i] != t.p[i] || !s[i])
            return 0;
    return s[i] == '\0';
}

static void manifest_copy(char *dst, struct tok t)
{
    for (uint64_t i = 0; i < t.n; i++)
        dst[i] = t.p[i];
    dst[t.n] = '\0';
}

static int manifest_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The next white-space separated token in [*p, end); 0 when there is none. */
static int manifest_next(const char **p, const char *end, struct tok *t)
{
    const char *s = *p;
    while (s < end && manifest_space(*s))
        s++;
    if (s == end) {
        *p = s;
        return 0;
    }
    t->p = s;
    while (s < end && !manifest_space(*s))
        s++;
    t->n = (uint64_t)(s - t->p);
    *p = s;
    return 1;
}

static int manifest_digit(char c, unsigned base)
{
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    return d < (int)base ? d : -1;
}

/* The whole token as digits in base, at most max (no overflow); 0, or -1 if it is not. */
static int manifest_in_base(struct tok t, unsigned base, uint64_t max, uint64_t *v)
{
    uint64_t r = 0;
    if (t.n == 0)
        return -1;
    for (uint64_t i = 0; i < t.n; i++) {
        int d = manifest_digit(t.p[i], base);
        if (d < 0 || r > (max - (uint64_t)d) / base)
            return -1;
        r = r * base + (uint64_t)d;
    }
    *v = r;
    return 0;
}

/* Unsigned number, decimal or 0x hex, the whole token, no overflow. */
static int manifest_number(struct tok t, uint64_t *v)
{
    if (t.n > 2 && t.p[0] == '0' && (t.p[1] == 'x' || t.p[1] == 'X'))
        return manifest_in_base((struct tok){t.p + 2, t.n - 2}, 16, UINT64_MAX, v);
    return manifest_in_base(t, 10, UINT64_MAX, v);
}

/* 1..4 hex digits, no prefix (a PCI id). */
static int manifest_hex16(struct tok t, uint16_t *v)
{
    uint64_t r;
    if (t.n > 4 || manifest_in_base(t, 16, 0xffff, &r) < 0)
        return -1;
    *v = (uint16_t)r;
    return 0;
}

static int manifest_label_ok(struct tok t)
{
    if (t.n < 1 || t.n >= MANIFEST_LABEL_MAX)
        return 0;
    for (uint64_t i = 0; i < t.n; i++) {
        char c = t.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- messages ---- */

static void manifest_putc(struct ctx *c, char ch)
{
    if (c->errpos + 1 < c->errlen)
        c->err[c->errpos++] = ch;
}

static void manifest_puts(struct ctx *c, const char *s)
{
    while (*s)
        manifest_putc(c, *s++);
}

static void manifest_putu(struct ctx *c, uint64_t v, unsigned base)
{
    char tmp[24];
    int n = 0;
    if (base == 16)
        manifest_puts(c, "0x");
    do
        tmp[n++] = "0123456789abcdef"[v % base];
    while (v /= base);
    while (n)
        manifest_putc(c, tmp[--n]);
}

/* A token in quotes, shortened, with unprintable bytes shown as '?'. */
static void manifest_putt(struct ctx *c, struct tok t)
{
    manifest_putc(c, '\'');
    for (uint64_t i = 0; i < t.n && i < QUOTE_MAX; i++)
        manifest_putc(c, t.p[i] >= 0x20 && t.p[i] < 0x7f ? t.p[i] : '?');
    if (t.n > QUOTE_MAX)
        manifest_puts(c, "...");
    manifest_putc(c, '\'');
}

/*
 * Set the error "FILE:LINE: message" and return -1. The message is fmt
 * with %s (a C string), %t (a struct tok *, quoted), %u and %x (uint64_t).
 */
static int manifest_fail(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    if (!c->err || !c->errlen)
        return -1;
    c->errpos = 0;
    manifest_puts(c, c->file ? c->file : "manifest");
    manifest_putc(c, ':');
    manifest_putu(c, c->line, 10);
    manifest_puts(c, ": ");
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%' || !fmt[1]) {
            manifest_putc(c, *fmt);
            continue;
        }
        switch (*++fmt) {
        case 's':
            manifest_puts(c, va_arg(ap, const char *));
            break;
        case 't':
            manifest_putt(c, *va_arg(ap, struct tok *));
            break;
        case 'u':
            manifest_putu(c, va_arg(ap, uint64_t), 10);
            break;
        case 'x':
            manifest_putu(c, va_arg(ap, uint64_t), 16);
            break;
        default:
            manifest_putc(c, *fmt);
        }
    }
    va_end(ap);
    c->err[c->errpos] = '\0';
    return -1;
}

/* ---- values ---- */

/* Exactly one value after the key. */
static int manifest_one(struct ctx *c, const char *key, const char *p, const char *end,
                        struct tok *t)
{
    struct tok extra;
    if (!manifest_next(&p, end, t))
        return manifest_fail(c, "missing value for '%s'", key);
    if (manifest_next(&p, end, &extra))
        return manifest_fail(c, "extra value %t for '%s' (it takes one)", &extra, key);
    return 0;
}

static int manifest_num(struct ctx *c, const char *key, struct tok *t, uint64_t min, uint64_t max,
                        uint64_t *v)
{
    if (manifest_number(*t, v) < 0)
        return manifest_fail(c, "bad number %t for '%s'", t, key);
    if (*v < min || *v > max)
        return manifest_fail(c, "%s %u out of range %u..%u", key, *v, min, max);
    return 0;
}

/* One number 0..max (max <= UINT32_MAX) as the whole value, into *out. */
static int manifest_one_u32(struct ctx *c, const char *key, const char *p, const char *end,
                            uint64_t max, uint32_t *out)
{
    struct tok t;
    uint64_t v;
    if (manifest_one(c, key, p, end, &t) < 0 || manifest_num(c, key, &t, 0, max, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int manifest_yes_no(struct ctx *c, const char *key, const char *p, const char *end, int *yes)
{
    struct tok t;
    if (manifest_one(c, key, p, end, &t) < 0)
        return -1;
    if (manifest_is(t, "yes"))
        *yes = 1;
    else if (manifest_is(t, "no"))
        *yes = 0;
    else
        return manifest_fail(c, "'%s' takes yes or no, not %t", key, &t);
    return 0;
}

static int manifest_a_label(struct ctx *c, const char *key, struct tok *t)
{
    if (!manifest_label_ok(*t))
        return manifest_fail(c, "bad label %t for '%s' (1-15 characters from a-z 0-9 _ -)", t, key);
    return 0;
}

/* "A-B" (or "A" if single is allowed) as two numbers. */
static int manifest_range(struct ctx *c, const char *key, struct tok *t, int single, uint64_t *a,
                          uint64_t *b)
{
    uint64_t dash = 0;
    while (dash < t->n && t->p[dash] != '-')
        dash++;
    if (dash == t->n && !single)
        return manifest_fail(c, "bad range %t for '%s' (want START-END)", t, key);
    struct tok lo = {t->p, dash};
    struct tok hi = dash == t->n ? lo : (struct tok){t->p + dash + 1, t->n - dash - 1};
    if (manifest_number(lo, a) < 0 || manifest_number(hi, b) < 0)
        return manifest_fail(c, "bad range %t for '%s'", t, key);
    if (*b < *a)
        return manifest_fail(c, "bad range %t for '%s': end before start", t, key);
    return 0;
}

/* ---- kernel-call names ---- */

static const char *const kcall_names[NR_KCALLS] = {
#define KC_NAME(NAME, name, ...) [KC_##NAME] = #name,
    KCALLS(KC_NAME)
#undef KC_NAME
};

#define ROOT_ONLY (KC_BIT(KC_PRIV_SET) | KC_BIT(KC_LINUX_SERVERS) | KC_BIT(KC_PRIV_IPC))

const char *manifest_kcall_name(int n)
{
    return n >= 0 && n < NR_KCALLS ? kcall_names[n] : 0;
}

/* ---- keys ---- */

typedef int (*key_fn)(struct ctx *c, const char *key, const char *p, const char *end);
typedef int (*value_fn)(struct ctx *c, const char *key, struct tok t);

/* A list key: each of its one or more values through fn. */
static int manifest_list(struct ctx *c, const char *key, const char *p, const char *end,
                         value_fn fn)
{
    struct tok t;
    int any = 0;
    while (manifest_next(&p, end, &t)) {
        any = 1;
        if (fn(c, key, t) < 0)
            return -1;
    }
    return any ? 0 : manifest_fail(c, "missing value for '%s'", key);
}

static int key_label(struct ctx *c, const char *key, const char *p, const char *end)
{
    struct tok t;
    if (manifest_one(c, key, p, end, &t) < 0 || manifest_a_label(c, key, &t) < 0)
        return -1;
    if (manifest_is(t, "ep") || manifest_is(t, "owner"))
        return manifest_fail(c, "labels 'ep' and 'owner' are reserved (rs's keys in ds)");
    if (manifest_is(t, MANIFEST_IPC_PARENT) || manifest_is(t, MANIFEST_IPC_RS) ||
        manifest_is(t, MANIFEST_IPC_DRIVERS))
        return manifest_fail(c, "label %t is reserved ('ipc parent', 'ipc rs', 'ipc drivers')", &t);
    manifest_copy(c->m->label, t);
    return 0;
}

static int key_program(struct ctx *c, const char *key, const char *p, const char *end)
{
    struct tok t;
    if (manifest_one(c, key, p, end, &t) < 0 || manifest_a_label(c, key, &t) < 0)
        return -1;
    manifest_copy(c->m->program, t);
    return 0;
}

/* The rest of the line, trimmed, into dst (max bytes with its NUL): args, lost. */
static int manifest_rest(struct ctx *c, const char *key, const char *p, const char *end, char *dst,
                         uint64_t max)
{
    while (p < end && manifest_space(*p))
        p++;
    while (end > p && manifest_space(end[-1]))
        end--;
    struct tok t = {p, (uint64_t)(end - p)};
    if (!t.n)
        return manifest_fail(c, "missing value for '%s'", key);
    if (t.n >= max)
        return manifest_fail(c, "'%s' too long (%u characters, at most %u)", key, t.n, max - 1);
    manifest_copy(dst, t);
    return 0;
}

static int key_args(struct ctx *c, const char *key, const char *p, const char *end)
{
    return manifest_rest(c, key, p, end, c->m->args, MANIFEST_ARGS_MAX);
}

static int key_lost(struct ctx *c, const char *key, const char *p, const char *end)
{
    return manifest_rest(c, key, p, end, c->m->lost, MANIFEST_LOST_MAX);
}

static int key_priority(struct ctx *c, const char *key, const char *p, const char *end)
{
    uint32_t v;
    if (manifest_one_u32(c, key, p, end, 7, &v) < 0)
        return -1;
    c->m->priority = (int)v;
    return 0;
}

static int kcalls_value(struct ctx *c, const char *key, struct tok t)
{
    (void)key;
    if (manifest_is(t, "basic")) {
        c->m->kcalls |= KC_BIT(KC_EXIT) | KC_BIT(KC_UPTIME) | KC_BIT(KC_TSC) | KC_BIT(KC_BOOTTIME) |
                        KC_BIT(KC_LOG);
        return 0;
    }
    if (manifest_is(t, "grants")) {
        c->m->kcalls |= KC_BIT(KC_SETGRANT) | KC_BIT(KC_SAFECOPY_FROM) | KC_BIT(KC_SAFECOPY_TO) |
                        KC_BIT(KC_SAFECOPY_VEC);
        return 0;
    }
    int n = 0;
    while (n < NR_KCALLS && !(kcall_names[n] && manifest_is(t, kcall_names[n])))
        n++;
    if (n == NR_KCALLS)
        return manifest_fail(c, "unknown kernel call %t", &t);
    if (KC_BIT(n) & KC_IPC_MASK)
        return manifest_fail(c, "%t is an IPC operation, not a kernel call (see 'ipc')", &t);
    if (KC_BIT(n) & ROOT_ONLY)
        return manifest_fail(c, "kernel call %t is root's alone and cannot be granted", &t);
    c->m->kcalls |= KC_BIT(n);
    return 0;
}

static int key_ipc(struct ctx *c, const char *key, const char *p, const char *end)
{
    struct tok t;
    const char *q = p;
    int count = 0;
    while (manifest_next(&q, end, &t))
        count++;
    if (!count)
        return manifest_fail(c, "missing value for '%s'", key);
    while (manifest_next(&p, end, &t)) {
        if (manifest_is(t, "all")) {
            if (count > 1)
                return manifest_fail(c, "'ipc all' takes no labels");
            c->m->flags |= PRIV_IPC_ALL;
            continue;
        }
        if (manifest_a_label(c, key, &t) < 0)
            return -1;
        int i = 0;
        while (i < c->m->nr_ipc && !manifest_is(t, c->m->ipc[i]))
            i++;
        if (i < c->m->nr_ipc)
            continue; /* named twice */
        if (c->m->nr_ipc >= MANIFEST_IPC_MAX)
            return manifest_fail(c, "too many ipc labels (at most %u)", (uint64_t)MANIFEST_IPC_MAX);
        manifest_copy(c->m->ipc[c->m->nr_ipc++], t);
    }
    return 0;
}

static int key_users(struct ctx *c, const char *key, const char *p, const char *end)
{
    int yes;
    if (manifest_yes_no(c, key, p, end, &yes) < 0)
        return -1;
    if (yes)
        c->m->flags |= PRIV_USERS;
    return 0;
}

static int io_value(struct ctx *c, const char *key, struct tok t)
{
    uint64_t a, b;
    if (manifest_range(c, key, &t, 1, &a, &b) < 0)
        return -1;
    if (b > PORT_MAX)
        return manifest_fail(c, "port %x out of range 0..0xffff", b);
    if (c->m->nr_io >= PRIV_MAX_IO)
        return manifest_fail(c, "too many io ranges (at most %u)", (uint64_t)PRIV_MAX_IO);
    c->m->io[c->m->nr_io].base = (uint32_t)a;
    c->m->io[c->m->nr_io].len = (uint32_t)(b - a + 1);
    c->m->nr_io++;
    return 0;
}

static int irq_value(struct ctx *c, const char *key, struct tok t)
{
    uint64_t n;
    if (manifest_num(c, key, &t, 0, 15, &n) < 0)
        return -1;
    if (n == 0 || n == 2)
        return manifest_fail(c, "irq %u belongs to the kernel (0: timer, 2: cascade)", n);
    c->m->irqs |= 1u << n;
    return 0;
}

static int mem_value(struct ctx *c, const char *key, struct tok t)
{
    uint64_t a, b;
    if (manifest_range(c, key, &t, 0, &a, &b) < 0)
        return -1;
    if (b >= PHYS_TOP)
        return manifest_fail(c, "mem %t beyond the physical address space", &t);
    if (a % PAGE || (b + 1) % PAGE)
        return manifest_fail(c, "mem %t not page aligned (START and END+1 must be)", &t);
    if (c->m->nr_mem >= PRIV_MAX_MEM)
        return manifest_fail(c, "too many mem ranges (at most %u)", (uint64_t)PRIV_MAX_MEM);
    c->m->mem[c->m->nr_mem].base = a;
    c->m->mem[c->m->nr_mem].len = b - a + 1;
    c->m->nr_mem++;
    return 0;
}

/* `CC:SS` or `CC:SS:PP`, two hex digits each (a PCI class code). */
static int pci_class_value(struct ctx *c, const char *key, struct tok t)
{
    uint64_t v[3];
    int n = 0;
    (void)key;
    for (uint64_t i = 0; i <= t.n && n < 4; n++) { /* one byte per colon-separated piece */
        uint64_t j = i;
        while (j < t.n && t.p[j] != ':')
            j++;
        if (n == 3 || j - i != 2 || manifest_in_base((struct tok){t.p + i, 2}, 16, 0xff, &v[n]) < 0)
            return manifest_fail(c, "bad PCI class %t (want CC:SS or CC:SS:PP in hex)", &t);
        i = j + 1;
    }
    if (n < 2)
        return manifest_fail(c, "bad PCI class %t (want CC:SS or CC:SS:PP in hex)", &t);
    if (c->m->nr_pci_class >= MANIFEST_PCI_MAX)
        return manifest_fail(c, "too many pci classes (at most %u)", (uint64_t)MANIFEST_PCI_MAX);
    c->m->pci_class[c->m->nr_pci_class++] = (struct manifest_pci_class){
        (uint8_t)v[0], (uint8_t)v[1], n == 3 ? (uint8_t)v[2] : 0, n == 2};
    return 0;
}

static int pci_value(struct ctx *c, const char *key, struct tok t)
{
    (void)key;
    uint64_t colon = 0;
    uint16_t v, d;
    while (colon < t.n && t.p[colon] != ':')
        colon++;
    struct tok vt = {t.p, colon};
    struct tok dt = {t.p + colon + (colon < t.n), t.n - colon - (colon < t.n)};
    if (colon == t.n || manifest_hex16(vt, &v) < 0 || manifest_hex16(dt, &d) < 0)
        return manifest_fail(c, "bad PCI id %t (want VVVV:DDDD in hex)", &t);
    if (c->m->nr_pci >= MANIFEST_PCI_MAX)
        return manifest_fail(c, "too many pci ids (at most %u)", (uint64_t)MANIFEST_PCI_MAX);
    c->m->pci[c->m->nr_pci].vendor = v;
    c->m->pci[c->m->nr_pci].device = d;
    c->m->nr_pci++;
    return 0;
}

/* `pci VVVV:DDDD ...` (vendor and device ids) or `pci class CC:SS[:PP] ...` (class codes). */
static int key_pci(struct ctx *c, const char *key, const char *p, const char *end)
{
    const char *rest = p;
    struct tok t;
    if (manifest_next(&rest, end, &t) && manifest_is(t, "class"))
        return manifest_list(c, "pci class", rest, end, pci_class_value);
    return manifest_list(c, key, p, end, pci_value);
}

/* A size: a number, then K or M; a positive multiple of 4K. */
static int size_value(struct ctx *c, const char *key, const char *p, const char *end, uint64_t *out)
{
    struct tok t;
    uint64_t v, unit = 1;
    if (manifest_one(c, key, p, end, &t) < 0)
        return -1;
    struct tok n = t;
    if (n.n > 1 && (n.p[n.n - 1] == 'K' || n.p[n.n - 1] == 'M')) {
        unit = n.p[n.n - 1] == 'K' ? 1024 : 1024 * 1024;
        n.n--;
    }
    if (manifest_number(n, &v) < 0)
        return manifest_fail(c, "bad size %t for '%s' (a number, then K or M)", &t, key);
    if (v > UINT64_MAX / unit)
        return manifest_fail(c, "%s %t out of range", key, &t);
    v *= unit;
    if (!v || v % PAGE)
        return manifest_fail(c, "%s %t is not a positive multiple of 4K", key, &t);
    *out = v;
    return 0;
}

static int key_memory(struct ctx *c, const char *key, const char *p, const char *end)
{
    uint64_t v;
    if (size_value(c, key, p, end, &v) < 0)
        return -1;
    c->m->max_pages = v / PAGE;
    return 0;
}

/*
 * `state SIZE [grow]`: a memory region rs keeps across the service's deaths
 * (docs/REINCARNATION.md); with `grow`, rs maps none of it at first and the service asks for more
 * (ROOT_STATE_GROW) up to SIZE.
 */
static int key_state(struct ctx *c, const char *key, const char *p, const char *end)
{
    uint64_t v;
    struct tok size, word, extra;
    const char *q = p;
    int grow = 0;
    if (manifest_next(&q, end, &size) && manifest_next(&q, end, &word)) {
        if (!manifest_is(word, "grow"))
            return manifest_fail(c, "'%s' takes a size and maybe 'grow', not %t", key, &word);
        if (manifest_next(&q, end, &extra))
            return manifest_fail(c, "extra value %t for '%s'", &extra, key);
        grow = 1;
        end = size.p + size.n;
    }
    if (size_value(c, key, p, end, &v) < 0)
        return -1;
    if (v > MANIFEST_STATE_MAX)
        return manifest_fail(c, "state %u bytes is more than %u", v, (uint64_t)MANIFEST_STATE_MAX);
    c->m->state_len = v;
    c->m->state_grow = grow;
    return 0;
}

static int key_heartbeat(struct ctx *c, const char *key, const char *p, const char *end)
{
    return manifest_one_u32(c, key, p, end, HEARTBEAT_MAX, &c->m->heartbeat_ms);
}

static int key_restart(struct ctx *c, const char *key, const char *p, const char *end)
{
    struct tok t;
    if (manifest_one(c, key, p, end, &t) < 0)
        return -1;
    if (manifest_is(t, "never"))
        c->m->restart = RESTART_NEVER;
    else if (manifest_is(t, "immediate"))
        c->m->restart = RESTART_IMMEDIATE;
    else if (manifest_is(t, "backoff"))
        c->m->restart = RESTART_BACKOFF;
    else
        return manifest_fail(c, "'%s' takes never, immediate or backoff, not %t", key, &t);
    return 0;
}

static int key_restart_limit(struct ctx *c, const char *key, const char *p, const char *end)
{
    return manifest_one_u32(c, key, p, end, UINT32_MAX, &c->m->restart_limit);
}

static int key_denial_limit(struct ctx *c, const char *key, const char *p, const char *end)
{
    return manifest_one_u32(c, key, p, end, UINT32_MAX, &c->m->denial_limit);
}

static int key_manage(struct ctx *c, const char *key, const char *p, const char *end)
{
    return manifest_yes_no(c, key, p, end, &c->m->may_manage);
}

/* Boot data modules the service may borrow (ROOT_MODULE): names as the boot line gives them. */
static int modules_value(struct ctx *c, const char *key, struct tok t)
{
    int ok = t.n >= 1 && t.n < MANIFEST_MODULE_MAX;
    for (uint64_t i = 0; ok && i < t.n; i++) {
        char ch = t.p[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '_' || ch == '-' || ch == '.';
    }
    if (!ok)
        return manifest_fail(
            c, "bad module name %t for '%s' (1-31 characters from a-z A-Z 0-9 . _ -)", &t, key);
    if (c->m->nr_modules >= MANIFEST_MODULES_MAX)
        return manifest_fail(c, "too many modules (at most %u)", (uint64_t)MANIFEST_MODULES_MAX);
    manifest_copy(c->m->modules[c->m->nr_modules++], t);
    return 0;
}

/*
 * `dev char 4,5 [terminal]`, `dev block 3`: the device majors the driver
 * serves, separated by commas or spaces; it serves every minor of each.
 * `terminal` (char only) says the line's devices are terminals.
 */
static int key_dev(struct ctx *c, const char *key, const char *p, const char *end)
{
    struct tok t;
    uint8_t cls;
    int first = c->m->nr_devs, terminal = 0;
    if (!manifest_next(&p, end, &t))
        return manifest_fail(c, "missing value for '%s'", key);
    if (manifest_is(t, "char"))
        cls = MANIFEST_DEV_CHAR;
    else if (manifest_is(t, "block"))
        cls = MANIFEST_DEV_BLOCK;
    else
        return manifest_fail(c, "'%s' takes char or block, not %t", key, &t);
    while (manifest_next(&p, end, &t)) {
        if (manifest_is(t, "terminal")) {
            if (cls != MANIFEST_DEV_CHAR)
                return manifest_fail(c, "'terminal' is for char devices only");
            terminal = 1;
            continue;
        }
        for (uint64_t i = 0; i <= t.n;) { /* one major per comma-separated piece */
            uint64_t j = i, major;
            while (j < t.n && t.p[j] != ',')
                j++;
            struct tok n = {t.p + i, j - i};
            if (manifest_number(n, &major) < 0)
                return manifest_fail(c, "bad major %t for '%s'", &t, key);
            if (major < 1 || major > DEV_MAJOR_MAX)
                return manifest_fail(c, "major %u out of range 1..%u", major,
                                     (uint64_t)DEV_MAJOR_MAX);
            if (cls == MANIFEST_DEV_CHAR && DEV_IS_VFS_OWN(major))
                return manifest_fail(c, "char major %u is vfs's own (%u: null, zero; %u: service)",
                                     major, (uint64_t)DEV_MEM_MAJOR, (uint64_t)DEV_MISC_MAJOR);
            for (int k = 0; k < c->m->nr_devs; k++)
                if (c->m->devs[k].dev_class == cls && c->m->devs[k].major == major)
                    return manifest_fail(c, "major %u listed twice", major);
            if (c->m->nr_devs >= MANIFEST_DEVS_MAX)
                return manifest_fail(c, "too many device majors (at most %u)",
                                     (uint64_t)MANIFEST_DEVS_MAX);
            c->m->devs[c->m->nr_devs].dev_class = cls;
            c->m->devs[c->m->nr_devs++].major = (uint8_t)major;
            i = j + 1;
        }
    }
    if (c->m->nr_devs == first)
        return manifest_fail(c, "no major for '%s'", key);
    for (int k = first; k < c->m->nr_devs; k++)
        c->m->devs[k].terminal = (uint8_t)terminal;
    return 0;
}

/*
 * `node NAME MAJOR,MINOR MODE [GROUP]`: a character device node /dev/NAME
 * that vfs makes at start, owned by root and GROUP (default 0), with the
 * permission bits MODE (octal). Its major must be one this manifest serves
 * (an earlier `dev char` line), so a node can only point at the driver's own
 * devices; vfs makes it only if the driver's claim on the major stands.
 */
static int key_node(struct ctx *c, const char *key, const char *p, const char *end)
{
    struct tok name, num, mode, group;
    uint64_t major, minor, bits, gid = 0;
    int ok = 0;
    if (!manifest_next(&p, end, &name) || !manifest_next(&p, end, &num) ||
        !manifest_next(&p, end, &mode))
        return manifest_fail(c, "'%s' takes NAME MAJOR,MINOR MODE [GROUP]", key);
    int name_ok = name.n >= 1 && name.n < MANIFEST_LABEL_MAX && name.p[0] != '.';
    for (uint64_t i = 0; i < name.n; i++) {
        char ch = name.p[i];
        name_ok &= (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
    }
    if (!name_ok)
        return manifest_fail(c,
                             "bad node name %t (1-15 characters from A-Z a-z 0-9 _ - ., "
                             "not starting with .)",
                             &name);
    uint64_t comma = 0;
    while (comma < num.n && num.p[comma] != ',')
        comma++;
    if (comma == num.n ||
        manifest_in_base((struct tok){num.p, comma}, 10, DEV_MAJOR_MAX, &major) < 0 ||
        manifest_in_base((struct tok){num.p + comma + 1, num.n - comma - 1}, 10, 255, &minor) < 0)
        return manifest_fail(c, "bad device number %t for '%s' (MAJOR,MINOR)", &num, key);
    if (manifest_in_base(mode, 8, 0777, &bits) < 0)
        return manifest_fail(c, "bad mode %t for '%s' (octal, at most 0777)", &mode, key);
    if (manifest_next(&p, end, &group) &&
        (manifest_in_base(group, 10, 65535, &gid) < 0 || manifest_next(&p, end, &group)))
        return manifest_fail(c, "bad group %t for '%s' (one number, 0..65535)", &group, key);
    for (int k = 0; k < c->m->nr_devs; k++)
        ok |= c->m->devs[k].dev_class == MANIFEST_DEV_CHAR && c->m->devs[k].major == major;
    if (!ok)
        return manifest_fail(c, "node %t: major %u is not one of this manifest's 'dev char' majors",
                             &name, major);
    for (int k = 0; k < c->m->nr_nodes; k++)
        if (manifest_is(name, c->m->nodes[k].name))
            return manifest_fail(c, "node %t listed twice", &name);
    if (c->m->nr_nodes >= MANIFEST_NODES_MAX)
        return manifest_fail(c, "too many nodes (at most %u)", (uint64_t)MANIFEST_NODES_MAX);
    struct manifest_node *n = &c->m->nodes[c->m->nr_nodes++];
    manifest_copy(n->name, name);
    n->major = (uint8_t)major;
    n->minor = (uint8_t)minor;
    n->mode = (uint16_t)bits;
    n->gid = (uint32_t)gid;
    return 0;
}

static int key_policy(struct ctx *c, const char *key, const char *p, const char *end)
{
    struct tok t;
    if (manifest_one(c, key, p, end, &t) < 0)
        return -1;
    if (t.p[0] != '/')
        return manifest_fail(c, "'%s' must be an absolute path, not %t", key, &t);
    if (t.n >= MANIFEST_PATH_MAX)
        return manifest_fail(c, "'%s' too long (%u characters, at most %u)", key, t.n,
                             (uint64_t)MANIFEST_PATH_MAX - 1);
    manifest_copy(c->m->policy, t);
    return 0;
}

static const struct {
    const char *name;
    key_fn fn;     /* the line's values; or */
    value_fn each; /* each value of a list (the key may come again: the list accumulates) */
    int repeat;    /* fn's key may come more than once */
} keys[] = {
    /* what the service is */
    {"label", .fn = key_label},
    {"program", .fn = key_program},
    {"args", .fn = key_args},
    {"priority", .fn = key_priority},
    /* what it may reach */
    {"kcalls", .each = kcalls_value},
    {"ipc", .fn = key_ipc, .repeat = 1},
    {"users", .fn = key_users},
    {"io", .each = io_value},
    {"irq", .each = irq_value},
    {"mem", .each = mem_value},
    {"pci", .fn = key_pci, .repeat = 1},
    /* how rs runs it */
    {"memory", .fn = key_memory},
    {"state", .fn = key_state},
    {"heartbeat", .fn = key_heartbeat},
    {"restart", .fn = key_restart},
    {"restart_limit", .fn = key_restart_limit},
    {"denial_limit", .fn = key_denial_limit},
    {"manage", .fn = key_manage},
    {"policy", .fn = key_policy},
    {"lost", .fn = key_lost},
    /* what it borrows and serves */
    {"modules", .each = modules_value},
    {"dev", .fn = key_dev, .repeat = 1},
    {"node", .fn = key_node, .repeat = 1},
};
#define NR_KEYS (int)(sizeof(keys) / sizeof(keys[0]))

/* One line, without its '\n'. */
static int manifest_line(struct ctx *c, const char *p, const char *end)
{
    struct tok key;
    for (const char *q = p; q < end; q++) {
        if (*q == '#') {
            end = q; /* a comment runs to the end of the line */
            break;
        }
        unsigned char ch = (unsigned char)*q;
        if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f)
            return manifest_fail(c, "control character %x", (uint64_t)ch);
    }
    if (!manifest_next(&p, end, &key))
        return 0; /* blank */
    for (int i = 0; i < NR_KEYS; i++) {
        if (!manifest_is(key, keys[i].name))
            continue;
        if (!keys[i].repeat && !keys[i].each) {
            if (c->seen & (1u << i))
                return manifest_fail(c, "duplicate key %t", &key);
            c->seen |= 1u << i;
        }
        if (keys[i].each)
            return manifest_list(c, keys[i].name, p, end, keys[i].each);
        return keys[i].fn(c, keys[i].name, p, end);
    }
    return manifest_fail(c, "unknown key %t", &key);
}

int manifest_parse(const char *text, uint64_t len, const char *file, struct manifest *out,
                   char *err, uint64_t errlen)
{
    struct ctx c = {file, 0, err, errlen, 0, out, 0};
    if (err && errlen)
        err[0] = '\0';
    manifest_zero(out, sizeof(*out));
    out->priority = DEFAULT_PRIORITY;
    out->max_pages = DEFAULT_PAGES;
    out->restart = RESTART_NEVER;
    if (!text && len)
        return manifest_fail(&c, "no text");
    uint64_t pos = 0;
    while (pos < len) {
        uint64_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        c.line++;
        if (manifest_line(&c, text + pos, text + eol) < 0)
            return -1;
        pos = eol + 1;
    }
    if (!out->label[0]) {
        c.line = len ? c.line + 1 : 0;
        return manifest_fail(&c, "missing 'label'");
    }
    if (!out->program[0])
        for (int i = 0; i < MANIFEST_LABEL_MAX; i++)
            out->program[i] = out->label[i];
    return 0;
}

/* ---- the bundle ---- */

int manifest_bundle_next(const char **cursor, const char *end, const char **file,
                         uint64_t *file_len, const char **text, uint64_t *text_len)
{
    static const char magic[] = "@manifest ";
    const uint64_t mlen = sizeof(magic) - 1;
    const char *p = *cursor;
    if (!p || !end || p > end)
        return -1;
    if (p == end)
        return 0;
    uint64_t left = (uint64_t)(end - p);
    if (left < mlen)
        return -1;
    for (uint64_t i = 0; i < mlen; i++)
        if (p[i] != magic[i])
            return -1;
    const char *path = p + mlen, *nl = path;
    while (nl < end && *nl != '\n')
        nl++;
    if (nl == end)
        return -1;
    const char *sp = path; /* exactly one space, between PATH and LENGTH */
    while (sp < nl && *sp != ' ')
        sp++;
    if (sp == path || sp == nl)
        return -1;
    struct tok n = {sp + 1, (uint64_t)(nl - sp - 1)};
    uint64_t size;
    for (uint64_t i = 0; i < n.n; i++)
        if (n.p[i] < '0' || n.p[i] > '9')
            return -1; /* decimal only, no second space */
    if (manifest_number(n, &size) < 0 || size > (uint64_t)(end - nl - 1))
        return -1;
    *file = path;
    *file_len = (uint64_t)(sp - path);
    *text = nl + 1;
    *text_len = size;
    *cursor = nl + 1 + size;
    return 1;
}

int manifest_bundle_parse(const char **cursor, const char *end, char *path, uint64_t path_len,
                          struct manifest *out, char *err, uint64_t errlen)
{
    const char *file, *text;
    uint64_t file_len, text_len;
    int r = manifest_bundle_next(cursor, end, &file, &file_len, &text, &text_len);
    if (r != 1)
        return r;
    uint64_t n = path_len && file_len >= path_len ? path_len - 1 : file_len;
    for (uint64_t i = 0; path_len && i < n; i++)
        path[i] = file[i];
    if (path_len)
        path[n] = '\0';
    return manifest_parse(text, text_len, path_len ? path : 0, out, err, errlen) == 0 ? 1 : 2;
}

/* ---- privileges ---- */

void manifest_priv(const struct manifest *m, struct priv *v)
{
    manifest_zero(v, sizeof(*v));
    v->flags = m->flags & (PRIV_IPC_ALL | PRIV_USERS);
    v->kcalls = m->kcalls & ~(KC_IPC_MASK | ROOT_ONLY);
    v->irqs = m->irqs & ~((1u << 0) | (1u << 2));
    v->nr_io = m->nr_io <= PRIV_MAX_IO ? m->nr_io : PRIV_MAX_IO;
    for (uint32_t i = 0; i < v->nr_io; i++) {
        v->io[i].base = m->io[i].base;
        v->io[i].len = m->io[i].len;
    }
    v->nr_mem = m->nr_mem <= PRIV_MAX_MEM ? m->nr_mem : PRIV_MAX_MEM;
    for (uint32_t i = 0; i < v->nr_mem; i++) {
        v->mem[i].base = m->mem[i].base;
        v->mem[i].len = m->mem[i].len;
    }
    v->max_pages = m->max_pages;
}
