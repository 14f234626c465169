// Engine: slot admission by longest cached prefix (slots, then the prompt cache), lazy slot
// allocation, round-robin token steps, context shift, stop sequences held back until they can
// no longer match, and counters.
#include "server/engine.h"

#include <algorithm>
#include <chrono>

#include "core/str.h"
#include "core/timer.h"
#include "runtime/chat.h"
#include "runtime/sampler.h"

namespace trapetum::server {

bool Job::next(Event* e, int timeout_ms) {
  std::unique_lock lk(mu_);
  if (!cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return !events_.empty(); })) return false;
  *e = std::move(events_.front());
  events_.pop_front();
  return true;
}

void Job::push(Event e) {
  {
    std::lock_guard lk(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

struct Engine::Slot {
  std::unique_ptr<Session> session;  // null until a job first needs it
  std::shared_ptr<Job> job;  // null when free
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<StreamDecoder> decoder;
  std::vector<int32_t> history;  // prompt + generated, for the sampler
  const float* logits = nullptr;
  int generated = 0, max_tokens = 0, cached = 0;
  std::string held;  // text not yet sent: it may be the start of a stop sequence
};

namespace {
// Length of the longest suffix of text that is a proper prefix of some stop sequence.
size_t stop_prefix_tail(const std::string& text, const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const std::string& s : stops)
    for (size_t k = std::min(s.size() - 1, text.size()); k > keep; --k)
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        keep = k;
        break;
      }
  return keep;
}
}  // namespace

Engine::Engine(const Transformer& t, const EngineOptions& o) : t_(t), opts_(o), cache_(o.cache_bytes) {}

Result<std::unique_ptr<Engine>> Engine::create(const Transformer& t, const EngineOptions& o) {
  if (o.parallel < 1) return make_error("--parallel must be at least 1, got ", o.parallel);
  if (o.context_shift && (o.keep < 0 || o.keep > o.ctx / 2))
    return make_error("--keep must be between 0 and half the context (", o.ctx / 2, "), got ", o.keep);
  std::unique_ptr<Engine> e(new Engine(t, o));
  for (int i = 0; i < o.parallel; ++i) e->slots_.push_back(std::make_unique<Slot>());
  TRY(e->batch_act_, Activations::create(t.backend(), t.config(), o.parallel));
  e->stats_.slots = o.parallel;
  e->stats_.kv_tokens_total = int64_t(o.parallel) * o.ctx;
  e->thread_ = std::thread([p = e.get()] { p->loop(); });
  return e;
}

Engine::~Engine() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  Event bye{Event::Kind::kError, "the server is shutting down", "", 0, 0, 0};
  for (auto& j : queue_) j->push(bye);
  for (auto& s : slots_)
    if (s->job) s->job->push(bye);
}

bool Engine::submit(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard lk(mu_);
    if (queue_.size() >= opts_.max_queue) return false;
    queue_.push_back(job);
    ++stats_.requests;
    stats_.queued = int(queue_.size());
  }
  cv_.notify_all();
  return true;
}

