// dequantize: a HuggingFace directory from any model, streamed tensor by tensor into a
// temporary directory that is renamed into place only when complete.
#include "press/dequantize.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/check.h"
#include "core/half.h"
#include "core/timer.h"
#include "io/safetensors_writer.h"
#include "model/model.h"
#include "model/weight_names.h"
#include "press/hf_export.h"
#include "quant/row.h"

namespace trapetum {
namespace {

namespace fs = std::filesystem;

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out.write(text.data(), std::streamsize(text.size())) || !out.flush()) return make_error(path, ": cannot write");
  return Ok{};
}

// Whether a canonical tensor goes into the HF checkpoint.
bool exported(const std::string& name, const ModelConfig& c) {
  if (name == "rope_freqs.weight") return false;  // HF recomputes it from rope_scaling
  if (name == "output.weight" && c.tied_embeddings) return false;
  return true;
}

int rope_heads(const std::string& name, const ModelConfig& c) {
  const auto ends = [&](const char* s) { return name.size() > std::strlen(s) && name.compare(name.size() - std::strlen(s), std::string::npos, s) == 0; };
  if (ends(".attn_q.weight") || ends(".attn_q.bias")) return c.n_heads;
  if (ends(".attn_k.weight") || ends(".attn_k.bias")) return c.n_kv_heads;
  return 0;
}

// Removes a temporary directory unless released.
struct TempDir {
  std::string path;
  bool keep = false;
  ~TempDir() {
    std::error_code ec;
    if (!keep && !path.empty()) fs::remove_all(path, ec);
  }
};

}  // namespace

// Moves row 2 i + s of every head to s * head_dim/2 + i (to_half) or back.
static void move_rope_rows(std::vector<float>* w, int n_heads, int head_dim, int64_t cols, bool to_half) {
  const int half = head_dim / 2;
  const size_t c = size_t(cols);
  std::vector<float> head(size_t(head_dim) * c);
  CHECK(w->size() >= size_t(n_heads) * head.size());
  for (int h = 0; h < n_heads; ++h) {
    float* base = w->data() + size_t(h) * head.size();
    for (int i = 0; i < half; ++i)
      for (int s = 0; s < 2; ++s) {
        const size_t inter = size_t(2 * i + s) * c, halfed = size_t(s * half + i) * c;
        std::copy_n(base + (to_half ? inter : halfed), c, head.data() + (to_half ? halfed : inter));
      }
    std::copy(head.begin(), head.end(), base);
  }
}

void unpermute_rope_rows(std::vector<float>* w, int n_heads, int head_dim, int64_t cols) {
  move_rope_rows(w, n_heads, head_dim, cols, true);
}

void permute_rope_rows(std::vector<float>* w, int n_heads, int head_dim, int64_t cols) {
  move_rope_rows(w, n_heads, head_dim, cols, false);
}

void convert_rope_layout(std::vector<float>* w, const std::string& name, const std::vector<int64_t>& shape,
                         const ModelConfig& c, RopeLayout from, RopeLayout to) {
  const int heads = from == to ? 0 : rope_heads(name, c);
  if (heads == 0) return;
  const int64_t cols = shape.size() >= 2 ? shape.back() : 1;
  move_rope_rows(w, heads, c.head_dim, cols, to == RopeLayout::kHalf);
}

