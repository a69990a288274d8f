/*
 * The kernel-call list (KCALLS in samsara/kcall.h) and its wrappers in
 * lib/sys/sys.h match both ways. sys.h makes the ipc_ and sys_ wrappers from
 * the list, so what can go wrong is what is written there by hand: a line
 * marked own must have its function in sys.h (the compiler then checks its
 * type), and every other ipc_/sys_ function written by hand must be a longer
 * form of one call's wrapper: named after it (ipc_receive_nb after
 * ipc_receive) and calling the same KC_ number. A wrapper of a call that
 * left the list, or of none, fails here.
 */
#include <samsara/kcall.h>
#include <ctype.h>
#include <string.h>
#include "check.h"

struct call {
    const char *kind; /* ipc, sys (made by sys.h) or own (by hand) */
    const char *name; /* as manifests name it */
    const char *number;
};
#define CALL(NAME, name, kind, ...) {#kind, #name, "KC_" #NAME},
static const struct call calls[] = {KCALLS(CALL){0}};
#undef CALL

/* The wrapper's name: ipc_NAME, or sys_NAME for sys and own. */
static void wrapper_name(const struct call *c, char *out, size_t size)
{
    snprintf(out, size, "%s_%s", strcmp(c->kind, "ipc") ? "sys" : "ipc", c->name);
}

/* The functions text declares by hand: lines starting in column 0 outside a macro whose first
 * identifier followed by '(' is ipc_... or sys_...; each with the text up to its end. */
struct hand {
    char name[64];
    const char *body, *end;
};
#define MAX_HAND 32

static int hand_written(const char *text, struct hand *out)
{
    int n = 0, continued = 0;
    for (const char *l = text, *eol; (eol = strchr(l, '\n')); l = eol + 1) {
        int in_macro = continued || *l == '#';
        continued = eol > l && eol[-1] == '\\';
        const char *p = memchr(l, '(', (size_t)(eol - l)), *id = p;
        if (in_macro || !(isalpha((unsigned char)*l) || *l == '_') || !p)
            continue;
        while (id > l && (isalnum((unsigned char)id[-1]) || id[-1] == '_'))
            id--;
        if (p - id >= 64 || (strncmp(id, "sys_", 4) && strncmp(id, "ipc_", 4)))
            continue;
        if (n == MAX_HAND)
            return -1;
        memcpy(out[n].name, id, (size_t)(p - id));
        out[n].name[p - id] = 0;
        /* a declaration ends at its ';', a definition at the '}' that closes it */
        const char *semi = strchr(p, ';'), *open = strchr(p, '{');
        out[n].body = p;
        out[n].end = semi && (!open || semi < open) ? semi : strstr(p, "\n}");
        if (!out[n].end)
            out[n].end = p + strlen(p);
        n++;
    }
    return n;
}

/* 0 if text's hand-written wrappers and the list match; otherwise prints why and returns -1. */
static int match(const char *text)
{
    struct hand hand[MAX_HAND];
    int n = hand_written(text, hand), bad = n < 0;
    char want[64];
    for (const struct call *c = calls; c->kind && n >= 0; c++) {
        wrapper_name(c, want, sizeof(want));
        int found = 0;
        for (int i = 0; i < n; i++)
            found |= !strcmp(hand[i].name, want);
        if (found != !strcmp(c->kind, "own")) {
            printf("  %s: %s %s\n", want,
                   found ? "written by hand, but its line says" : "missing; its line says",
                   c->kind);
            bad = 1;
        }
    }
    for (int i = 0; i < n; i++) {
        int ok = 0;
        for (const struct call *c = calls; c->kind && !ok; c++) {
            wrapper_name(c, want, sizeof(want));
            size_t wl = strlen(want), nl = strlen(c->number);
            if (!strcmp(c->kind, "own"))
                ok = !strcmp(hand[i].name, want);
            else if (!strncmp(hand[i].name, want, wl) && hand[i].name[wl] == '_')
                for (const char *k = hand[i].body;
                     !ok && (k = strstr(k, c->number)) && k < hand[i].end; k += nl)
                    ok = !(isalnum((unsigned char)k[nl]) || k[nl] == '_');
        }
        if (!ok) {
            printf("  %s: written by hand, but no line of KCALLS is its call\n", hand[i].name);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static void list_is_well_formed(void)
{
    CHECK(sizeof(calls) / sizeof(calls[0]) == NR_KCALLS + 1);
    for (int i = 0; i < NR_KCALLS; i++) {
        const char *k = calls[i].kind;
        CHECK(!strcmp(k, "ipc") || !strcmp(k, "sys") || !strcmp(k, "own"));
        CHECK(!strcmp(k, "ipc") == ((KC_BIT(i) & KC_IPC_MASK) != 0)); /* ipc_ = IPC */
        for (int j = 0; j < i; j++)
            CHECK(strcmp(calls[i].name, calls[j].name));
    }
}

static void sys_h_matches_the_list(void)
{
    size_t len;
    char *text = host_read_file("lib/sys/sys.h", &len);
    CHECK(text != NULL);
    if (!text)
        return;
    CHECK(strstr(text, "KCALLS(KC_WRAPPER)") != NULL); /* the made wrappers */
    CHECK(match(text) == 0);
    free(text);
}

/* The checker itself refuses what it should. */
static void mismatches_are_found(void)
{
    const char *own = "_Noreturn void sys_exit(int code);\n";
    const char *ok = "_Noreturn void sys_exit(int code);\n"
                     "static inline int ipc_receive_nb(endpoint_t s, message_t *m)\n"
                     "{\n    return (int)kcall3(KC_RECEIVE, s, m, 1);\n}\n";
    CHECK(match(own) == 0 && match(ok) == 0);
    printf("  (the refusals below are expected)\n");
    CHECK(match("") < 0); /* sys_exit missing */
    CHECK(match("_Noreturn void sys_exit(int code);\nint sys_frob(void);\n") < 0);
    CHECK(match("_Noreturn void sys_exit(int code);\n" /* the right name, another number */
                "static inline int ipc_receive_nb(endpoint_t s)\n"
                "{\n    return (int)kcall3(KC_SENDREC, s, 0, 1);\n}\n") < 0);
    CHECK(match("_Noreturn void sys_exit(int code);\n" /* hand-written where it is made */
                "static inline uint64_t sys_uptime(void)\n{\n    return kcall0(KC_UPTIME);\n}\n") <
          0);
}

int main(void)
{
    static const struct host_test tests[] = {
        {"list_is_well_formed", list_is_well_formed},
        {"sys_h_matches_the_list", sys_h_matches_the_list},
        {"mismatches_are_found", mismatches_are_found},
        {0},
    };
    return run_host_tests(tests);
}
