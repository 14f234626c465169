// `trapetum inspect`: architecture, config, tensors, tokenizer and size of a model.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "io/cbk.h"

namespace trapetum::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool json = false;
  bool tensors = true;
  bool verify = false;
};

// .cbk: each tensor's checksum, "ok" or the error that names it.
Result<std::map<std::string, std::string>> verify_cbk(const std::string& path) {
  TRY(std::unique_ptr<CbkFile> f, CbkFile::open(path));
  std::map<std::string, std::string> out;
  for (const CbkTensor& t : f->tensors()) {
    Status s = f->verify_tensor(t);
    out[t.name] = s.ok() ? "ok" : s.error();
  }
  return out;
}

nlohmann::json config_json(const ModelConfig& c) {
  nlohmann::json j;
  j["architecture"] = c.arch_name;
  j["name"] = c.name;
  j["dim"] = c.dim;
  j["n_layers"] = c.n_layers;
  j["n_heads"] = c.n_heads;
  j["n_kv_heads"] = c.n_kv_heads;
  j["head_dim"] = c.head_dim;
  j["hidden_dim"] = c.hidden_dim;
  j["vocab_size"] = c.vocab_size;
  j["context_length"] = c.max_seq_len;
  j["rms_norm_eps"] = c.norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["rope_layout"] = c.rope_layout == RopeLayout::kInterleaved ? "interleaved" : "half";
  const char* scaling[] = {"none", "linear", "llama3"};
  j["rope_scaling"] = scaling[int(c.rope_scaling.type)];
  j["sliding_window"] = c.sliding_window;
  j["qkv_bias"] = c.qkv_bias;
  j["tied_embeddings"] = c.tied_embeddings;
  return j;
}

nlohmann::json tokenizer_json(const Tokenizer& t) {
  const TokenizerSpec& s = t.spec();
  nlohmann::json j;
  j["kind"] = s.kind == TokenizerSpec::Kind::kSentencePieceBpe ? "sentencepiece-bpe" : "byte-level-bpe";
  j["vocab_size"] = t.vocab_size();
  j["merges"] = s.merges.size();
  j["pre"] = s.pre;
  j["bos_id"] = s.bos_id;
  j["eos_id"] = s.eos_id;
  j["add_bos"] = s.add_bos;
  j["eog_ids"] = s.eog_ids;
  j["chat_template"] = !s.chat_template.empty();
  return j;
}

int inspect_main(const InspectOptions& o) {
  LoadOptions lo;
  lo.verify = false;  // inspect reports checksums itself, tensor by tensor, with --verify
  auto m = Model::load(o.model, lo);
  if (!m.ok()) return report_error(m.error());
  const Model& model = *m.value();
  const int64_t params = model.weight_params(), bytes = model.weight_bytes();
  const double bpw = params ? 8.0 * double(bytes) / double(params) : 0;
  nlohmann::json j;
  j["path"] = o.model;
  j["format"] = model.format();
  j["config"] = config_json(model.config());
  j["tokenizer"] = tokenizer_json(model.tokenizer());
  j["n_tensors"] = model.tensor_infos().size();
  j["params"] = params;
  j["bytes"] = bytes;
  j["bits_per_weight"] = bpw;
  if (!model.container_metadata().empty()) {
    const auto meta = nlohmann::json::parse(model.container_metadata(), nullptr, false);
    for (const char* k : {"source", "tool", "quantization"})
      if (meta.is_object() && meta.contains(k)) j[k] = meta[k];
  }
  std::map<std::string, std::string> checks;
  int corrupt = 0;
  if (o.verify) {
    if (model.format() != "cbk") return report_error(o.model + ": --verify applies to .cbk files (they carry checksums)");
    auto v = verify_cbk(o.model);
    if (!v.ok()) return report_error(v.error());
    checks = std::move(v.value());
    for (const auto& [name, status] : checks) corrupt += status != "ok";
    j["corrupt_tensors"] = corrupt;
  }
  if (o.tensors) {
    auto& arr = j["tensors"] = nlohmann::json::array();
    for (const auto& t : model.tensor_infos()) {
      arr.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"bytes", t.bytes}});
      if (o.verify) arr.back()["checksum"] = checks[t.name];
    }
  }
  if (o.json) {
    std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return corrupt ? 1 : 0;
  }
  std::printf("model        %s (%s)\n", o.model.c_str(), model.format().c_str());
  std::printf("config\n");
  for (auto& [k, v] : j["config"].items()) std::printf("  %-16s %s\n", k.c_str(), v.dump().c_str());
  std::printf("tokenizer\n");
  for (auto& [k, v] : j["tokenizer"].items()) std::printf("  %-16s %s\n", k.c_str(), v.dump().c_str());
  for (const char* k : {"source", "tool", "quantization"})
    if (j.contains(k)) std::printf("%-12s %s\n", k, j[k].dump().c_str());
  if (o.tensors) {
    std::printf("tensors (%zu)\n  %-40s %-6s %-20s %12s %7s\n", model.tensor_infos().size(), "name", "dtype", "shape",
                "bytes", "bpw");
    for (const auto& t : model.tensor_infos()) {
      int64_t n = 1;
      for (int64_t d : t.shape) n *= d;
      std::printf("  %-40s %-6s %-20s %12lld %7.3f%s%s\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                  shape_str(t.shape).c_str(), static_cast<long long>(t.bytes), 8.0 * double(t.bytes) / double(n),
                  o.verify ? "  " : "", o.verify ? checks[t.name].c_str() : "");
    }
  }
  std::printf("total        %.2f M parameters, %.2f MiB, %.3f bits per weight\n", double(params) / 1e6,
              double(bytes) / (1 << 20), bpw);
  if (corrupt) return report_error(o.model + ": " + std::to_string(corrupt) + " corrupt tensor(s)");
  return 0;
}

}  // namespace

void add_inspect(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a model's architecture, config, tokenizer and tensors");
  cmd->add_option("model", o->model, "Model: a .gguf or .cbk file, or a HuggingFace model directory")->required();
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->add_flag("--verify", o->verify, ".cbk: check every tensor's checksum and report each");
  cmd->add_flag("!--no-tensors", o->tensors, "Leave out the tensor list");
  cmd->callback([o, exit_code] { *exit_code = inspect_main(*o); });
}

}  // namespace trapetum::cli
