// The JSON files of a HuggingFace model directory rebuilt from what a loaded model knows:
// config.json and generation_config.json from a ModelConfig, tokenizer.json and
// tokenizer_config.json from a TokenizerSpec (used by `dequantize` and `materialize`).
#pragma once

#include <string>

#include "core/result.h"
#include "core/tensor.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {

// config.json for LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM; the weights are
// written in the rotate-half RoPE layout, so nothing in it says "interleaved".
std::string hf_config_json(const ModelConfig& c, DType dtype, const TokenizerSpec& tok);
std::string hf_generation_config_json(const TokenizerSpec& tok);

// tokenizer.json reproducing the spec: byte-level BPE (Split + ByteLevel pre-tokenizers) or
// SentencePiece-BPE (byte fallback, Prepend/Metaspace); SPM merges are derived from the scores
// the way transformers' LlamaConverter does. Errors name what cannot be expressed.
Result<std::string> hf_tokenizer_json(const TokenizerSpec& spec);
std::string hf_tokenizer_config_json(const TokenizerSpec& spec);

}  // namespace trapetum