Result<DequantizeReport> write_hf_dir(const HfExportSource& src, const std::string& dir, const DequantizeOptions& o) {
  if (o.dtype != DType::kF32 && o.dtype != DType::kF16 && o.dtype != DType::kBF16)
    return make_error(dir, ": --dtype must be f32, f16 or bf16");
  Timer timer;
  std::error_code ec;
  const std::string target = fs::path(dir).lexically_normal().string();
  if (fs::exists(target, ec) && !o.force) return make_error(target, ": already exists (use --force to replace it)");
  if (fs::exists(target, ec) && !fs::is_directory(target, ec)) return make_error(target, ": exists and is not a directory");
  const ModelConfig& c = src.config;
  TRY(std::string tokenizer_json, hf_tokenizer_json(src.tokenizer));

  TempDir tmp{target + ".tmp-" + std::to_string(::getpid())};
  fs::remove_all(tmp.path, ec);
  if (!fs::create_directories(tmp.path, ec)) return make_error(tmp.path, ": cannot create directory: ", ec.message());

  std::vector<SafetensorsTensorSpec> specs;
  std::vector<std::string> canon;
  DequantizeReport rep;
  for (const auto& [name, shape] : src.tensors) {
    if (!exported(name, c)) continue;
    specs.push_back({canonical_to_hf(name), o.dtype, shape});
    canon.push_back(name);
  }
  TRY(auto writer, SafetensorsWriter::create(tmp.path + "/model.safetensors", specs));
  std::vector<float> f;
  std::vector<uint16_t> h;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (o.cancel && o.cancel->load()) return make_error(target, ": interrupted; nothing written");
    if (o.progress) o.progress(int(i + 1), int(specs.size()), canon[i]);
    TRY_STATUS(src.read(canon[i], &f));
    int64_t n = 1;
    for (int64_t d : specs[i].shape) n *= d;
    CHECK(int64_t(f.size()) == n);
    convert_rope_layout(&f, canon[i], specs[i].shape, c, c.rope_layout, RopeLayout::kHalf);
    if (o.dtype == DType::kF32) {
      TRY_STATUS(writer->write_tensor(specs[i].name, f.data(), f.size() * sizeof(float)));
    } else {
      h.resize(f.size());
      for (size_t k = 0; k < f.size(); ++k) h[k] = o.dtype == DType::kF16 ? float_to_fp16(f[k]) : float_to_bf16(f[k]);
      TRY_STATUS(writer->write_tensor(specs[i].name, h.data(), h.size() * sizeof(uint16_t)));
    }
    rep.params += n;
  }
  TRY_STATUS(writer->finish());
  rep.bytes = writer->file_size();
  rep.tensors = int(specs.size());

  ModelConfig out_config = c;
  out_config.rope_layout = RopeLayout::kHalf;
  TRY_STATUS(write_text(tmp.path + "/config.json", hf_config_json(out_config, o.dtype, src.tokenizer)));
  TRY_STATUS(write_text(tmp.path + "/generation_config.json", hf_generation_config_json(src.tokenizer)));
  TRY_STATUS(write_text(tmp.path + "/tokenizer.json", tokenizer_json));
  TRY_STATUS(write_text(tmp.path + "/tokenizer_config.json", hf_tokenizer_config_json(src.tokenizer)));

  if (fs::exists(target, ec)) {
    // --force: move the old directory aside first so the swap never leaves a half-written one.
    const std::string old = target + ".old-" + std::to_string(::getpid());
    fs::rename(target, old, ec);
    if (ec) return make_error(target, ": cannot replace: ", ec.message());
    fs::remove_all(old, ec);
  }
  fs::rename(tmp.path, target, ec);
  if (ec) return make_error(target, ": cannot rename ", tmp.path, " into place: ", ec.message());
  tmp.keep = true;
  if (o.progress) o.progress(int(specs.size()), int(specs.size()), "");
  rep.seconds = timer.seconds();
  return rep;
}

HfExportSource export_source(const Model& model) {
  HfExportSource s;
  s.config = model.config();
  s.tokenizer = model.tokenizer().spec();
  for (const auto& [name, view] : model.tensors()) s.tensors.emplace_back(name, view.shape);
  const Model* m = &model;
  s.read = [m](const std::string& name, std::vector<float>* out) -> Status {
    auto it = m->tensors().find(name);
    if (it == m->tensors().end()) return make_error(m->path(), ": no tensor '", name, "'");
    const TensorView& v = it->second;
    const int64_t rows = v.rows(), cols = v.cols();
    out->assign(size_t(v.numel()), 0.0f);
    for (int64_t r = 0; r < rows; ++r) dequantize_row(v, r, out->data() + r * cols);
    return Ok{};
  };
  return s;
}

Result<DequantizeReport> dequantize_model(const Model& model, const std::string& dir, const DequantizeOptions& o) {
  return write_hf_dir(export_source(model), dir, o);
}

}  // namespace trapetum
