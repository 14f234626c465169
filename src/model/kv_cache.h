// KvCache and Activations: per-session device memory for the forward pass, allocated once.
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "model/config.h"

namespace trapetum {

class KvCache {
 public:
  // capacity: the most positions the cache holds (the session's context length).
  static Result<KvCache> create(Backend& b, const ModelConfig& c, int capacity);
  int capacity() const { return capacity_; }
  KvLayerView layer(int l) const;
  static int64_t bytes_needed(const ModelConfig& c, int capacity);

 private:
  int capacity_ = 0;
  int64_t layer_floats_ = 0;            // n_kv_heads * capacity * head_dim
  std::unique_ptr<Buffer> k_, v_;       // (n_layers, n_kv_heads, capacity, head_dim)
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
