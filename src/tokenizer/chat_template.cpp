// ChatTemplate on the Jinja interpreter: builds the context transformers' apply_chat_template
// passes (messages, tools, documents, add_generation_prompt, special tokens, extra kwargs)
// and renders the parsed template.
#include "tokenizer/chat_template.h"

#include <nlohmann/json.hpp>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_chat_builtins.h"
#include "tokenizer/jinja_eval.h"
#include "tokenizer/jinja_json.h"
#include "tokenizer/jinja_parser.h"
#include "tokenizer/unicode.h"

namespace trapetum {
namespace {

using jinja::DictData;
using jinja::Value;
using ordered_json = nlohmann::ordered_json;

constexpr int kMaxJsonDepth = 128;
constexpr size_t kMaxSourceBytes = 4u << 20;

Value str(const std::string& s) { return Value::string(utf8_lossy(s)); }

Result<ordered_json> parse_json(const std::string& text, const char* what) {
  ordered_json j = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("chat template: ", what, " is not valid JSON");
  return j;
}

// A message as transformers hands it to the template: null-valued keys dropped, and the
// reasoning fields aliased (thinking / reasoning_content) as _alias_reasoning_fields does.
Result<Value> message_value(const ordered_json& m) {
  if (!m.is_object()) return make_error("chat template: each message must be a JSON object");
  ordered_json clean = ordered_json::object();
  for (const auto& [k, v] : m.items()) {
    if (!v.is_null()) clean[k] = v;
  }
  for (const char* key : {"reasoning_content", "thinking", "reasoning"}) {
    if (!clean.contains(key)) continue;
    ordered_json reasoning = clean[key];
    ordered_json aliased = ordered_json::object();
    aliased["thinking"] = reasoning;
    for (const auto& [k, v] : clean.items()) aliased[k] = v;
    aliased["reasoning_content"] = reasoning;
    clean = std::move(aliased);
    break;
  }
  return jinja::value_from_json(clean, kMaxJsonDepth);
}

class JinjaChatTemplate : public ChatTemplate {
 public:
  JinjaChatTemplate(std::string source, jinja::TemplateAst ast)
      : source_(std::move(source)), ast_(std::move(ast)) {}

  Result<std::string> render(const std::vector<ChatMessage>& messages,
                             const ChatRenderOptions& options) const override {
    std::vector<Value> items;
    for (const ChatMessage& m : messages) {
      DictData d;
      d.set(Value::string("role"), str(m.role));
      d.set(Value::string("content"), str(m.content));
      items.push_back(Value::dict(std::move(d)));
    }
    return render_with(Value::list(std::move(items)), options);
  }

  Result<std::string> render_json(const std::string& messages_json,
                                  const ChatRenderOptions& options) const override {
    TRY(ordered_json j, parse_json(messages_json, "the messages"));
    if (!j.is_array()) return make_error("chat template: the messages must be a JSON array");
    std::vector<Value> items;
    for (const ordered_json& m : j) {
      TRY(Value v, message_value(m));
      items.push_back(std::move(v));
    }
    return render_with(Value::list(std::move(items)), options);
  }

  const std::string& source() const override { return source_; }

 private:
  Result<std::string> render_with(Value messages, const ChatRenderOptions& options) const {
    auto globals = std::make_shared<jinja::Scope>();
    jinja::add_globals(globals.get());
    auto context = std::make_shared<jinja::Scope>();
    context->parent = globals;
    auto& vars = context->vars;
    vars["messages"] = std::move(messages);
    vars["tools"] = Value::none();
    vars["documents"] = Value::none();
    vars["add_generation_prompt"] = Value::boolean(options.add_generation_prompt);
    if (!options.bos_token.empty()) vars["bos_token"] = str(options.bos_token);
    if (!options.eos_token.empty()) vars["eos_token"] = str(options.eos_token);
    if (!options.extra_context_json.empty()) {
      TRY(ordered_json extra, parse_json(options.extra_context_json, "extra_context_json"));
      if (!extra.is_object()) {
        return make_error("chat template: extra_context_json must be a JSON object");
      }
      for (const auto& [k, v] : extra.items()) {
        TRY(Value value, jinja::value_from_json(v, kMaxJsonDepth));
        vars[k] = std::move(value);
      }
    }
    jinja::Limits limits;
    limits.max_output_bytes = options.limits.max_output_bytes;
    limits.max_iterations = options.limits.max_iterations;
    limits.max_depth = options.limits.max_depth;
    limits.max_work_bytes = options.limits.max_work_bytes;
    jinja::Evaluator ev(limits);
    return ev.render(ast_, context);
  }

  std::string source_;
  jinja::TemplateAst ast_;
};

}  // namespace

Result<std::unique_ptr<ChatTemplate>> ChatTemplate::parse(const std::string& source) {
  if (source.size() > kMaxSourceBytes) {
    return make_error("chat template: source is ", source.size(), " bytes, more than the ",
                      kMaxSourceBytes, "-byte limit");
  }
  std::string text = utf8_lossy(source);
  TRY(jinja::TemplateAst ast, jinja::parse_template(text));
  return std::unique_ptr<ChatTemplate>(new JinjaChatTemplate(std::move(text), std::move(ast)));
}

Result<std::unique_ptr<ChatTemplate>> ChatTemplate::builtin(const std::string& name) {
  std::optional<std::string> source = jinja::builtin_chat_template(name);
  if (!source) {
    std::string names;
    for (const std::string& n : builtin_names()) names += (names.empty() ? "" : ", ") + n;
    return make_error("unknown built-in chat template '", name, "' (known: ", names, ")");
  }
  return parse(*source);
}

std::vector<std::string> ChatTemplate::builtin_names() { return jinja::builtin_chat_template_names(); }

}  // namespace trapetum
