// Built-in chat templates: the public Jinja sources of common model formats (chatml, llama2,
// llama3, mistral, zephyr, qwen2), rendered by the same interpreter as a model's own template.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trapetum::jinja {

std::optional<std::string> builtin_chat_template(std::string_view name);
std::vector<std::string> builtin_chat_template_names();

}  // namespace trapetum::jinja
