// ChatTemplate: placeholder until the Jinja-subset interpreter lands.
#include "tokenizer/chat_template.h"

namespace trapetum {

Result<std::unique_ptr<ChatTemplate>> ChatTemplate::parse(const std::string&) {
  return make_error("chat templates are not implemented yet");
}

Result<std::unique_ptr<ChatTemplate>> ChatTemplate::builtin(const std::string& name) {
  return make_error("chat template '", name, "': chat templates are not implemented yet");
}

}  // namespace trapetum
