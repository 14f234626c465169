// synth presets (exact published shapes) and the tensor plan: names, shapes, dtypes and
// shards of every tensor, in file order, for GGUF or HF safetensors output.
#include <algorithm>

#include "core/str.h"
#include "io/gguf_writer.h"
#include "io/safetensors_writer.h"
#include "model/weight_names.h"
#include "press/synth.h"

namespace trapetum {
namespace {

SynthPreset preset(const char* name, const char* description, Arch arch, int dim, int layers, int heads,
                   int kv_heads, int hidden, int vocab, int ctx, double theta, double eps) {
  SynthPreset p;
  p.name = name;
  p.description = description;
  p.arch = arch;
  p.dim = dim;
  p.n_layers = layers;
  p.n_heads = heads;
  p.n_kv_heads = kv_heads;
  p.hidden_dim = hidden;
  p.vocab_size = vocab;
  p.max_seq_len = ctx;
  p.rope_theta = theta;
  p.norm_eps = eps;
  return p;
}

std::vector<SynthPreset> make_presets() {
  std::vector<SynthPreset> v;
  v.push_back(preset("tiny", "a tiny Llama for tests", Arch::kLlama, 64, 2, 4, 2, 160, 512, 512, 10000, 1e-5));
  SynthPreset tq = preset("tiny-qwen2", "a tiny Qwen2 for tests (QKV bias)", Arch::kQwen2, 64, 2, 4, 2, 160, 512, 512,
                          1e6, 1e-6);
  tq.qkv_bias = true;
  v.push_back(tq);
  SynthPreset tl3 = preset("tiny-llama3", "a tiny Llama 3 for tests (llama3 RoPE)", Arch::kLlama, 64, 2, 4, 2, 160,
                           512, 512, 500000, 1e-5);
  tl3.rope_scaling = {RopeScaling::Type::kLlama3, 8.0, 1.0, 4.0, 8192};
  v.push_back(tl3);
  v.push_back(preset("tinyllama-1.1b", "TinyLlama 1.1B", Arch::kLlama, 2048, 22, 32, 4, 5632, 32000, 2048, 10000, 1e-5));
  v.push_back(preset("llama-2-7b", "Llama 2 7B", Arch::kLlama, 4096, 32, 32, 32, 11008, 32000, 4096, 10000, 1e-5));
  v.push_back(preset("llama-2-13b", "Llama 2 13B", Arch::kLlama, 5120, 40, 40, 40, 13824, 32000, 4096, 10000, 1e-5));
  SynthPreset l3 = preset("llama-3-8b", "Llama 3 8B (llama3 RoPE scaling)", Arch::kLlama, 4096, 32, 32, 8, 14336,
                          128256, 8192, 500000, 1e-5);
  l3.rope_scaling = {RopeScaling::Type::kLlama3, 8.0, 1.0, 4.0, 8192};
  v.push_back(l3);
  v.push_back(preset("mistral-7b", "Mistral 7B v0.2+ (no sliding window)", Arch::kMistral, 4096, 32, 32, 8, 14336,
                     32000, 32768, 1e6, 1e-5));
  SynthPreset qwen = preset("qwen2-7b", "Qwen2 7B (QKV bias)", Arch::kQwen2, 3584, 28, 28, 4, 18944, 152064, 32768,
                            1e6, 1e-6);
  qwen.qkv_bias = true;
  v.push_back(qwen);
  SynthPreset smol = preset("smollm2-135m", "SmolLM2 135M (tied embeddings)", Arch::kLlama, 576, 30, 9, 3, 1536,
                            49152, 8192, 100000, 1e-5);
  smol.tied_embeddings = true;
  v.push_back(smol);
  return v;
}

// The HF name of a canonical one.
std::string hf_name(const std::string& canonical) { return canonical_to_hf(canonical); }

}  // namespace

const std::vector<SynthPreset>& synth_presets() {
  static const std::vector<SynthPreset> kPresets = make_presets();  // immutable table
  return kPresets;
}

Result<SynthPreset> find_synth_preset(const std::string& name) {
  std::string names;
  for (const SynthPreset& p : synth_presets()) {
    if (p.name == name) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  return make_error("unknown preset '", name, "' (presets: ", names, ")");
}

Result<SynthPlan> plan_synth(const SynthOptions& o) {
  SynthPlan plan;
  TRY(plan.preset, find_synth_preset(o.preset));
  SynthPreset& p = plan.preset;
  if (o.layers < 0 || o.layers > 4096) return make_error("--layers ", o.layers, " is out of range (1..4096)");
  if (o.layers > 0) p.n_layers = o.layers;
  if (!(o.outlier_cols >= 0 && o.outlier_cols <= 1))
    return make_error("--outlier-cols ", o.outlier_cols, " is not a fraction in [0, 1]");
  if (o.dtype != DType::kF16 && o.dtype != DType::kF32 && o.dtype != DType::kBF16)
    return make_error("--dtype ", dtype_name(o.dtype), " is not supported (f16, f32, bf16)");
  if (o.out.empty()) return make_error("no output path (-o)");
  plan.format = ends_with(o.out, ".gguf") ? SynthFormat::kGguf : SynthFormat::kSafetensors;
  const bool gguf = plan.format == SynthFormat::kGguf;
  // GGUF llama stores Q/K rows in the interleaved RoPE order our loader expects for it.
  const bool interleave = gguf && p.arch != Arch::kQwen2;
  const int64_t dim = p.dim, head_dim = p.dim / p.n_heads, hidden = p.hidden_dim, vocab = p.vocab_size;
  const int64_t q_dim = p.n_heads * head_dim, kv_dim = p.n_kv_heads * head_dim;
  const DType small = gguf ? DType::kF32 : o.dtype;  // 1-D tensors

  auto add = [&](const std::string& canonical, SynthKind kind, std::vector<int64_t> shape, int rope_heads = 0) {
    SynthTensor t;
    t.canonical = canonical;
    t.name = gguf ? canonical : hf_name(canonical);
    t.kind = kind;
    t.dtype = shape.size() == 1 ? small : o.dtype;
    t.shape = std::move(shape);
    t.rope_heads = interleave ? rope_heads : 0;
    plan.tensors.push_back(std::move(t));
  };
  add("token_embd.weight", SynthKind::kEmbedding, {vocab, dim});
  if (gguf && p.rope_scaling.type == RopeScaling::Type::kLlama3)
    add("rope_freqs.weight", SynthKind::kRopeFreqs, {head_dim / 2});
  for (int l = 0; l < p.n_layers; ++l) {
    auto name = [&](const char* suffix) { return layer_tensor(l, suffix); };
    add(name("attn_norm.weight"), SynthKind::kNorm, {dim});
    add(name("attn_q.weight"), SynthKind::kLinear, {q_dim, dim}, p.n_heads);
    add(name("attn_k.weight"), SynthKind::kLinear, {kv_dim, dim}, p.n_kv_heads);
    add(name("attn_v.weight"), SynthKind::kLinear, {kv_dim, dim});
    if (p.qkv_bias) {
      add(name("attn_q.bias"), SynthKind::kBias, {q_dim}, p.n_heads);
      add(name("attn_k.bias"), SynthKind::kBias, {kv_dim}, p.n_kv_heads);
      add(name("attn_v.bias"), SynthKind::kBias, {kv_dim});
    }
    add(name("attn_output.weight"), SynthKind::kLinear, {dim, q_dim});
    add(name("ffn_norm.weight"), SynthKind::kNorm, {dim});
    add(name("ffn_gate.weight"), SynthKind::kLinear, {hidden, dim});
    add(name("ffn_up.weight"), SynthKind::kLinear, {hidden, dim});
    add(name("ffn_down.weight"), SynthKind::kLinear, {dim, hidden});
  }
  add("output_norm.weight", SynthKind::kNorm, {dim});
  if (!p.tied_embeddings) add("output.weight", SynthKind::kLinear, {vocab, dim});

  int64_t shard_bytes = 0;
  for (SynthTensor& t : plan.tensors) {
    if (gguf) {
      TRY(uint64_t n, GgufWriter::tensor_bytes({t.name, t.dtype, t.shape}));
      t.bytes = int64_t(n);
    } else {
      TRY(uint64_t n, SafetensorsWriter::tensor_bytes({t.name, t.dtype, t.shape}));
      t.bytes = int64_t(n);
      // A new shard when this tensor would overflow a non-empty one (HF's rule).
      if (shard_bytes > 0 && shard_bytes + t.bytes > o.max_shard_bytes) {
        ++plan.n_shards;
        shard_bytes = 0;
      }
      shard_bytes += t.bytes;
      t.shard = plan.n_shards - 1;
    }
    plan.total_bytes += t.bytes;
  }
  return plan;
}

}  // namespace trapetum
