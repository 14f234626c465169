// ChatTemplate: renders a conversation with a model's own Jinja chat template (the subset
// that real templates use), or with a named built-in template.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace trapetum {

struct ChatMessage {
  std::string role;     // "system", "user", "assistant", ...
  std::string content;
};

// Bounds on one render; exceeding any is an error, never a crash or a hang.
struct ChatTemplateLimits {
  size_t max_output_bytes = 16u << 20;  // the rendered text, and any single string built
  int64_t max_iterations = 1 << 20;     // loop iterations + macro calls + collection items
  int max_depth = 400;                  // nesting of expressions, blocks and macro calls
  int64_t max_work_bytes = int64_t(256) << 20;  // bytes read or written by string operations
};

struct ChatRenderOptions {
  bool add_generation_prompt = true;
  // Exposed to the template as bos_token / eos_token. An empty token is left undefined, as
  // transformers leaves the tokens a tokenizer does not have (e.g. Qwen's bos_token).
  std::string bos_token;
  std::string eos_token;
  // Optional JSON object of further template variables, e.g. {"tools": [...],
  // "enable_thinking": false, "date_string": "26 Jul 2024"}; they override the ones above.
  // tools and documents are none unless given here.
  std::string extra_context_json;
  ChatTemplateLimits limits;
};

class ChatTemplate {
 public:
  // Parses Jinja source. Syntax errors and unsupported constructs give an error naming the
  // construct and the line ("chat template line 3: unsupported tag 'call'").
  static Result<std::unique_ptr<ChatTemplate>> parse(const std::string& source);
  // A built-in template by name: chatml, llama2, llama3, mistral, zephyr, qwen2 (errors list
  // the names).
  static Result<std::unique_ptr<ChatTemplate>> builtin(const std::string& name);
  static std::vector<std::string> builtin_names();
  virtual ~ChatTemplate() = default;

  // Renders messages as transformers' apply_chat_template(tokenize=False) does;
  // raise_exception() in the template becomes an error with its message.
  virtual Result<std::string> render(const std::vector<ChatMessage>& messages,
                                     const ChatRenderOptions& options) const = 0;
  // Like render, with the messages as a JSON array of objects, so they can carry tool_calls,
  // reasoning_content, list contents, ... (keys whose value is null are dropped, as
  // transformers does).
  virtual Result<std::string> render_json(const std::string& messages_json,
                                          const ChatRenderOptions& options) const = 0;
  // The Jinja source the template was parsed from.
  virtual const std::string& source() const = 0;
};

}  // namespace trapetum
