// make_delta and materialize_delta: per-tensor differences pressed with a codec, checked
// against the base's fingerprint, and added back onto the base in bounded memory.
#include "press/delta.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "io/cbk.h"
#include "io/file_hash.h"
#include "model/config_json.h"
#include "model/model.h"
#include "model/weight_names.h"
#include "press/quantize_tensor.h"
#include "quant/row.h"
#include "tokenizer/spec_json.h"

namespace trapetum {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void read_f32(const TensorView& v, std::vector<float>* out) {
  out->assign(size_t(v.numel()), 0.0f);
  for (int64_t r = 0; r < v.rows(); ++r) dequantize_row(v, r, out->data() + r * v.cols());
}

TensorView f32_view(std::vector<float>& f, const std::vector<int64_t>& shape) {
  TensorView v;
  v.dtype = DType::kF32;
  v.shape = shape;
  v.data = f.data();
  return v;
}

// A base tensor in the layout of `to` (the fine-tuned model's), as f32.
Result<std::vector<float>> base_tensor(const Model& base, const std::string& name, const std::vector<int64_t>& shape,
                                       const ModelConfig& to, const std::string& other) {
  auto it = base.tensors().find(name);
  if (it == base.tensors().end())
    return make_error(base.path(), ": base has no tensor '", name, "' (", other, " has one)");
  if (it->second.shape != shape)
    return make_error("tensor '", name, "': base ", base.path(), " has shape ", shape_str(it->second.shape), ", ",
                      other, " has ", shape_str(shape));
  std::vector<float> f;
  read_f32(it->second, &f);
  convert_rope_layout(&f, name, shape, to, base.config().rope_layout, to.rope_layout);
  return f;
}

Status check_compatible(const ModelConfig& b, const ModelConfig& f, const std::string& where) {
  if (b.n_heads != f.n_heads || b.n_kv_heads != f.n_kv_heads || b.head_dim != f.head_dim)
    return make_error(where, ": base and fine-tuned models differ in attention heads (", b.n_heads, "/", b.n_kv_heads,
                      "x", b.head_dim, " vs ", f.n_heads, "/", f.n_kv_heads, "x", f.head_dim, ")");
  return Ok{};
}

json tool_json(const std::string& command_line) {
  return {{"name", "trapetum"}, {"version", TRAPETUM_VERSION}, {"command_line", command_line}};
}

}  // namespace

Result<std::string> model_fingerprint(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return sha256_file(path);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.is_regular_file() && (e.path().extension() == ".json" || e.path().extension() == ".safetensors"))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  json files = json::object();
  for (const std::string& n : names) {
    TRY(std::string h, sha256_file(path + "/" + n));
    files[n] = h;
  }
  return files.dump();
}

Result<DeltaReport> make_delta(const Model& base, const Model& ft, const std::string& out_path, const DeltaOptions& o) {
  TRY_STATUS(check_compatible(base.config(), ft.config(), out_path));
  TRY(std::string fingerprint, model_fingerprint(base.path()));
  ThreadPool pool(std::max(1, o.threads));
  TRY(std::unique_ptr<CbkWriter> writer, CbkWriter::create(out_path));
  DeltaReport rep;
  double err = 0, dnorm = 0, wnorm = 0, bits = 0, params = 0;
  std::map<std::string, int> codecs;
  int index = 0;
  for (const auto& [name, view] : ft.tensors()) {
    if (o.progress) o.progress(++index, int(ft.tensors().size()), name);
    std::vector<float> w;
    read_f32(view, &w);
    PressedTensor p;
    if (view.shape.size() >= 2) {
      TRY(std::vector<float> b, base_tensor(base, name, view.shape, ft.config(), ft.path()));
      for (size_t i = 0; i < w.size(); ++i) {
        wnorm += double(w[i]) * w[i];
        w[i] -= b[i];
      }
      const TensorChoice c = o.recipe.choose({name, canonical_to_hf(name)}, view.shape);
      p = press_tensor(f32_view(w, view.shape), c.dtype, c.outliers, pool);
      err += p.sq_error;
      dnorm += p.sq_norm;
    } else {
      p = press_tensor(f32_view(w, view.shape), DType::kF32, 0, pool);
    }
    const SparseRowsData* outl = p.outliers.nnz() ? &p.outliers : nullptr;
    TRY_STATUS(writer->add(name, p.dtype, p.shape, p.data.data(), p.data.size(), outl));
    bits += 8.0 * double(p.stored_bytes());
    params += double(view.numel());
    ++codecs[std::string(dtype_name(p.dtype))];
    ++rep.tensors;
  }
  rep.bits_per_weight = params > 0 ? bits / params : 0;
  rep.rel_error = dnorm > 0 ? std::sqrt(err / dnorm) : 0;
  rep.weight_rel_error = wnorm > 0 ? std::sqrt(err / wnorm) : 0;
  rep.delta_rel_norm = wnorm > 0 ? std::sqrt(dnorm / wnorm) : 0;
  const json meta = {
      {"format", "trapetum.cbk"},
      {"config", config_to_json(ft.config())},
      {"tokenizer", tokenizer_spec_to_json(ft.tokenizer().spec())},
      {"delta",
       {{"base_sha256", fingerprint}, {"base_path", base.path()}, {"base_format", base.format()},
        {"finetuned_path", ft.path()}}},
      {"tool", tool_json(o.command_line)},
      {"quantization",
       {{"recipe", o.recipe.description()}, {"codecs", codecs}, {"bits_per_weight", rep.bits_per_weight},
        {"rel_error", rep.rel_error}, {"weight_rel_error", rep.weight_rel_error},
        {"delta_rel_norm", rep.delta_rel_norm}}}};
  TRY_STATUS(writer->finish(meta.dump(1)));
  rep.file_bytes = writer->bytes_written();
  return rep;
}

