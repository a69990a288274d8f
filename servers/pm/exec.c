/*
 * execve of static ELF64 programs. pm gathers the path, argv and envp from
 * the old image (ARG_MAX bytes at most, counting 8 for each pointer), has
 * vfs copy the program file into its buffer, checks the program
 * (elf_check, then pm's own rules), lays out the new stack and asks
 * mem_admit for the memory, all while a failure can still return to the
 * caller. Then, past the point of no return, it sets the new ids (a
 * set-user-id or set-group-id program changes the effective ids:
 * cred_exec), empties the address space, maps the segments and a stack
 * laid out as the Linux x86-64 ABI says (argc, argv, envp, auxv with
 * AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, the ids, AT_SECURE,
 * AT_RANDOM, AT_SYSINFO_EHDR: the vDSO clock.c maps, ...), and sets the registers.
 */
#include "elf/elf.h"
#include "pm.h"

#define ARG_MAX (128 * 1024) /* path + argv + envp strings with their NULs, + 8 per pointer */
#define IMAGE_MAX (8u << 20)
#define AUXV_PAIRS 18
#define MAX_SCRIPTS 5 /* #! files in a chain (Linux: exec_binprm's depth) */

static uint8_t image[IMAGE_MAX]
    __attribute__((aligned(4096))); /* whole pages: shared, not copied */
static char strings[ARG_MAX];
static uint64_t argo[ARG_MAX / 8], envo[ARG_MAX / 8]; /* offsets into strings[] */
/* The top of the new stack, [STACK_TOP - sizeof, STACK_TOP): what ARG_MAX allows and more. */
static uint64_t stack_image[(ARG_MAX + 4096) / 8];

/* What exec has gathered: string bytes used, and bytes of ARG_MAX left. */
struct gathered {
    uint64_t used, left;
};

/* Copy a NUL-terminated string from the process into strings[]: its offset, or -errno. */
static int64_t take_string(struct mproc *mp, uint64_t uaddr, struct gathered *g)
{
    uint64_t start = g->used;
    for (;;) {
        uint64_t n = 4096 - (uaddr & 4095);
        n = n < g->left ? n : g->left;
        if (!n)
            return -LX_E2BIG;
        if (sys_vcopy(mp->ep, uaddr, SELF, (uint64_t)strings + g->used, n) < 0)
            return -LX_EFAULT;
        for (uint64_t i = 0; i < n; i++)
            if (!strings[g->used + i]) {
                g->used += i + 1;
                g->left -= i + 1;
                return (int64_t)start;
            }
        g->used += n;
        g->left -= n;
        uaddr += n;
    }
}

/* Gather a NULL-terminated pointer array's strings (offsets to offs): their number, or -errno. */
static int64_t take_vector(struct mproc *mp, uint64_t uvec, uint64_t *offs, struct gathered *g)
{
    int64_t n = 0;
    for (; uvec; n++) {
        uint64_t ptr;
        if (sys_vcopy(mp->ep, uvec + (uint64_t)n * 8, SELF, (uint64_t)&ptr, 8) < 0)
            return -LX_EFAULT;
        if (!ptr)
            break;
        if (g->left < 8)
            return -LX_E2BIG;
        g->left -= 8; /* the pointer on the new stack */
        int64_t off = take_string(mp, ptr, g);
        if (off < 0)
            return off;
        offs[n] = (uint64_t)off;
    }
    return n;
}

static uint64_t rand_state;

/*
 * The new stack's top, in stack_image, which stands for
 * [STACK_TOP - sizeof(stack_image), STACK_TOP): the strings at the very
 * top, 16 random bytes below them, then at a 16-byte-aligned rsp argc,
 * argv, NULL, envp, NULL and the auxv. ARG_MAX bounds the strings and
 * pointers, so it all fits in stack_image; stack_sp checks it anyway.
 */
static uint64_t stack_strings(uint64_t strings_len)
{
    return (STACK_TOP - strings_len) & ~15ull;
}

/* rsp for the layout, or 0 if it would not fit in stack_image. */
static uint64_t stack_sp(int64_t argc, int64_t envc, uint64_t strings_len)
{
    uint64_t low = STACK_TOP - sizeof(stack_image), urnd = stack_strings(strings_len) - 16;
    uint64_t words = 1 + (uint64_t)argc + 1 + (uint64_t)envc + 1 + 2 * AUXV_PAIRS;
    if (strings_len > ARG_MAX || urnd - low < words * 8 + 16)
        return 0;
    return (urnd - words * 8) & ~15ull;
}

