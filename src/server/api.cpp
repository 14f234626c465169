// Request parsing for the OpenAI-compatible endpoints: types and ranges checked field by
// field, unknown top-level fields rejected as OpenAI does, every failure an ApiError naming
// the field.
#include "server/api.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/str.h"

namespace trapetum::server {
namespace {

using nlohmann::json;

ApiError bad(const std::string& param, const std::string& message) { return {400, message, "invalid_request_error", param, ""}; }

// Fields accepted (some only with their default value) besides the endpoint's own.
constexpr std::string_view kCommon[] = {"model",          "max_tokens", "temperature",       "top_p",
                                        "stop",           "seed",       "stream",            "stream_options",
                                        "n",              "user",       "frequency_penalty", "presence_penalty",
                                        "logprobs",       "logit_bias", "service_tier",      "metadata"};

bool is_common(std::string_view k) {
  for (std::string_view c : kCommon)
    if (c == k) return true;
  return false;
}

std::optional<ApiError> number_in(const json& j, const char* key, double lo, double hi, double* out) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (!j[key].is_number()) return bad(key, str_cat("'", key, "' must be a number"));
  const double v = j[key].get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    return bad(key, str_cat("'", key, "' must be between ", lo, " and ", hi, ", got ", j[key].dump()));
  *out = v;
  return std::nullopt;
}

// The fields both endpoints share.
std::optional<ApiError> parse_common(const json& j, const Limits& lim, const char* own, GenRequest* r) {
  for (const auto& [k, v] : j.items())
    if (!is_common(k) && k != own && !(r->chat && k == "max_completion_tokens"))
      return bad(k, str_cat("Unrecognized request argument supplied: ", k));
  if (j.contains("model")) {
    if (!j["model"].is_string()) return bad("model", "'model' must be a string");
    r->model = j["model"].get<std::string>();
    if (!r->model.empty() && r->model != lim.model_id)
      return ApiError{404, str_cat("The model '", r->model, "' does not exist; this server serves '", lim.model_id, "'"),
                      "invalid_request_error", "model", "model_not_found"};
  }
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    if (!j[key].is_number_integer()) return bad(key, str_cat("'", key, "' must be an integer"));
    const int64_t v = j[key].get<int64_t>();
    if (v < 1) return bad(key, str_cat("'", key, "' must be at least 1, got ", v));
    if (v > lim.ctx && !lim.context_shift)
      return bad(key, str_cat("'", key, "' is ", v, ", more than the context of ", lim.ctx, " tokens"));
    if (v > INT32_MAX) return bad(key, str_cat("'", key, "' is ", v, ", more than ", INT32_MAX));
    r->max_tokens = int(v);
  }
  if (auto e = number_in(j, "temperature", 0, 2, &r->temperature)) return e;
  if (auto e = number_in(j, "top_p", 0, 1, &r->top_p)) return e;
  if (j.contains("top_p") && !j["top_p"].is_null() && r->top_p <= 0) return bad("top_p", "'top_p' must be above 0");
  for (const char* key : {"frequency_penalty", "presence_penalty"}) {
    double v = 0;
    if (auto e = number_in(j, key, -2, 2, &v)) return e;
    if (v != 0) return bad(key, str_cat("'", key, "' is not supported (only 0)"));
  }
  if (j.contains("n") && !j["n"].is_null() && j["n"] != 1) return bad("n", "'n' must be 1 (one choice per request)");
  if (j.contains("logprobs") && !j["logprobs"].is_null() && j["logprobs"] != false)
    return bad("logprobs", "'logprobs' is not supported");
  if (j.contains("logit_bias") && !j["logit_bias"].is_null() && !(j["logit_bias"].is_object() && j["logit_bias"].empty()))
    return bad("logit_bias", "'logit_bias' is not supported");
  if (j.contains("stop") && !j["stop"].is_null()) {
    const json& s = j["stop"];
    if (s.is_string()) {
      r->stop.push_back(s.get<std::string>());
    } else if (s.is_array()) {
      for (const json& x : s) {
        if (!x.is_string()) return bad("stop", "'stop' must be a string or an array of strings");
        r->stop.push_back(x.get<std::string>());
      }
    } else {
      return bad("stop", "'stop' must be a string or an array of strings");
    }
    if (r->stop.size() > lim.max_stop) return bad("stop", str_cat("'stop' has more than ", lim.max_stop, " sequences"));
    for (const std::string& x : r->stop)
      if (x.empty()) return bad("stop", "'stop' sequences must not be empty");
  }
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_integer()) return bad("seed", "'seed' must be an integer");
    r->seed = j["seed"].is_number_unsigned() ? j["seed"].get<uint64_t>() : uint64_t(j["seed"].get<int64_t>());
  }
  if (j.contains("stream") && !j["stream"].is_null()) {
    if (!j["stream"].is_boolean()) return bad("stream", "'stream' must be a boolean");
    r->stream = j["stream"].get<bool>();
  }
  if (j.contains("stream_options") && !j["stream_options"].is_null()) {
    const json& so = j["stream_options"];
    if (!so.is_object()) return bad("stream_options", "'stream_options' must be an object");
    if (!r->stream) return bad("stream_options", "'stream_options' is only allowed with 'stream': true");
    if (so.contains("include_usage")) {
      if (!so["include_usage"].is_boolean()) return bad("stream_options", "'include_usage' must be a boolean");
      r->include_usage = so["include_usage"].get<bool>();
    }
  }
  if (j.contains("user") && !j["user"].is_null() && !j["user"].is_string()) return bad("user", "'user' must be a string");
  return std::nullopt;
}