Status materialize_delta(const std::string& base_path, const std::string& delta_path, const std::string& out,
                         const MaterializeOptions& o) {
  TRY(std::unique_ptr<CbkFile> delta, CbkFile::open(delta_path));
  ThreadPool pool(std::max(1, o.threads));
  TRY_STATUS(delta->verify(&pool));
  const json meta = json::parse(delta->metadata(), nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("delta") || !meta["delta"].is_object())
    return make_error(delta_path, ": not a delta (its metadata has no 'delta' record); it is a model already");
  const json& rec = meta["delta"];
  TRY(ModelConfig config, config_from_json(meta.value("config", json()), delta_path + ": metadata.config"));
  TRY(TokenizerSpec spec, tokenizer_spec_from_json(meta.value("tokenizer", json()), delta_path + ": metadata.tokenizer"));
  const std::string want = rec.value("base_sha256", ""), recorded_path = rec.value("base_path", "");
  if (!o.force) {
    TRY(std::string have, model_fingerprint(base_path));
    if (have != want)
      return make_error(base_path, ": is not the base of ", delta_path, " (sha256 ", have.substr(0, 80),
                        " != recorded ", want.substr(0, 80), " of ", recorded_path, "); --force skips this check");
  }
  TRY(std::unique_ptr<Model> base, Model::load(base_path));
  TRY_STATUS(check_compatible(base->config(), config, delta_path));
  std::map<std::string, const CbkTensor*> by_name;
  for (const CbkTensor& t : delta->tensors()) by_name[t.name] = &t;
  // W = base + Δ for matrices; 1-D tensors are stored whole.
  auto reconstruct = [&](const std::string& name, std::vector<float>* w) -> Status {
    const TensorView& d = by_name.at(name)->view;
    read_f32(d, w);
    if (d.shape.size() < 2) return Ok{};
    TRY(std::vector<float> b, base_tensor(*base, name, d.shape, config, delta_path));
    for (size_t i = 0; i < w->size(); ++i) (*w)[i] += b[i];
    return Ok{};
  };
  const bool to_cbk = out.size() > 4 && out.compare(out.size() - 4, 4, ".cbk") == 0;
  if (!to_cbk) {
    HfExportSource src;
    src.config = config;
    src.tokenizer = std::move(spec);
    for (const CbkTensor& t : delta->tensors()) src.tensors.emplace_back(t.name, t.view.shape);
    src.read = reconstruct;
    DequantizeOptions hf = o.hf;
    hf.force = o.force;
    hf.progress = o.progress;
    TRY_STATUS(write_hf_dir(src, out, hf));
    return Ok{};
  }
  std::error_code ec;
  if (fs::exists(out, ec) && !o.force) return make_error(out, ": already exists (use --force to replace it)");
  TRY(std::unique_ptr<CbkWriter> writer, CbkWriter::create(out));
  std::map<std::string, int> codecs;
  int index = 0;
  for (const CbkTensor& t : delta->tensors()) {
    if (o.progress) o.progress(++index, int(delta->tensors().size()), t.name);
    std::vector<float> w;
    TRY_STATUS(reconstruct(t.name, &w));
    const TensorChoice c = o.recipe.choose({t.name, canonical_to_hf(t.name)}, t.view.shape);
    const PressedTensor p = press_tensor(f32_view(w, t.view.shape), c.dtype, c.outliers, pool);
    const SparseRowsData* outl = p.outliers.nnz() ? &p.outliers : nullptr;
    TRY_STATUS(writer->add(t.name, p.dtype, p.shape, p.data.data(), p.data.size(), outl));
    ++codecs[std::string(dtype_name(p.dtype))];
  }
  const json out_meta = {
      {"format", "trapetum.cbk"},
      {"config", config_to_json(config)},
      {"tokenizer", tokenizer_spec_to_json(spec)},
      {"source", {{"path", delta_path}, {"format", "delta"}, {"base_path", base_path}, {"base_sha256", want}}},
      {"tool", tool_json(o.command_line)},
      {"quantization", {{"recipe", o.recipe.description()}, {"codecs", codecs}}}};
  TRY_STATUS(writer->finish(out_meta.dump(1)));
  return Ok{};
}

}  // namespace trapetum
