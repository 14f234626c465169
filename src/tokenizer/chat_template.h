// ChatTemplate: renders a conversation with a model's own Jinja chat template (the subset
// that real templates use), or with a named built-in template.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace trapetum {

struct ChatMessage {
  std::string role;     // "system", "user", "assistant", ...
  std::string content;
};

struct ChatRenderOptions {
  bool add_generation_prompt = true;
  std::string bos_token;  // exposed to the template as bos_token
  std::string eos_token;  // exposed as eos_token
};

class ChatTemplate {
 public:
  // Parses Jinja source. Syntax errors and unsupported constructs give an error naming the
  // construct and the line.
  static Result<std::unique_ptr<ChatTemplate>> parse(const std::string& source);
  // A built-in template by name: chatml, llama2, llama3, mistral, zephyr, qwen2 (errors list
  // the names).
  static Result<std::unique_ptr<ChatTemplate>> builtin(const std::string& name);
  virtual ~ChatTemplate() = default;

  // Renders messages; raise_exception() in the template becomes an error with its message.
  virtual Result<std::string> render(const std::vector<ChatMessage>& messages,
                                     const ChatRenderOptions& options) const = 0;
};

}  // namespace trapetum
