// Session: one conversation's state over a shared Transformer: the KV cache, scratch
// activations, the position and the token history. Prefill runs in chunks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "model/kv_cache.h"
#include "model/transformer.h"

namespace trapetum {

class Session {
 public:
  static constexpr int kDefaultMaxBatch = 512;
  // ctx: positions the KV cache holds; max_batch: tokens per forward call during prefill;
  // kv_type: the cache's element type (f16 by default; f32 is exact).
  static Result<std::unique_ptr<Session>> create(const Transformer& t, int ctx, int max_batch = kDefaultMaxBatch,
                                                 KvType kv_type = KvType::kF16);

  // Appends tokens and returns the logits after the last one (vocab floats, valid until the
  // next call).
  Result<const float*> eval(std::span<const int32_t> tokens);
  // Appends tokens and calls fn(i, logits) with the logits after each token i.
  Status eval_all(std::span<const int32_t> tokens, const std::function<void(int64_t, const float*)>& fn);

  // Appends tokens[i] to sessions[i] for every i in one forward call, so each weight matrix is
  // read once for all of them (batched decode); act holds at least sessions.size() tokens.
  // logits receives sessions.size() rows of vocab floats. All sessions share one Transformer.
  static Status eval_batch(std::span<Session* const> sessions, std::span<const int32_t> tokens, Activations& act,
                           std::vector<float>* logits);

  void reset();
  // Forgets every position from pos on; the next eval writes over their cache entries.
  void truncate(int pos);
  // Context shift: drops the discard positions after the first keep and re-evaluates the rest
  // at their new positions, so the cache holds exactly what a fresh session fed the kept
  // tokens would (the first keep entries are reused as they are: same tokens, same positions).
  Status shift(int keep, int discard);

  // The KV cache entries of positions 0 .. n-1 as host bytes: for each layer, K then V, each
  // (n_kv_heads, n, row). Restored into a session of the same model and cache type by
  // import_kv, which also sets the history to tokens (the first n of those the bytes hold).
  Result<std::vector<uint8_t>> export_kv(int n) const;
  Status import_kv(std::span<const int32_t> tokens, int stored, std::span<const uint8_t> bytes);
  // Bytes export_kv(n) returns.
  int64_t kv_bytes(int n) const;
  int position() const { return int(history_.size()); }
  int context() const { return kv_.capacity(); }
  KvType kv_type() const { return kv_.type(); }
  const std::vector<int32_t>& history() const { return history_; }
  const Transformer& transformer() const { return t_; }

 private:
  Session(const Transformer& t, KvCache kv, Activations act)
      : t_(t), kv_(std::move(kv)), act_(std::move(act)) {}
  Status check_room(size_t n) const;

  const Transformer& t_;
  KvCache kv_;
  Activations act_;
  std::vector<float> logits_;  // (rows, vocab): the last token after eval, a chunk after eval_all
  std::vector<int32_t> history_;
};

}  // namespace trapetum