std::variant<json, ApiError> parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad("", "We could not parse the JSON body of your request");
  if (!j.is_object()) return bad("", "The request body must be a JSON object");
  return j;
}

// message.content: a string, or an array of {"type": "text", "text": ...} parts.
std::optional<ApiError> message_text(const json& c, size_t i, std::string* out) {
  const std::string param = str_cat("messages[", i, "].content");
  if (c.is_string()) {
    *out = c.get<std::string>();
    return std::nullopt;
  }
  if (!c.is_array()) return bad(param, str_cat("'", param, "' must be a string or an array of text parts"));
  for (const json& part : c) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      return bad(param, str_cat("'", param, "': only text parts are supported"));
    *out += part["text"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

std::string error_json(const ApiError& e) {
  json err{{"message", e.message}, {"type", e.type}};
  err["param"] = e.param.empty() ? json() : json(e.param);
  err["code"] = e.code.empty() ? json() : json(e.code);
  return json{{"error", err}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

Parsed parse_chat_request(const std::string& body, const Limits& lim) {
  auto obj = parse_object(body);
  if (auto* e = std::get_if<ApiError>(&obj)) return *e;
  const json& j = std::get<json>(obj);
  GenRequest r;
  r.chat = true;
  if (!j.contains("messages")) return bad("messages", "Missing required parameter: 'messages'");
  const json& m = j["messages"];
  if (!m.is_array()) return bad("messages", "'messages' must be an array");
  if (m.empty()) return bad("messages", "'messages' must contain at least one message");
  if (m.size() > lim.max_messages) return bad("messages", str_cat("'messages' has more than ", lim.max_messages, " messages"));
  for (size_t i = 0; i < m.size(); ++i) {
    const json& msg = m[i];
    const std::string at = str_cat("messages[", i, "]");
    if (!msg.is_object()) return bad(at, str_cat("'", at, "' must be an object"));
    if (!msg.contains("role") || !msg["role"].is_string()) return bad(at + ".role", str_cat("'", at, ".role' must be a string"));
    const std::string role = msg["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant" && role != "developer")
      return bad(at + ".role", str_cat("'", at, ".role' must be system, developer, user or assistant, got '", role, "'"));
    if (!msg.contains("content") || msg["content"].is_null())
      return bad(at + ".content", str_cat("Missing required parameter: '", at, ".content'"));
    ChatMessage cm{role == "developer" ? "system" : role, ""};
    if (auto e = message_text(msg["content"], i, &cm.content)) return *e;
    r.messages.push_back(std::move(cm));
  }
  if (auto e = parse_common(j, lim, "messages", &r)) return *e;
  return r;
}

Parsed parse_completion_request(const std::string& body, const Limits& lim) {
  auto obj = parse_object(body);
  if (auto* e = std::get_if<ApiError>(&obj)) return *e;
  const json& j = std::get<json>(obj);
  GenRequest r;
  if (!j.contains("prompt")) return bad("prompt", "Missing required parameter: 'prompt'");
  const json& p = j["prompt"];
  if (p.is_string()) {
    r.prompt = p.get<std::string>();
  } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
    r.prompt = p[0].get<std::string>();
  } else {
    return bad("prompt", "'prompt' must be a string (or an array of one string)");
  }
  if (auto e = parse_common(j, lim, "prompt", &r)) return *e;
  return r;
}

}  // namespace trapetum::server
