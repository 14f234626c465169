// HTTP routes of the OpenAI-compatible API: authentication and CORS before routing, request
// validation, prompt building with the chat template, and answers as server-sent events or
// one JSON object. A client that goes away, streaming or not, cancels its job.
#include "server/http_server.h"

#include <httplib.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/str.h"
#include "runtime/chat.h"
#include "server/client_socket.h"
#include "server/web_page.h"

namespace trapetum::server {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_json(e), "application/json");
}

// A job's error event: 503 with Retry-After when a slot's cache did not fit in memory.
void send_job_error(httplib::Response& res, const Event& e) {
  if (e.status == 503) res.set_header("Retry-After", "1");
  send_error(res, {e.status, e.text, "server_error", "", e.status == 503 ? "insufficient_memory" : ""});
}

// The client hung up: nobody reads this answer, but the logs and counters get a status.
void send_gone(httplib::Response& res) {
  send_error(res, {499, "The client closed the connection", "invalid_request_error", "", "client_closed_request"});
}

// Equal strings, in time that depends on the lengths only.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned diff = unsigned(a.size() ^ b.size());
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    diff |= unsigned(uint8_t(i < a.size() ? a[i] : 0) ^ uint8_t(i < b.size() ? b[i] : 0));
  return diff == 0;
}

// The fields every response object of one request shares.
struct Reply {
  std::string id, model;
  int64_t created;
  bool chat;
  json chunk(const json& choice) const {
    return {{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", created},
            {"model", model}, {"choices", json::array({choice})}};
  }
  json choice(const std::string& text, const json& finish) const {
    if (chat) return {{"index", 0}, {"delta", text.empty() ? json::object() : json{{"content", text}}}, {"finish_reason", finish}, {"logprobs", nullptr}};
    return {{"index", 0}, {"text", text}, {"finish_reason", finish}, {"logprobs", nullptr}};
  }
};

json usage(const Event& e) {
  return {{"prompt_tokens", e.prompt_tokens},
          {"completion_tokens", e.completion_tokens},
          {"total_tokens", e.prompt_tokens + e.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", e.cached_tokens}}}};
}

}  // namespace

HttpServer::HttpServer(Engine& engine, const Tokenizer& tok, const ChatTemplate& tmpl, ServerOptions o)
    : engine_(engine), tok_(tok), tmpl_(tmpl), o_(std::move(o)), http_(std::make_unique<httplib::Server>()) {
  routes();
}

HttpServer::~HttpServer() = default;

Status HttpServer::bind() {
  if (o_.port == 0) {
    port_ = http_->bind_to_any_port(o_.host);
  } else {
    port_ = http_->bind_to_port(o_.host, o_.port) ? o_.port : -1;
  }
  if (port_ <= 0) return make_error("cannot listen on ", o_.host, ":", o_.port, " (in use, or not an address of this machine)");
  return Ok{};
}

void HttpServer::run() { http_->listen_after_bind(); }

void HttpServer::stop() { http_->stop(); }

std::string HttpServer::metrics_text() const {
  const EngineStats s = engine_.stats();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, double v) {
    out += str_cat("# HELP trapetum_", name, " ", help, "\n# TYPE trapetum_", name, " ", type, "\ntrapetum_", name, " ",
                   v, "\n");
  };
  metric("http_requests_total", "counter", "HTTP requests received.", double(http_requests_.load()));
  metric("http_errors_total", "counter", "HTTP responses with a 4xx or 5xx status.", double(http_errors_.load()));
  metric("requests_total", "counter", "Generation requests accepted.", double(s.requests));
  metric("requests_rejected_busy_total", "counter", "Generation requests refused with 503 (queue full).",
         double(rejected_busy_.load()));
  metric("requests_cancelled_total", "counter", "Generations stopped because the client went away.",
         double(s.requests_cancelled));
  metric("prompt_tokens_total", "counter", "Prompt tokens of accepted requests.", double(s.prompt_tokens));
  metric("prompt_tokens_cached_total", "counter", "Prompt tokens found in a slot's KV cache.", double(s.cached_tokens));
  metric("generated_tokens_total", "counter", "Tokens generated.", double(s.generated_tokens));
  metric("decode_tokens_per_second", "gauge", "Generated tokens per second of decoding, since start.",
         s.decode_seconds > 0 ? double(s.generated_tokens) / s.decode_seconds : 0.0);
  metric("slots", "gauge", "Generation slots (--parallel).", double(s.slots));
  metric("slots_active", "gauge", "Slots generating now.", double(s.active));
  metric("slots_allocated", "gauge", "Slots whose KV cache is allocated (on first use).", double(s.slots_allocated));
  metric("requests_rejected_memory_total", "counter", "Requests refused with 503: no memory for a slot's KV cache.",
         double(s.rejected_memory));
  metric("context_shifts_total", "counter", "Context shifts (--context-shift).", double(s.context_shifts));
  metric("prompt_cache_hits_total", "counter", "Prompts whose prefix was restored from the prompt cache.",
         double(s.cache_hits));
  metric("prompt_cache_tokens_restored_total", "counter", "Prompt tokens restored from the prompt cache.",
         double(s.cache_tokens_restored));
  metric("prompt_cache_evictions_total", "counter", "Prompt cache entries evicted for the budget.",
         double(s.cache_evictions));
  metric("prompt_cache_entries", "gauge", "Prompt cache entries.", double(s.cache_entries));
  metric("prompt_cache_bytes", "gauge", "Bytes of KV cache held by the prompt cache.", double(s.cache_bytes));
  metric("queue_depth", "gauge", "Requests waiting for a slot.", double(s.queued));
  metric("kv_cache_tokens_used", "gauge", "KV cache positions holding tokens, all slots.", double(s.kv_tokens_used));
  metric("kv_cache_tokens_total", "gauge", "KV cache positions, all slots.", double(s.kv_tokens_total));
  return out;
}

void HttpServer::routes() {
  httplib::Server& h = *http_;
  h.set_payload_max_length(o_.max_body_bytes);
  h.set_read_timeout(o_.io_timeout_s, 0);
  h.set_write_timeout(o_.io_timeout_s, 0);
  const int threads = o_.http_threads;
  h.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };

  h.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    ++http_requests_;
    if (!o_.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", o_.cors_origin);
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      if (req.method == "OPTIONS") {
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (!o_.api_key.empty() && req.path.rfind("/v1/", 0) == 0) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      const std::string given = auth.rfind(prefix, 0) == 0 ? auth.substr(prefix.size()) : "";
      if (!same_secret(given, o_.api_key)) {
        send_error(res, {401, "Incorrect API key provided (send it as 'Authorization: Bearer KEY')",
                         "invalid_request_error", "", "invalid_api_key"});
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Called for every response of status >= 400, so it alone counts them.
  h.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    ++http_errors_;
    if (!res.body.empty()) return;
    const std::string msg = res.status == 404   ? str_cat("No route for ", req.method, " ", req.path)
                            : res.status == 413 ? str_cat("The request body is larger than ", o_.max_body_bytes, " bytes")
                                                : str_cat("HTTP status ", res.status);
    res.set_content(error_json({res.status, msg, "invalid_request_error", "", ""}), "application/json");
  });

  h.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(web_page_html(), "text/html; charset=utf-8"); });
  h.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  h.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });
  h.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json m{{"id", o_.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "trapetum"}};
    res.set_content(dump({{"object", "list"}, {"data", json::array({m})}}), "application/json");
  });
  for (bool chat : {true, false}) {
    h.Post(chat ? "/v1/chat/completions" : "/v1/completions",
           [this, chat](const httplib::Request& req, httplib::Response& res) { generate(req, res, chat); });
  }
}