static void build_stack(uint64_t sp, int64_t argc, int64_t envc, uint64_t strings_len,
                        const elf64_ehdr_t *h, uint64_t phdr, uint64_t execfn_off,
                        const struct cred *c, int secure, uint64_t vdso)
{
    uint64_t low = STACK_TOP - sizeof(stack_image);
    uint64_t ustr = stack_strings(strings_len), urnd = ustr - 16;
    uint8_t *at = (uint8_t *)stack_image; /* at + (a - low) holds user address a */
    memcpy(at + (ustr - low), strings, strings_len);
    for (int i = 0; i < 2; i++) {
        rand_state ^= sys_tsc();
        uint64_t r = rand64(&rand_state);
        memcpy(at + (urnd - low) + 8 * i, &r, 8);
    }
    uint64_t auxv[AUXV_PAIRS][2] = {
        {3, phdr},     {4, sizeof(elf64_phdr_t)},
        {5, h->phnum}, {6, 4096},
        {7, 0},        {8, 0},
        {9, h->entry}, {11, c->ruid},
        {12, c->euid}, {13, c->rgid},
        {14, c->egid}, {16, 0},
        {17, 100},     {23, (uint64_t)secure},
        {25, urnd},    {31, ustr + execfn_off},
        {33, vdso}, /* AT_SYSINFO_EHDR (0: none) */
        {0, 0},
    };
    uint64_t *w = (uint64_t *)(at + (sp - low));
    *w++ = (uint64_t)argc;
    for (int64_t i = 0; i < argc; i++)
        *w++ = ustr + argo[i];
    *w++ = 0;
    for (int64_t i = 0; i < envc; i++)
        *w++ = ustr + envo[i];
    *w++ = 0;
    memcpy(w, auxv, sizeof(auxv));
}

/* A segment's pages: the file's part filled (whole pages shared with image[], copy-on-write, by
 * the kernel), the bss past it demand-zero. */
static int map_segment(void *arg, const struct elf_segment *s)
{
    struct mproc *mp = arg;
    uint64_t filled = (s->data_len + PAGE - 1) & ~(PAGE - 1); /* data_len <= len: elf_check */
    int r = filled ? sys_mem_map_fill(mp->ep, s->addr, filled, s->prot, s->data, s->data_len) : 0;
    if (r == 0 && filled < s->len)
        r = sys_mem_map(mp->ep, s->addr + filled, s->len - filled, s->prot | MEM_LAZY);
    if (r == 0)
        mem_exec_segment(mp, s->addr, s->len, s->prot);
    return r;
}

/* Past the point of no return: the segments, the stack and the registers. */
static int64_t load_image(struct mproc *mp, const elf64_ehdr_t *h, uint64_t sp, uint64_t stack_len)
{
    int64_t r = elf_segments(image, map_segment, mp);
    if (r == 0)
        r = mem_exec_stack(mp, stack_len);
    uint64_t low = STACK_TOP - sizeof(stack_image);
    if (r == 0)
        r = sys_vcopy(SELF, (uint64_t)stack_image + (sp - low), mp->ep, sp, STACK_TOP - sp);
    struct user_regs u = {.rsp = sp, .rip = h->entry, .rflags = 0x202};
    return r == 0 ? sys_proc_regs(mp->ep, REGS_SET, &u) : r;
}

/*
 * Have vfs copy the file at strings[path] (resolved as mp sees it) into
 * image[]: its size, or -errno. *file gets vfs's reply (mode, uid, gid).
 * vfs skips the copy if image[] holds that file unchanged (its server, inode
 * number and data version: `held`, from vfs's last reply).
 */
static int64_t read_file(struct mproc *mp, uint64_t path, message_t *file)
{
    static struct msg_vfs_pm_exec_reply held; /* version 0: nothing known */
    uint64_t path_len = strlen(strings + path) + 1;
    grant_id_t gr = grant_alloc(vfs_ep, image, IMAGE_MAX, GRANT_WRITE);
    grant_id_t gp = grant_alloc(vfs_ep, strings + path, path_len, GRANT_READ);
    int64_t size = -LX_ENOMEM;
    *file = (message_t){.type = VFS_PM_EXEC,
                        .u.vfs_pm.exec = {.ep = mp->ep,
                                          .grant = gr,
                                          .path_grant = gp,
                                          .path_len = path_len,
                                          .len = IMAGE_MAX,
                                          .have_fs = held.fs,
                                          .have_ino = held.ino,
                                          .have_version = held.version}};
    if (gr >= 0 && gp >= 0)
        size = ipc_sendrec(vfs_ep, file) < 0 ? -LX_EIO : file->u.vfs_pm.exec_reply.result;
    grant_free(gr);
    grant_free(gp);
    /* a failed copy may have changed image[] in part */
    held = size >= 0 && size <= IMAGE_MAX ? file->u.vfs_pm.exec_reply
                                          : (struct msg_vfs_pm_exec_reply){0};
    return size > IMAGE_MAX ? -LX_EIO : size; /* vfs says more than the grant holds */
}

