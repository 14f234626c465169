#!/usr/bin/env bash
# Compiles the hot CUDA kernels (fused GEMV per layout family, attention) for sm_90 with
# -Xptxas -v and fails if any kernel spills registers or keeps a stack frame (local memory).
# Usage: scripts/cuda_spill_check.sh [nvcc]   (ctest cuda_no_spills in CUDA builds)
set -euo pipefail
cd "$(dirname "$0")/.."
nvcc=${1:-nvcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for f in src/kernels/cuda/gemv_*.cu src/kernels/cuda/attention.cu; do
  "$nvcc" -std=c++20 -O3 -Isrc -arch=sm_90 -Xptxas -v -c "$f" -o "$tmp/k.o" > "$tmp/log" 2>&1 || {
    cat "$tmp/log"
    exit 1
  }
  # ptxas prints "Compiling entry function 'NAME'" then "N bytes stack frame, N bytes spill stores, ...".
  bad=$(awk "/Compiling entry function/ {fn=\$(NF-2)} /bytes stack frame/ && !/^ *0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads/ {print fn \": \" \$0}" "$tmp/log")
  kernels=$(grep -c "Compiling entry function" "$tmp/log" || true)
  if [ -n "$bad" ]; then
    echo "$f: local memory or spills:"
    echo "$bad"
    status=1
  else
    echo "$f: $kernels kernels, no stack frame, no spills"
  fi
done
exit $status
