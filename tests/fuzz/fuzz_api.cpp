// Fuzz target: the OpenAI request body parser (src/server/api.cpp) for both endpoints, and the
// error JSON built from whatever it rejects.
#include <cstdint>
#include <string>
#include <variant>

#include "core/check.h"
#include "fuzz_util.h"
#include "server/api.h"

namespace {

void check(const trapetum::server::Parsed& p, const trapetum::server::Limits& lim) {
  if (const auto* e = std::get_if<trapetum::server::ApiError>(&p)) {
    CHECK(e->status >= 400 && e->status < 600);
    CHECK(!trapetum::server::error_json(*e).empty());
    return;
  }
  const auto& r = std::get<trapetum::server::GenRequest>(p);
  CHECK(r.max_tokens >= 0 && r.max_tokens <= lim.ctx);
  CHECK(r.stop.size() <= lim.max_stop);
  CHECK(r.temperature >= 0 && r.temperature <= 2 && r.top_p > 0 && r.top_p <= 1);
  CHECK(!r.chat || (!r.messages.empty() && r.messages.size() <= lim.max_messages));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  trapetum::server::Limits lim;
  lim.ctx = 2048;
  lim.model_id = "trapetum";
  lim.max_messages = 64;
  check(trapetum::server::parse_chat_request(body, lim), lim);
  check(trapetum::server::parse_completion_request(body, lim), lim);
  return 0;
}
