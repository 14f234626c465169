// Test helpers around loaded models: load with a failure recorded, a model bound to a CPU
// backend, every position's logits, and a tensor decoded to f32.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/cpu_backend.h"
#include "model/model.h"
#include "model/transformer.h"

namespace trapetum::test {

// Model::load, recording a test failure (and returning null) when it fails.
std::unique_ptr<Model> load_model(const std::string& path);

struct Loaded {
  std::unique_ptr<Model> model;
  std::unique_ptr<CpuBackend> backend;
  std::unique_ptr<Transformer> t;
};
// A model ready to run on a CPU backend with `threads` threads; t is null after a failure.
// Exact float activations unless act says otherwise.
Loaded load_for_cpu(const std::string& path, int threads, cpu::ActMode act = cpu::ActMode::kFloat);

// Logits of every position of one pass over ids, prefilled in chunks of `batch` tokens, with
// an exact (f32) KV cache unless kv_type says otherwise.
std::vector<float> all_logits(const Transformer& t, const std::vector<int32_t>& ids, int batch,
                              KvType kv_type = KvType::kF32);

// A whole tensor decoded to f32 (outliers included).
std::vector<float> tensor_f32(const Model& m, const std::string& name);

}  // namespace trapetum::test
