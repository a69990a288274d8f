#!/bin/sh
# Count the kernel's non-blank, non-comment lines (C, assembly, headers
# and linker script under kernel/, plus lib/format, lib/elf and lib/mem, which are
# linked into the kernel) and fail if they exceed the 4,000-line budget.
cd "$(dirname "$0")/.." || exit 1
BUDGET=4000
files=$(find kernel -name '*.[chS]' -o -name '*.ld' | sort; echo lib/format/format.c lib/format/format.h lib/elf/elf.c lib/elf/elf.h lib/mem/mem.c)
count() {
    # drop /* ... */ blocks and // comments, then blank lines
    sed -e ':a' -e '/\/\*/{ /\*\//!{N;ba' -e '}' -e 's:/\*.*\*/::' -e '}' "$@" |
        sed -e 's://.*$::' | grep -cv '^[[:space:]]*$'
}
total=0
for f in $files; do
    n=$(count "$f")
    printf '%6d  %s\n' "$n" "$f"
    total=$((total + n))
done
printf '%6d  total (budget %d)\n' "$total" "$BUDGET"
[ "$total" -le "$BUDGET" ] || { echo "kernel over budget"; exit 1; }
