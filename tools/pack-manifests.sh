#!/bin/sh
# tools/pack-manifests.sh OUT FILE...: pack service manifests into one bundle
# (a boot data module for rs). For each FILE, in the order given: a header
# line "@manifest PATH LENGTH" (PATH as given, LENGTH its size in bytes,
# decimal), then exactly LENGTH bytes of the file, then the next header.
# Format: docs/MANIFESTS.md; reader: manifest_bundle_next() in lib/manifest.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 OUT FILE..." >&2
    exit 2
fi
out=$1
shift

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
: > "$tmp"
for f in "$@"; do
    case $f in
    '' | *[[:space:]]*)
        echo "$0: '$f': a path in the bundle may not be empty or contain white space" >&2
        exit 1
        ;;
    esac
    if [ ! -f "$f" ]; then
        echo "$0: $f: no such file" >&2
        exit 1
    fi
    n=$(wc -c < "$f" | tr -d ' \t')
    printf '@manifest %s %s\n' "$f" "$n" >> "$tmp"
    before=$(wc -c < "$tmp" | tr -d ' \t')
    cat "$f" >> "$tmp"
    if [ $(($(wc -c < "$tmp" | tr -d ' \t') - before)) -ne "$n" ]; then
        echo "$0: $f changed while being packed" >&2
        exit 1
    fi
done
mv "$tmp" "$out"
