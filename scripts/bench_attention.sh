#!/usr/bin/env bash
# Batched decode attention microbenchmark on the default model's shapes: builds
# scripts/bench_attention.c against the project's C kernels with clang, as the package does (CC
# overrides), and prints best-of-3 times per call.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/bench_attention
"${CC:-clang}" -O3 -fno-math-errno -ISources/CKernels/include -ISources/CKernels -o "$bin" scripts/bench_attention.c Sources/CKernels/*.c \
    $(pkg-config --cflags --libs openblas) -lpthread -lm
"$bin" 64 48 200     # a 64-sequence decode step early in the answers
"$bin" 64 200 50     # ... and with longer contexts
"$bin" 1 512 500     # one sequence, long context
