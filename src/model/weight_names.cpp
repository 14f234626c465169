// HF <-> canonical weight names.
#include "model/weight_names.h"

#include <cstdlib>
#include <string_view>

namespace trapetum {
namespace {

struct NamePair {
  std::string_view hf;         // part after "model.layers.N."
  std::string_view canonical;  // part after "blk.N."
};

constexpr NamePair kLayerNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

constexpr NamePair kGlobalNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

// Splits "<prefix><N>.<rest>" into N and rest.
bool split_layer(std::string_view name, std::string_view prefix, int* layer, std::string_view* rest) {
  if (name.substr(0, prefix.size()) != prefix) return false;
  name.remove_prefix(prefix.size());
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot > 6) return false;
  int n = 0;
  for (char ch : name.substr(0, dot)) {
    if (ch < '0' || ch > '9') return false;
    n = n * 10 + (ch - '0');
  }
  *layer = n;
  *rest = name.substr(dot + 1);
  return true;
}

}  // namespace

std::string layer_tensor(int layer, const char* suffix) { return "blk." + std::to_string(layer) + "." + suffix; }

std::optional<std::string> hf_to_canonical(const std::string& hf_name) {
  for (const auto& p : kGlobalNames)
    if (hf_name == p.hf) return std::string(p.canonical);
  int layer;
  std::string_view rest;
  if (split_layer(hf_name, "model.layers.", &layer, &rest)) {
    for (const auto& p : kLayerNames)
      if (rest == p.hf) return "blk." + std::to_string(layer) + "." + std::string(p.canonical);
  }
  return std::nullopt;
}

std::string canonical_to_hf(const std::string& name) {
  for (const auto& p : kGlobalNames)
    if (name == p.canonical) return std::string(p.hf);
  int layer;
  std::string_view rest;
  if (split_layer(name, "blk.", &layer, &rest)) {
    for (const auto& p : kLayerNames)
      if (rest == p.canonical) return "model.layers." + std::to_string(layer) + "." + std::string(p.hf);
  }
  return name;
}

}  // namespace trapetum
