// Chat templates against transformers: every fixture in tests/data/chat_templates (written by
// scripts/make_chat_template_fixtures.py) must render to exactly the string apply_chat_template
// returned, or fail where the template raised; built-in templates must match their fixtures.
#include <gtest/gtest.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "tokenizer/chat_template.h"

namespace trapetum {
namespace {

using ordered_json = nlohmann::ordered_json;

ordered_json load_fixture(const std::string& name) {
  std::string text = test::read_file(test::test_data("chat_templates/" + name + ".json"));
  return ordered_json::parse(text);
}

Result<std::string> render_case(const ChatTemplate& t, const ordered_json& fixture,
                                const ordered_json& c) {
  ChatRenderOptions o;
  o.add_generation_prompt = c["add_generation_prompt"].get<bool>();
  o.bos_token = fixture["bos_token"].get<std::string>();
  o.eos_token = fixture["eos_token"].get<std::string>();
  if (c.contains("extra")) o.extra_context_json = c["extra"].dump();
  if (c["rich"].get<bool>()) return t.render_json(c["messages"].dump(), o);
  std::vector<ChatMessage> messages;
  for (const auto& m : c["messages"]) {
    messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return t.render(messages, o);
}

// Checks every case; returns how many matched.
int check_cases(const ChatTemplate& t, const ordered_json& fixture) {
  int passed = 0;
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(fixture["name"].get<std::string>() + " / " + c["name"].get<std::string>());
    Result<std::string> r = render_case(t, fixture, c);
    bool ok;
    if (c.contains("expected")) {
      EXPECT_TRUE(r.ok()) << r.error();
      ok = r.ok() && r.value() == c["expected"].get<std::string>();
      if (r.ok()) {
        EXPECT_EQ(r.value(), c["expected"].get<std::string>());
      }
    } else {
      ok = !r.ok();
      EXPECT_FALSE(r.ok()) << "expected the error: " << c["error"].get<std::string>();
      if (!r.ok() && c["error_type"] == "TemplateError") {
        // raise_exception(): our error carries the template's message.
        ok = r.error().find(c["error"].get<std::string>()) != std::string::npos;
        EXPECT_TRUE(ok) << r.error();
      }
    }
    passed += ok;
  }
  return passed;
}

class ChatTemplateFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(ChatTemplateFixture, MatchesTransformers) {
  ordered_json fixture = load_fixture(GetParam());
  auto t = ChatTemplate::parse(fixture["template"].get<std::string>());
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ((*t)->source(), fixture["template"].get<std::string>());
  int passed = check_cases(**t, fixture);
  std::cout << "[chat template] " << GetParam() << ": " << passed << "/" << fixture["cases"].size()
            << " cases match transformers\n";
  if (fixture.contains("builtin")) {
    auto b = ChatTemplate::builtin(fixture["builtin"].get<std::string>());
    ASSERT_TRUE(b.ok()) << b.error();
    EXPECT_EQ((*b)->source(), fixture["template"].get<std::string>());
    int builtin_passed = check_cases(**b, fixture);
    std::cout << "[chat template] builtin '" << fixture["builtin"].get<std::string>()
              << "': " << builtin_passed << "/" << fixture["cases"].size() << " cases match\n";
  }
}

INSTANTIATE_TEST_SUITE_P(ChatTemplate, ChatTemplateFixture,
                         ::testing::Values("llama2_chat", "llama3_instruct", "llama3_1_instruct",
                                           "llama3_shared", "mistral_v0_1", "mixtral",
                                           "mistral_v0_3", "zephyr", "qwen2", "qwen2_5",
                                           "qwen3_shared", "smollm2", "chatml", "context_probe"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

// The shared tokenizer configs carry the templates the fixtures were made from.
TEST(ChatTemplateFixtures, SharedTemplatesAreTheFixtures) {
  for (const char* name : {"llama3", "qwen3"}) {
    std::string text =
        test::read_file(test::shared("tokenizers/" + std::string(name) + "/tokenizer_config.json"));
    ordered_json cfg = ordered_json::parse(text);
    ordered_json fixture = load_fixture(std::string(name) + "_shared");
    EXPECT_EQ(cfg["chat_template"].get<std::string>(), fixture["template"].get<std::string>()) << name;
  }
}

TEST(ChatTemplateFixtures, JinjaSemantics) {
  ordered_json fixture = load_fixture("jinja_semantics");
  int passed = 0;
  for (const auto& c : fixture["cases"]) {
    std::string name = c["name"].get<std::string>();
    SCOPED_TRACE(name);
    auto t = ChatTemplate::parse(c["template"].get<std::string>());
    ASSERT_TRUE(t.ok()) << t.error();
    ChatRenderOptions o;
    o.extra_context_json = c["context"].dump();
    Result<std::string> r = (*t)->render({}, o);
    bool ok;
    if (c.contains("expected")) {
      ok = r.ok() && r.value() == c["expected"].get<std::string>();
      EXPECT_TRUE(r.ok()) << r.error();
      if (r.ok()) {
        EXPECT_EQ(r.value(), c["expected"].get<std::string>());
      }
    } else {
      ok = !r.ok();
      EXPECT_FALSE(r.ok()) << "jinja2 raised: " << c["error"].get<std::string>();
      if (!r.ok() && c["error_type"] == "TemplateError") {
        ok = r.error().find(c["error"].get<std::string>()) != std::string::npos;
        EXPECT_TRUE(ok) << r.error();
      }
    }
    passed += ok;
  }
  std::cout << "[chat template] jinja semantics: " << passed << "/" << fixture["cases"].size()
            << " cases match jinja2\n";
}

TEST(ChatTemplateBuiltin, NamesAndErrors) {
  std::vector<std::string> names = ChatTemplate::builtin_names();
  EXPECT_EQ(names, (std::vector<std::string>{"chatml", "llama2", "llama3", "mistral", "qwen2", "zephyr"}));
  for (const std::string& n : names) {
    auto t = ChatTemplate::builtin(n);
    ASSERT_TRUE(t.ok()) << n << ": " << t.error();
  }
  auto bad = ChatTemplate::builtin("vicuna");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("vicuna"), std::string::npos);
  EXPECT_NE(bad.error().find("chatml, llama2, llama3, mistral, qwen2, zephyr"), std::string::npos)
      << bad.error();
}

TEST(ChatTemplateBuiltin, RendersAConversation) {
  auto t = ChatTemplate::builtin("chatml");
  ASSERT_TRUE(t.ok());
  ChatRenderOptions o;
  auto r = (*t)->render({{"system", "S"}, {"user", "Hi"}}, o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  o.add_generation_prompt = false;
  r = (*t)->render({{"user", "Hi"}}, o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, "<|im_start|>user\nHi<|im_end|>\n");
}

}  // namespace
}  // namespace trapetum
