#!/usr/bin/env bash
# The GPU run in one call: CUDA build and tests, random-weight models pressed into every codec,
# `bench kernels` and `bench` on the device, HF fp16 decode speed and HF agreement; writes
# docs/results/gpu-<card>.md and its JSON under docs/results/gpu-<card>/ (bench/gpu_table.py).
#
#   bench/gpu.sh [STEP...]   STEP: build test card models agree kernels bench table, or all (default)
#
# The device machine may lack the Debian -dev packages the build needs. Then build here and
# carry the binaries: `bench/gpu.sh build bundle` writes build-gpu-bundle/ (the CLI, the test
# binary and their non-system libraries, a few MB); name it in the run's carry and use
# `BUILD_DIR=build-gpu-bundle bench/gpu.sh test card models agree kernels bench table` there.
# cuBLAS then comes from the machine's CUDA toolkit or its pip nvidia-cublas package.
#
# Every step can be run alone and skips what already exists (models, pressed files, JSON), so a
# run cut short by a time limit resumes where it stopped; FORCE=1 redoes them.
# Environment:
#   QUICK=1        tiny models only, short runs, results under docs/results/gpu-<card>-quick
#   CUDA_ARCH      CMAKE_CUDA_ARCHITECTURES (90 = H100/H200)
#   BENCH_MODELS   synth presets for the speed runs (default: llama-2-7b)
#   AGREE_MODELS   models for HF agreement (default: tiny tiny-qwen2 tiny-llama3 stories260K tinyllama-1.1b)
#   CODECS         codecs pressed and compared (default: q4g64 q4g128 cb4 cb4s t158 q8)
#   WORK           models and pressed files (default: build-gpu/work); BUILD_DIR (build-gpu)
#   RESULTS        where gpu-<card>[.md] go (default: docs/results)
#   DEVICE         cuda (default); cpu runs the same steps on the CPU build, to check this script
#   CARD           results name instead of the one from nvidia-smi; STORIES_GGUF: stories260K.gguf
#   PP TG REPS     bench prompt tokens, generated tokens, repetitions (512 128 3; quick 64 16 1)
#   AGREE_TOKENS   greedy tokens per prompt for the f16 agreement (64; quick 16)
# On the device machine $OUT, when set, receives a copy of the results.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

QUICK=${QUICK:-0}
BUILD=${BUILD_DIR:-build-gpu}
RESULTS=${RESULTS:-docs/results}
DEVICE=${DEVICE:-cuda}
BIN=$BUILD/bin/trapetum
WORK=${WORK:-$BUILD/work}
if [ "$QUICK" = 1 ]; then
  BENCH_MODELS=${BENCH_MODELS-tiny}
  AGREE_MODELS=${AGREE_MODELS-tiny stories260K}
  PP=${PP:-64} TG=${TG:-16} REPS=${REPS:-1} AGREE_TOKENS=${AGREE_TOKENS:-16}
else
  BENCH_MODELS=${BENCH_MODELS-llama-2-7b}
  AGREE_MODELS=${AGREE_MODELS-tiny tiny-qwen2 tiny-llama3 stories260K tinyllama-1.1b}
  PP=${PP:-512} TG=${TG:-128} REPS=${REPS:-3} AGREE_TOKENS=${AGREE_TOKENS:-64}
fi
CODECS=${CODECS-q4g64 q4g128 cb4 cb4s t158 q8}
# A carried bundle: its own libraries first, then cuBLAS wherever Python's nvidia packages keep it.
if [ -d "$BUILD/lib" ]; then
  cublas_dir=$(python3 -c 'import glob, os, nvidia
print(":".join(sorted({os.path.dirname(f) for p in nvidia.__path__ for f in glob.glob(p + "/**/libcublas.so.*", recursive=True)})))' 2> /dev/null || true)
  export LD_LIBRARY_PATH="$PWD/$BUILD/lib${cublas_dir:+:$cublas_dir}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
FORCE=${FORCE:-0}
if [ "$DEVICE" = cuda ]; then HF_DTYPE=f16; else HF_DTYPE=f32; fi
JOBS=$(nproc)

STEP=setup
log() { echo "[gpu.sh $(date +%H:%M:%S) $STEP] $*" >&2; }
trap 'echo "[gpu.sh] FAILED in step \"$STEP\" (exit $?, line $LINENO): $BASH_COMMAND" >&2' ERR
die() { log "error: $*"; exit 1; }
begin() { STEP=$1; log "=== step $1 ==="; }
# fresh FILE: true when FILE must be (re)made.
fresh() { [ "$FORCE" = 1 ] || [ ! -s "$1" ]; }
# emit FILE CMD...: CMD's stdout into FILE, which only appears when CMD succeeds.
emit() { local f=$1; shift; "$@" > "$f.tmp"; mv "$f.tmp" "$f"; }
need_bin() { [ -x "$BIN" ] || die "$BIN is missing: run 'bench/gpu.sh build' first"; }
need_torch() {
  DEVICE=$DEVICE python3 -c 'import os, sys, torch, transformers
sys.exit(3 if os.environ["DEVICE"] == "cuda" and not torch.cuda.is_available() else 0)' ||
    die "python3 needs torch and transformers, and torch must see a GPU (exit 3: it sees none)"
}

card_name() {
  nvidia-smi --query-gpu=name --format=csv,noheader -i "${GPU_INDEX:-0}" | head -n 1
}
results_dir() {
  local slug=${CARD:-}
  if [ -z "$slug" ]; then
    command -v nvidia-smi > /dev/null || die "no nvidia-smi: set CARD=name for the results directory"
    slug=$(card_name | tr '[:upper:]' '[:lower:]' | sed -E 's/nvidia//; s/[^a-z0-9]+/-/g; s/^-+|-+$//g')
  fi
  if [ "$QUICK" = 1 ]; then slug=$slug-quick; fi
  echo "$RESULTS/gpu-$slug"
}

step_build() {
  begin build
  command -v nvcc > /dev/null || die "nvcc is not on PATH"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRAPETUM_TESTS=ON -DTRAPETUM_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}"
  cmake --build "$BUILD" -j "$JOBS"
  log "built $BIN"
}

