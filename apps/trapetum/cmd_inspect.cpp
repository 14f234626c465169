// `trapetum inspect`: architecture, config, tensors, tokenizer and size of a model.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"

namespace trapetum::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool json = false;
  bool tensors = true;
};

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
  auto m = Model::load(o.model);
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
  if (o.tensors) {
    auto& arr = j["tensors"] = nlohmann::json::array();
    for (const auto& t : model.tensor_infos())
      arr.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"bytes", t.bytes}});
  }
  if (o.json) {
    std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("model        %s (%s)\n", o.model.c_str(), model.format().c_str());
  std::printf("config\n");
  for (auto& [k, v] : j["config"].items()) std::printf("  %-16s %s\n", k.c_str(), v.dump().c_str());
  std::printf("tokenizer\n");
  for (auto& [k, v] : j["tokenizer"].items()) std::printf("  %-16s %s\n", k.c_str(), v.dump().c_str());
  if (o.tensors) {
    std::printf("tensors (%zu)\n  %-40s %-6s %-20s %12s\n", model.tensor_infos().size(), "name", "dtype", "shape", "bytes");
    for (const auto& t : model.tensor_infos())
      std::printf("  %-40s %-6s %-20s %12lld\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                  shape_str(t.shape).c_str(), static_cast<long long>(t.bytes));
  }
  std::printf("total        %.2f M parameters, %.2f MiB, %.3f bits per weight\n", double(params) / 1e6,
              double(bytes) / (1 << 20), bpw);
  return 0;
}

}  // namespace

void add_inspect(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a model's architecture, config, tokenizer and tensors");
  cmd->add_option("model", o->model, "Model: a .gguf file or a HuggingFace model directory")->required();
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->add_flag("!--no-tensors", o->tensors, "Leave out the tensor list");
  cmd->callback([o, exit_code] { *exit_code = inspect_main(*o); });
}

}  // namespace trapetum::cli
