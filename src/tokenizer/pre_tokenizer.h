// Byte-level BPE pre-tokenization: PCRE2 (UTF + UCP) regex splits applied in sequence, and the
// table of split patterns for GGUF tokenizer.ggml.pre names.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {

// The GPT-2 pattern (HF ByteLevel with use_regex).
inline constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Split patterns for a GGUF tokenizer.ggml.pre name; *known is false when the name is not in
// the table (the result is then the GPT-2 pattern). *nfc says the HF tokenizer applies NFC and
// *ignore_merges that whole-word vocab hits skip merging (Llama-3).
std::vector<std::string> pre_patterns_for_gguf(const std::string& pre, bool* known, bool* nfc,
                                               bool* ignore_merges);

// The tokenizer.ggml.pre names pre_patterns_for_gguf knows, comma-separated (for errors).
const char* supported_gguf_pre_names();

// Pattern for HF Split with a String pattern: the literal, escaped for PCRE2.
std::string regex_escape(std::string_view literal);

class RegexSplitter {
 public:
  // Compiles each pattern; the error names the pattern that failed.
  static Result<std::unique_ptr<RegexSplitter>> create(const std::vector<std::string>& patterns,
                                                       const std::vector<SplitBehavior>& behaviors);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Applies every pattern in turn to every piece; never returns empty pieces. Invalid UTF-8
  // bytes never match a pattern, so they end up in pieces of their own (gaps).
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  struct Step;
  RegexSplitter() = default;
  void split_one(const Step& step, std::string_view piece, void* match_data,
                 std::vector<std::string_view>* out) const;
  std::vector<Step> steps_;
};

}  // namespace trapetum
