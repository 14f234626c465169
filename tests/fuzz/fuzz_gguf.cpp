// Fuzz target: the GGUF reader (header, metadata, tensor index), then what is built from a
// parsed file: the tokenizer spec and tokenizer, and the model config.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "io/gguf.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const trapetum::fuzz::ScratchDir scratch("gguf");
  const std::string path = scratch.write("input.gguf", {reinterpret_cast<const char*>(data), size});
  auto g = trapetum::GgufFile::open(path);
  if (!g.ok()) return 0;
  const trapetum::GgufFile& f = *g.value();
  uint64_t sum = 0;
  for (const auto& t : f.tensors()) {
    CHECK(t.nbytes > 0 && t.nbytes <= size && t.offset <= size);
    const auto* p = static_cast<const uint8_t*>(f.view(t).data);
    sum += p[0] + p[t.nbytes - 1];  // the first and last byte of every tensor are readable
  }
  for (const auto& [key, v] : f.metadata()) {
    (void)f.get_int(key);
    (void)f.get_float(key);
    (void)f.get_string(key);
    (void)f.get_string_array(key);
  }
  (void)trapetum::config_from_gguf(f);
  auto spec = trapetum::tokenizer_spec_from_gguf(f);
  if (spec.ok()) {
    auto tok = trapetum::Tokenizer::create(std::move(spec.value()));
    if (tok.ok()) trapetum::fuzz::exercise_tokenizer(*tok.value(), trapetum::fuzz::kProbeText);
  }
  volatile uint64_t sink = sum;
  (void)sink;
  return 0;
}
