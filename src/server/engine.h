// Engine: the one thread that runs the model for the server. Requests become Jobs; up to
// `parallel` of them hold a slot (a Session) at once and advance one token per round, all in
// one batched forward call (each weight read once for every slot), so a long answer never
// blocks the others; the rest wait in a bounded queue. A slot keeps its KV
// cache after a job, and a new job takes the free slot whose history shares the longest
// prefix with its prompt (a multi-turn chat does not re-prefill its history).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/session.h"
#include "server/api.h"
#include "tokenizer/tokenizer.h"

namespace trapetum::server {

// What a job's HTTP thread receives from the engine.
struct Event {
  enum class Kind { kText, kDone, kError } kind = Kind::kText;
  std::string text;           // kText: new answer text; kError: the message
  std::string finish_reason;  // kDone: "stop" or "length"
  int prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
};

// One request: filled by the HTTP thread, run by the engine, events back through a queue.
class Job {
 public:
  Job(GenRequest req, std::vector<int32_t> prompt) : req_(std::move(req)), prompt_(std::move(prompt)) {}
  const GenRequest& request() const { return req_; }
  const std::vector<int32_t>& prompt() const { return prompt_; }

  // HTTP side: waits up to timeout_ms for the next event; false when none came.
  bool next(Event* e, int timeout_ms);
  // HTTP side: the client is gone; the engine frees the slot at its next step.
  void cancel() { cancelled_.store(true); }

  // Engine side.
  bool cancelled() const { return cancelled_.load(); }
  void push(Event e);

 private:
  GenRequest req_;
  std::vector<int32_t> prompt_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
};

struct EngineOptions {
  int parallel = 1;      // slots
  int ctx = 4096;        // positions per slot
  size_t max_queue = 64;  // jobs waiting for a slot; beyond it submit() refuses
  KvType kv_type = KvType::kF16;
};

// Counters for /metrics.
struct EngineStats {
  int64_t requests = 0, requests_cancelled = 0, prompt_tokens = 0, cached_tokens = 0, generated_tokens = 0;
  double decode_seconds = 0;  // time spent in decode steps
  int active = 0, queued = 0, slots = 0;
  int64_t kv_tokens_used = 0, kv_tokens_total = 0;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(const Transformer& t, const EngineOptions& o);
  ~Engine();  // stops the thread; jobs still queued or running get an error event

  // Queues a job (prompt already checked to fit ctx); false when the queue is full.
  bool submit(const std::shared_ptr<Job>& job);
  EngineStats stats() const;
  const EngineOptions& options() const { return opts_; }

 private:
  struct Slot;
  Engine(const Transformer& t, const EngineOptions& o);
  void loop();
  void start(Slot& s, std::shared_ptr<Job> job);
  // Samples the slot's next token and sends its text; returns the token to evaluate next, or
  // -1 when the job has ended.
  int32_t advance(Slot& s);
  void finish(Slot& s, const std::string& reason);

  const Transformer& t_;
  EngineOptions opts_;
  std::vector<std::unique_ptr<Slot>> slots_;
  Activations batch_act_;            // (parallel tokens) for batched decode
  std::vector<float> batch_logits_;  // (active slots, vocab)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stop_ = false;
  EngineStats stats_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace trapetum::server
