// Typed, non-throwing access to tokenizer.json / tokenizer_config.json values: every error names
// the file and the field path (e.g. "model.vocab" or "added_tokens[3].content").
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/result.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {

using json = nlohmann::json;

class HfJson {
 public:
  explicit HfJson(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }

  // Reads and parses a whole file.
  Result<json> load() const;

  Error error(const std::string& field, const std::string& what) const;
  Error wrong_type(const std::string& field, const char* expected, const json& v) const;

  // A member of an object; nullptr when absent or null.
  const json* find(const json& obj, const char* key) const;
  Result<std::string> string(const json& v, const std::string& field) const;
  Result<bool> boolean(const json& v, const std::string& field) const;
  Result<int64_t> integer(const json& v, const std::string& field) const;
  // Optional typed members: fallback when absent or null.
  Result<std::string> string_or(const json& obj, const char* key, const std::string& field, std::string fallback) const;
  Result<bool> bool_or(const json& obj, const char* key, const std::string& field, bool fallback) const;

 private:
  std::string file_;
};

// The pipeline parts of tokenizer.json (hf_pipeline.cpp): sets kind, normalization, pre-tokenizer
// patterns, space prefix, and BOS/EOS insertion (from the post-processor) in spec.
Status apply_hf_pipeline(const HfJson& hf, const json& root, bool byte_fallback, TokenizerSpec* spec);

}  // namespace trapetum
