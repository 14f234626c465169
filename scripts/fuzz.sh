#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang into build-fuzz, seeds their corpora and
# runs each for FUZZ_SECONDS; writes build-fuzz/fuzz_report.json and exits non-zero on any crash.
# Usage: scripts/fuzz.sh [target ...] (default: all). Env: FUZZ_SECONDS (30), FUZZ_JOBS (build -j, 2),
# FUZZ_KEEP_CORPUS=1, FUZZ_MALLOC_MB (256), FUZZ_RSS_MB (2048), FUZZ_MAX_LEN (65536), FUZZ_SEED (1).
# The fixed default seed makes a CI run repeatable: the same corpus and seed walk the same inputs,
# so a run here that lasts longer covers what CI will try. FUZZ_SEED=0 draws a fresh seed, for
# exploring (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}
ALL_TARGETS=(gguf safetensors cbk tokenizer chat_template api)
if [[ $# -gt 0 ]]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
# A single allocation above MALLOC_MB is a failure: no input of at most MAX_LEN bytes justifies it.
MALLOC_MB=${FUZZ_MALLOC_MB:-256}
RSS_MB=${FUZZ_RSS_MB:-2048}
MAX_LEN=${FUZZ_MAX_LEN:-65536}
SEED=${FUZZ_SEED:-1}
SHARED=${TRAPETUM_SHARED:-$ROOT/../shared}

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2; exit 1; }

# -O1 with line tables: the usual fuzzing build, and much quicker to compile than -O2 -g.
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Fuzz \
  -DCMAKE_C_FLAGS_FUZZ="-O1 -gline-tables-only" -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" \
  -DTRAPETUM_FUZZ=ON -DTRAPETUM_TESTS=OFF -DTRAPETUM_WERROR=OFF >/dev/null
ninja -C "$BUILD" -j"${FUZZ_JOBS:-2}" fuzz_all

CORPUS=$BUILD/corpus
# A fresh corpus each run keeps the run's length bounded; FUZZ_KEEP_CORPUS=1 grows it instead.
[[ ${FUZZ_KEEP_CORPUS:-0} == 1 ]] || rm -rf "$CORPUS"
mkdir -p "$CORPUS" "$BUILD/crashes" "$BUILD/logs"
python3 "$ROOT/tests/fuzz/make_seeds.py" --data "$ROOT/tests/data" --shared "$SHARED" --out "$CORPUS"
"$BUILD/bin/fuzz_make_cbk_seeds" "$ROOT/tests/data" "$CORPUS/cbk"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
rows=()
for t in "${TARGETS[@]}"; do
  bin=$BUILD/bin/fuzz_$t
  [[ -x $bin ]] || { echo "fuzz.sh: no target $t" >&2; exit 1; }
  mkdir -p "$CORPUS/$t"
  regress=$ROOT/tests/fuzz/corpus/$t
  dict=$ROOT/tests/fuzz/$t.dict
  before=$(find "$CORPUS/$t" -type f | wc -l)
  log=$BUILD/logs/$t.log
  art=$BUILD/artifacts/$t
  rm -rf "$art" && mkdir -p "$art"
  # New units go to the first folder; tests/fuzz/corpus is only read.
  args=("$CORPUS/$t")
  [[ -d $regress ]] && args+=("$regress")
  extra=()
  [[ -f $dict ]] && extra+=("-dict=$dict")
  rc=0
  "$bin" "${args[@]}" "${extra[@]}" -max_total_time="$SECONDS_PER_TARGET" -max_len="$MAX_LEN" -seed="$SEED" -timeout=10 \
    -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$MALLOC_MB" -print_final_stats=1 -artifact_prefix="$art/" \
    >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  after=$(find "$CORPUS/$t" -type f | wc -l)
  crashes=0
  for f in "$art"/*; do
    [[ -f $f ]] || continue
    case $(basename "$f") in slow-unit-*) continue ;; esac
    crashes=$((crashes + 1))
    cp "$f" "$BUILD/crashes/${t}-$(basename "$f")"
  done
  if [[ $rc -ne 0 && $crashes -eq 0 ]]; then crashes=1; fi
  if [[ $crashes -ne 0 ]]; then
    failed=1
    echo "fuzz_$t: FAILED (exit $rc); log $log; inputs in $BUILD/crashes/" >&2
    grep -m3 -E "ERROR: |runtime error|CHECK failed|==ERROR" "$log" >&2 || tail -5 "$log" >&2
    grep -m10 -E "^ +#[0-9]+ " "$log" >&2 || true  # the top of the stack, for a CI log
  fi
  rows+=("$t ${execs:-0} ${speed:-0} $before $after $crashes $rc")
done

printf '%-14s %12s %8s %14s %8s\n' target executions exec/s "corpus (new)" crashes
json="{\"seconds_per_target\": $SECONDS_PER_TARGET, \"seed\": $SEED, \"malloc_limit_mb\": $MALLOC_MB, \"rss_limit_mb\": $RSS_MB, \"targets\": ["
sep=""
for r in "${rows[@]}"; do
  read -r t execs speed before after crashes rc <<<"$r"
  printf '%-14s %12s %8s %14s %8s\n' "$t" "$execs" "$speed" "$after (+$((after - before)))" "$crashes"
  json+="$sep{\"target\": \"$t\", \"executions\": $execs, \"exec_per_sec\": $speed, \"corpus_size\": $after, \"new_units\": $((after - before)), \"crashes\": $crashes, \"exit_code\": $rc}"
  sep=", "
done
json+="]}"
echo "$json" >"$BUILD/fuzz_report.json"
echo "report: $BUILD/fuzz_report.json"
exit $failed