EngineStats Engine::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void Engine::loop() {
  for (;;) {
    std::vector<Slot*> started;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty() || stats_.active > 0; });
      if (stop_) return;
      // Admit waiting jobs: each takes the free slot sharing the longest prefix with it.
      while (!queue_.empty()) {
        if (queue_.front()->cancelled()) {  // its client left while it waited
          queue_.pop_front();
          ++stats_.requests_cancelled;
          continue;
        }
        // Ties go to a slot whose cache exists, so another is allocated only when needed.
        Slot* best = nullptr;
        size_t best_len = 0;
        for (auto& s : slots_)
          if (!s->job) {
            const size_t n = s->session ? common_prefix(s->session->history(), queue_.front()->prompt()) : 0;
            if (!best || n > best_len || (n == best_len && s->session && !best->session)) best = s.get(), best_len = n;
          }
        if (!best) break;
        best->job = queue_.front();
        queue_.pop_front();
        started.push_back(best);
        ++stats_.active;
      }
      stats_.queued = int(queue_.size());
    }
    for (Slot* s : started) start(*s, s->job);
    // One token for every active slot, then one forward call for all that go on.
    Timer t;
    std::vector<Slot*> next;
    std::vector<Session*> sessions;
    std::vector<int32_t> tokens;
    for (auto& s : slots_) {
      if (!s->job || !s->logits) continue;
      const int32_t id = advance(*s);
      if (id < 0) continue;
      next.push_back(s.get());
      sessions.push_back(s->session.get());
      tokens.push_back(id);
    }
    if (!next.empty()) {
      if (Status st = Session::eval_batch(sessions, tokens, batch_act_, &batch_logits_); !st.ok()) {
        for (Slot* s : next) {
          const std::shared_ptr<Job> job = s->job;
          finish(*s, "error");  // counters first, as in finish()
          job->push({Event::Kind::kError, st.error(), "", 0, 0, 0});
        }
      } else {
        const size_t vocab = size_t(t_.config().vocab_size);
        for (size_t i = 0; i < next.size(); ++i) next[i]->logits = batch_logits_.data() + i * vocab;
      }
    }
    std::lock_guard lk(mu_);
    if (!next.empty()) stats_.decode_seconds += t.seconds();
    int64_t used = 0;
    for (auto& s : slots_)
      if (s->session) used += s->session->position();
    stats_.kv_tokens_used = used;
  }
}

void Engine::start(Slot& s, std::shared_ptr<Job> job) {
  const GenRequest& r = job->request();
  const std::vector<int32_t>& prompt = job->prompt();
  if (!s.session) {
    auto created = Session::create(t_, opts_.ctx, Session::kDefaultMaxBatch, opts_.kv_type);
    if (!created.ok()) {
      {
        std::lock_guard lk(mu_);
        ++stats_.rejected_memory;
      }
      finish(s, "error");  // counters first, as in finish()
      job->push({Event::Kind::kError,
                 str_cat("Not enough memory for another slot's KV cache (", created.error(),
                         "); the other slots are busy, retry later"),
                 "", 0, 0, 0, 503});
      return;
    }
    s.session = std::move(created.value());
    std::lock_guard lk(mu_);
    ++stats_.slots_allocated;
  }
  job->push({Event::Kind::kStarted, "", "", 0, 0, 0});
  Session& ses = *s.session;
  // Keep the cached prefix, or restore a longer one from the prompt cache; evaluate at least
  // one token so there are logits to sample from.
  const size_t shared = common_prefix(ses.history(), prompt);
  size_t common = std::min(shared, prompt.size() - 1);
  // Copied out first, put in the cache after the restore, so the two cannot evict each other.
  std::optional<PromptCache::Entry> old = given_up(s, shared);
  size_t restored = 0;
  if (opts_.cache_bytes > 0) {
    size_t n = 0;
    const PromptCache::Entry* hit = cache_.find(prompt, &n);
    n = std::min(n, prompt.size() - 1);
    if (hit && n > common) {
      if (ses.import_kv(std::span<const int32_t>(hit->tokens).first(n), int(hit->tokens.size()), hit->kv).ok()) {
        common = restored = n;
      } else {
        ses.reset();
        common = 0;
      }
    }
  }
  if (old) cache_.put(std::move(*old));
  ses.truncate(int(common));
  auto logits = ses.eval(std::span<const int32_t>(prompt).subspan(common));
  if (!logits.ok()) {
    ses.reset();
    s.logits = nullptr;
    finish(s, "error");
    return job->push({Event::Kind::kError, logits.error(), "", 0, 0, 0});
  }
  s.logits = logits.value();
  SamplerParams p;
  p.temperature = float(r.temperature);
  p.top_k = 0;
  p.top_p = float(r.top_p);
  p.min_p = 0;
  p.repeat_penalty = 1;
  p.seed = r.seed ? *r.seed : uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  s.sampler = std::make_unique<Sampler>(p);
  s.decoder = std::make_unique<StreamDecoder>(t_.model().tokenizer(), /*skip_special=*/true);
  s.history = prompt;
  s.generated = 0;
  s.cached = int(common);
  s.held.clear();
  // Without a max_tokens the answer ends when the context is full, even with context shift.
  const int room = opts_.ctx - int(prompt.size());
  s.max_tokens = r.max_tokens > 0 ? (opts_.context_shift ? r.max_tokens : std::min(r.max_tokens, room)) : room;
  std::lock_guard lk(mu_);
  stats_.prompt_tokens += int64_t(prompt.size());
  stats_.cached_tokens += int64_t(common);
  if (restored > 0) ++stats_.cache_hits, stats_.cache_tokens_restored += int64_t(restored);
  stats_.cache_entries = int64_t(cache_.entries());
  stats_.cache_bytes = int64_t(cache_.bytes());
  stats_.cache_evictions = cache_.evictions();
}

