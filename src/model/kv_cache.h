// KvCache and Activations: per-session device memory for the forward pass, allocated once.
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "model/config.h"

namespace trapetum {

class KvCache {
 public:
  // capacity: the most positions the cache holds (the session's context length); type: the
  // element type of the cached rows.
  static Result<KvCache> create(Backend& b, const ModelConfig& c, int capacity, KvType type);
  int capacity() const { return capacity_; }
  KvType type() const { return type_; }
  KvLayerView layer(int l) const;
  // K and V of every layer together.
  static int64_t bytes_needed(const ModelConfig& c, int capacity, KvType type);

 private:
  int capacity_ = 0;
  KvType type_ = KvType::kF32;
  int64_t layer_bytes_ = 0;             // n_kv_heads * capacity * kv_row_bytes(type, head_dim)
  int64_t v_offset_ = 0;                // bytes from the start of kv_ to V (K starts at 0)
  std::unique_ptr<Buffer> kv_;          // K then V, each (n_layers, n_kv_heads, capacity, row of head_dim values)
};

// Scratch activations for up to max_tokens tokens per forward call.
struct Activations {
  static Result<Activations> create(Backend& b, const ModelConfig& c, int max_tokens);
  int max_tokens = 0;
  std::unique_ptr<Buffer> x;       // (max_tokens, dim) residual stream
  std::unique_ptr<Buffer> xn;      // (max_tokens, dim) normalized
  std::unique_ptr<Buffer> q;       // (max_tokens, n_heads * head_dim)
  std::unique_ptr<Buffer> k;       // (max_tokens, n_kv_heads * head_dim)
  std::unique_ptr<Buffer> v;       // (max_tokens, n_kv_heads * head_dim)
  std::unique_ptr<Buffer> att;     // (max_tokens, n_heads * head_dim)
  std::unique_ptr<Buffer> gate;    // (max_tokens, hidden_dim)
  std::unique_ptr<Buffer> up;      // (max_tokens, hidden_dim)
  std::unique_ptr<Buffer> logits;  // (max_tokens, vocab)
};

}  // namespace trapetum
