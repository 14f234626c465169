#!/usr/bin/env bash
# The CPU benchmark of issue 5: pp and tg tokens/s (median of reps), peak RSS and the
# fraction of measured memory bandwidth, by codec, at 1 and 2 threads, on random-weight
# models of real shapes (`trapetum synth`: tinyllama-1.1b, llama-2-7b) and on SmolLM2; plus
# `bench kernels`. Writes docs/results/cpu-*.json and docs/results/cpu.md.
#   bench/cpu_bench.sh [quick|full]   (default quick)
# quick: tinyllama pp512/tg128 x 3 reps; llama-2-7b pp64/tg16 x 2 reps (about 20 min on 2
# cores). full: llama-2-7b at pp512/tg128 too (about an hour more).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
bin=build/bin/trapetum
[ -x "$bin" ] || scripts/build.sh build
out=docs/results
work=${TRAPETUM_BENCH_WORK:-$(mktemp -d)}
mkdir -p "$work" "$out/cpu"
log() { echo "[cpu_bench $(date +%H:%M:%S)] $*" >&2; }

# run NAME MODEL PP TG REPS THREADS...
run() {
  local name=$1 model=$2 pp=$3 tg=$4 reps=$5
  shift 5
  for t in "$@"; do
    log "$name: -p $pp -n $tg -r $reps -t $t"
    "$bin" bench -m "$model" -p "$pp" -n "$tg" -r "$reps" -t "$t" --json > "$out/cpu/$name-t$t.json"
  done
}

press() {  # press SRC CODEC OUT
  [ -f "$3" ] || "$bin" quantize -q -m "$1" -o "$3" --codec "$2"
}

# TinyLlama 1.1B shape.
tl=$work/tinyllama.gguf
[ -f "$tl" ] || "$bin" synth --preset tinyllama-1.1b -o "$tl"
run tinyllama-f16 "$tl" 512 128 3 1 2
for c in q8 q4g32 q4g64 cb4 cb4s t158; do
  press "$tl" $c "$work/tinyllama-$c.cbk"
  run "tinyllama-$c" "$work/tinyllama-$c.cbk" 512 128 3 1 2
done

# SmolLM2-135M as distributed (Q4_1 linear layers, Q8_0 embeddings), and pressed with the
# 4-bit recipe.
smol=$(scripts/smollm2_path.sh)
run smollm2-q4_1 "$smol" 512 128 3 1 2
[ -f "$work/smollm2-4bit.cbk" ] || "$bin" quantize -q -m "$smol" -o "$work/smollm2-4bit.cbk" --recipe 4bit
run smollm2-4bit "$work/smollm2-4bit.cbk" 512 128 3 1 2

# Llama 2 7B shape, 4-bit codecs only (the f16 source is 13.5 GB).
l7=$work/llama7b.gguf
[ -f "$l7" ] || "$bin" synth --preset llama-2-7b -o "$l7"
if [ "$mode" = full ]; then pp=512 tg=128 reps=3; else pp=64 tg=16 reps=2; fi
for c in q4g64 cb4 t158; do
  press "$l7" $c "$work/llama7b-$c.cbk"
  run "llama7b-$c" "$work/llama7b-$c.cbk" $pp $tg $reps 2
done
rm -f "$l7"

# Kernels: GEMV on every shape, GEMM (M = 512) on the 4096 x 4096 shape.
log "bench kernels"
"$bin" bench kernels -M 1 -r 5 --json > "$out/cpu/kernels-m1.json"
"$bin" bench kernels -M 512 --shapes 4096x4096 -r 3 --json > "$out/cpu/kernels-m512.json"

python3 bench/cpu_table.py "$out/cpu" > "$out/cpu.md"
log "wrote $out/cpu.md"