step_test() {
  begin test
  need_bin
  local res; res=$(results_dir); mkdir -p "$res"
  if [ -f "$BUILD/CTestTestfile.cmake" ]; then
    TRAPETUM_REQUIRE_GPU=1 ctest --test-dir "$BUILD" -R "${TEST_REGEX:-Cuda}" --no-tests=error --output-on-failure \
      -j 4 2>&1 | tee "$res/ctest-cuda.txt"
  else  # a carried bundle: the test binary alone, with this tree's fixtures
    TRAPETUM_REQUIRE_GPU=1 TRAPETUM_TEST_DATA="$PWD/tests/data" "$BUILD/tests/trapetum_tests" \
      --gtest_filter="${TEST_FILTER:-Cuda*}" 2>&1 | tee "$res/ctest-cuda.txt"
  fi
}

# Here, not on the device machine: the CLI and the test binary with their non-system libraries.
step_bundle() {
  begin bundle
  need_bin
  local dst=build-gpu-bundle
  rm -rf "$dst"
  mkdir -p "$dst/bin" "$dst/tests" "$dst/lib"
  cp "$BIN" "$dst/bin/"
  cp "$BUILD/tests/trapetum_tests" "$dst/tests/"
  local lib
  for lib in $(ldd "$BIN" "$BUILD/tests/trapetum_tests" | awk '/=> \// {print $3}' | sort -u); do
    case $(basename "$lib") in
      libc.so* | libm.so* | libgcc_s.so* | libstdc++.so* | libcublas* | libcuda.so*) ;;
      *) cp -L "$lib" "$dst/lib/" ;;
    esac
  done
  du -sh "$dst" >&2
  log "carry $dst; then BUILD_DIR=$dst bench/gpu.sh test card models agree kernels bench table"
}

step_card() {
  begin card
  local res; res=$(results_dir); mkdir -p "$res"
  local q="name,memory.total,driver_version,power.limit,clocks.max.sm,clocks.max.memory,pcie.link.gen.max"
  local smi; smi=$(nvidia-smi --query-gpu=$q --format=csv,noheader,nounits -i "${GPU_INDEX:-0}" | head -n 1)
  local nvcc_v; nvcc_v=$(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || true)
  SMI="$smi" NVCC_V="$nvcc_v" QUICK="$QUICK" COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) \
    emit "$res/card.json" python3 -c '
import json, os, datetime
keys = ["name", "memory_total_mib", "driver", "power_limit_w", "max_sm_clock_mhz", "max_memory_clock_mhz", "pcie_gen"]
vals = [v.strip() for v in os.environ["SMI"].split(",")]
d = dict(zip(keys, vals))
d.update(nvcc=os.environ["NVCC_V"], commit=os.environ["COMMIT"], quick=os.environ["QUICK"] == "1",
         date=datetime.datetime.now().isoformat(timespec="seconds"), cpus=os.cpu_count())
print(json.dumps(d, indent=1))'
  log "$(tr -d '\n' < "$res/card.json")"
}

# make_model NAME: an f16 HF directory $WORK/NAME (a synth preset, or stories260K dequantized).
make_model() {
  local name=$1 dir=$WORK/$1
  if [ "$FORCE" != 1 ] && [ -f "$dir.done" ]; then log "have $dir"; return 0; fi
  rm -f "$dir.done"
  if [ "$name" = stories260K ]; then
    local g=${STORIES_GGUF:-}
    local c
    for c in ../shared/models/stories260K/stories260K.gguf shared/models/stories260K/stories260K.gguf; do
      if [ -z "$g" ] && [ -f "$c" ]; then g=$c; fi
    done
    if [ -z "$g" ] || [ ! -f "$g" ]; then log "stories260K.gguf not found (set STORIES_GGUF): skipped"; return 0; fi
    "$BIN" dequantize "$g" -o "$dir" --dtype f16 --force -q
  else
    "$BIN" synth --preset "$name" -o "$dir" --dtype f16 --force -t "$JOBS"
  fi
  touch "$dir.done"
}

