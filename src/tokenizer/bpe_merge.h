// The BPE merge loop shared by both tokenizer kinds: repeatedly merge the adjacent pair with the
// lowest priority value (merge rank, or minus the SentencePiece score), leftmost on ties.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

namespace trapetum {

struct BpeSymbol {
  int32_t id;      // vocabulary id, or -1 (a character outside the vocabulary)
  uint32_t begin;  // byte range in the word
  uint32_t len;    // 0 once merged into its left neighbour
  int32_t prev, next;
};

struct BpeCandidate {
  bool ok = false;
  double priority = 0;  // smaller merges first
  int32_t merged_id = -1;
};

// Builds one symbol per unit of `units` (byte lengths). Links them in order.
inline std::vector<BpeSymbol> bpe_symbols(const std::vector<std::pair<int32_t, uint32_t>>& units) {
  std::vector<BpeSymbol> syms;
  syms.reserve(units.size());
  uint32_t pos = 0;
  for (size_t i = 0; i < units.size(); ++i) {
    syms.push_back({units[i].first, pos, units[i].second, int32_t(i) - 1,
                    i + 1 < units.size() ? int32_t(i + 1) : -1});
    pos += units[i].second;
  }
  return syms;
}

// lookup(const BpeSymbol& left, const BpeSymbol& right) -> BpeCandidate.
template <class Lookup>
void bpe_merge(std::vector<BpeSymbol>* syms, Lookup&& lookup) {
  struct Pair {
    double priority;
    int32_t left, right;
    uint32_t len;  // left.len + right.len when queued: a change means the entry is stale
    int32_t merged_id;
    bool operator<(const Pair& o) const {  // std::priority_queue pops the largest
      return priority != o.priority ? priority > o.priority : left > o.left;
    }
  };
  std::vector<BpeSymbol>& s = *syms;
  std::priority_queue<Pair> queue;
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    BpeCandidate c = lookup(s[size_t(l)], s[size_t(r)]);
    if (c.ok) queue.push({c.priority, l, r, s[size_t(l)].len + s[size_t(r)].len, c.merged_id});
  };
  for (size_t i = 0; i + 1 < s.size(); ++i) try_add(int32_t(i), int32_t(i + 1));
  while (!queue.empty()) {
    Pair p = queue.top();
    queue.pop();
    BpeSymbol& l = s[size_t(p.left)];
    BpeSymbol& r = s[size_t(p.right)];
    if (l.len == 0 || r.len == 0 || l.next != p.right || l.len + r.len != p.len) continue;
    l.len += r.len;
    l.id = p.merged_id;
    r.len = 0;
    l.next = r.next;
    if (l.next >= 0) s[size_t(l.next)].prev = p.left;
    try_add(l.prev, p.left);
    try_add(p.left, l.next);
  }
}

}  // namespace trapetum
