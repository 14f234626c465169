#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: the release build, then the same suite
# under AddressSanitizer + UndefinedBehaviorSanitizer (slow model cases skipped there), the
# threaded parts under ThreadSanitizer, and a bounded libFuzzer run of every parser.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
if model=$(scripts/smollm2_path.sh 2>/dev/null) && [ -f "$model" ]; then
  export TRAPETUM_SMOLLM2_GGUF="$model"
else
  echo "test: SmolLM2 GGUF not found; its reference tests will be skipped"
fi
[ -d ../shared ] || echo "test: ../shared not found; tests that read it will be skipped"

jobs=$(nproc)
# The release build includes the CUDA backend wherever nvcc is (its GPU tests skip without a
# GPU); CI's machine has nvcc, so there a missing one is an error.
cuda=()
export PATH="$PATH:/usr/local/cuda/bin"
if command -v nvcc >/dev/null; then
  cuda=(-DTRAPETUM_CUDA=ON)
elif [ "${CI:-}" = true ]; then
  echo "test: nvcc not found; CI builds the CUDA backend" >&2
  exit 1
else
  echo "test: nvcc not found; building without the CUDA backend"
fi
echo "== release build ${cuda[*]}"
scripts/build.sh build "${cuda[@]}"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 1200)

echo "== asan+ubsan build"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRAPETUM_SANITIZE=ON
(cd build-asan && TRAPETUM_SKIP_SLOW=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$jobs" --timeout 1800)

# The thread pool, the server's engine and `trapetum serve` under ThreadSanitizer.
echo "== tsan build"
scripts/tsan.sh build-tsan

# Every parser under libFuzzer for a bounded time (docs/reliability.md).
echo "== fuzz (libFuzzer, ${FUZZ_SECONDS:-30} s per target)"
FUZZ_SECONDS=${FUZZ_SECONDS:-30} scripts/fuzz.sh
