// HttpServer: the OpenAI-compatible HTTP API over an Engine (cpp-httplib): chat and text
// completions (streamed as server-sent events or whole), models, health, Prometheus metrics
// and the web chat page. Binds 127.0.0.1 unless told otherwise.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "server/engine.h"
#include "tokenizer/chat_template.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace trapetum::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                        // 0: any free port (see port())
  std::string api_key;                    // "": no authentication
  std::string cors_origin;                // "": no CORS headers
  std::string model_id;                   // the name /v1/models lists and requests may give
  size_t max_body_bytes = size_t(4) << 20;
  int request_timeout_s = 600;            // longest a request may wait for the model
  int io_timeout_s = 30;                  // socket read and write timeouts
  int http_threads = 64;                  // connections served at once
};

class HttpServer {
 public:
  HttpServer(Engine& engine, const Tokenizer& tok, const ChatTemplate& tmpl, ServerOptions o);
  ~HttpServer();
  // Binds; an error names the address.
  Status bind();
  int port() const { return port_; }
  // Serves until stop() (from another thread or a signal watcher).
  void run();
  void stop();

 private:
  void routes();
  void generate(const httplib::Request& req, httplib::Response& res, bool chat);
  std::string metrics_text() const;

  Engine& engine_;
  const Tokenizer& tok_;
  const ChatTemplate& tmpl_;
  ServerOptions o_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::atomic<int64_t> http_requests_{0}, http_errors_{0}, rejected_busy_{0};
  std::atomic<uint64_t> next_id_{0};  // response ids
};

}  // namespace trapetum::server
