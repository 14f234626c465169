// The OpenAI-compatible request bodies: parsing and validation of /v1/chat/completions and
// /v1/completions into a GenRequest, or an ApiError that becomes an OpenAI-style error JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tokenizer/chat_template.h"

namespace trapetum::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the offending field, "" when none
  std::string code;   // "" when none
};

// {"error": {"message", "type", "param", "code"}}.
std::string error_json(const ApiError& e);

struct GenRequest {
  bool chat = false;
  std::vector<ChatMessage> messages;  // chat
  std::string prompt;                 // completions
  std::string model;
  int max_tokens = 0;  // 0: until the context is full or a stop condition
  double temperature = 1.0;
  double top_p = 1.0;
  std::vector<std::string> stop;
  std::optional<uint64_t> seed;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

struct Limits {
  int ctx = 4096;                 // tokens per slot: max_tokens may not exceed it...
  bool context_shift = false;     // ...unless the server shifts the context (then any int)
  std::string model_id;           // the one model served; requests naming another get 404
  size_t max_stop = 4;            // stop sequences, as OpenAI allows
  size_t max_messages = 4096;
};

using Parsed = std::variant<GenRequest, ApiError>;
Parsed parse_chat_request(const std::string& body, const Limits& limits);
Parsed parse_completion_request(const std::string& body, const Limits& limits);

}  // namespace trapetum::server
