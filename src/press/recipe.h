// Recipes: which codec (and outlier fraction) each tensor of a model is pressed with.
// A plan is an ordered list of rules; the last rule whose regex matches a tensor name wins.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "core/result.h"
#include "quant/codec.h"

namespace trapetum {

struct TensorRule {
  std::string pattern;  // ECMAScript regex, searched in the tensor's names
  std::regex re;
  DType dtype;
};

struct TensorChoice {
  DType dtype;
  double outliers = 0;  // fraction of each row kept as fp16 corrections
};

class Recipe {
 public:
  // A named recipe ("4bit", "2bit", "8bit", "q4"), or a single codec for every matrix.
  static Result<Recipe> named(const std::string& name);
  static Result<Recipe> single_codec(const std::string& codec);
  // Adds "REGEX=CODEC" overrides (--tensor-type); later rules win.
  Status add_override(const std::string& spec);
  void set_outliers(double fraction) { outliers_ = fraction; }

  // 1-D tensors stay f32; matrices follow the rules; outliers apply below 8 bits per weight.
  // A rule matches when its regex is found in any of the names (canonical and HF spellings).
  TensorChoice choose(const std::vector<std::string>& names, const std::vector<int64_t>& shape) const;
  const std::string& description() const { return description_; }
  double outliers() const { return outliers_; }

 private:
  std::vector<TensorRule> rules_;
  double outliers_ = 0;
  std::string description_;
};

// Codec names as users type them: trapetum codecs and f32/f16/bf16, case-insensitive.
Result<DType> parse_writable_codec(const std::string& name);
// The codecs `quantize` can write, cheapest first by bits per weight at 4096 columns.
std::vector<DType> writable_codecs();
// The recipe names with a one-line description each, for --help.
std::vector<std::pair<std::string, std::string>> recipe_names();

}  // namespace trapetum
