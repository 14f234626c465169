// Request validation of the OpenAI-compatible endpoints: good requests parse into what they
// say; every malformed, mistyped, out-of-range or hostile body is a 4xx naming the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api.h"

namespace trapetum::server {
namespace {

Limits limits() {
  Limits l;
  l.ctx = 256;
  l.model_id = "m";
  return l;
}

GenRequest ok(const Parsed& p) {
  if (auto* e = std::get_if<ApiError>(&p)) ADD_FAILURE() << e->message;
  return std::holds_alternative<GenRequest>(p) ? std::get<GenRequest>(p) : GenRequest{};
}

ApiError err(const Parsed& p) {
  EXPECT_TRUE(std::holds_alternative<ApiError>(p)) << "parsed, but should not have";
  return std::holds_alternative<ApiError>(p) ? std::get<ApiError>(p) : ApiError{};
}

TEST(ServerApi, ChatRequestParses) {
  const GenRequest r = ok(parse_chat_request(
      R"({"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"text","text":"!"}]}],
          "max_tokens":7,"temperature":0.5,"top_p":0.9,"stop":["\n","END"],"seed":42,"stream":true,"stream_options":{"include_usage":true}})",
      limits()));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].content, "hi!");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_DOUBLE_EQ(r.temperature, 0.5);
  EXPECT_DOUBLE_EQ(r.top_p, 0.9);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_EQ(r.seed, 42u);
  EXPECT_TRUE(r.stream && r.include_usage && r.chat);
  EXPECT_EQ(ok(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"max_completion_tokens":3})", limits()))
                .max_tokens,
            3);
  // The legacy completions endpoint knows only max_tokens, as OpenAI's does.
  EXPECT_EQ(err(parse_completion_request(R"({"prompt":"x","max_completion_tokens":3})", limits())).param,
            "max_completion_tokens");
}

TEST(ServerApi, CompletionRequestParses) {
  const GenRequest r = ok(parse_completion_request(R"({"prompt":["Once upon"],"max_tokens":3,"n":1,"user":"u"})", limits()));
  EXPECT_EQ(r.prompt, "Once upon");
  EXPECT_FALSE(r.chat);
  EXPECT_EQ(r.max_tokens, 3);
}

TEST(ServerApi, BadRequestsNameTheField) {
  struct Case {
    const char* body;
    int status;
    const char* param;
  };
  const Case chat[] = {
      {"", 400, ""},
      {"{", 400, ""},
      {"[1,2]", 400, ""},
      {"null", 400, ""},
      {"{}", 400, "messages"},
      {R"({"messages":[]})", 400, "messages"},
      {R"({"messages":{}})", 400, "messages"},
      {R"({"messages":[1]})", 400, "messages[0]"},
      {R"({"messages":[{"role":"wizard","content":"x"}]})", 400, "messages[0].role"},
      {R"({"messages":[{"role":"user"}]})", 400, "messages[0].content"},
      {R"({"messages":[{"role":"user","content":7}]})", 400, "messages[0].content"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})", 400, "messages[0].content"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})", 400, "temperature"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":-0.1})", 400, "temperature"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":2.5})", 400, "temperature"},
      {R"({"messages":[{"role":"user","content":"x"}],"top_p":0})", 400, "top_p"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})", 400, "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1.5})", 400, "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":257})", 400, "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":9223372036854775807})", 400, "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})", 400, "stop"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})", 400, "stop"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":""})", 400, "stop"},
      {R"({"messages":[{"role":"user","content":"x"}],"seed":"1"})", 400, "seed"},
      {R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", 400, "stream"},
      {R"({"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}})", 400, "stream_options"},
      {R"({"messages":[{"role":"user","content":"x"}],"n":2})", 400, "n"},
      {R"({"messages":[{"role":"user","content":"x"}],"logprobs":true})", 400, "logprobs"},
      {R"({"messages":[{"role":"user","content":"x"}],"presence_penalty":1})", 400, "presence_penalty"},
      {R"({"messages":[{"role":"user","content":"x"}],"logit_bias":{"5":1}})", 400, "logit_bias"},
      {R"({"messages":[{"role":"user","content":"x"}],"prompt":"x"})", 400, "prompt"},
      {R"({"messages":[{"role":"user","content":"x"}],"tools":[]})", 400, "tools"},
      {R"({"messages":[{"role":"user","content":"x"}],"model":"gpt-4"})", 404, "model"},
      {R"({"messages":[{"role":"user","content":"x"}],"model":5})", 400, "model"},
  };
  for (const Case& c : chat) {
    SCOPED_TRACE(c.body);
    const ApiError e = err(parse_chat_request(c.body, limits()));
    EXPECT_EQ(e.status, c.status);
    EXPECT_EQ(e.param, c.param);
    EXPECT_FALSE(e.message.empty());
    const auto j = nlohmann::json::parse(error_json(e));
    EXPECT_EQ(j["error"]["message"], e.message);
    EXPECT_TRUE(j["error"].contains("type") && j["error"].contains("param") && j["error"].contains("code"));
  }
  const Case completion[] = {
      {"{}", 400, "prompt"},
      {R"({"prompt":5})", 400, "prompt"},
      {R"({"prompt":["a","b"]})", 400, "prompt"},
      {R"({"prompt":"x","messages":[]})", 400, "messages"},
      {R"({"prompt":"x","max_tokens":-3})", 400, "max_tokens"},
  };
  for (const Case& c : completion) {
    SCOPED_TRACE(c.body);
    const ApiError e = err(parse_completion_request(c.body, limits()));
    EXPECT_EQ(e.status, c.status);
    EXPECT_EQ(e.param, c.param);
  }
}

TEST(ServerApi, HostileBodiesAreErrorsNotCrashes) {
  std::string deep(100000, '[');
  EXPECT_EQ(err(parse_chat_request(deep, limits())).status, 400);
  std::string huge_num = R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1)" + std::string(400, '0') + "}";
  EXPECT_EQ(err(parse_chat_request(huge_num, limits())).status, 400);
  EXPECT_EQ(err(parse_chat_request(std::string("{\"messages\":\"\xff\xfe\"}"), limits())).status, 400);
  EXPECT_EQ(err(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}],"temperature":NaN})", limits())).status,
            400);
  // Invalid UTF-8 inside a valid message reaches the error JSON without breaking it.
  const ApiError e{400, "bad \xff byte", "invalid_request_error", "", ""};
  EXPECT_TRUE(nlohmann::json::accept(error_json(e)));
}

}  // namespace
}  // namespace trapetum::server

namespace trapetum::server {
namespace {

// With --context-shift max_tokens may exceed the context, but it must still fit an int.
TEST(ServerApi, ContextShiftAllowsMaxTokensPastTheContext) {
  Limits l;
  l.ctx = 256;
  l.model_id = "m";
  const std::string big = R"({"prompt":"x","max_tokens":100000})";
  EXPECT_TRUE(std::holds_alternative<ApiError>(parse_completion_request(big, l)));
  l.context_shift = true;
  const Parsed p = parse_completion_request(big, l);
  ASSERT_TRUE(std::holds_alternative<GenRequest>(p));
  EXPECT_EQ(std::get<GenRequest>(p).max_tokens, 100000);
  const Parsed huge = parse_completion_request(R"({"prompt":"x","max_tokens":9223372036854775807})", l);
  ASSERT_TRUE(std::holds_alternative<ApiError>(huge));
  EXPECT_EQ(std::get<ApiError>(huge).param, "max_tokens");
}

}  // namespace
}  // namespace trapetum::server
