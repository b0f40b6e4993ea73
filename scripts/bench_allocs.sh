#!/usr/bin/env bash
# Heap allocations per generated token in steady state: counts every allocation of a whole
# `scalellm generate` run (LD_PRELOAD counter) at two lengths and divides the difference by the
# extra tokens, so start-up and the prompt cancel out. Prints the figure.
set -euo pipefail
cd "$(dirname "$0")/.."
lib=$(mktemp -d)/libcountallocs.so
gcc -shared -fPIC -O2 -o "$lib" scripts/count_allocs.c
run() {
    LD_PRELOAD="$lib" .build/release/scalellm generate --prompt "Once upon a time" --max-tokens "$1" --ignore-eos \
        --threads "${THREADS:-2}" 2>&1 >/dev/null | sed -n 's/^allocations: //p'
}
short=$(run 64)
long=$(run 320)
echo "allocations: ${short} for 64 tokens, ${long} for 320 tokens"
echo "per generated token (steady state): $(( (long - short) / 256 ))"
