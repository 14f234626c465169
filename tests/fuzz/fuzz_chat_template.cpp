// Fuzz target: the Jinja chat-template parser and renderer. NUL-separated parts: template
// source, then optionally a JSON messages array and a JSON object of extra context.
#include <cstdint>
#include <string>
#include <vector>

#include "core/check.h"
#include "fuzz_util.h"
#include "tokenizer/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = trapetum::fuzz::split_parts(data, size, 3);
  auto tmpl = trapetum::ChatTemplate::parse(parts[0]);
  if (!tmpl.ok()) return 0;
  trapetum::ChatRenderOptions options;
  options.bos_token = "<s>";
  options.eos_token = "</s>";
  // Tighter than the defaults so one input stays fast; the checks are the same code.
  options.limits.max_output_bytes = 1u << 20;
  options.limits.max_iterations = 1 << 16;
  options.limits.max_work_bytes = int64_t(32) << 20;
  if (parts.size() > 2) options.extra_context_json = parts[2];
  const std::vector<trapetum::ChatMessage> messages = {
      {"system", "You are helpful."}, {"user", "Hi!"}, {"assistant", "Hello."}, {"user", "2+2?"}};
  for (bool gen : {true, false}) {
    options.add_generation_prompt = gen;
    auto out = tmpl.value()->render(messages, options);
    if (out.ok()) CHECK(out.value().size() <= options.limits.max_output_bytes);
    if (parts.size() > 1) {
      auto json_out = tmpl.value()->render_json(parts[1], options);
      if (json_out.ok()) CHECK(json_out.value().size() <= options.limits.max_output_bytes);
    }
  }
  return 0;
}
