#!/usr/bin/env bash
# Builds the CLI and the threaded tests (trapetum_tsan_tests) with ThreadSanitizer into
# build-tsan and runs the thread pool tests, the server engine tests (engine, context shift,
# prompt cache) and `trapetum serve` end to end (server_test.py) under it.
# Any data race or other TSan report fails the run. No suppressions are used.
# Usage: scripts/tsan.sh [build-dir]   (TRAPETUM_LOAD_CLIENTS/SECONDS size the load test)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-tsan}
start=$SECONDS

echo "== tsan build ($dir)"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRAPETUM_TSAN=ON >/dev/null
cmake --build "$dir" -j"$(nproc)" --target trapetum_cli trapetum_tsan_tests

# Every process (the test binary and each CLI child) writes its reports to logs/tsan.PID;
# halt_on_error stops a process at its first report.
logs="$PWD/$dir/tsan-logs"
rm -rf "$logs"
mkdir -p "$logs"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 log_path=$logs/tsan"
# GCC 12's TSan needs the old memory layout on kernels with more mmap randomisation.
run=()
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then run=(setarch "$(uname -m)" -R); fi

fail=0
echo "== tsan: thread pool and server engine tests"
"${run[@]}" "$dir/tests/trapetum_tsan_tests" --gtest_brief=1 || fail=1

echo "== tsan: trapetum serve end to end (tests/server/server_test.py)"
if [ -d ../shared ]; then
  TRAPETUM_LOAD_CLIENTS=${TRAPETUM_LOAD_CLIENTS:-8} TRAPETUM_LOAD_SECONDS=${TRAPETUM_LOAD_SECONDS:-10} \
    "${run[@]}" python3 tests/server/server_test.py --cli "$dir/bin/trapetum" --shared ../shared || fail=1
else
  echo "tsan: ../shared not found; server_test.py skipped"
fi

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "tsan: FAILED: ThreadSanitizer reported problems:" >&2
  for f in $reports; do
    echo "---- $f" >&2
    grep -E "^(WARNING|SUMMARY): ThreadSanitizer" "$f" >&2 || head -40 "$f" >&2
  done
  echo "tsan: full reports in $logs" >&2
  exit 1
fi
if [ "$fail" != 0 ]; then
  echo "tsan: FAILED: a test failed (no TSan report)" >&2
  exit 1
fi
echo "tsan: passed, no reports ($((SECONDS - start)) s)"
