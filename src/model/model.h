// Model: config, tokenizer and weights of a loaded checkpoint. Immutable after load and
// shareable by many sessions; weights stay memory-mapped in their packed form.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/tensor.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {

class CbkFile;
class GgufFile;
struct SafetensorsSet;

struct LayerWeights {
  TensorView attn_norm;  // (dim) f32
  TensorView wq;         // (n_heads * head_dim, dim)
  TensorView wk;         // (n_kv_heads * head_dim, dim)
  TensorView wv;         // (n_kv_heads * head_dim, dim)
  TensorView wo;         // (dim, n_heads * head_dim)
  TensorView bq;         // (n_heads * head_dim) f32, qwen2 only (data == nullptr otherwise)
  TensorView bk;         // (n_kv_heads * head_dim) f32
  TensorView bv;         // (n_kv_heads * head_dim) f32
  TensorView ffn_norm;   // (dim) f32
  TensorView w_gate;     // (hidden_dim, dim)
  TensorView w_up;       // (hidden_dim, dim)
  TensorView w_down;     // (dim, hidden_dim)
};

struct ModelWeights {
  TensorView token_embd;  // (vocab, dim)
  std::vector<LayerWeights> layers;
  TensorView output_norm;  // (dim) f32
  TensorView output;       // (vocab, dim); the embedding table when tied
};

// One tensor as stored in the source, for `inspect`.
struct TensorInfo {
  std::string name;  // as named in the source file
  DType dtype;
  std::vector<int64_t> shape;
  int64_t bytes;
};

struct LoadOptions {
  bool verify = true;  // .cbk: check every tensor's checksum at load
};

class Model {
 public:
  // path: a .gguf file, a .cbk file or a HuggingFace model directory.
  static Result<std::unique_ptr<Model>> load(const std::string& path, const LoadOptions& options = {});
  ~Model();

  const std::string& path() const { return path_; }
  const std::string& format() const { return format_; }  // "gguf", "safetensors" or "cbk"
  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const ModelWeights& weights() const { return weights_; }
  const std::vector<float>& rope_inv_freq() const { return rope_inv_freq_; }  // (head_dim / 2)
  const std::vector<TensorInfo>& tensor_infos() const { return tensor_infos_; }
  // Every tensor by canonical (GGUF-style) name, as stored: what `quantize` reads.
  const std::map<std::string, TensorView>& tensors() const { return by_name_; }
  // .cbk only: the container's metadata JSON (source, tool, quantization); empty otherwise.
  const std::string& container_metadata() const { return container_metadata_; }
  int64_t weight_bytes() const;    // bytes of all source tensors
  int64_t weight_params() const;   // elements of all source tensors

 private:
  Model() = default;
  Status open_gguf(const std::string& path);
  Status open_safetensors(const std::string& path);
  Status open_cbk(const std::string& path, const LoadOptions& options);
  Status bind_weights(const std::string& src);
  Result<TensorView> take(const std::string& src, const std::string& name, std::vector<int64_t> shape, bool as_f32,
                          bool required);

  std::string path_, format_;
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  ModelWeights weights_;
  std::vector<float> rope_inv_freq_;
  std::vector<TensorInfo> tensor_infos_;
  std::map<std::string, TensorView> by_name_;
  std::string container_metadata_;
  std::unique_ptr<CbkFile> cbk_;
  std::unique_ptr<GgufFile> gguf_;
  std::unique_ptr<SafetensorsSet> safetensors_;
  std::vector<std::vector<float>> owned_;  // f32 copies of small 1-D tensors (norms, biases)
};

}  // namespace trapetum
