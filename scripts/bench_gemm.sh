#!/usr/bin/env bash
# Batch GEMM microbenchmark (OpenBLAS, float panel, integer panel) on the default model's shapes:
# builds scripts/bench_gemm.c against the project's C kernels with clang, as the package does (CC
# overrides), and prints best-of-3 times per call.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/bench_gemm
"${CC:-clang}" -O3 -fno-math-errno -ISources/CKernels/include -ISources/CKernels -o "$bin" scripts/bench_gemm.c Sources/CKernels/*.c \
    $(pkg-config --cflags --libs openblas) -lpthread -lm
"$bin" 1536 576 64 30     # gate/up projection, a 64-sequence decode step
"$bin" 576 1536 64 30     # down projection
"$bin" 49152 576 64 3     # output layer
"$bin" 1536 576 512 5     # gate/up, a 512-token prompt
"$bin" 576 1536 512 5