step_models() {
  begin models
  need_bin
  mkdir -p "$WORK"
  local m c
  for m in $AGREE_MODELS $BENCH_MODELS; do
    make_model "$m"
    [ -f "$WORK/$m.done" ] || continue
    for c in $CODECS; do
      local out=$WORK/$m-$c.cbk
      if fresh "$out"; then
        log "press $m -> $c"
        # The per-tensor report goes beside the .cbk; its last lines (size, bits/weight, error) here.
        "$BIN" quantize -q -m "$WORK/$m" -o "$out" --codec "$c" --force -t "$JOBS" > "$out.txt"
        tail -n 2 "$out.txt" >&2
      fi
    done
  done
  df -h "$WORK" | tail -n 1 >&2
}

step_agree() {
  begin agree
  need_bin; need_torch
  local res; res=$(results_dir); mkdir -p "$res"
  local m codecs list
  read -ra list <<< "$CODECS"
  codecs=$(IFS=,; echo "${list[*]}")
  for m in $AGREE_MODELS; do
    [ -f "$WORK/$m.done" ] || { log "no $WORK/$m (run the models step): skipped"; continue; }
    fresh "$res/agree-$m.json" || { log "have agree-$m.json"; continue; }
    log "agreement: $m"
    python3 scripts/gpu_agreement.py "$WORK/$m" --device "$DEVICE" --trapetum "$BIN" --tokens "$AGREE_TOKENS" \
      --codecs "$codecs" --work "$WORK" --json "$res/agree-$m.json"
  done
}

step_kernels() {
  begin kernels
  need_bin
  local res; res=$(results_dir); mkdir -p "$res"
  fresh "$res/kernels.json" || { log "have kernels.json"; return 0; }
  if [ "$QUICK" = 1 ]; then
    emit "$res/kernels.json" "$BIN" bench kernels --device "$DEVICE" --json --shapes 4096x4096 -M 1 -r 1
  else
    emit "$res/kernels.json" "$BIN" bench kernels --device "$DEVICE" --json -r 5
  fi
}

step_bench() {
  begin bench
  need_bin
  local res; res=$(results_dir); mkdir -p "$res"
  local m fmt src
  for m in $BENCH_MODELS; do
    [ -f "$WORK/$m.done" ] || die "no $WORK/$m: run the models step first"
    for fmt in f16 $CODECS; do
      if [ "$fmt" = f16 ]; then src=$WORK/$m; else src=$WORK/$m-$fmt.cbk; fi
      [ -e "$src" ] || die "$src is missing: run the models step first"
      fresh "$res/bench-$m-$fmt.json" || { log "have bench-$m-$fmt.json"; continue; }
      log "trapetum bench $m $fmt: -p $PP -n $TG -r $REPS"
      emit "$res/bench-$m-$fmt.json" "$BIN" bench -m "$src" -p "$PP" -n "$TG" -r "$REPS" --device "$DEVICE" --json
    done
    if fresh "$res/hf-$m.json"; then
      need_torch
      log "HF transformers $m: -p $PP -n $TG -r $REPS"
      # fp16 on the GPU; the CPU check uses f32 (fp16 matmuls on the CPU are slow and beside the point).
      python3 scripts/gpu_agreement.py "$WORK/$m" --bench-hf --device "$DEVICE" --dtype "$HF_DTYPE" --prompt-tokens "$PP" \
        --gen-tokens "$TG" --reps "$REPS" --json "$res/hf-$m.json"
    fi
  done
}

step_table() {
  begin table
  local res; res=$(results_dir)
  [ -d "$res" ] || die "no $res: nothing measured yet"
  python3 bench/gpu_table.py "$res" > "$res.md"
  cat "$res.md"
  log "wrote $res.md and $res/"
}

# On the device machine only $OUT comes back: copy whatever results exist there on any exit,
# a failed or cut-short one included.
save_out() {
  [ -n "${OUT:-}" ] && [ -d "$OUT" ] || return 0
  local res; res=$(results_dir 2> /dev/null) || return 0
  [ -d "$res" ] || return 0
  mkdir -p "$OUT/results"
  cp -r "$res" "$OUT/results/"
  if [ -f "$res.md" ]; then cp "$res.md" "$OUT/results/"; fi
  echo "[gpu.sh] copied $res to $OUT/results" >&2
}
trap save_out EXIT

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(all)
for s in "${steps[@]}"; do
  case $s in
    all) step_build; step_test; step_card; step_models; step_agree; step_kernels; step_bench; step_table ;;
    build | bundle | test | card | models | agree | kernels | bench | table) "step_$s" ;;
    *) die "unknown step '$s' (build bundle test card models agree kernels bench table all)" ;;
  esac
done
STEP=finished
log "finished: ${steps[*]}"
