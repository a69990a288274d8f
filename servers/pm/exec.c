/*
 * execve of static ELF64 programs. pm gathers argv and envp from the old
 * image, has vfs copy the program file into its buffer, then (past the
 * point of no return) empties the address space, maps the segments and a
 * stack laid out as the Linux x86-64 ABI says (argc, argv, envp, auxv with
 * AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_RANDOM, the ids,
 * AT_SECURE, ...), and sets the registers. A set-user-id or set-group-id
 * program changes the effective ids (cred_exec).
 */
#include <samsara/elf64.h>
#include "pm.h"

#define MAX_ARG_BYTES (128 * 1024)
#define MAX_ARGS 4096
#define IMAGE_MAX (8u << 20)

static uint8_t image[IMAGE_MAX];
static char strings[MAX_ARG_BYTES];
static uint64_t stack_image[(MAX_ARG_BYTES + 64 * 1024) / 8];

/* Copy a NUL-terminated string from the process into strings[*used]. */
static int64_t take_string(struct mproc *mp, uint64_t uaddr, uint64_t *used)
{
    uint64_t start = *used;
    for (;;) {
        uint64_t n = 4096 - (uaddr & 4095);
        if (*used + n > MAX_ARG_BYTES)
            n = MAX_ARG_BYTES - *used;
        if (!n)
            return -LX_E2BIG;
        if (sys_vcopy(mp->ep, uaddr, SELF, (uint64_t)strings + *used, n) < 0)
            return -LX_EFAULT;
        for (uint64_t i = 0; i < n; i++)
            if (!strings[*used + i]) {
                *used += i + 1;
                return (int64_t)start;
            }
        *used += n;
        uaddr += n;
    }
}

/* Gather a NULL-terminated pointer array's strings; offsets into strings[] go to offs. */
static int64_t take_vector(struct mproc *mp, uint64_t uvec, uint64_t *offs, uint64_t *used)
{
    int64_t n = 0;
    for (; uvec; n++) {
        uint64_t ptr;
        if (n >= MAX_ARGS)
            return -LX_E2BIG;
        if (sys_vcopy(mp->ep, uvec + (uint64_t)n * 8, SELF, (uint64_t)&ptr, 8) < 0)
            return -LX_EFAULT;
        if (!ptr)
            break;
        int64_t off = take_string(mp, ptr, used);
        if (off < 0)
            return off;
        offs[n] = (uint64_t)off;
    }
    return n;
}

static uint64_t rand_state;

/* Build the initial stack in stack_image (which maps to [top - size, top)); returns rsp. */
static uint64_t build_stack(const uint64_t *argo, int64_t argc, const uint64_t *envo, int64_t envc,
                            uint64_t strings_len, const elf64_ehdr_t *h, uint64_t phdr,
                            uint64_t execfn_off, const struct cred *c, int secure, uint64_t *size)
{
    uint64_t top = STACK_TOP, words = sizeof(stack_image) / 8;
    uint8_t *base = (uint8_t *)stack_image;
    uint64_t limit = sizeof(stack_image);
    /* strings at the very top, then 16 random bytes */
    uint64_t str_at = limit - ((strings_len + 15) & ~15ull);
    memcpy(base + str_at, strings, strings_len);
    uint64_t rnd_at = str_at - 16;
    for (int i = 0; i < 2; i++) {
        rand_state ^= sys_tsc();
        ((uint64_t *)(base + rnd_at))[i] = rand64(&rand_state);
    }
    uint64_t ustr = top - limit + str_at, urnd = top - limit + rnd_at;
    uint64_t auxv[][2] = {
        {3, phdr}, {4, sizeof(elf64_phdr_t)}, {5, h->phnum}, {6, 4096}, {7, 0}, {8, 0},
        {9, h->entry}, {11, c->ruid}, {12, c->euid}, {13, c->rgid}, {14, c->egid}, {16, 0},
        {17, 100}, {23, (uint64_t)secure},
        {25, urnd}, {31, ustr + execfn_off}, {0, 0},
    };
    uint64_t n_aux = sizeof(auxv) / 16;
    uint64_t total = 1 + (uint64_t)argc + 1 + (uint64_t)envc + 1 + 2 * n_aux;
    uint64_t sp_word = (rnd_at / 8 - total) & ~1ull; /* rsp 16-byte aligned at argc */
    (void)words;
    uint64_t *w = stack_image + sp_word;
    *w++ = (uint64_t)argc;
    for (int64_t i = 0; i < argc; i++)
        *w++ = ustr + argo[i];
    *w++ = 0;
    for (int64_t i = 0; i < envc; i++)
        *w++ = ustr + envo[i];
    *w++ = 0;
    memcpy(w, auxv, sizeof(auxv));
    *size = limit - sp_word * 8;
    return top - *size;
}

