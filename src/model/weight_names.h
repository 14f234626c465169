// Weight names: the canonical (GGUF-style) name of every tensor, and the mapping from
// HuggingFace checkpoint names.
#pragma once

#include <optional>
#include <string>

namespace trapetum {

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; nullopt for names that
// carry no weights we use (e.g. rotary_emb.inv_freq).
std::optional<std::string> hf_to_canonical(const std::string& hf_name);

// "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight" (for error messages).
std::string canonical_to_hf(const std::string& name);

std::string layer_tensor(int layer, const char* suffix);  // ("blk.3." + suffix)

}  // namespace trapetum
