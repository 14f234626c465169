// Test helpers.
#include "common/test_util.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "core/half.h"

namespace trapetum::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "trapetum-test-XXXXXX").string();
  path_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& bytes) const {
  const std::string p = file(name);
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::vector<float> random_floats(size_t n, std::mt19937& rng, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

namespace {
// Byte offsets of the fp16 scale fields inside one block of each quantized GGUF type.
std::vector<size_t> half_fields(DType t) {
  switch (t) {
    case DType::kQ8_0: case DType::kQ4_0: return {0};
    case DType::kQ4_1: case DType::kQ4_K: return {0, 2};
    case DType::kQ6_K: return {208};
    default: return {};
  }
}
}  // namespace

ScopedEnv::ScopedEnv(const char* name, const char* value) : name_(name) {
  if (const char* old = std::getenv(name)) {
    had_ = true;
    old_ = old;
  }
  ::setenv(name, value, 1);
}

ScopedEnv::~ScopedEnv() {
  if (had_) ::setenv(name_.c_str(), old_.c_str(), 1);
  else ::unsetenv(name_.c_str());
}

std::vector<uint8_t> random_packed(DType dtype, int64_t rows, int64_t cols, std::mt19937& rng) {
  const Codec& c = codec(dtype);
  const int64_t row_bytes = c.row_bytes(cols);
  std::vector<uint8_t> out(static_cast<size_t>(rows * row_bytes));
  if (c.quantize) {  // trapetum's codecs: real encodings of random weights
    auto f = random_floats(size_t(rows * cols), rng);
    for (int64_t r = 0; r < rows; ++r) c.quantize(f.data() + r * cols, out.data() + r * row_bytes, cols, nullptr);
    return out;
  }
  if (dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16) {
    auto f = random_floats(size_t(rows * cols), rng);
    for (size_t i = 0; i < f.size(); ++i) {
      if (dtype == DType::kF32) std::memcpy(&out[i * 4], &f[i], 4);
      else {
        const uint16_t h = dtype == DType::kF16 ? float_to_fp16(f[i]) : float_to_bf16(f[i]);
        std::memcpy(&out[i * 2], &h, 2);
      }
    }
    return out;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : out) b = uint8_t(byte(rng));
  std::uniform_real_distribution<float> mag(0.002f, 0.05f);
  const int64_t n_blocks = rows * cols / c.block_elems;
  for (int64_t b = 0; b < n_blocks; ++b)
    for (size_t off : half_fields(dtype)) {
      const uint16_t h = float_to_fp16((b % 2 ? -1.0f : 1.0f) * mag(rng));
      std::memcpy(&out[size_t(b * c.block_bytes) + off], &h, 2);
    }
  return out;
}

namespace {
void put_u32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
void put_u64(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }
void put_str(std::string& s, const std::string& v) {
  put_u64(s, v.size());
  s += v;
}
}  // namespace

void GgufBuilder::str(const std::string& key, const std::string& v) {
  put_str(kv_, key); put_u32(kv_, 8); put_str(kv_, v); ++n_kv_;
}
void GgufBuilder::u32(const std::string& key, uint32_t v) {
  put_str(kv_, key); put_u32(kv_, 4); put_u32(kv_, v); ++n_kv_;
}
void GgufBuilder::i32(const std::string& key, int32_t v) {
  put_str(kv_, key); put_u32(kv_, 5); put_u32(kv_, uint32_t(v)); ++n_kv_;
}
void GgufBuilder::f32(const std::string& key, float v) {
  put_str(kv_, key); put_u32(kv_, 6); kv_.append(reinterpret_cast<const char*>(&v), 4); ++n_kv_;
}
void GgufBuilder::boolean(const std::string& key, bool v) {
  put_str(kv_, key); put_u32(kv_, 7); kv_.push_back(char(v ? 1 : 0)); ++n_kv_;
}
void GgufBuilder::str_array(const std::string& key, const std::vector<std::string>& v) {
  put_str(kv_, key); put_u32(kv_, 9); put_u32(kv_, 8); put_u64(kv_, v.size());
  for (const auto& s : v) put_str(kv_, s);
  ++n_kv_;
}
void GgufBuilder::f32_array(const std::string& key, const std::vector<float>& v) {
  put_str(kv_, key); put_u32(kv_, 9); put_u32(kv_, 6); put_u64(kv_, v.size());
  kv_.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  ++n_kv_;
}
void GgufBuilder::i32_array(const std::string& key, const std::vector<int32_t>& v) {
  put_str(kv_, key); put_u32(kv_, 9); put_u32(kv_, 5); put_u64(kv_, v.size());
  kv_.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  ++n_kv_;
}

void GgufBuilder::tensor(const std::string& name, uint32_t ggml_type, const std::vector<int64_t>& shape,
                         const std::vector<uint8_t>& data) {
  tensors_.push_back({name, ggml_type, shape, data});
}

std::string GgufBuilder::build(uint32_t version) const {
  std::string s = "GGUF";
  put_u32(s, version);
  put_u64(s, tensors_.size());
  put_u64(s, n_kv_);
  s += kv_;
  uint64_t offset = 0;
  std::vector<uint64_t> offsets;
  for (const auto& t : tensors_) {
    put_str(s, t.name);
    put_u32(s, uint32_t(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) put_u64(s, uint64_t(*it));
    put_u32(s, t.type);
    put_u64(s, offset);
    offsets.push_back(offset);
    offset += (t.data.size() + 31) / 32 * 32;
  }
  s.resize((s.size() + 31) / 32 * 32, '\0');
  const size_t base = s.size();
  for (size_t i = 0; i < tensors_.size(); ++i) {
    s.resize(base + offsets[i], '\0');
    s.append(reinterpret_cast<const char*>(tensors_[i].data.data()), tensors_[i].data.size());
  }
  return s;
}

GgufBuilder tiny_llama_gguf(std::mt19937& rng, bool with_output) {
  const int dim = 32, hidden = 64, heads = 4, kv_heads = 2, head_dim = 8;
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "\xe2\x96\x81", "a", "b", "\xe2\x96\x81" "a", "ab"};
  std::vector<int32_t> types = {2, 3, 3, 1, 1, 1, 1, 1};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    tokens.push_back(buf);
    types.push_back(6);
  }
  std::vector<float> scores(tokens.size(), 0.0f);
  for (size_t i = 3; i < 8; ++i) scores[i] = -float(i);
  const int vocab = int(tokens.size());
  GgufBuilder g;
  g.str("general.architecture", "llama");
  g.str("general.name", "tiny test llama");
  g.u32("llama.context_length", 64);
  g.u32("llama.embedding_length", dim);
  g.u32("llama.block_count", 1);
  g.u32("llama.feed_forward_length", hidden);
  g.u32("llama.attention.head_count", heads);
  g.u32("llama.attention.head_count_kv", kv_heads);
  g.f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  g.f32("llama.rope.freq_base", 10000.0f);
  g.u32("llama.rope.dimension_count", head_dim);
  g.str("tokenizer.ggml.model", "llama");
  g.str_array("tokenizer.ggml.tokens", tokens);
  g.f32_array("tokenizer.ggml.scores", scores);
  g.i32_array("tokenizer.ggml.token_type", types);
  g.u32("tokenizer.ggml.bos_token_id", 1);
  g.u32("tokenizer.ggml.eos_token_id", 2);
  g.u32("tokenizer.ggml.unknown_token_id", 0);
  auto f32 = [&](std::vector<int64_t> shape) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return random_packed(DType::kF32, 1, n, rng);
  };
  g.tensor("token_embd.weight", kGgmlF32, {vocab, dim}, f32({vocab, dim}));
  g.tensor("blk.0.attn_norm.weight", kGgmlF32, {dim}, f32({dim}));
  g.tensor("blk.0.attn_q.weight", kGgmlF32, {heads * head_dim, dim}, f32({heads * head_dim, dim}));
  g.tensor("blk.0.attn_k.weight", kGgmlF32, {kv_heads * head_dim, dim}, f32({kv_heads * head_dim, dim}));
  g.tensor("blk.0.attn_v.weight", kGgmlF32, {kv_heads * head_dim, dim}, f32({kv_heads * head_dim, dim}));
  g.tensor("blk.0.attn_output.weight", kGgmlF32, {dim, heads * head_dim}, f32({dim, heads * head_dim}));
  g.tensor("blk.0.ffn_norm.weight", kGgmlF32, {dim}, f32({dim}));
  g.tensor("blk.0.ffn_gate.weight", kGgmlF32, {hidden, dim}, f32({hidden, dim}));
  g.tensor("blk.0.ffn_up.weight", kGgmlF32, {hidden, dim}, f32({hidden, dim}));
  g.tensor("blk.0.ffn_down.weight", kGgmlF32, {dim, hidden}, f32({dim, hidden}));
  g.tensor("output_norm.weight", kGgmlF32, {dim}, f32({dim}));
  if (with_output) g.tensor("output.weight", kGgmlF32, {vocab, dim}, f32({vocab, dim}));
  return g;
}

}  // namespace trapetum::test
