// Session: chunked prefill and single-token decode over the KV cache.
#include "runtime/session.h"

#include <algorithm>
#include <cstdint>

namespace trapetum {

Result<std::unique_ptr<Session>> Session::create(const Transformer& t, int ctx, int max_batch, KvType kv_type) {
  const ModelConfig& c = t.config();
  if (ctx <= 0) return make_error("context length must be positive, got ", ctx);
  if (max_batch <= 0) return make_error("batch size must be positive, got ", max_batch);
  TRY(KvCache kv, KvCache::create(t.backend(), c, ctx, kv_type));
  TRY(Activations act, Activations::create(t.backend(), c, std::min(max_batch, ctx)));
  std::unique_ptr<Session> s(new Session(t, std::move(kv), std::move(act)));
  s->logits_.resize(size_t(c.vocab_size));  // eval_all grows it to a chunk's rows on demand
  return s;
}

Status Session::check_room(size_t n) const {
  if (n == 0) return make_error("no tokens to evaluate");
  if (history_.size() + n > size_t(kv_.capacity()))
    return make_error(n, " tokens at position ", history_.size(), " do not fit the context of ", kv_.capacity(),
                      " tokens (use a larger --ctx or a shorter prompt)");
  return Ok{};
}

Result<const float*> Session::eval(std::span<const int32_t> tokens) {
  TRY_STATUS(check_room(tokens.size()));
  for (size_t i = 0; i < tokens.size(); i += size_t(act_.max_tokens)) {
    const int n = int(std::min(tokens.size() - i, size_t(act_.max_tokens)));
    TRY_STATUS(t_.forward(tokens.data() + i, n, position(), kv_, act_, logits_.data(), false));
    history_.insert(history_.end(), tokens.begin() + ptrdiff_t(i), tokens.begin() + ptrdiff_t(i) + n);
  }
  return static_cast<const float*>(logits_.data());
}

Status Session::eval_all(std::span<const int32_t> tokens, const std::function<void(int64_t, const float*)>& fn) {
  TRY_STATUS(check_room(tokens.size()));
  const size_t vocab = size_t(t_.config().vocab_size);
  logits_.resize(std::min(tokens.size(), size_t(act_.max_tokens)) * vocab);
  for (size_t i = 0; i < tokens.size(); i += size_t(act_.max_tokens)) {
    const int n = int(std::min(tokens.size() - i, size_t(act_.max_tokens)));
    TRY_STATUS(t_.forward(tokens.data() + i, n, position(), kv_, act_, logits_.data(), true));
    history_.insert(history_.end(), tokens.begin() + ptrdiff_t(i), tokens.begin() + ptrdiff_t(i) + n);
    for (int j = 0; j < n; ++j) fn(int64_t(i) + j, logits_.data() + size_t(j) * vocab);
  }
  return Ok{};
}

Status Session::eval_batch(std::span<Session* const> sessions, std::span<const int32_t> tokens, Activations& act,
                           std::vector<float>* logits) {
  if (sessions.empty() || sessions.size() != tokens.size())
    return make_error("eval_batch: ", sessions.size(), " sessions for ", tokens.size(), " tokens");
  const Transformer& t = sessions[0]->t_;
  std::vector<int> pos;
  std::vector<KvCache*> kvs;
  for (Session* s : sessions) {
    if (&s->t_ != &t) return make_error("eval_batch: the sessions run different models");
    if (std::count(sessions.begin(), sessions.end(), s) > 1) return make_error("eval_batch: a session appears twice");
    TRY_STATUS(s->check_room(1));
    pos.push_back(s->position());
    kvs.push_back(&s->kv_);
  }
  logits->resize(sessions.size() * size_t(t.config().vocab_size));
  TRY_STATUS(t.forward_batch(tokens.data(), int(tokens.size()), pos.data(), kvs.data(), act, logits->data()));
  for (size_t i = 0; i < sessions.size(); ++i) sessions[i]->history_.push_back(tokens[i]);
  return Ok{};
}

void Session::reset() { history_.clear(); }

void Session::truncate(int pos) {
  if (pos >= 0 && size_t(pos) < history_.size()) history_.resize(size_t(pos));
}

Status Session::shift(int keep, int discard) {
  if (keep < 0 || discard < 1 || size_t(keep) + size_t(discard) > history_.size())
    return make_error("context shift: cannot drop ", discard, " positions after ", keep, " of ", history_.size());
  const std::vector<int32_t> rest(history_.begin() + keep + discard, history_.end());
  truncate(keep);
  if (rest.empty()) return Ok{};
  auto r = eval(rest);
  if (!r.ok()) return make_error("context shift: ", r.error());
  return Ok{};
}

int64_t Session::kv_bytes(int n) const { return KvCache::bytes_needed(t_.config(), n, kv_.type()); }

namespace {
// Backend copies count floats: every run of rows must start and end on a float boundary.
bool float_aligned(int64_t row_bytes) { return row_bytes % 4 == 0; }
}  // namespace

Result<std::vector<uint8_t>> Session::export_kv(int n) const {
  const ModelConfig& c = t_.config();
  const int64_t row = kv_row_bytes(kv_.type(), c.head_dim);
  if (n < 0 || size_t(n) > history_.size()) return make_error("export_kv: ", n, " positions of ", history_.size());
  if (!float_aligned(row)) return make_error("export_kv: rows of ", row, " bytes are not whole floats");
  std::vector<uint8_t> out(size_t(kv_bytes(n)));
  const int64_t run = int64_t(n) * row;  // one head's rows
  uint8_t* dst = out.data();
  for (int l = 0; l < c.n_layers; ++l) {
    const KvLayerView v = kv_.layer(l);
    for (void* base : {v.k, v.v})
      for (int h = 0; h < c.n_kv_heads; ++h, dst += run) {
        const auto* src = static_cast<const uint8_t*>(base) + int64_t(h) * kv_.capacity() * row;
        t_.backend().to_host(reinterpret_cast<const float*>(src), reinterpret_cast<float*>(dst), run / 4);
      }
  }
  return out;
}

Status Session::import_kv(std::span<const int32_t> tokens, int stored, std::span<const uint8_t> bytes) {
  const ModelConfig& c = t_.config();
  const int64_t row = kv_row_bytes(kv_.type(), c.head_dim);
  const int n = int(tokens.size());
  if (stored < n || stored > kv_.capacity() || int64_t(bytes.size()) != kv_bytes(stored))
    return make_error("import_kv: ", n, " tokens from ", bytes.size(), " bytes holding ", stored,
                      " positions, into a context of ", kv_.capacity());
  if (!float_aligned(row)) return make_error("import_kv: rows of ", row, " bytes are not whole floats");
  const uint8_t* src = bytes.data();
  for (int l = 0; l < c.n_layers; ++l) {
    const KvLayerView v = kv_.layer(l);
    for (void* base : {v.k, v.v})
      for (int h = 0; h < c.n_kv_heads; ++h, src += int64_t(stored) * row) {
        auto* dst = static_cast<uint8_t*>(base) + int64_t(h) * kv_.capacity() * row;
        t_.backend().to_device(reinterpret_cast<const float*>(src), reinterpret_cast<float*>(dst), int64_t(n) * row / 4);
      }
  }
  history_.assign(tokens.begin(), tokens.end());
  return Ok{};
}

}  // namespace trapetum
