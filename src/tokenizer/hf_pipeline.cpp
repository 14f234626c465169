// Interprets the normalizer, pre_tokenizer, decoder and post_processor of tokenizer.json: which
// tokenizer kind it is, the split patterns, NFC, the U+2581 prefix, and BOS/EOS insertion.
#include <string_view>

#include "tokenizer/hf_json.h"
#include "tokenizer/pre_tokenizer.h"

namespace trapetum {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581

struct Component {
  const json* node;
  std::string type;
  std::string field;  // path for errors, e.g. "pre_tokenizer.pretokenizers[1]"
};

// Flattens nested Sequence components into a list. Real files nest one or two deep; the bound
// keeps a hostile file from overflowing the stack (and its field paths from growing quadratically).
constexpr int kMaxSequenceDepth = 16;

Status flatten(const HfJson& hf, const json* node, const std::string& field, const char* list_key,
               std::vector<Component>* out, int depth = 0) {
  if (!node) return Ok{};
  if (!node->is_object()) return hf.wrong_type(field, "an object", *node);
  std::string type;
  if (const json* t = hf.find(*node, "type")) {
    if (!t->is_string()) return hf.wrong_type(field + ".type", "a string", *t);
    type = t->get<std::string>();
  }
  if (type != "Sequence") {
    out->push_back({node, type, field});
    return Ok{};
  }
  if (depth >= kMaxSequenceDepth) return hf.error(field, str_cat("Sequence nested more than ", kMaxSequenceDepth, " deep"));
  const json* list = hf.find(*node, list_key);
  std::string list_field = field + "." + list_key;
  if (!list || !list->is_array()) return hf.wrong_type(list_field, "an array", list ? *list : json());
  for (size_t i = 0; i < list->size(); ++i) {
    TRY_STATUS(flatten(hf, &(*list)[i], str_cat(list_field, "[", i, "]"), list_key, out, depth + 1));
  }
  return Ok{};
}

Error unsupported(const HfJson& hf, const Component& c, const char* what) {
  return hf.error(c.field + ".type", str_cat("unsupported ", what, " '", c.type, "'"));
}

Result<SplitBehavior> parse_behavior(const HfJson& hf, const Component& c) {
  TRY(std::string b, hf.string_or(*c.node, "behavior", c.field + ".behavior", "Isolated"));
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return hf.error(c.field + ".behavior", "unsupported split behavior '" + b + "'");
}

Status byte_level_pipeline(const HfJson& hf, const std::vector<Component>& norms,
                           const std::vector<Component>& pres, TokenizerSpec* spec) {
  for (const Component& c : norms) {
    if (c.type != "NFC") return unsupported(hf, c, "normalizer for byte-level BPE (supported: NFC)");
    spec->normalize_nfc = true;
  }
  for (size_t i = 0; i < pres.size(); ++i) {
    const Component& c = pres[i];
    if (c.type == "ByteLevel") {
      TRY(bool prefix, hf.bool_or(*c.node, "add_prefix_space", c.field + ".add_prefix_space", true));
      TRY(bool use_regex, hf.bool_or(*c.node, "use_regex", c.field + ".use_regex", true));
      if (prefix && i != 0) {
        return hf.error(c.field + ".add_prefix_space", "only supported on the first pre-tokenizer");
      }
      spec->byte_level_prefix_space = prefix;
      if (use_regex) {
        spec->pre_regexes.push_back(kGpt2Pattern);
        spec->pre_behaviors.push_back(SplitBehavior::kIsolated);
      }
    } else if (c.type == "Split") {
      const json* pattern = hf.find(*c.node, "pattern");
      if (!pattern || !pattern->is_object()) {
        return hf.wrong_type(c.field + ".pattern", "an object {\"Regex\": ...} or {\"String\": ...}", pattern ? *pattern : json());
      }
      TRY(bool invert, hf.bool_or(*c.node, "invert", c.field + ".invert", false));
      if (invert) return hf.error(c.field + ".invert", "inverted splits are not supported");
      if (const json* re = hf.find(*pattern, "Regex")) {
        TRY(std::string p, hf.string(*re, c.field + ".pattern.Regex"));
        spec->pre_regexes.push_back(p);
      } else if (const json* s = hf.find(*pattern, "String")) {
        TRY(std::string p, hf.string(*s, c.field + ".pattern.String"));
        spec->pre_regexes.push_back(regex_escape(p));
      } else {
        return hf.error(c.field + ".pattern", "expected a \"Regex\" or \"String\" member");
      }
      TRY(SplitBehavior b, parse_behavior(hf, c));
      spec->pre_behaviors.push_back(b);
    } else if (c.type == "Digits") {
      TRY(bool individual, hf.bool_or(*c.node, "individual_digits", c.field + ".individual_digits", false));
      spec->pre_regexes.push_back(individual ? R"(\p{N})" : R"(\p{N}+)");
      spec->pre_behaviors.push_back(SplitBehavior::kIsolated);
    } else {
      return unsupported(hf, c, "pre-tokenizer for byte-level BPE (supported: ByteLevel, Split, Digits)");
    }
  }
  return Ok{};
}

Status spm_pipeline(const HfJson& hf, const std::vector<Component>& norms, const std::vector<Component>& pres,
                    TokenizerSpec* spec) {
  spec->add_space_prefix = false;
  for (const Component& c : norms) {
    if (c.type == "NFC") {
      spec->normalize_nfc = true;
    } else if (c.type == "Prepend") {
      TRY(std::string p, hf.string_or(*c.node, "prepend", c.field + ".prepend", ""));
      if (p != kSpmSpace) return hf.error(c.field + ".prepend", "only U+2581 is supported, got '" + p + "'");
      spec->add_space_prefix = true;
    } else if (c.type == "Replace") {
      const json* pattern = hf.find(*c.node, "pattern");
      const json* from = pattern ? hf.find(*pattern, "String") : nullptr;
      TRY(std::string to, hf.string_or(*c.node, "content", c.field + ".content", ""));
      if (!from || *from != " " || to != kSpmSpace) {
        return hf.error(c.field, "only Replace(' ' -> U+2581) is supported");
      }
    } else {
      return unsupported(hf, c, "normalizer for SentencePiece-BPE (supported: Prepend, Replace, NFC)");
    }
  }
  for (const Component& c : pres) {
    if (c.type != "Metaspace") return unsupported(hf, c, "pre-tokenizer for SentencePiece-BPE (supported: Metaspace)");
    TRY(std::string rep, hf.string_or(*c.node, "replacement", c.field + ".replacement", std::string(kSpmSpace)));
    if (rep != kSpmSpace) return hf.error(c.field + ".replacement", "only U+2581 is supported");
    TRY(bool legacy_prefix, hf.bool_or(*c.node, "add_prefix_space", c.field + ".add_prefix_space", true));
    TRY(std::string scheme, hf.string_or(*c.node, "prepend_scheme", c.field + ".prepend_scheme",
                                         legacy_prefix ? "always" : "never"));
    if (scheme != "always" && scheme != "first" && scheme != "never") {
      return hf.error(c.field + ".prepend_scheme", "expected always, first or never, got '" + scheme + "'");
    }
    spec->add_space_prefix = scheme != "never";
    spec->space_prefix = scheme == "first" ? SpacePrefix::kMetaspaceFirst : SpacePrefix::kMetaspace;
    TRY(spec->split_on_space, hf.bool_or(*c.node, "split", c.field + ".split", true));
  }
  return Ok{};
}

// The id of a TemplateProcessing special token ("special_tokens": {"<s>": {"ids": [1]}}).
Result<int32_t> template_token_id(const HfJson& hf, const json& proc, const std::string& name, const std::string& field) {
  const json* specials = hf.find(proc, "special_tokens");
  const json* entry = specials ? hf.find(*specials, name.c_str()) : nullptr;
  const json* ids = entry ? hf.find(*entry, "ids") : nullptr;
  if (!ids || !ids->is_array() || ids->empty()) {
    return hf.error(field + ".special_tokens", "no ids for special token '" + name + "'");
  }
  TRY(int64_t id, hf.integer((*ids)[0], field + ".special_tokens." + name + ".ids[0]"));
  return int32_t(id);
}

Status post_processor(const HfJson& hf, const std::vector<Component>& procs, TokenizerSpec* spec) {
  for (const Component& c : procs) {
    if (c.type == "TemplateProcessing") {
      const json* single = hf.find(*c.node, "single");
      if (!single || !single->is_array()) return hf.wrong_type(c.field + ".single", "an array", single ? *single : json());
      bool seen_sequence = false;
      for (size_t i = 0; i < single->size(); ++i) {
        const json& item = (*single)[i];
        std::string item_field = str_cat(c.field, ".single[", i, "]");
        if (hf.find(item, "Sequence")) {
          seen_sequence = true;
          continue;
        }
        const json* special = hf.find(item, "SpecialToken");
        if (!special) return hf.error(item_field, "expected a Sequence or SpecialToken item");
        const json* name = hf.find(*special, "id");
        if (!name) return hf.error(item_field + ".SpecialToken.id", "missing");
        TRY(std::string token, hf.string(*name, item_field + ".SpecialToken.id"));
        TRY(int32_t id, template_token_id(hf, *c.node, token, c.field));
        if (!seen_sequence && !spec->add_bos) {
          spec->add_bos = true;
          spec->bos_id = id;
        } else if (seen_sequence && !spec->add_eos) {
          spec->add_eos = true;
          spec->eos_id = id;
        }
      }
    } else if (c.type == "RobertaProcessing" || c.type == "BertProcessing") {
      for (const char* key : {"cls", "sep"}) {
        const json* v = hf.find(*c.node, key);
        if (!v || !v->is_array() || v->size() != 2) return hf.wrong_type(c.field + "." + key, "a [token, id] pair", v ? *v : json());
        TRY(int64_t id, hf.integer((*v)[1], c.field + "." + key + "[1]"));
        (key[0] == 'c' ? spec->bos_id : spec->eos_id) = int32_t(id);
      }
      spec->add_bos = spec->add_eos = true;
    } else if (c.type != "ByteLevel") {
      return unsupported(hf, c, "post_processor (supported: TemplateProcessing, ByteLevel, Roberta/BertProcessing)");
    }
  }
  return Ok{};
}

bool has_type(const std::vector<Component>& cs, std::string_view type) {
  for (const Component& c : cs) {
    if (c.type == type) return true;
  }
  return false;
}

}  // namespace

