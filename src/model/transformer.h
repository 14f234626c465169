// Transformer: the Llama-family forward pass, written once against Backend.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/backend.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace trapetum {

// Consecutive rows of one forward call that extend the same sequence: rows row0 .. row0 + n - 1
// are its tokens at positions pos0 .. pos0 + n - 1, cached in kv.
struct Segment {
  KvCache* kv;
  int pos0;
  int row0;
  int n;
};

class Transformer {
 public:
  // Uploads the weights to the backend (zero-copy on CPU).
  static Result<std::unique_ptr<Transformer>> create(const Model& model, Backend& backend);

  const ModelConfig& config() const { return model_.config(); }
  const Model& model() const { return model_; }
  Backend& backend() const { return backend_; }

  // Runs tokens (n <= act.max_tokens) at positions pos0 .. pos0 + n - 1, appending their
  // keys and values to kv. Writes the logits of every token (all_logits) or of the last
  // one to logits (host memory, rows of vocab_size floats).
  Status forward(const int32_t* tokens, int n, int pos0, KvCache& kv, Activations& act, float* logits,
                 bool all_logits) const;
  // One token for each of n sequences in one call: token i goes at position pos[i] of kvs[i].
  // Every matmul reads its weights once for all n; attention stays per sequence. Writes n rows
  // of logits.
  Status forward_batch(const int32_t* tokens, int n, const int* pos, KvCache* const* kvs, Activations& act,
                       float* logits) const;

 private:
  Transformer(const Model& m, Backend& b) : model_(m), backend_(b) {}
  // The backend calls of one forward step (checked inputs): every row through the layers,
  // attention and the KV cache per segment.
  void run_layers(const StepInputs& in, std::span<const Segment> segs, Activations& act, float* logits) const;

  const Model& model_;
  Backend& backend_;
  ModelWeights w_;  // device views of the weights
  std::unique_ptr<Buffer> inv_freq_;  // (head_dim / 2) on the device
};

}  // namespace trapetum
