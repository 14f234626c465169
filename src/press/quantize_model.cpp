// quantize_model: plan codecs, press tensor by tensor into a CbkWriter, then write the
// metadata that makes the .cbk self-contained (config, tokenizer, provenance, codecs).
#include "press/quantize_model.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/mmap_file.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "io/cbk.h"
#include "io/file_hash.h"
#include "model/config_json.h"
#include "model/model.h"
#include "model/weight_names.h"
#include "press/bpw_search.h"
#include "press/quantize_tensor.h"
#include "tokenizer/spec_json.h"

namespace trapetum {
namespace {

struct PlanEntry {
  std::string name;
  TensorView view;
  TensorChoice choice;
};

bool cancelled(const PressOptions& o) { return o.cancel && o.cancel->load(); }

// Layer number of a "blk.N.*" name, -1 for the others (embeddings first, head last).
int layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return name.rfind("token_embd", 0) == 0 ? -1 : 1 << 30;
  return std::atoi(name.c_str() + 4);
}

// The tensors a .cbk of this model holds: everything the engine binds, layer by layer.
std::vector<PlanEntry> tensors_to_write(const Model& src) {
  std::vector<PlanEntry> out;
  for (const auto& [name, view] : src.tensors()) {
    if (name == "output.weight" && src.config().tied_embeddings && src.format() != "gguf") continue;
    out.push_back({name, view, {}});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const PlanEntry& a, const PlanEntry& b) { return layer_of(a.name) < layer_of(b.name); });
  return out;
}

Result<nlohmann::json> source_json(const Model& src, bool hash) {
  nlohmann::json j = {{"path", src.path()}, {"format", src.format()}, {"name", src.config().name}};
  if (!hash) return j;
  namespace fs = std::filesystem;
  if (fs::is_directory(src.path())) {
    nlohmann::json files = nlohmann::json::object();
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(src.path()))
      if (e.is_regular_file() && (e.path().extension() == ".json" || e.path().extension() == ".safetensors"))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      TRY(std::string h, sha256_file(src.path() + "/" + n));
      files[n] = h;
    }
    j["sha256"] = std::move(files);
  } else {
    TRY(std::string h, sha256_file(src.path()));
    j["sha256"] = h;
  }
  return j;
}

Status plan_codecs(std::vector<PlanEntry>& plan, const PressOptions& o, ThreadPool& pool) {
  for (PlanEntry& e : plan) e.choice = o.recipe.choose({e.name, canonical_to_hf(e.name)}, e.view.shape);
  if (o.target_bpw <= 0) return Ok{};
  std::vector<BudgetTensor> matrices;
  std::vector<size_t> where;
  double fixed_bits = 0, params = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    params += double(plan[i].view.numel());
    if (plan[i].view.shape.size() >= 2) {
      matrices.push_back({plan[i].name, plan[i].view});
      where.push_back(i);
    } else {
      fixed_bits += 32.0 * double(plan[i].view.numel());
    }
  }
  auto on_tensor = [&](int i, const std::string& name) {
    if (o.progress) o.progress({i + 1, int(matrices.size()), name, 0, 0, "measure"});
  };
  TRY(std::vector<DType> chosen,
      choose_for_budget(matrices, o.target_bpw, fixed_bits, params, pool, on_tensor, o.cancel));
  for (size_t i = 0; i < where.size(); ++i) plan[where[i]].choice = {chosen[i], 0.0};
  return Ok{};
}

}  // namespace

Result<PressReport> quantize_model(const Model& src, const std::string& out_path, const PressOptions& o) {
  Timer timer;
  ThreadPool pool(std::max(1, o.threads));
  std::vector<PlanEntry> plan = tensors_to_write(src);
  TRY_STATUS(plan_codecs(plan, o, pool));
  TRY(nlohmann::json source, source_json(src, o.hash_source));
  TRY(std::unique_ptr<CbkWriter> writer, CbkWriter::create(out_path));
  PressReport rep;
  int64_t bytes_total = 0, bytes_done = 0;
  for (const PlanEntry& e : plan) bytes_total += e.view.nbytes();
  double err = 0, norm = 0, matrix_bits = 0, matrix_params = 0, all_bits = 0;
  std::map<std::string, int> codec_counts;
  for (size_t i = 0; i < plan.size(); ++i) {
    const PlanEntry& e = plan[i];
    if (cancelled(o)) return make_error(out_path, ": interrupted; no file written");
    if (o.progress) o.progress({int(i) + 1, int(plan.size()), e.name, bytes_done, bytes_total, "write"});
    const PressedTensor p = press_tensor(e.view, e.choice.dtype, e.choice.outliers, pool);
    const SparseRowsData* outl = p.outliers.nnz() ? &p.outliers : nullptr;
    TRY_STATUS(writer->add(e.name, p.dtype, p.shape, p.data.data(), p.data.size(), outl));
    bytes_done += e.view.nbytes();
    drop_mapped_pages(e.view.data, size_t(e.view.nbytes()));  // the source is read once: keep RSS bounded
    const double bits = 8.0 * double(p.stored_bytes()), numel = double(e.view.numel());
    all_bits += bits;
    rep.params += e.view.numel();
    if (e.view.shape.size() >= 2) {
      err += p.sq_error;
      norm += p.sq_norm;
      matrix_bits += bits;
      matrix_params += numel;
    }
    ++codec_counts[std::string(dtype_name(p.dtype))];
    rep.tensors.push_back({e.name, p.dtype, p.shape, p.bits_per_weight(), p.rel_error(), p.outliers.nnz(),
                           p.stored_bytes()});
  }
  if (o.progress) o.progress({int(plan.size()), int(plan.size()), "", bytes_total, bytes_total, "write"});
  rep.bits_per_weight = rep.params ? all_bits / double(rep.params) : 0;
  rep.matrix_bits_per_weight = matrix_params ? matrix_bits / matrix_params : 0;
  rep.rel_error = norm > 0 ? std::sqrt(err / norm) : 0;
  nlohmann::json meta = {
      {"format", "trapetum.cbk"},
      {"config", config_to_json(src.config())},
      {"tokenizer", tokenizer_spec_to_json(src.tokenizer().spec())},
      {"source", std::move(source)},
      {"tool", {{"name", "trapetum"}, {"version", TRAPETUM_VERSION}, {"command_line", o.command_line}}},
      {"quantization",
       {{"recipe", o.target_bpw > 0 ? "target-bpw " + std::to_string(o.target_bpw) : o.recipe.description()},
        {"outliers", o.recipe.outliers()},
        {"codecs", codec_counts},
        {"bits_per_weight", rep.bits_per_weight},
        {"matrix_bits_per_weight", rep.matrix_bits_per_weight},
        {"rel_error", rep.rel_error}}}};
  if (cancelled(o)) return make_error(out_path, ": interrupted; no file written");
  TRY_STATUS(writer->finish(meta.dump(1)));
  rep.file_bytes = writer->bytes_written();
  rep.seconds = timer.seconds();
  rep.peak_rss_mb = peak_rss_mb();
  return rep;
}

}  // namespace trapetum
