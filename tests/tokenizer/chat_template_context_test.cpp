// Chat template context and inputs beyond the transformers fixtures: special tokens that are
// absent, extra variables, invalid UTF-8, strftime_now, and one template rendered many times.
#include <gtest/gtest.h>

#include <ctime>

#include "tokenizer/chat_template.h"

namespace trapetum {
namespace {

std::string render_ok(const std::string& source, const std::vector<ChatMessage>& messages,
                      const ChatRenderOptions& o) {
  auto t = ChatTemplate::parse(source);
  EXPECT_TRUE(t.ok()) << t.error();
  if (!t.ok()) return "";
  auto r = (*t)->render(messages, o);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : "";
}

TEST(ChatTemplateContext, DefaultVariables) {
  ChatRenderOptions o;
  const char* src =
      "{{ bos_token is defined }} {{ eos_token is defined }} {{ tools is none }} "
      "{{ documents is none }} {{ add_generation_prompt }} {{ messages | length }}";
  EXPECT_EQ(render_ok(src, {{"user", "x"}}, o), "False False True True True 1");
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  o.add_generation_prompt = false;
  EXPECT_EQ(render_ok(src, {}, o), "True True True True False 0");
  // A missing bos_token is undefined, as in transformers: concatenating it fails.
  auto t = ChatTemplate::builtin("llama2");
  ASSERT_TRUE(t.ok());
  auto r = (*t)->render({{"user", "Hi"}}, ChatRenderOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("'bos_token' is undefined"), std::string::npos) << r.error();
}

TEST(ChatTemplateContext, ExtraVariablesOverride) {
  ChatRenderOptions o;
  o.eos_token = "</s>";
  o.extra_context_json =
      R"({"tools": [{"name": "f"}], "eos_token": "<eos>", "enable_thinking": false, "n": 1.0})";
  EXPECT_EQ(render_ok("{{ tools[0].name }} {{ eos_token }} {{ enable_thinking is false }} {{ n }}", {}, o),
            "f <eos> True 1.0");
}

TEST(ChatTemplateContext, InvalidUtf8IsRepaired) {
  ChatRenderOptions o;
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(render_ok("{{ messages[0].content }}|{{ messages[0].content | length }}",
                      {{"user", "a\xFF" "b"}}, o),
            "a" + fffd + "b|3");
  EXPECT_EQ(render_ok("x\xC3", {}, o), "x" + fffd);
}

TEST(ChatTemplateContext, StrftimeNow) {
  ChatRenderOptions o;
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char year[8];
  std::strftime(year, sizeof(year), "%Y", &local);
  std::string r = render_ok("{{ strftime_now('%Y') }}|{{ strftime_now('%d %b %Y') | length }}", {}, o);
  EXPECT_EQ(r.substr(0, 4), year);  // (a render at midnight on New Year's Eve may differ)
  EXPECT_EQ(r.substr(4), "|11");
}

TEST(ChatTemplateContext, ReusableAcrossRenders) {
  auto t = ChatTemplate::builtin("chatml");
  ASSERT_TRUE(t.ok());
  ChatRenderOptions o;
  for (int i = 0; i < 3; ++i) {
    std::string content = "turn " + std::to_string(i);
    auto r = (*t)->render({{"user", content}}, o);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(*r, "<|im_start|>user\n" + content + "<|im_end|>\n<|im_start|>assistant\n");
  }
  // Namespaces and macros do not leak between renders.
  auto n = ChatTemplate::parse(
      "{% set ns = namespace(c=0) %}{% for m in messages %}{% set ns.c = ns.c + 1 %}{% endfor %}{{ ns.c }}");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ((*n)->render({{"a", "b"}, {"c", "d"}}, o).value(), "2");
  EXPECT_EQ((*n)->render({{"a", "b"}}, o).value(), "1");
}

TEST(ChatTemplateContext, RenderJsonMessages) {
  auto t = ChatTemplate::parse(
      "{% for m in messages %}{{ m.role }}:{{ m.content is defined }}:{{ m.tool_calls | length }};"
      "{% endfor %}");
  ASSERT_TRUE(t.ok());
  auto r = (*t)->render_json(
      R"([{"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f"}}]},
          {"role": "tool", "content": "ok"}])",
      ChatRenderOptions{});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, "assistant:False:1;tool:True:0;");
}

}  // namespace
}  // namespace trapetum
