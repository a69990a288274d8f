/*
 * The manifest parser: text (docs/MANIFESTS.md) to struct manifest
 * (include/samsara/manifest.h), and the walker of the manifest bundle that
 * tools/pack-manifests.sh writes. Pure freestanding code: no allocation, no
 * libc, no lib/sys; built into user programs and into the host unit test
 * (tests/host/test_manifest.c).
 */
#ifndef LIB_MANIFEST_H
#define LIB_MANIFEST_H

#include <stdint.h>
#include <samsara/manifest.h>

/*
 * Parse one manifest: `len` bytes at `text` (need not be NUL-terminated; a
 * NUL byte in it is an error). `file` (NUL-terminated, may be 0) names it in
 * messages. Returns 0 with *out filled (defaults for what the text leaves
 * out), or -1 with err = "FILE:LINE: message" (NUL-terminated, truncated to
 * errlen; err may be 0 or errlen 0) and *out in an unspecified state.
 * `ipc` labels are only checked for form; rs resolves them.
 */
int manifest_parse(const char *text, uint64_t len, const char *file, struct manifest *out,
                   char *err, uint64_t errlen);

/*
 * Walk a bundle: "@manifest PATH LENGTH\n" then LENGTH bytes, repeated.
 * *cursor starts at the bundle's first byte; `end` is one past its last.
 * Returns 1 with the entry's path (*file, *file_len; not NUL-terminated)
 * and contents (*text, *text_len) and *cursor moved past it; 0 when *cursor
 * == end; -1 if the bundle is malformed there (*cursor unchanged).
 */
int manifest_bundle_next(const char **cursor, const char *end, const char **file,
                         uint64_t *file_len, const char **text, uint64_t *text_len);

/*
 * The next manifest of a bundle, parsed (manifest_bundle_next, then
 * manifest_parse): its path in path (NUL-terminated, truncated to fit
 * path_len bytes), and 1 with *out filled, or 2 if it does not parse (err
 * as manifest_parse gives it); 0 at the end; -1 if the bundle is malformed.
 */
int manifest_bundle_parse(const char **cursor, const char *end, char *path, uint64_t path_len,
                          struct manifest *out, char *err, uint64_t errlen);

/*
 * The struct priv for a parsed manifest: flags, kernel calls, IRQs, port
 * and memory ranges, max_pages. ipc_to is left empty: only rs knows which
 * slots the `ipc` labels are running in.
 */
void manifest_priv(const struct manifest *m, struct priv *v);

/* The manifest name of kernel call n ("log", "proc_create", ...), or 0. */
const char *manifest_kcall_name(int n);

#endif