/* A string of pm's own (a #! line's word) appended to strings[]: its offset, or -E2BIG. */
static int64_t add_string(const char *s, struct gathered *g)
{
    uint64_t n = strlen(s) + 1;
    if (g->left < n + 8) /* with its pointer on the new stack */
        return -LX_E2BIG;
    memcpy(strings + g->used, s, n);
    g->used += n;
    g->left -= n + 8;
    return (int64_t)(g->used - n);
}

static int spacetab(char c)
{
    return c == ' ' || c == '\t';
}

/* The first character in [c, end) that is not a space or tab, or 0. */
static char *skip_spacetab(char *c, const char *end)
{
    for (; c < end; c++)
        if (!spacetab(*c))
            return c;
    return 0;
}

/* The first space, tab or NUL in [c, end), or 0. */
static char *find_separator(char *c, const char *end)
{
    for (; c < end; c++)
        if (!*c || spacetab(*c))
            return c;
    return 0;
}

/*
 * A #! file of `size` bytes in image[] (Linux's fs/binfmt_script.c rules):
 * the line's first SCRIPT_LINE bytes name an interpreter and, after spaces
 * or tabs, one optional argument (the rest of the line, trailing spaces and
 * tabs dropped). argv becomes: interpreter, [argument], the file's path
 * (strings[*path]), argv[1..]. *path becomes the interpreter's. ENOEXEC for
 * a line with no interpreter, or one whose name may be cut off.
 */
#define SCRIPT_LINE 256 /* Linux's BINPRM_BUF_SIZE */
static int64_t script_args(uint64_t size, uint64_t *path, int64_t *argc, struct gathered *g)
{
    char line[SCRIPT_LINE] = {0}, *last = line + SCRIPT_LINE - 1;
    memcpy(line, image, size < SCRIPT_LINE ? size : SCRIPT_LINE);
    char *end = line;
    while (end < line + SCRIPT_LINE && *end && *end != '\n')
        end++;
    if (end == line + SCRIPT_LINE || *end != '\n') { /* no end of line in the buffer */
        char *name = skip_spacetab(line + 2, line + SCRIPT_LINE);
        if (!name || !find_separator(name, line + SCRIPT_LINE))
            return -LX_ENOEXEC; /* only blanks, or a name that may go on past the buffer */
        end = last;
    }
    while (spacetab(end[-1]))
        end--;
    *end = '\0';
    char *name = skip_spacetab(line + 2, end), *sep, *arg = 0;
    if (!name || name == end)
        return -LX_ENOEXEC;
    if ((sep = find_separator(name, end)) && *sep) {
        arg = skip_spacetab(sep, end);
        *sep = '\0';
    }
    int64_t name_off = add_string(name, g), arg_off = arg ? add_string(arg, g) : 0;
    if (name_off < 0 || arg_off < 0 || (*argc == 0 && g->left < 8))
        return -LX_E2BIG;
    if (*argc == 0)
        g->left -= 8; /* the path's pointer is new; otherwise it takes argv[0]'s place */
    int64_t keep = *argc > 0 ? *argc - 1 : 0, front = arg ? 3 : 2;
    for (int64_t i = keep; i > 0; i--) /* argv[1..] move up, from the last */
        argo[front - 1 + i] = argo[i];
    argo[0] = (uint64_t)name_off;
    if (arg)
        argo[1] = (uint64_t)arg_off;
    argo[front - 1] = *path;
    *argc = front + keep;
    *path = (uint64_t)name_off;
    return 0;
}

