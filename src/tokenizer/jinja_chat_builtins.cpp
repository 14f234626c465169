// Built-in chat template sources, byte for byte the tokenizer_config.json templates of
// Llama-2-7b-chat-hf, Meta-Llama-3-8B-Instruct, Mistral-7B-Instruct-v0.1, Qwen2-7B-Instruct,
// zephyr-7b-beta, and transformers' former default ChatML template.
#include "tokenizer/jinja_chat_builtins.h"

namespace trapetum::jinja {
namespace {

struct BuiltinTemplate {
  const char* name;
  const char* source;
};

// The same strings as scripts/make_chat_template_fixtures.py, whose fixtures test them.
constexpr BuiltinTemplate kBuiltins[] = {
    {"chatml",
      "{% for message in messages %}"
      "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
      "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"},
    {"llama2",
      "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
      "{% set system_message = messages[0]['content'] %}{% else %}"
      "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
      "{% for message in loop_messages %}"
      "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
      "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
      "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
      "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
      "{% else %}{% set content = message['content'] %}{% endif %}"
      "{% if message['role'] == 'user' %}"
      "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
      "{% elif message['role'] == 'assistant' %}"
      "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"},
    {"llama3",
      "{% set loop_messages = messages %}{% for message in loop_messages %}"
      "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
      "+ message['content'] | trim + '<|eot_id|>' %}"
      "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
      "{{ content }}{% endfor %}{% if add_generation_prompt %}"
      "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"},
    {"mistral",
      "{{ bos_token }}{% for message in messages %}"
      "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
      "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
      "{% endif %}{% if message['role'] == 'user' %}"
      "{{ '[INST] ' + message['content'] + ' [/INST]' }}"
      "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}"
      "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}"
      "{% endif %}{% endfor %}"},
    {"qwen2",
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
      "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
      "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
      "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"},
    {"zephyr",
      "{% for message in messages %}\n{% if message['role'] == 'user' %}"
      "\n{{ '<|user|>\n' + message['content'] + eos_token }}"
      "\n{% elif message['role'] == 'system' %}"
      "\n{{ '<|system|>\n' + message['content'] + eos_token }}"
      "\n{% elif message['role'] == 'assistant' %}"
      "\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}"
      "\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}"
      "\n{% endfor %}"},
};

}  // namespace

std::optional<std::string> builtin_chat_template(std::string_view name) {
  for (const BuiltinTemplate& b : kBuiltins) {
    if (name == b.name) return std::string(b.source);
  }
  return std::nullopt;
}

std::vector<std::string> builtin_chat_template_names() {
  std::vector<std::string> names;
  for (const BuiltinTemplate& b : kBuiltins) names.emplace_back(b.name);
  return names;
}

}  // namespace trapetum::jinja
