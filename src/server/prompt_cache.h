// PromptCache: host copies of KV cache prefixes that slots gave up, kept in least-recently-used
// order under a byte budget, so a prompt seen before is restored instead of prefilled again.
#pragma once

#include <cstdint>
#include <list>
#include <span>
#include <vector>

namespace trapetum::server {

class PromptCache {
 public:
  struct Entry {
    std::vector<int32_t> tokens;  // the positions the bytes hold
    std::vector<uint8_t> kv;      // Session::export_kv(tokens.size())
  };
  explicit PromptCache(size_t budget_bytes) : budget_(budget_bytes) {}

  // Stores an entry (most recently used), evicting the least recently used ones past the
  // budget. Entries whose tokens are a prefix of it are dropped; an entry too large for the
  // budget, or already covered by a longer one, is not stored.
  void put(Entry e);
  // The entry sharing the longest prefix with prompt (marked most recently used), and that
  // length in *len; null when none shares any token.
  const Entry* find(std::span<const int32_t> prompt, size_t* len);

  size_t budget() const { return budget_; }
  size_t bytes() const { return bytes_; }
  size_t entries() const { return entries_.size(); }
  int64_t evictions() const { return evictions_; }

 private:
  void erase(std::list<Entry>::iterator it);
  size_t budget_;
  size_t bytes_ = 0;  // kv bytes of every entry
  int64_t evictions_ = 0;
  std::list<Entry> entries_;  // most recently used first
};

}  // namespace trapetum::server
