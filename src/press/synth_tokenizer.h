// The tokenizer of a synthesized model: a GPT-2-style byte-level BPE whose merges are learned
// deterministically from a small built-in English text, four special tokens, and unreachable
// filler tokens up to an exact vocabulary size. Exported as HF tokenizer files and GGUF metadata.
// Any UTF-8 text round-trips, except that the Qwen2 style normalizes to NFC first (as Qwen2 does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "io/gguf_writer.h"

namespace trapetum {

// How text is split before BPE: GPT-2's pattern (llama, mistral), or Qwen2's pattern (single
// digits) after NFC, which transformers imposes on every model_type "qwen2" tokenizer anyway.
enum class SynthPreTokenizer { kGpt2, kQwen2 };

struct SynthVocab {
  SynthPreTokenizer pre = SynthPreTokenizer::kGpt2;
  std::vector<std::string> tokens;  // id -> piece in the byte-level alphabet (specials verbatim)
  std::vector<std::string> merges;  // "left right" in rank order
  std::vector<bool> special;        // id -> is a control token
  int32_t bos_id = -1;              // <|begin_of_text|>
  int32_t eos_id = -1;              // <|end_of_text|> (Qwen2 style: <|endoftext|>)
  int32_t im_start_id = -1;         // <|im_start|>
  int32_t im_end_id = -1;           // <|im_end|>
  int32_t n_real = 0;               // ids below this are reachable; the rest are fillers
};

// Layout: 256 byte tokens (id = byte), learned merges, the four specials, fillers "<unused_N>".
Result<SynthVocab> synth_vocab(int vocab_size, SynthPreTokenizer pre);

// ChatML, with BOS first.
std::string synth_chat_template();

// HF files: tokenizer.json and tokenizer_config.json (PreTrainedTokenizerFast).
std::string synth_hf_tokenizer_json(const SynthVocab& v);
std::string synth_hf_tokenizer_config_json(const SynthVocab& v, int max_length);

// GGUF tokenizer.* keys (tokenizer.ggml.model "gpt2", pre "gpt-2" or "qwen2").
void add_synth_gguf_tokenizer(const SynthVocab& v, GgufMetadata* kv);

}  // namespace trapetum