void HttpServer::generate(const httplib::Request& req, httplib::Response& res, bool chat) {
  Limits lim;
  lim.ctx = engine_.options().ctx;
  lim.context_shift = engine_.options().context_shift;
  lim.model_id = o_.model_id;
  Parsed parsed = chat ? parse_chat_request(req.body, lim) : parse_completion_request(req.body, lim);
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    return send_error(res, *e);
  }
  GenRequest r = std::move(std::get<GenRequest>(parsed));
  std::vector<int32_t> ids;
  if (chat) {
    auto text = tmpl_.render(r.messages, chat_render_options(tok_));
    if (!text.ok()) {
      return send_error(res, {400, "The chat template rejected the messages: " + text.error(), "invalid_request_error",
                              "messages", ""});
    }
    ids = tok_.encode(text.value(), /*add_special=*/false);  // the template writes any BOS
  } else {
    ids = tok_.encode(r.prompt, /*add_special=*/true);
  }
  if (ids.empty()) {
    return send_error(res, {400, "The prompt is empty: it encodes to no tokens", "invalid_request_error",
                            chat ? "messages" : "prompt", ""});
  }
  const int ctx = lim.ctx;
  // With context shift only the prompt (and one token) must fit: the answer may go on past ctx.
  const int64_t wanted = lim.context_shift ? 1 : std::max(1, r.max_tokens);
  if (int64_t(ids.size()) + wanted > ctx) {
    return send_error(res, {400,
                            str_cat("This model's context is ", ctx, " tokens; the prompt has ", ids.size(),
                                    " and max_tokens asks for ", wanted, " more"),
                            "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded"});
  }
  auto job = std::make_shared<Job>(r, std::move(ids));
  if (!engine_.submit(job)) {
    ++rejected_busy_;
    res.set_header("Retry-After", "1");
    return send_error(res, {503, "The server is busy: every slot is taken and the queue is full; retry later",
                            "server_error", "", "overloaded"});
  }
  const Reply reply{str_cat(chat ? "chatcmpl-" : "cmpl-", std::time(nullptr), "-", ++next_id_), o_.model_id,
                    int64_t(std::time(nullptr)), chat};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o_.request_timeout_s);
  ClientSocket client(req.remote_addr, req.remote_port, req.local_port);

  // Wait for a slot before answering, so that a slot that cannot be allocated is a 503.
  Event e;
  for (;;) {
    if (job->next(&e, 100)) break;
    if (client.gone()) {
      job->cancel();
      return send_gone(res);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      job->cancel();
      return send_error(res, {504, "The request waited longer than the server's limit for a slot", "server_error", "",
                              "timeout"});
    }
  }
  if (e.kind == Event::Kind::kError) return send_job_error(res, e);

  if (r.stream) {
    const bool include_usage = r.include_usage;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [job, reply, include_usage, deadline](size_t, httplib::DataSink& sink) {
          auto write = [&](const std::string& s) {
            const std::string line = "data: " + s + "\n\n";
            return sink.write(line.data(), line.size());
          };
          if (reply.chat &&
              !write(dump(reply.chunk({{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}, {"logprobs", nullptr}})))) {
            job->cancel();
            return false;
          }
          Event e;
          for (;;) {
            if (!job->next(&e, 500)) {
              // Nothing new: give up past the deadline, or when the client has gone.
              if (std::chrono::steady_clock::now() > deadline || !sink.is_writable()) {
                job->cancel();
                return false;
              }
              continue;
            }
            if (e.kind == Event::Kind::kText) {
              if (!write(dump(reply.chunk(reply.choice(e.text, nullptr))))) {
                job->cancel();
                return false;
              }
              continue;
            }
            if (e.kind == Event::Kind::kError) {
              write(dump({{"error", {{"message", e.text}, {"type", "server_error"}, {"param", nullptr}, {"code", nullptr}}}}));
            } else {
              write(dump(reply.chunk(reply.choice("", e.finish_reason))));
              if (include_usage) {
                json u = reply.chunk(json::object());
                u["choices"] = json::array();
                u["usage"] = usage(e);
                write(dump(u));
              }
            }
            write("[DONE]");
            sink.done();
            return true;
          }
        },
        [job](bool ok) {
          if (!ok) job->cancel();
        });
    return;
  }

  // Nothing is written until the end, so the socket is probed for a hang-up while we wait.
  std::string text;
  for (;;) {
    if (client.gone()) {
      job->cancel();
      return send_gone(res);
    }
    if (!job->next(&e, 100)) {
      if (std::chrono::steady_clock::now() > deadline) {
        job->cancel();
        return send_error(res, {504, "The request took longer than the server's limit", "server_error", "", "timeout"});
      }
      continue;
    }
    if (e.kind == Event::Kind::kText) {
      text += e.text;
      continue;
    }
    break;
  }
  if (e.kind == Event::Kind::kError) return send_job_error(res, e);
  json choice = chat ? json{{"index", 0},
                            {"message", {{"role", "assistant"}, {"content", text}}},
                            {"finish_reason", e.finish_reason},
                            {"logprobs", nullptr}}
                     : json{{"index", 0}, {"text", text}, {"finish_reason", e.finish_reason}, {"logprobs", nullptr}};
  json out{{"id", reply.id},
           {"object", chat ? "chat.completion" : "text_completion"},
           {"created", reply.created},
           {"model", reply.model},
           {"choices", json::array({choice})},
           {"usage", usage(e)}};
  res.set_content(dump(out), "application/json");
}

}  // namespace trapetum::server
