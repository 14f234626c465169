// The parts of synth shared between its files: value generation, metadata and config files.
// Not a public API; use press/synth.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/gguf_writer.h"
#include "press/synth.h"
#include "press/synth_tokenizer.h"

namespace trapetum {

// How to fill one tensor. Every element is a function of (seed, canonical name, HF row,
// column), so chunking, thread count and output format do not change the values.
struct SynthFill {
  const SynthTensor* tensor = nullptr;
  uint64_t key = 0;                // from the seed and the canonical name
  int64_t rows = 1, cols = 1;      // 1-D tensors are one row
  std::vector<float> col_scale;    // linear weights with outlier columns: per input column
  std::vector<float> values;       // kRopeFreqs: the whole tensor, precomputed
};

SynthFill make_synth_fill(const SynthTensor& t, const SynthPlan& plan, const SynthOptions& o);
// Rows [row0, row0 + n) of the tensor, in its dtype, into dst (n * row bytes).
void synth_fill_rows(const SynthFill& f, int64_t row0, int64_t n, void* dst);

// float -> IEEE fp16 bits, round to nearest even: bit-identical to float_to_fp16 (core/half.h)
// but branch-free, so the generation loops vectorize.
uint16_t synth_fp16(float f);

// GGUF rope_freqs.weight for llama3 scaling: per-frequency divisors, as llama.cpp writes them.
std::vector<float> synth_rope_freqs(const SynthPreset& p);

// Model metadata and HF config files.
GgufMetadata synth_gguf_metadata(const SynthPlan& plan, const SynthOptions& o, const SynthVocab& v);
std::string synth_hf_config_json(const SynthPlan& plan, const SynthOptions& o, const SynthVocab& v);
std::string synth_hf_generation_config_json(const SynthVocab& v);

}  // namespace trapetum
