// KvCache and Activations allocation.
#include "model/kv_cache.h"

namespace trapetum {

int64_t KvCache::bytes_needed(const ModelConfig& c, int capacity, KvType type) {
  return 2 * int64_t(c.n_layers) * c.n_kv_heads * int64_t(capacity) * kv_row_bytes(type, c.head_dim);
}

Result<KvCache> KvCache::create(Backend& b, const ModelConfig& c, int capacity, KvType type) {
  if (capacity <= 0) return make_error("kv cache: context length must be positive, got ", capacity);
  KvCache kv;
  kv.capacity_ = capacity;
  kv.type_ = type;
  kv.layer_bytes_ = int64_t(c.n_kv_heads) * capacity * kv_row_bytes(type, c.head_dim);
  // K and V share one buffer, so the backend checks the whole cache against the memory it has
  // once, before anything is allocated. V starts 256-byte aligned, as a buffer of its own would.
  kv.v_offset_ = (kv.layer_bytes_ * c.n_layers + 255) / 256 * 256;
  auto kv_buf = b.alloc(kv.v_offset_ / 2);  // floats: 2 * v_offset_ bytes
  if (!kv_buf.ok())
    return make_error(kv_type_name(type), " kv cache for a context of ", capacity, " tokens needs ",
                      bytes_needed(c, capacity, type) / (1 << 20), " MiB: ", kv_buf.error());
  kv.kv_ = std::move(kv_buf.value());
  return kv;
}

KvLayerView KvCache::layer(int l) const {
  const int64_t off = l * layer_bytes_;
  char* base = reinterpret_cast<char*>(kv_->data());
  return {base + off, base + v_offset_ + off, capacity_, type_};
}

Result<Activations> Activations::create(Backend& b, const ModelConfig& c, int max_tokens) {
  Activations a;
  a.max_tokens = max_tokens;
  const int64_t t = max_tokens;
  const int64_t q_dim = int64_t(c.n_heads) * c.head_dim, kv_dim = int64_t(c.n_kv_heads) * c.head_dim;
  TRY(a.x, b.alloc(t * c.dim));
  TRY(a.xn, b.alloc(t * c.dim));
  TRY(a.q, b.alloc(t * q_dim));
  TRY(a.k, b.alloc(t * kv_dim));
  TRY(a.v, b.alloc(t * kv_dim));
  TRY(a.att, b.alloc(t * q_dim));
  TRY(a.gate, b.alloc(t * c.hidden_dim));
  TRY(a.up, b.alloc(t * c.hidden_dim));
  TRY(a.logits, b.alloc(t * c.vocab_size));
  return a;
}

}  // namespace trapetum
