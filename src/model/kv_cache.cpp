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
  // Buffers count floats; every row size is a multiple of 2 bytes, so round up once.
  const int64_t n = (kv.layer_bytes_ * c.n_layers + 3) / 4;
  auto fail = [&](const std::string& why) {
    return make_error(kv_type_name(type), " kv cache for a context of ", capacity, " tokens needs ",
                      bytes_needed(c, capacity, type) / (1 << 20), " MiB: ", why);
  };
  auto k = b.alloc(n);
  if (!k.ok()) return fail(k.error());
  auto v = b.alloc(n);
  if (!v.ok()) return fail(v.error());
  kv.k_ = std::move(k.value());
  kv.v_ = std::move(v.value());
  return kv;
}

KvLayerView KvCache::layer(int l) const {
  const int64_t off = l * layer_bytes_;
  return {reinterpret_cast<char*>(k_->data()) + off, reinterpret_cast<char*>(v_->data()) + off, capacity_, type_};
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
