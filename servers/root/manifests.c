/*
 * The manifests rs starts services by. They arrive in the boot data module
 * "manifests" (a bundle of every *.conf file, made by
 * tools/pack-manifests.sh); rs parses them all at start. A manifest with an
 * error is reported with its file and line and its service is not started;
 * the others are. A boot module without a manifest is not started either:
 * nothing runs with more than its manifest grants (rs itself aside).
 */
#include "manifest/manifest.h"
#include "root.h"

#define MAX_MANIFESTS 64

static struct manifest manifests[MAX_MANIFESTS];
static int nr_manifests;
static char broken[MAX_MANIFESTS][MANIFEST_LABEL_MAX]; /* labels whose manifest has errors */
static int nr_broken;

/* Parse the bundle in the data module called "manifests"; the number read. */
int manifests_load(const struct bootinfo *boot)
{
    const struct boot_module *mod = 0;
    for (uint32_t i = 0; i < boot->nr_modules; i++)
        if (!strcmp(boot->mod[i].name, "manifests"))
            mod = &boot->mod[i];
    if (!mod) {
        printf("rs: no \"manifests\" boot module: no service can be started\n");
        return 0;
    }
    const char *cursor = (const char *)mod->vaddr, *end = cursor + mod->size, *file, *text;
    uint64_t file_len, text_len;
    int r;
    while ((r = manifest_bundle_next(&cursor, end, &file, &file_len, &text, &text_len)) == 1) {
        char path[96], err[160];
        uint64_t n = file_len < sizeof(path) - 1 ? file_len : sizeof(path) - 1;
        memcpy(path, file, n);
        path[n] = '\0';
        if (nr_manifests == MAX_MANIFESTS) {
            printf("rs: %s: too many manifests (at most %d)\n", path, MAX_MANIFESTS);
            break;
        }
        struct manifest *m = &manifests[nr_manifests];
        if (manifest_parse(text, text_len, path, m, err, sizeof(err)) == 0) {
            nr_manifests++;
            continue;
        }
        printf("rs: %s\n", err);
        const char *base = path, *dot = 0;
        for (const char *c = path; *c; c++) {
            if (*c == '/')
                base = c + 1;
            if (*c == '.')
                dot = c;
        }
        if (nr_broken < MAX_MANIFESTS) {
            uint64_t len = dot > base ? (uint64_t)(dot - base) : strlen(base);
            len = len < MANIFEST_LABEL_MAX - 1 ? len : MANIFEST_LABEL_MAX - 1;
            memcpy(broken[nr_broken], base, len);
            broken[nr_broken++][len] = '\0';
        }
    }
    if (r < 0)
        printf("rs: the manifests module is damaged after %d manifests\n", nr_manifests);
    return nr_manifests;
}

/* The manifest of a label; 0 (and a message for a broken one) if there is none. */
const struct manifest *manifest_for(const char *label)
{
    for (int i = 0; i < nr_manifests; i++)
        if (!strcmp(manifests[i].label, label))
            return &manifests[i];
    return 0;
}

int manifest_broken(const char *label)
{
    for (int i = 0; i < nr_broken; i++)
        if (!strcmp(broken[i], label))
            return 1;
    return 0;
}

/*
 * Does manifest m name the service of manifest t under `ipc`: by its label,
 * or as one of `drivers` when t has a `dev` key? (`ipc all` names no one.)
 * Such a service may send to t's service and complain about it.
 */
int manifest_names(const struct manifest *m, const struct manifest *t)
{
    for (int i = 0; m && t && i < m->nr_ipc; i++)
        if (!strcmp(m->ipc[i], t->label) ||
            (!strcmp(m->ipc[i], MANIFEST_IPC_DRIVERS) && t->nr_devs > 0))
            return 1;
    return 0;
}

static void allow(struct priv *v, endpoint_t ep)
{
    if (ep > 0)
        v->ipc_to[EP_SLOT(ep) / 64] |= 1ull << (EP_SLOT(ep) % 64);
}

/*
 * The kernel's privilege structure for m, started by `parent`: its named IPC
 * targets are the slots they run in now (`parent`: the process that spawned
 * it; `rs`: rs itself; `drivers`: every service with a `dev` key). Services
 * that start later are added by grant_dependents (root.c).
 */
void manifest_to_priv(const struct manifest *m, struct priv *v, endpoint_t parent)
{
    manifest_priv(m, v);
    for (int i = 0; i < m->nr_ipc; i++)
        allow(v, !strcmp(m->ipc[i], MANIFEST_IPC_PARENT) ? parent
                 : !strcmp(m->ipc[i], MANIFEST_IPC_RS)   ? ROOT_EP
                                                         : service_lookup(m->ipc[i]));
    for (int j = 0; j < nr_manifests; j++)
        if (manifests[j].nr_devs > 0 && manifest_names(m, &manifests[j]))
            allow(v, service_lookup(manifests[j].label));
}