std::optional<PromptCache::Entry> Engine::given_up(Slot& s, size_t shared) {
  const std::vector<int32_t>& h = s.session->history();
  if (opts_.cache_bytes == 0 || h.empty() || shared * 2 >= h.size()) return std::nullopt;
  if (size_t(s.session->kv_bytes(int(h.size()))) > cache_.budget()) return std::nullopt;
  auto kv = s.session->export_kv(int(h.size()));
  if (!kv.ok()) return std::nullopt;
  return PromptCache::Entry{h, std::move(kv.value())};
}

int32_t Engine::advance(Slot& s) {
  Job& job = *s.job;
  if (job.cancelled()) return finish(s, "cancelled"), -1;
  const Tokenizer& tok = t_.model().tokenizer();
  const std::vector<std::string>& stops = job.request().stop;
  const int32_t id = s.sampler->sample(s.logits, t_.config().vocab_size, s.history);
  s.history.push_back(id);
  ++s.generated;
  {
    std::lock_guard lk(mu_);
    ++stats_.generated_tokens;
  }
  auto send = [&](std::string text) {
    if (!text.empty()) job.push({Event::Kind::kText, std::move(text), "", 0, 0, 0});
  };
  if (tok.is_end_of_generation(id)) {
    send(s.held + s.decoder->flush());
    return finish(s, "stop"), -1;
  }
  s.held += s.decoder->push(id);
  for (const std::string& stop : stops)
    if (size_t at = s.held.find(stop); at != std::string::npos) {
      send(s.held.substr(0, at));
      return finish(s, "stop"), -1;
    }
  const size_t keep = stop_prefix_tail(s.held, stops);
  send(s.held.substr(0, s.held.size() - keep));
  s.held.erase(0, s.held.size() - keep);
  if (s.generated >= s.max_tokens || (!opts_.context_shift && s.session->position() >= s.session->context())) {
    send(s.held + s.decoder->flush());
    return finish(s, "length"), -1;
  }
  if (s.session->position() >= s.session->context()) {
    // Keep the first `keep` tokens and the newer half of the rest; re-evaluate what moved.
    const int sinks = std::min(opts_.keep, s.session->position() - 1);
    if (Status st = s.session->shift(sinks, (s.session->position() - sinks) / 2); !st.ok()) {
      s.session->reset();
      const std::shared_ptr<Job> owner = s.job;  // finish() releases the slot's reference
      finish(s, "error");
      owner->push({Event::Kind::kError, st.error(), "", 0, 0, 0});
      return -1;
    }
    s.history = s.session->history();
    s.history.push_back(id);
    std::lock_guard lk(mu_);
    ++stats_.context_shifts;
  }
  return id;
}

void Engine::finish(Slot& s, const std::string& reason) {
  std::shared_ptr<Job> job = std::move(s.job);
  s.logits = nullptr;
  s.sampler.reset();
  s.decoder.reset();
  {
    // Counters first: whoever receives the last event sees them already updated.
    std::lock_guard lk(mu_);
    --stats_.active;
    if (reason == "cancelled") ++stats_.requests_cancelled;
  }
  if (reason != "error" && reason != "cancelled")
    job->push({Event::Kind::kDone, "", reason, int(job->prompt().size()), s.generated, s.cached});
}

}  // namespace trapetum::server
