#!/usr/bin/env bash
# The press benchmark: the codec table (bits per weight, size, perplexity and its change, KL
# divergence, top-1 and greedy agreement, quantize time and RSS) for stories260K and
# SmolLM2-135M, written by `trapetum report` to docs/results/press-*.{md,json,png}.
#   bench/press_report.sh [quick|full]   (default quick)
# quick: SmolLM2 on the first 2048 WikiText-2 tokens (ctx 512, stride 256), about 15 min on
# 2 cores; full: the first 32768 tokens at ctx 2048, stride 512, the protocol of the core
# engine's perplexity results (hours on 2 cores: every variant runs through the generic
# dequantizing matmul until the fast kernels land).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
bin=build/bin/trapetum
[ -x "$bin" ] || scripts/build.sh build
shared=../shared
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# stories260K was trained on TinyStories, which ../shared does not hold: its text is 16
# stories sampled from the f32 model itself (temperature 1, seeds 1..16), so the quantized
# variants are scored on text from the original model's own distribution.
for seed in $(seq 1 16); do
  "$bin" run -m "$shared/models/stories260K/stories260K.gguf" -p "" -n 256 --temp 1 --seed "$seed" 2>/dev/null
  echo
done > "$work/stories.txt"
"$bin" report -m "$shared/models/stories260K/stories260K.gguf" -f "$work/stories.txt" --name stories260K \
  --ctx 256 --stride 128 --max-tokens 4096 --out-dir docs/results

smol=$(scripts/smollm2_path.sh)
protocol=(--ctx 512 --stride 256 --max-tokens 2048)
[ "$mode" = full ] && protocol=(--ctx 2048 --stride 512 --max-tokens 32768)
"$bin" report -m "$smol" -f "$shared/data/wikitext-2/wikitext-2-raw-v1.test.txt" --name smollm2-135m \
  "${protocol[@]}" --out-dir docs/results
