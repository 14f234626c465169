// VocabTokenizer: piece map, merge ranks, added-token splitting and BOS/EOS handling.
#include "tokenizer/vocab_tokenizer.h"

namespace trapetum {

Status VocabTokenizer::init_vocab() {
  const std::vector<std::string>& tokens = spec_.tokens;
  piece_to_id_.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!tokens[i].empty()) piece_to_id_.emplace(tokens[i], int32_t(i));
  }

  // "left right": pieces may themselves contain spaces (merges given as pairs in tokenizer.json),
  // so take the first space that splits the entry into two pieces whose concatenation is a piece.
  merges_.reserve(spec_.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < spec_.merges.size(); ++rank) {
    std::string_view m = spec_.merges[rank];
    for (size_t p = m.find(' '); p != std::string_view::npos; p = m.find(' ', p + 1)) {
      int32_t l = find(m.substr(0, p)), r = find(m.substr(p + 1));
      if (l < 0 || r < 0) continue;
      joined.assign(m.substr(0, p)).append(m.substr(p + 1));
      int32_t merged = find(joined);
      if (merged < 0) continue;
      merges_.emplace(uint64_t(uint32_t(l)) << 32 | uint32_t(r), Merge{int32_t(rank), merged});
      break;
    }
  }

  std::vector<AddedToken> added = spec_.added_tokens;
  if (added.empty()) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      TokenType t = spec_.token_types[i];
      if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) {
        added.push_back({int32_t(i), false, false, false});
      }
    }
  }
  added_ = std::make_unique<AddedTokenMatcher>(added, tokens);
  return Ok{};
}

int32_t VocabTokenizer::find(std::string_view piece) const {
  auto it = piece_to_id_.find(piece);
  return it == piece_to_id_.end() ? -1 : it->second;
}

bool VocabTokenizer::is_special(int32_t id) const {
  if (!in_range(id)) return false;
  if (id == spec_.bos_id || id == spec_.eos_id) return true;
  TokenType t = spec_.token_types[size_t(id)];
  return t == TokenType::kControl || t == TokenType::kUnknown;
}

BpeCandidate VocabTokenizer::merge_of(int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return {};
  auto it = merges_.find(uint64_t(uint32_t(left)) << 32 | uint32_t(right));
  if (it == merges_.end()) return {};
  return {true, double(it->second.rank), it->second.merged_id};
}

std::vector<int32_t> VocabTokenizer::encode(std::string_view text, bool add_special) const {
  std::vector<int32_t> out;
  if (add_special && spec_.add_bos && in_range(spec_.bos_id)) out.push_back(spec_.bos_id);
  for (const TextFragment& f : added_->split(text)) {
    if (f.token >= 0) {
      out.push_back(f.token);
    } else {
      encode_text(f.text, f.offset == 0, &out);
    }
  }
  if (add_special && spec_.add_eos && in_range(spec_.eos_id)) out.push_back(spec_.eos_id);
  return out;
}

}  // namespace trapetum
