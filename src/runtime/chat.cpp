// Conversation: template rendering, prefix reuse of the KV cache, and answer generation.
#include "runtime/chat.h"

#include <algorithm>

namespace trapetum {

Conversation::Conversation(Session& session, const Tokenizer& tok, const ChatTemplate& tmpl, std::string system_prompt)
    : session_(session), tok_(tok), tmpl_(tmpl), system_(std::move(system_prompt)) {
  reset();
}

void Conversation::reset() {
  messages_.clear();
  if (!system_.empty()) messages_.push_back({"system", system_});
  session_.reset();
}

namespace {
std::string piece_or_empty(const Tokenizer& tok, int32_t id) {
  return id >= 0 && id < tok.vocab_size() ? tok.spec().tokens[size_t(id)] : std::string();
}
}  // namespace

ChatRenderOptions chat_render_options(const Tokenizer& tok) {
  ChatRenderOptions ro;
  ro.add_generation_prompt = true;
  ro.bos_token = piece_or_empty(tok, tok.bos_id());
  ro.eos_token = piece_or_empty(tok, tok.eos_id());
  return ro;
}

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

Result<TurnResult> Conversation::user_turn(const std::string& text, Sampler& sampler, const GenerateOptions& opt,
                                           const std::function<bool(const std::string&)>& on_text) {
  std::vector<ChatMessage> msgs = messages_;
  msgs.push_back({"user", text});
  TRY(std::string rendered, tmpl_.render(msgs, chat_render_options(tok_)));
  // The template writes any BOS itself, as HF's apply_chat_template assumes.
  std::vector<int32_t> ids = tok_.encode(rendered, /*add_special=*/false);
  if (ids.empty()) return make_error("the chat template rendered no tokens");
  if (int(ids.size()) >= session_.context())
    return make_error("the conversation is ", ids.size(), " tokens, which fills the context of ", session_.context(),
                      " tokens; /reset to start over or raise --ctx");
  // Keep the longest common prefix of the cache; always evaluate at least one token so there
  // are logits to sample from.
  const size_t common = std::min(common_prefix(session_.history(), ids), ids.size() - 1);
  session_.truncate(int(common));
  TurnResult r;
  r.prompt_tokens = int(ids.size());
  r.cached_tokens = int(common);
  r.prefilled_tokens = int(ids.size() - common);
  GenerateOptions g = opt;
  g.max_tokens = std::min(opt.max_tokens, session_.context() - int(ids.size()));
  std::vector<int32_t> delta(ids.begin() + std::ptrdiff_t(common), ids.end());
  TRY(r.generation, generate(session_, tok_, delta, sampler, g, on_text));
  r.answer = r.generation.text;
  msgs.push_back({"assistant", r.answer});
  messages_ = std::move(msgs);
  return r;
}

}  // namespace trapetum
