/*
 * `service inject LABEL KIND [COUNT [SEED]]`: fault injection into a running service (issue
 * 14), for tools/inject_campaign.py and the administrator. The kernel only reads and writes the
 * service's memory and sets one-shot flags (KC_INJECT, kernel/inject.c), and only when booted
 * with inject=1; every choice (which bytes, which register, which word) is made here, from a
 * xorshift generator seeded by SEED (default: the TSC), so a trial can be replayed. KINDs:
 *
 *   code     COUNT random bytes of its text (the executable segment of its program) get a
 *            random non-zero XOR
 *   nop      COUNT runs of 1..8 bytes of its text become 0x90 (no instruction-length decoder,
 *            as MINIX's DSN 2009 campaign: a run may cut an instruction, which is then garbage)
 *   reg      COUNT flips of one bit of one of its saved registers (rax..r15, rbp, rsp, rip; rip
 *            and rsp only below bit 47, so that they stay user addresses), while it is blocked
 *            or preempted (rs runs: it does not)
 *   pointer  COUNT words of its data segment or stack (from the saved rsp) that look like
 *            pointers into it (into a segment of its program, or within 1 MiB of rsp) get one
 *            of their low 47 bits flipped
 *   loop     the instruction at its saved rip becomes `jmp .` (eb fe): it spins, its heartbeat
 *            stops (one fault whatever COUNT, as garbage and deny: more would be the same one)
 *   garbage  the body of its next answer to a dependent is scrambled by the kernel (a send
 *            that is no sendrec, to anyone but rs: its heartbeat answers are not hit, nor its
 *            requests; lib/bdev and inet must refuse it)
 *   deny     its next kernel call becomes one its manifest does not allow (refused, counted)
 *
 * Written pages are made the service's own first (the kernel's vm_private_frame): a new
 * instance starts from the intact image. DMA, device and state-region pages are not targets.
 */
#include "../../lib/elf/elf.h"
#include <samsara/linux.h>
#include "root.h"

#define PAGE_SIZE 4096ull

static uint64_t seed;

static uint64_t random64(void)
{
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    return seed;
}

static uint64_t below(uint64_t n)
{
    return n ? random64() % n : 0;
}

struct layout {
    uint64_t text, text_len; /* the executable segment's file bytes */
    uint64_t data, data_len; /* the writable segment, whole */
    uint64_t low, end;       /* every segment */
};

static int segment(void *ctx, const struct elf_segment *s)
{
    struct layout *l = ctx;
    if ((s->prot & PROT_X) && !l->text_len)
        l->text = s->addr, l->text_len = s->data_len;
    if ((s->prot & PROT_W) && !l->data_len)
        l->data = s->addr, l->data_len = s->len;
    l->low = l->low && l->low < s->addr ? l->low : s->addr;
    l->end = l->end > s->addr + s->len ? l->end : s->addr + s->len;
    return 0;
}

static int poke(endpoint_t ep, uint64_t addr, uint64_t value, uint64_t len)
{
    return (int)sys_inject(ep, INJECT_POKE, addr, value, len);
}

/* One byte of text XORed with a random non-zero byte. */
static int fault_code(endpoint_t ep, const struct layout *l, const struct user_regs *u)
{
    (void)u;
    uint64_t at = l->text + below(l->text_len), word;
    if (sys_inject(ep, INJECT_PEEK, at & ~7ull, (uint64_t)&word, 0) < 0)
        return -1;
    uint8_t old = (uint8_t)(word >> (8 * (at & 7)));
    return poke(ep, at, old ^ (1 + below(255)), 1);
}

/* A run of 1..8 bytes of text, inside one page, made no-ops. */
static int fault_nop(endpoint_t ep, const struct layout *l, const struct user_regs *u)
{
    (void)u;
    uint64_t at = l->text + below(l->text_len), n = 1 + below(8);
    if (n > l->text + l->text_len - at)
        n = l->text + l->text_len - at;
    if (n > PAGE_SIZE - (at & (PAGE_SIZE - 1)))
        n = PAGE_SIZE - (at & (PAGE_SIZE - 1));
    return poke(ep, at, 0x9090909090909090ull, n);
}

/* One bit of one general register, rsp or rip flipped. */
static int fault_reg(endpoint_t ep, const struct layout *l, const struct user_regs *u)
{
    (void)l;
    struct user_regs r = *u;
    uint64_t *regs[] = {&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rbp, &r.rsp, &r.r8,
                        &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15, &r.rip};
    uint64_t i = below(sizeof(regs) / sizeof(regs[0])), bits = i >= 16 || i == 7 ? 47 : 64;
    *regs[i] ^= 1ull << below(bits);
    return sys_proc_regs(ep, REGS_SET, &r);
}

