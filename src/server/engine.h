// Engine: the one thread that runs the model for the server. Requests become Jobs; up to
// `parallel` of them hold a slot (a Session) at once and advance one token per round, all in
// one batched forward call (each weight read once for every slot), so a long answer never
// blocks the others; the rest wait in a bounded queue. A slot keeps its KV
// cache after a job, and a new job takes the free slot whose history shares the longest
// prefix with its prompt (a multi-turn chat does not re-prefill its history); a slot's cache is
// allocated when first needed, and prefixes a slot gives up go to a host PromptCache.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/session.h"
#include "server/api.h"
#include "server/prompt_cache.h"
#include "tokenizer/tokenizer.h"

namespace trapetum::server {

// What a job's HTTP thread receives from the engine.
struct Event {
  // kStarted: the job holds a slot with its cache allocated (first, unless kError comes).
  enum class Kind { kText, kDone, kError, kStarted } kind = Kind::kText;
  std::string text;           // kText: new answer text; kError: the message
  std::string finish_reason;  // kDone: "stop" or "length"
  int prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
  int status = 500;  // kError: the HTTP status (503: no memory for a slot's cache, retry later)
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
  // A slot whose sequence reaches ctx drops the older half of its tokens after the first
  // keep (attention sinks) and goes on; without it the generation ends with "length".
  bool context_shift = false;
  int keep = 4;
  size_t cache_bytes = size_t(1) << 30;  // PromptCache budget; 0: no prompt cache
};

// Counters for /metrics.
struct EngineStats {
  int64_t requests = 0, requests_cancelled = 0, prompt_tokens = 0, cached_tokens = 0, generated_tokens = 0;
  double decode_seconds = 0;  // time spent in decode steps
  int active = 0, queued = 0, slots = 0;
  int64_t kv_tokens_used = 0, kv_tokens_total = 0;
  int slots_allocated = 0;                  // slots whose KV cache exists
  int64_t rejected_memory = 0;              // jobs refused: no memory for a slot's cache
  int64_t context_shifts = 0;
  int64_t cache_hits = 0, cache_tokens_restored = 0, cache_evictions = 0;
  int64_t cache_entries = 0, cache_bytes = 0;
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
  // The slot's history as a prompt cache entry, when the new prompt keeps less than half of it.
  std::optional<PromptCache::Entry> given_up(Slot& s, size_t shared);

  const Transformer& t_;
  EngineOptions opts_;
  std::vector<std::unique_ptr<Slot>> slots_;
  Activations batch_act_;            // (parallel tokens) for batched decode
  std::vector<float> batch_logits_;  // (active slots, vocab)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  PromptCache cache_;  // engine thread only
  bool stop_ = false;
  EngineStats stats_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace trapetum::server
