// The forward pass: embed, then per layer RMSNorm -> QKV (+bias) -> RoPE -> cached causal
// attention -> output projection -> residual -> RMSNorm -> SwiGLU MLP -> residual.
#include "model/transformer.h"

#include <map>

namespace trapetum {

Result<std::unique_ptr<Transformer>> Transformer::create(const Model& model, Backend& backend) {
  std::unique_ptr<Transformer> t(new Transformer(model, backend));
  const ModelWeights& src = model.weights();
  // Tied embeddings are one tensor: uploaded once.
  std::map<const void*, TensorView> done;
  auto up = [&](const TensorView& v) -> Result<TensorView> {
    if (!v.data) return v;
    if (auto it = done.find(v.data); it != done.end()) return it->second;
    TRY(TensorView d, backend.upload(v));
    done[v.data] = d;
    return d;
  };
  TRY(t->w_.token_embd, up(src.token_embd));
  TRY(t->w_.output_norm, up(src.output_norm));
  TRY(t->w_.output, up(src.output));
  constexpr TensorView LayerWeights::*kMembers[] = {
      &LayerWeights::attn_norm, &LayerWeights::wq,       &LayerWeights::wk,   &LayerWeights::wv,
      &LayerWeights::wo,        &LayerWeights::bq,       &LayerWeights::bk,   &LayerWeights::bv,
      &LayerWeights::ffn_norm,  &LayerWeights::w_gate,   &LayerWeights::w_up, &LayerWeights::w_down};
  for (const LayerWeights& l : src.layers) {
    LayerWeights d;
    for (auto member : kMembers) {
      TRY(d.*member, up(l.*member));
    }
    t->w_.layers.push_back(std::move(d));
  }
  const std::vector<float>& f = model.rope_inv_freq();
  TRY(t->inv_freq_, backend.alloc(int64_t(f.size())));
  backend.to_device(f.data(), t->inv_freq_->data(), int64_t(f.size()));
  return t;
}

Status Transformer::forward(const int32_t* tokens, int n, int pos0, KvCache& kv, Activations& act, float* logits,
                            bool all_logits) const {
  const ModelConfig& c = config();
  if (n <= 0 || n > act.max_tokens) return make_error("forward: ", n, " tokens, expected 1..", act.max_tokens);
  if (pos0 < 0 || pos0 + n > kv.capacity())
    return make_error("forward: positions ", pos0, "..", pos0 + n - 1, " exceed the context of ", kv.capacity(), " tokens");
  for (int i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
      return make_error("forward: token id ", tokens[i], " is outside the vocabulary (", c.vocab_size, ")");
  const StepInputs step{tokens, n, pos0, &act, &kv, logits, all_logits};
  const Segment seg{&kv, pos0, 0, n};
  backend_.run_step(step, [&] { run_layers(step, {&seg, 1}, act, logits); });
  return Ok{};
}

Status Transformer::forward_batch(const int32_t* tokens, int n, const int* pos, KvCache* const* kvs,
                                  Activations& act, float* logits) const {
  const ModelConfig& c = config();
  if (n <= 0 || n > act.max_tokens) return make_error("forward_batch: ", n, " sequences, expected 1..", act.max_tokens);
  std::vector<Segment> segs;
  for (int i = 0; i < n; ++i) {
    if (pos[i] < 0 || pos[i] >= kvs[i]->capacity())
      return make_error("forward_batch: position ", pos[i], " of sequence ", i, " exceeds its context of ",
                        kvs[i]->capacity(), " tokens");
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
      return make_error("forward_batch: token id ", tokens[i], " is outside the vocabulary (", c.vocab_size, ")");
    segs.push_back({kvs[i], pos[i], i, 1});
  }
  const StepInputs step{tokens, n, pos[0], &act, kvs[0], logits, true};
  backend_.run_step(step, [&] { run_layers(step, segs, act, logits); });
  return Ok{};
}

void Transformer::run_layers(const StepInputs& in, std::span<const Segment> segs, Activations& act,
                             float* logits) const {
  const ModelConfig& c = config();
  Backend& b = backend_;
  const int n = in.n;
  const int q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  const float eps = float(c.norm_eps);
  const AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, c.sliding_window};
  float* x = act.x->data();
  float* xn = act.xn->data();
  const float* inv_freq = inv_freq_->data();

  b.embed(w_.token_embd, in.tokens, n, x);
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& w = w_.layers[size_t(l)];
    b.rmsnorm(x, static_cast<const float*>(w.attn_norm.data), xn, n, c.dim, eps);
    b.matmul(w.wq, xn, act.q->data(), n);
    b.matmul(w.wk, xn, act.k->data(), n);
    b.matmul(w.wv, xn, act.v->data(), n);
    if (w.bq.data) {
      b.add_bias(act.q->data(), static_cast<const float*>(w.bq.data), n, q_dim);
      b.add_bias(act.k->data(), static_cast<const float*>(w.bk.data), n, kv_dim);
      b.add_bias(act.v->data(), static_cast<const float*>(w.bv.data), n, kv_dim);
    }
    for (const Segment& s : segs) {
      const KvLayerView cache = s.kv->layer(l);
      float* q = act.q->data() + int64_t(s.row0) * q_dim;
      float* k = act.k->data() + int64_t(s.row0) * kv_dim;
      b.rope(q, s.n, c.n_heads, c.head_dim, s.pos0, inv_freq, c.rope_layout);
      b.rope(k, s.n, c.n_kv_heads, c.head_dim, s.pos0, inv_freq, c.rope_layout);
      b.kv_store(cache, k, act.v->data() + int64_t(s.row0) * kv_dim, s.n, s.pos0, c.n_kv_heads, c.head_dim);
      b.attention(q, cache, act.att->data() + int64_t(s.row0) * q_dim, s.n, s.pos0, shape);
    }
    b.matmul(w.wo, act.att->data(), xn, n);
    b.add(x, xn, int64_t(n) * c.dim);
    b.rmsnorm(x, static_cast<const float*>(w.ffn_norm.data), xn, n, c.dim, eps);
    b.matmul(w.w_gate, xn, act.gate->data(), n);
    b.matmul(w.w_up, xn, act.up->data(), n);
    b.swiglu(act.gate->data(), act.up->data(), act.gate->data(), int64_t(n) * c.hidden_dim);
    b.matmul(w.w_down, act.gate->data(), xn, n);
    b.add(x, xn, int64_t(n) * c.dim);
  }
  // Only the rows whose logits are wanted go through the final norm and the LM head.
  const int first = in.all_logits ? 0 : n - 1;
  const int rows = n - first;
  b.rmsnorm(x + int64_t(first) * c.dim, static_cast<const float*>(w_.output_norm.data), xn, rows, c.dim, eps);
  b.matmul(w_.output, xn, act.logits->data(), rows);
  b.to_host(act.logits->data(), logits, int64_t(rows) * c.vocab_size);
}

}  // namespace trapetum