int64_t exec_image(struct mproc *mp, uint64_t path, uint64_t argv, uint64_t envp, int from_pm)
{
    struct gathered g = {0, ARG_MAX - 16}; /* the two NULL pointers */
    int64_t execfn = take_string(mp, path, &g);
    int64_t argc = execfn < 0 ? execfn : take_vector(mp, argv, argo, &g);
    int64_t envc = argc < 0 ? argc : take_vector(mp, envp, envo, &g);
    if (envc < 0)
        return envc;
    message_t file; /* vfs's reply: the size, mode, uid and gid of the program file */
    const struct msg_vfs_pm_exec_reply *attrs = &file.u.vfs_pm.exec_reply;
    uint64_t file_path = (uint64_t)execfn;
    int64_t size = read_file(mp, file_path, &file);
    /* #! files, each naming the next: five at most (Linux's depth), else ELOOP */
    for (int scripts = 0; size >= 2 && image[0] == '#' && image[1] == '!';) {
        int64_t r = script_args((uint64_t)size, &file_path, &argc, &g);
        if (r < 0)
            return r;
        size = read_file(mp, file_path, &file);
        if (size >= 0 && ++scripts > MAX_SCRIPTS)
            return -LX_ELOOP;
    }
    if (size < 0)
        return size;
    const elf64_ehdr_t *h = (const elf64_ehdr_t *)image;
    uint64_t sp = stack_sp(argc, envc, g.used);
    struct elf_layout at;
    if (!sp)
        return -LX_E2BIG;
    if (elf_check(image, (uint64_t)size) < 0)
        return -LX_ENOEXEC;
    elf_layout(image, &at);
    uint64_t stack_len; /* RLIMIT_STACK's, with room for the arguments */
    if (mem_exec_layout(leader_of(mp), at.pages, STACK_TOP - sp, &stack_len) < 0)
        return -LX_ENOMEM;
    /* pm's rule beyond elf_check: from MIN_MAP_ADDR, below the stack */
    if (at.low < MIN_MAP_ADDR || at.end > STACK_TOP - stack_len)
        return -LX_ENOEXEC;

    /* The point of no return: from here a failure kills the process, and its other threads go;
     * the caller becomes its main thread */
    mp = thread_takeover(mp);
    sys_mem_unmap(mp->ep, 0, 0x0000800000000000ull);
    mem_forget(mp);
    sysv_tell(SYSV_EXEC, mp); /* its shared-memory attachments went with the unmap */
    int secure;
    int64_t r = cred_exec(mp, attrs->mode, attrs->uid, attrs->gid, &secure);
    if (r == 0) {
        uint64_t vdso = clock_map(mp, at.low, at.end);
        build_stack(sp, argc, envc, g.used, h, at.phdr, (uint64_t)execfn, &mp->cred, secure, vdso);
        r = load_image(mp, h, sp, stack_len);
    }
    if (r < 0) {
        printf("pm: exec of pid %d failed after its old image was gone (%ld): killed\n", mp->pid,
               r);
        mproc_exit(mp, SIGKILL);
        return SUSPEND;
    }
    mp->brk_start = mp->brk = at.end;
    for (int s = 1; s < NSIG; s++)
        if (mp->act[s].handler != SIG_IGN)
            mp->act[s] = (struct k_sigaction){0};
    mp->ss_sp = mp->ss_size = mp->ss_flags = 0;        /* no alternate signal stack (Linux) */
    const char *name = strings + execfn, *base = name; /* the path given, as Linux names it */
    for (const char *c = name; *c; c++)
        if (*c == '/')
            base = c + 1;
    strncpy_s(mp->name, base, sizeof(mp->name));
    sys_proc_name(mp->ep, mp->name); /* the kernel's log lines name the program */
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
    message_t done = {
        .type = VFS_PM_EXEC_DONE,
        .u.vfs_pm.exec_done = {.ep = mp->ep, .grant = cg, .len = clen, .ppid = mp->ppid}};
    memcpy(done.u.vfs_pm.exec_done.name, mp->name, sizeof(mp->name));
    vfs_request(&done, 0);
    grant_free(cg);
    vfork_release(mp); /* a parent waiting in vfork goes on */
    if (from_pm && sys_proc_start(mp->ep, 0, 0, 0, USER_PRIO) < 0)
        return -LX_EAGAIN;
    return 0;
}

int64_t do_execve(struct mproc *mp, const uint64_t *a)
{
    struct mproc *g = leader_of(mp);
    int64_t r = exec_image(mp, a[0], a[1], a[2], 0);
    if (mp->state == M_ALIVE || r == SUSPEND)
        return r;
    /* a thread other than the main one became it (thread_takeover): its entry is gone, so
     * handle_call cannot answer; the process's entry does */
    reply_to(g, r);
    signal_check(g);
    return SUSPEND;
}
