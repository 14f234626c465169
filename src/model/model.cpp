// Model loading: detect the format, read the config and tokenizer, bind and check every
// weight by name, dtype and shape.
#include "model/model.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/thread_pool.h"
#include "io/cbk.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/config_json.h"
#include "model/weight_names.h"
#include "quant/row.h"
#include "tokenizer/spec_json.h"

namespace trapetum {
namespace {

bool has_cbk_magic(const std::string& path) {
  char magic[8] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(magic, 8) && std::memcmp(magic, kCbkMagic, 8) == 0;
}

}  // namespace

Model::~Model() = default;

int64_t Model::weight_bytes() const {
  int64_t n = 0;
  for (const auto& t : tensor_infos_) n += t.bytes;
  return n;
}

int64_t Model::weight_params() const {
  int64_t n = 0;
  for (const auto& t : tensor_infos_) {
    int64_t e = 1;
    for (int64_t d : t.shape) e *= d;
    n += e;
  }
  return n;
}

Result<TensorView> Model::take(const std::string& src, const std::string& name, std::vector<int64_t> shape, bool as_f32,
                               bool required) {
  auto it = by_name_.find(name);
  const std::string shown = format_ == "safetensors" ? canonical_to_hf(name) : name;
  if (it == by_name_.end()) {
    if (required) return make_error(src, ": missing tensor '", shown, "'");
    return TensorView{};
  }
  const TensorView& v = it->second;
  if (v.shape != shape)
    return make_error(src, ": tensor '", shown, "': expected shape ", shape_str(shape), ", found ", shape_str(v.shape));
  if (!as_f32) return v;
  // Small 1-D tensors are converted to f32 once, so norms and biases are plain floats.
  std::vector<float> f(static_cast<size_t>(v.numel()));
  dequantize_row(v, 0, f.data());
  owned_.push_back(std::move(f));
  TensorView out;
  out.dtype = DType::kF32;
  out.shape = shape;
  out.data = owned_.back().data();
  return out;
}

Status Model::bind_weights(const std::string& src) {
  const ModelConfig& c = config_;
  const int64_t dim = c.dim, q_dim = int64_t(c.n_heads) * c.head_dim, kv_dim = int64_t(c.n_kv_heads) * c.head_dim;
  const int64_t hidden = c.hidden_dim, vocab = c.vocab_size;
  TRY(weights_.token_embd, take(src, "token_embd.weight", {vocab, dim}, false, true));
  TRY(weights_.output_norm, take(src, "output_norm.weight", {dim}, true, true));
  const bool has_output = by_name_.count("output.weight") && !(format_ != "gguf" && c.tied_embeddings);
  if (has_output) {
    TRY(weights_.output, take(src, "output.weight", {vocab, dim}, false, true));
  } else {
    weights_.output = weights_.token_embd;
    config_.tied_embeddings = true;
  }
  weights_.layers.resize(size_t(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights& w = weights_.layers[size_t(l)];
    auto t = [&](const char* suffix, std::vector<int64_t> shape, bool f32, bool required) {
      return take(src, layer_tensor(l, suffix), std::move(shape), f32, required);
    };
    TRY(w.attn_norm, t("attn_norm.weight", {dim}, true, true));
    TRY(w.wq, t("attn_q.weight", {q_dim, dim}, false, true));
    TRY(w.wk, t("attn_k.weight", {kv_dim, dim}, false, true));
    TRY(w.wv, t("attn_v.weight", {kv_dim, dim}, false, true));
    TRY(w.wo, t("attn_output.weight", {dim, q_dim}, false, true));
    TRY(w.bq, t("attn_q.bias", {q_dim}, true, c.qkv_bias));
    TRY(w.bk, t("attn_k.bias", {kv_dim}, true, c.qkv_bias));
    TRY(w.bv, t("attn_v.bias", {kv_dim}, true, c.qkv_bias));
    TRY(w.ffn_norm, t("ffn_norm.weight", {dim}, true, true));
    TRY(w.w_gate, t("ffn_gate.weight", {hidden, dim}, false, true));
    TRY(w.w_up, t("ffn_up.weight", {hidden, dim}, false, true));
    TRY(w.w_down, t("ffn_down.weight", {dim, hidden}, false, true));
  }
  rope_inv_freq_ = trapetum::rope_inv_freq(c);
  // GGUF carries Llama-3 rope scaling as per-frequency divisors in rope_freqs.weight.
  TRY(TensorView freqs, take(src, "rope_freqs.weight", {c.head_dim / 2}, true, false));
  if (freqs.data) {
    const float* f = static_cast<const float*>(freqs.data);
    for (size_t i = 0; i < rope_inv_freq_.size(); ++i) {
      if (!(f[i] > 0)) return make_error(src, ": tensor 'rope_freqs.weight': entry ", i, " is not positive");
      rope_inv_freq_[i] /= f[i];
    }
  }
  return Ok{};
}

Status Model::open_safetensors(const std::string& path) {
  format_ = "safetensors";
  TRY(config_, config_from_hf_json(path + "/config.json"));
  TRY(TokenizerSpec spec, tokenizer_spec_from_hf(path + "/tokenizer.json", path + "/tokenizer_config.json"));
  TRY(tokenizer_, Tokenizer::create(std::move(spec)));
  TRY(SafetensorsSet set, read_safetensors_dir(path));
  safetensors_ = std::make_unique<SafetensorsSet>(std::move(set));
  for (const auto& [name, view] : safetensors_->tensors) {
    tensor_infos_.push_back({name, view.dtype, view.shape, view.nbytes()});
    if (auto canon = hf_to_canonical(name)) by_name_[*canon] = view;
  }
  return Ok{};
}

Status Model::open_gguf(const std::string& path) {
  format_ = "gguf";
  TRY(gguf_, GgufFile::open(path));
  TRY(config_, config_from_gguf(*gguf_));
  TRY(TokenizerSpec spec, tokenizer_spec_from_gguf(*gguf_));
  TRY(tokenizer_, Tokenizer::create(std::move(spec)));
  for (const auto& t : gguf_->tensors()) {
    tensor_infos_.push_back({t.name, t.dtype, t.shape, int64_t(t.nbytes)});
    by_name_[t.name] = gguf_->view(t);
  }
  return Ok{};
}

Status Model::open_cbk(const std::string& path, const LoadOptions& options) {
  format_ = "cbk";
  TRY(cbk_, CbkFile::open(path));
  container_metadata_ = cbk_->metadata();
  const nlohmann::json meta = nlohmann::json::parse(container_metadata_, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("config") || !meta.contains("tokenizer"))
    return make_error(path, ": metadata is not a JSON object with 'config' and 'tokenizer'");
  if (meta.contains("delta"))  // a difference from a base model, not runnable weights
    return make_error(path, ": is a delta; materialize it with --base (trapetum materialize --base BASE --delta ",
                      path, " -o OUT)");
  TRY(config_, config_from_json(meta["config"], path + ": metadata.config"));
  TRY(TokenizerSpec spec, tokenizer_spec_from_json(meta["tokenizer"], path + ": metadata.tokenizer"));
  TRY(tokenizer_, Tokenizer::create(std::move(spec)));
  if (options.verify) {
    ThreadPool pool(ThreadPool::default_threads());
    TRY_STATUS(cbk_->verify(&pool));
  }
  for (const CbkTensor& t : cbk_->tensors()) {
    tensor_infos_.push_back({t.name, t.view.dtype, t.view.shape, int64_t(t.nbytes + t.outliers_nbytes)});
    by_name_[t.name] = t.view;
  }
  return Ok{};
}

Result<std::unique_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return make_error(path, ": no such file or directory");
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  if (fs::is_directory(path, ec)) {
    TRY_STATUS(m->open_safetensors(path));
  } else if (has_cbk_magic(path) || fs::path(path).extension() == ".cbk") {
    TRY_STATUS(m->open_cbk(path, options));
  } else {
    TRY_STATUS(m->open_gguf(path));
  }
  if (m->tokenizer_->vocab_size() > m->config_.vocab_size)
    return make_error(path, ": tokenizer has ", m->tokenizer_->vocab_size(), " tokens but the model's vocab size is ",
                      m->config_.vocab_size);
  TRY_STATUS(m->bind_weights(path));
  return m;
}

}  // namespace trapetum