static int pointer_like(const struct layout *l, const struct user_regs *u, uint64_t v)
{
    return (v >= l->low && v < l->end) || (v + (1 << 20) > u->rsp && v < u->rsp + (1 << 20));
}

/* A word that looks like a pointer, in the data segment or on the stack, one bit flipped. */
static int fault_pointer(endpoint_t ep, const struct layout *l, const struct user_regs *u)
{
    int stack = !l->data_len || below(2);
    uint64_t from = stack ? u->rsp & ~7ull : l->data + (below(l->data_len) & ~7ull),
             limit = stack ? (u->rsp | (PAGE_SIZE - 1)) + 1 + 3 * PAGE_SIZE : l->data + l->data_len;
    for (uint64_t at = from, word; at + 8 <= limit && at < from + 4096; at += 8) {
        if (sys_inject(ep, INJECT_PEEK, at, (uint64_t)&word, 0) < 0)
            break; /* past the stack's top */
        if (pointer_like(l, u, word))
            return poke(ep, at, word ^ (1ull << below(47)), 8);
    }
    return -1;
}

/* The instruction at the saved rip becomes `jmp .`. */
static int fault_loop(endpoint_t ep, const struct layout *l, const struct user_regs *u)
{
    (void)l;
    return poke(ep, u->rip, 0xfeeb, 2);
}

static int fault_garbage(endpoint_t ep, const struct layout *l, const struct user_regs *u)
{
    (void)l, (void)u;
    return (int)sys_inject(ep, INJECT_FLAGS, 0, INJECT_GARBAGE, 0);
}

static int fault_deny(endpoint_t ep, const struct layout *l, const struct user_regs *u)
{
    (void)l, (void)u;
    return (int)sys_inject(ep, INJECT_FLAGS, 0, INJECT_DENIED, 0);
}

static const struct {
    const char *name;
    int (*inject)(endpoint_t ep, const struct layout *l, const struct user_regs *u);
    int once; /* a second one would be the same fault */
} kinds[] = {{"code", fault_code, 0},       {"nop", fault_nop, 0},   {"reg", fault_reg, 0},
             {"pointer", fault_pointer, 0}, {"loop", fault_loop, 1}, {"garbage", fault_garbage, 1},
             {"deny", fault_deny, 1}};

/* COUNT faults of KIND into label's running instance: the answer line into out. */
void inject_command(const char *label, const char *kind, uint64_t count, uint64_t with_seed,
                    char *out, uint64_t len)
{
    const struct boot_module *image = service_image(label);
    endpoint_t ep = service_lookup(label);
    struct layout l = {0};
    struct user_regs u;
    uint64_t word, done = 0, k = 0;
    while (k < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[k].name, kind))
        k++;
    if (k == sizeof(kinds) / sizeof(kinds[0])) {
        snprintf_s(out, len,
                   "error: inject: unknown kind '%s' (code, nop, reg, pointer, loop, "
                   "garbage, deny)\n",
                   kind);
        return;
    }
    if (!image || ep <= 0 || count < 1 || count > 1000) {
        snprintf_s(out, len, "error: inject %s: %s\n", label,
                   count < 1 || count > 1000 ? "COUNT is 1..1000" : "no such running service");
        return;
    }
    elf_segments((const uint8_t *)image->vaddr, segment, &l);
    if (sys_proc_regs(ep, REGS_GET, &u) < 0) {
        snprintf_s(out, len, "error: inject %s: its registers cannot be read\n", label);
        return;
    }
    int64_t r = sys_inject(ep, INJECT_PEEK, u.rsp & ~7ull, (uint64_t)&word, 0);
    if (r == -E_PERM) { /* the kernel counted it as a denial */
        snprintf_s(out, len,
                   "error: inject %s: refused: fault injection is off (boot with "
                   "inject=1)\n",
                   label);
        return;
    }
    seed = with_seed ? with_seed : sys_tsc() | 1;
    count = kinds[k].once ? 1 : count;
    uint64_t first = seed;
    for (uint64_t i = 0; i < count; i++) {
        if (kinds[k].inject(ep, &l, &u) == 0)
            done++;
        if (sys_proc_regs(ep, REGS_GET, &u) < 0)
            break; /* it died meanwhile? not yet: rs reaps deaths later; be safe */
    }
    snprintf_s(out, len, "inject %s %s: %lu of %lu done, seed %lu\n", label, kind, done, count,
               first);
}
