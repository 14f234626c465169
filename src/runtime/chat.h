// Conversation: a multi-turn chat over one Session. Each turn renders the whole
// conversation with the chat template and evaluates only the tokens the KV cache does not
// already hold (the longest common prefix is kept), then generates the answer.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "runtime/generate.h"
#include "tokenizer/chat_template.h"

namespace trapetum {

// Render options for a model's tokenizer: its BOS and EOS pieces (empty when it has none),
// as templates name them.
ChatRenderOptions chat_render_options(const Tokenizer& tok);
// How many tokens a and b share at the start (what a KV cache holding a can keep for b).
size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b);

struct TurnResult {
  std::string answer;
  int prompt_tokens = 0;   // tokens of the rendered conversation
  int cached_tokens = 0;   // of those, already in the KV cache
  int prefilled_tokens = 0;  // evaluated this turn before generating
  GenerateResult generation;
};

class Conversation {
 public:
  Conversation(Session& session, const Tokenizer& tok, const ChatTemplate& tmpl, std::string system_prompt);

  // Adds a user message and generates the assistant's answer, streaming it to on_text.
  // On error the conversation is left as it was before the call.
  Result<TurnResult> user_turn(const std::string& text, Sampler& sampler, const GenerateOptions& opt,
                               const std::function<bool(const std::string&)>& on_text);
  void reset();
  const std::vector<ChatMessage>& messages() const { return messages_; }

 private:
  Session& session_;
  const Tokenizer& tok_;
  const ChatTemplate& tmpl_;
  std::string system_;
  std::vector<ChatMessage> messages_;
};

}  // namespace trapetum
