// PromptCache: longest-prefix lookup over the entries and LRU eviction under the byte budget.
#include "server/prompt_cache.h"

#include "runtime/chat.h"

namespace trapetum::server {

void PromptCache::erase(std::list<Entry>::iterator it) {
  bytes_ -= it->kv.size();
  entries_.erase(it);
}

void PromptCache::put(Entry e) {
  if (e.tokens.empty() || e.kv.size() > budget_) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const size_t n = common_prefix(it->tokens, e.tokens);
    if (n == e.tokens.size()) {  // an entry already holds all of it: just refresh that one
      entries_.splice(entries_.begin(), entries_, it);
      return;
    }
    if (n == it->tokens.size()) {
      auto gone = it++;
      erase(gone);
    } else {
      ++it;
    }
  }
  bytes_ += e.kv.size();
  entries_.push_front(std::move(e));
  while (bytes_ > budget_) {
    erase(std::prev(entries_.end()));
    ++evictions_;
  }
}

const PromptCache::Entry* PromptCache::find(std::span<const int32_t> prompt, size_t* len) {
  *len = 0;
  auto best = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (const size_t n = common_prefix(it->tokens, prompt); n > *len) *len = n, best = it;
  if (best == entries_.end()) return nullptr;
  entries_.splice(entries_.begin(), entries_, best);
  return &entries_.front();
}

}  // namespace trapetum::server
