// Named recipes and --tensor-type overrides.
#include "press/recipe.h"

#include <algorithm>
#include <cctype>

namespace trapetum {
namespace {

// The embedding table and the output head are few but sensitive; recipes keep them at q8.
constexpr const char* kEmbedAndHead = "^(token_embd|output)\\.weight$";

struct NamedRecipe {
  const char* name;
  const char* body;  // codec of every matrix
  const char* edges;  // codec of embeddings and head
  double outliers;
  const char* about;
};

constexpr NamedRecipe kRecipes[] = {
    {"4bit", "cb4s", "q8", 0.0, "cb4s on every linear layer, q8 embeddings and head (~4.2 bpw)"},
    {"q4", "q4g64", "q8", 0.0, "q4g64 on every linear layer, q8 embeddings and head (~4.5 bpw)"},
    {"2bit", "t158", "q8", 0.005, "t158 with 0.5% outliers on linear layers, q8 embeddings and head"},
    {"8bit", "q8", "q8", 0.0, "q8 everywhere (8.5 bpw)"},
};

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<TensorRule> make_rule(const std::string& pattern, const std::string& codec_name) {
  TRY(DType dt, parse_writable_codec(codec_name));
  TensorRule r{pattern, {}, dt};
  try {
    r.re = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return make_error("tensor pattern '", pattern, "': not a valid regular expression (", e.what(), ")");
  }
  return r;
}

}  // namespace

Result<DType> parse_writable_codec(const std::string& name) {
  const std::string want = lower(name);
  for (DType t : writable_codecs())
    if (lower(std::string(dtype_name(t))) == want) return t;
  std::string known;
  for (DType t : writable_codecs()) known += (known.empty() ? "" : ", ") + lower(std::string(dtype_name(t)));
  return make_error("unknown codec '", name, "' (known: ", known, ")");
}

std::vector<DType> writable_codecs() {
  std::vector<DType> out;
  for (int t = 0; t < int(DType::kCount); ++t)
    if (codec(DType(t)).quantize) out.push_back(DType(t));
  std::stable_sort(out.begin(), out.end(), [](DType a, DType b) {
    return codec(a).bits_per_weight(4096) < codec(b).bits_per_weight(4096);
  });
  return out;
}

std::vector<std::pair<std::string, std::string>> recipe_names() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const NamedRecipe& r : kRecipes) out.emplace_back(r.name, r.about);
  return out;
}

Result<Recipe> Recipe::named(const std::string& name) {
  for (const NamedRecipe& n : kRecipes) {
    if (name != n.name) continue;
    Recipe r;
    TRY(TensorRule body, make_rule(".*", n.body));
    TRY(TensorRule edges, make_rule(kEmbedAndHead, n.edges));
    r.rules_ = {std::move(body), std::move(edges)};
    r.outliers_ = n.outliers;
    r.description_ = std::string("recipe ") + n.name;
    return r;
  }
  std::string known;
  for (const NamedRecipe& n : kRecipes) known += (known.empty() ? "" : ", ") + std::string(n.name);
  return make_error("unknown recipe '", name, "' (known: ", known, ")");
}

Result<Recipe> Recipe::single_codec(const std::string& codec_name) {
  Recipe r;
  TRY(TensorRule all, make_rule(".*", codec_name));
  r.rules_ = {std::move(all)};
  r.description_ = "codec " + lower(codec_name);
  return r;
}

Status Recipe::add_override(const std::string& spec) {
  const size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    return make_error("--tensor-type '", spec, "': expected REGEX=CODEC, e.g. 'lm_head|embed=q8'");
  TRY(TensorRule rule, make_rule(spec.substr(0, eq), spec.substr(eq + 1)));
  rules_.push_back(std::move(rule));
  description_ += ", " + spec;
  return Ok{};
}

TensorChoice Recipe::choose(const std::vector<std::string>& names, const std::vector<int64_t>& shape) const {
  if (shape.size() < 2) return {DType::kF32, 0.0};
  DType dt = DType::kF32;
  for (const TensorRule& r : rules_)
    for (const std::string& name : names)
      if (std::regex_search(name, r.re)) dt = r.dtype;
  const bool low_bit = codec(dt).bits_per_weight(shape.back()) < 8.0;
  return {dt, low_bit ? outliers_ : 0.0};
}

}  // namespace trapetum
