// The generation loop.
#include "runtime/generate.h"

#include "core/timer.h"

namespace trapetum {

Result<GenerateResult> generate(Session& session, const Tokenizer& tok, const std::vector<int32_t>& prompt,
                                Sampler& sampler, const GenerateOptions& opt,
                                const std::function<bool(const std::string&)>& on_text) {
  GenerateResult r;
  if (prompt.empty()) return make_error("the prompt is empty (no tokens to start from)");
  const int vocab = session.transformer().config().vocab_size;
  Timer timer;
  TRY(const float* logits, session.eval(prompt));
  r.prefill_seconds = timer.seconds();
  StreamDecoder stream(tok, /*skip_special=*/true);
  std::vector<int32_t> history = session.history();
  r.stop_reason = "length";
  timer.reset();
  for (int i = 0; i < opt.max_tokens; ++i) {
    if (opt.on_logits) opt.on_logits(logits);
    const int32_t id = sampler.sample(logits, vocab, history);
    r.generated.push_back(id);
    history.push_back(id);
    if (opt.stop_at_eog && tok.is_end_of_generation(id)) {
      r.stop_reason = "eog";
      break;
    }
    const std::string piece = stream.push(id);
    r.text += piece;
    if (!piece.empty() && on_text && !on_text(piece)) {
      r.stop_reason = "callback";
      break;
    }
    if (i + 1 == opt.max_tokens) break;
    if (session.position() >= session.context()) {
      r.stop_reason = "context";
      break;
    }
    const int32_t one[1] = {id};
    TRY(logits, session.eval(one));
    ++r.decode_steps;
  }
  r.decode_seconds = timer.seconds();
  const std::string tail = stream.flush();
  r.text += tail;
  if (!tail.empty() && on_text) on_text(tail);
  return r;
}

}  // namespace trapetum
