// The generation loop: evaluate the prompt (appended to whatever the session holds), then
// sample and decode token by token, streaming text through a callback. Timing is kept.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {

struct GenerateOptions {
  int max_tokens = 128;
  bool stop_at_eog = true;  // stop at an end-of-generation token
  // Called with the logits (vocab floats) each sampled token was drawn from, in order.
  std::function<void(const float*)> on_logits;
};

struct GenerateResult {
  std::vector<int32_t> generated;  // sampled ids (an end-of-generation token included)
  std::string text;                // decoded text of the generated ids
  double prefill_seconds = 0;
  double decode_seconds = 0;
  int decode_steps = 0;            // forward calls of one token
  std::string stop_reason;         // "length", "eog", "context" or "callback"
};

// on_text(piece) receives complete UTF-8 text as it becomes available; returning false stops.
Result<GenerateResult> generate(Session& session, const Tokenizer& tok, const std::vector<int32_t>& prompt,
                                Sampler& sampler, const GenerateOptions& opt,
                                const std::function<bool(const std::string&)>& on_text);

}  // namespace trapetum
