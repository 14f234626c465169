// Fuzz target: the tokenizer.json + tokenizer_config.json loader and the encoder. NUL-separated
// parts are tokenizer.json, tokenizer_config.json (empty: none) and text; an input without a NUL
// is text for the tokenizers of tests/data, llama2 and qwen3 (llama3 loads too slowly for CI).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_exercise.h"

namespace {

using TokenizerList = std::vector<std::unique_ptr<trapetum::Tokenizer>>;

TokenizerList load_reference_tokenizers() {
  namespace fs = std::filesystem;
  TokenizerList out;
  const std::string data = TRAPETUM_TEST_DATA;
  const std::string shared = TRAPETUM_SHARED_DIR;
  const std::string dirs[] = {data + "/models/tiny_llama",      data + "/models/tiny_llama3_rope",
                              data + "/models/tiny_qwen2_bias", data + "/models/stories260K",
                              shared + "/tokenizers/llama2",    shared + "/tokenizers/qwen3"};
  for (const std::string& d : dirs) {
    std::error_code ec;
    if (!fs::exists(d + "/tokenizer.json", ec)) continue;
    const std::string cfg = fs::exists(d + "/tokenizer_config.json", ec) ? d + "/tokenizer_config.json" : "";
    auto spec = trapetum::tokenizer_spec_from_hf(d + "/tokenizer.json", cfg);
    CHECK(spec.ok());  // the reference tokenizers load; a failure here is a regression
    auto tok = trapetum::Tokenizer::create(std::move(spec.value()));
    CHECK(tok.ok());
    out.push_back(std::move(tok.value()));
  }
  return out;
}

const TokenizerList& reference_tokenizers() {
  static const TokenizerList list = load_reference_tokenizers();
  return list;
}

}  // namespace

// Loads the reference tokenizers before fuzzing starts, so their seconds of loading do not
// count against the first input's -timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)reference_tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const trapetum::fuzz::ScratchDir scratch("tokenizer");
  const TokenizerList& reference = reference_tokenizers();
  const std::vector<std::string> parts = trapetum::fuzz::split_parts(data, size, 3);
  if (parts.size() == 1) {
    for (const auto& tok : reference) trapetum::fuzz::exercise_tokenizer(*tok, parts[0]);
    return 0;
  }
  const std::string json_path = scratch.write("tokenizer.json", parts[0]);
  const std::string cfg_path = parts[1].empty() ? "" : scratch.write("tokenizer_config.json", parts[1]);
  auto spec = trapetum::tokenizer_spec_from_hf(json_path, cfg_path);
  if (!spec.ok()) return 0;
  auto tok = trapetum::Tokenizer::create(std::move(spec.value()));
  if (!tok.ok()) return 0;
  trapetum::fuzz::exercise_tokenizer(*tok.value(), parts.size() > 2 ? std::string_view(parts[2]) : trapetum::fuzz::kProbeText);
  return 0;
}
