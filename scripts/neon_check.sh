#!/usr/bin/env bash
# Cross-compiles the GEMV kernels (NEON included) with tests/neon/gemv_neon_check.cpp for
# AArch64 and runs the check under qemu-aarch64 -cpu max (which has dotprod).
# Usage: scripts/neon_check.sh [build-dir (default build-neon)] [seed]. Skips, exit 0, when the
# cross compiler or qemu is missing, unless CI=true.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-build-neon}"
seed="${2:-}"
cxx="${CXX_AARCH64:-aarch64-linux-gnu-g++}"
qemu="${QEMU_AARCH64:-qemu-aarch64}"

for tool in "$cxx" "$qemu"; do
  if ! command -v "$tool" >/dev/null; then
    msg="$tool not found (apt-get install g++-aarch64-linux-gnu qemu-user)"
    if [ "${CI:-}" = "true" ]; then echo "FAIL: $msg" >&2; exit 1; fi
    echo "SKIP: $msg"
    exit 0
  fi
done

mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"
# The warning flags of CMakeLists.txt, so the cross build is as strict as the native one.
flags=(-std=c++20 -O2 -Isrc -Wall -Wextra -Wno-unused-parameter -Wno-psabi -Werror -Wno-error=restrict
       -Wno-error=maybe-uninitialized -Wno-error=array-bounds -Wno-error=stringop-overflow)
srcs=(src/kernels/cpu/gemv.cpp src/kernels/cpu/gemv_generic.cpp src/kernels/cpu/gemv_neon.cpp
      src/kernels/cpu/cpu_features.cpp src/quant/*.cpp tests/neon/gemv_neon_check.cpp)

start=$SECONDS
# Two compiles at a time; each object is named after its path so names cannot collide.
pids=() objs=()
for s in "${srcs[@]}"; do
  o="$out/$(echo "${s%.cpp}" | tr / _).o"
  objs+=("$o")
  extra=()
  [ "$s" = src/kernels/cpu/gemv_neon.cpp ] && extra=(-march=armv8.2-a+dotprod+fp16)
  "$cxx" "${flags[@]}" "${extra[@]}" -c "$s" -o "$o" &
  pids+=($!)
  if ((${#pids[@]} == 2)); then
    wait "${pids[0]}"
    pids=("${pids[1]}")
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
"$cxx" -static -o "$out/gemv_neon_check" "${objs[@]}"
echo "neon_check: built in $((SECONDS - start)) s"

start=$SECONDS
"$qemu" -cpu max "$out/gemv_neon_check" $seed
echo "neon_check: ran in $((SECONDS - start)) s"