Status apply_hf_pipeline(const HfJson& hf, const json& root, bool byte_fallback, TokenizerSpec* spec) {
  std::vector<Component> norms, pres, decs, procs;
  TRY_STATUS(flatten(hf, hf.find(root, "normalizer"), "normalizer", "normalizers", &norms));
  TRY_STATUS(flatten(hf, hf.find(root, "pre_tokenizer"), "pre_tokenizer", "pretokenizers", &pres));
  TRY_STATUS(flatten(hf, hf.find(root, "decoder"), "decoder", "decoders", &decs));
  TRY_STATUS(flatten(hf, hf.find(root, "post_processor"), "post_processor", "processors", &procs));

  if (has_type(pres, "ByteLevel") || has_type(decs, "ByteLevel")) {
    spec->kind = TokenizerSpec::Kind::kByteLevelBpe;
    spec->add_space_prefix = false;
    TRY_STATUS(byte_level_pipeline(hf, norms, pres, spec));
  } else if (byte_fallback || has_type(pres, "Metaspace") || has_type(norms, "Prepend") ||
             has_type(decs, "Metaspace") || has_type(decs, "ByteFallback")) {
    spec->kind = TokenizerSpec::Kind::kSentencePieceBpe;
    TRY_STATUS(spm_pipeline(hf, norms, pres, spec));
  } else {
    return hf.error("pre_tokenizer", "cannot tell the tokenizer kind: expected a ByteLevel pre-tokenizer or "
                    "decoder (byte-level BPE), or Metaspace/Prepend(U+2581)/ByteFallback (SentencePiece-BPE)");
  }
  return post_processor(hf, procs, spec);
}

}  // namespace trapetum