int64_t exec_image(struct mproc *mp, uint64_t path, uint64_t argv, uint64_t envp, int from_pm)
{
    static uint64_t argo[MAX_ARGS], envo[MAX_ARGS];
    uint64_t used = 0;
    int64_t execfn = take_string(mp, path, &used);
    int64_t argc = execfn < 0 ? execfn : take_vector(mp, argv, argo, &used);
    int64_t envc = argc < 0 ? argc : take_vector(mp, envp, envo, &used);
    if (envc < 0)
        return envc;
    grant_id_t g = grant_alloc(vfs_ep, image, IMAGE_MAX, GRANT_WRITE);
    if (g < 0)
        return -LX_ENOMEM;
    /* the reply: w0 size, w1 mode, w2 uid, w3 gid of the program file */
    message_t file = {.type = VFS_PM_EXEC, .u.w = {(uint64_t)mp->ep, path, (uint64_t)g, IMAGE_MAX}};
    int64_t size = ipc_sendrec(vfs_ep, &file) < 0 ? -LX_EIO : (int64_t)file.u.w[0];
    grant_free(g);
    if (size < 0)
        return size;
    const elf64_ehdr_t *h = (const elf64_ehdr_t *)image;
    if (elf_check(image, (uint64_t)size) < 0)
        return -LX_ENOEXEC;
    const elf64_phdr_t *ph = (const elf64_phdr_t *)(image + h->phoff);
    uint64_t phdr = 0, end = 0;
    for (int i = 0; i < h->phnum; i++)
        if (ph[i].type == ELF_PT_LOAD) {
            if (h->phoff >= ph[i].offset && h->phoff < ph[i].offset + ph[i].filesz)
                phdr = ph[i].vaddr + (h->phoff - ph[i].offset);
            if (ph[i].vaddr + ph[i].memsz > end)
                end = ph[i].vaddr + ph[i].memsz;
        }

    /* The point of no return: from here a failure kills the process. */
    sys_mem_unmap(mp->ep, 0, 0x0000800000000000ull);
    mem_forget(mp);
    int secure;
    int64_t r = cred_exec(mp, file.u.w[1], file.u.w[2], file.u.w[3], &secure);
    for (int i = 0; i < h->phnum && r == 0; i++) {
        if (ph[i].type != ELF_PT_LOAD || !ph[i].memsz)
            continue;
        int prot = PROT_R | (ph[i].flags & ELF_PF_W ? PROT_W : 0) | (ph[i].flags & ELF_PF_X ? PROT_X : 0);
        uint64_t lead = ph[i].vaddr & 4095, len = (lead + ph[i].memsz + 4095) & ~4095ull;
        r = ph[i].offset < lead ? -E_INVAL
                                : sys_mem_map_fill(mp->ep, ph[i].vaddr - lead, len, prot,
                                                   image + ph[i].offset - lead, ph[i].filesz + lead);
    }
    uint64_t stack_size;
    uint64_t sp = build_stack(argo, argc, envo, envc, used, h, phdr, (uint64_t)execfn, &mp->cred,
                              secure, &stack_size);
    if (r == 0)
        r = sys_mem_map(mp->ep, STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_R | PROT_W);
    if (r == 0 && stack_size <= STACK_SIZE)
        r = sys_vcopy(SELF, (uint64_t)stack_image + sizeof(stack_image) - stack_size, mp->ep, sp,
                      stack_size);
    struct user_regs u = {.rsp = sp, .rip = h->entry, .rflags = 0x202};
    if (r == 0 && stack_size <= STACK_SIZE)
        r = sys_proc_regs(mp->ep, REGS_SET, &u);
    if (r < 0 || stack_size > STACK_SIZE) {
        printf("pm: exec of pid %d failed after its old image was gone (%ld): killed\n", mp->pid, r);
        mproc_exit(mp, SIGKILL);
        return SUSPEND;
    }
    mp->brk_start = mp->brk = (end + 4095) & ~4095ull;
    for (int s = 1; s < NSIG; s++)
        if (mp->act[s].handler != SIG_IGN)
            mp->act[s] = (struct k_sigaction){0};
    const char *name = strings + (argc > 0 ? argo[0] : (uint64_t)execfn), *base = name;
    for (const char *c = name; *c; c++)
        if (*c == '/')
            base = c + 1;
    strncpy_s(mp->name, base, sizeof(mp->name));
    static char cmdline[256];
    uint64_t clen = 0;
    for (int64_t i = 0; i < argc && clen < sizeof(cmdline); i++) {
        const char *arg = strings + argo[i];
        size_t n = strlen(arg) + 1;
        if (clen + n > sizeof(cmdline))
            n = sizeof(cmdline) - clen;
        memcpy(cmdline + clen, arg, n);
        clen += n;
    }
    grant_id_t cg = grant_alloc(vfs_ep, cmdline, clen, GRANT_READ);
    vfs_request(VFS_PM_EXEC_DONE, (uint64_t)mp->ep, (uint64_t)cg, clen, (uint64_t)mp->ppid, 0);
    grant_free(cg);
    if (from_pm && sys_proc_start(mp->ep, 0, 0, 0, USER_PRIO) < 0)
        return -LX_EAGAIN;
    return 0;
}

int64_t do_execve(struct mproc *mp, const uint64_t *a) { return exec_image(mp, a[0], a[1], a[2], 0); }
