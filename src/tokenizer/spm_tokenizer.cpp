// SentencePiece-BPE: spaces become U+2581 (with a prefix one), characters merge by merge rank
// (tokenizer.json) or by the highest piece score (GGUF, as sentencepiece and llama.cpp do), and
// characters outside the vocabulary fall back to <0xXX> byte tokens (or <unk>).
#include <array>

#include "tokenizer/unicode.h"
#include "tokenizer/unicode_nfc.h"
#include "tokenizer/vocab_tokenizer.h"

namespace trapetum {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

// The byte a "<0xXX>" piece stands for, or -1.
int parse_byte_piece(const std::string& p) {
  if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int hi = hex(p[3]), lo = hex(p[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

class SpmTokenizer final : public VocabTokenizer {
 public:
  explicit SpmTokenizer(TokenizerSpec spec) : VocabTokenizer(std::move(spec)) {}

  Status init() {
    TRY_STATUS(init_vocab());
    byte_ids_.fill(-1);
    token_byte_.assign(spec_.tokens.size(), -1);
    for (size_t i = 0; i < spec_.tokens.size(); ++i) {
      int b = parse_byte_piece(spec_.tokens[i]);
      if (b < 0) continue;
      token_byte_[i] = int16_t(b);
      if (byte_ids_[size_t(b)] < 0) byte_ids_[size_t(b)] = int32_t(i);
    }
    return Ok{};
  }

  std::string token_bytes(int32_t id, bool skip_special) const override {
    if (!in_range(id) || (skip_special && is_special(id))) return "";
    if (token_byte_[size_t(id)] >= 0) return std::string(1, char(token_byte_[size_t(id)]));
    const std::string& piece = spec_.tokens[size_t(id)];
    std::string out;
    for (size_t p = 0;;) {
      size_t q = piece.find(kSpace, p);
      out.append(piece, p, q == std::string::npos ? std::string::npos : q - p);
      if (q == std::string::npos) break;
      out.push_back(' ');
      p = q + kSpace.size();
    }
    return out;
  }

  // Runs of byte tokens that are not valid UTF-8 become one U+FFFD per byte (HF ByteFallback);
  // the space the normalizer prefixed is stripped from the start (HF Strip decoder).
  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
    std::string out, run;
    auto flush = [&] {
      if (utf8_is_valid(run)) {
        out += run;
      } else {
        for (size_t i = 0; i < run.size(); ++i) utf8_append(&out, kReplacementChar);
      }
      run.clear();
    };
    for (int32_t id : ids) {
      if (!in_range(id) || (skip_special && is_special(id))) continue;
      if (token_byte_[size_t(id)] >= 0) {
        run.push_back(char(token_byte_[size_t(id)]));
        continue;
      }
      flush();
      out += token_bytes(id, skip_special);
    }
    flush();
    if (spec_.add_space_prefix && !out.empty() && out[0] == ' ') out.erase(0, 1);
    return out;
  }

 protected:
  void encode_text(std::string_view text, bool at_start, std::vector<int32_t>* out) const override {
    if (text.empty()) return;
    std::string nfc;
    if (spec_.normalize_nfc) text = nfc = nfc_normalize(text);
    std::string norm;
    norm.reserve(text.size() + 8);
    for (char c : text) {
      if (c == ' ') {
        norm += kSpace;
      } else {
        norm.push_back(c);
      }
    }
    if (spec_.add_space_prefix) {
      bool metaspace = spec_.space_prefix != SpacePrefix::kEvery;
      bool has_space = norm.compare(0, kSpace.size(), kSpace) == 0;
      if ((spec_.space_prefix != SpacePrefix::kMetaspaceFirst || at_start) && !(metaspace && has_space)) {
        norm.insert(0, kSpace);
      }
    }
    if (!spec_.split_on_space) {
      encode_word(norm, out);
      return;
    }
    std::string_view all = norm;
    for (size_t begin = 0; begin < all.size();) {
      size_t next = all.find(kSpace, begin + 1);
      if (next == std::string_view::npos) next = all.size();
      encode_word(all.substr(begin, next - begin), out);
      begin = next;
    }
  }

 private:
  // True when a character outside the vocabulary still yields tokens (bytes or <unk>).
  bool representable(std::string_view ch) const {
    if (spec_.unk_id >= 0) return true;
    if (!spec_.byte_fallback) return false;
    for (char c : ch) {
      if (byte_ids_[uint8_t(c)] < 0) return false;
    }
    return true;
  }

  void encode_word(std::string_view word, std::vector<int32_t>* out) const {
    std::vector<std::pair<int32_t, uint32_t>> units;
    std::string kept;  // word without unrepresentable characters (HF drops them before merging)
    for (size_t i = 0; i < word.size();) {
      size_t n = utf8_valid_len(word, i);
      if (!n) n = 1;  // an invalid byte is a character of its own (then a byte token)
      int32_t id = find(word.substr(i, n));
      if (id >= 0 || representable(word.substr(i, n))) {
        units.push_back({id, uint32_t(n)});
        kept.append(word.substr(i, n));
      }
      i += n;
    }
    word = kept;
    std::vector<BpeSymbol> syms = bpe_symbols(units);
    // Merge ranks whenever the spec lists merges, even if none of them names two pieces of the
    // vocabulary (then nothing merges); scores only when it lists none (create() checks they exist).
    if (!spec_.merges.empty()) {
      bpe_merge(&syms, [&](const BpeSymbol& l, const BpeSymbol& r) { return merge_of(l.id, r.id); });
    } else {
      bpe_merge(&syms, [&](const BpeSymbol& l, const BpeSymbol& r) {
        int32_t id = find(word.substr(l.begin, l.len + r.len));
        if (id < 0 || spec_.token_types[size_t(id)] != TokenType::kNormal) return BpeCandidate{};
        return BpeCandidate{true, -double(spec_.scores[size_t(id)]), id};
      });
    }
    bool prev_unk = false;
    for (int32_t i = syms.empty() ? -1 : 0; i >= 0; i = syms[size_t(i)].next) {
      const BpeSymbol& s = syms[size_t(i)];
      if (s.id >= 0) {
        out->push_back(s.id);
        prev_unk = false;
        continue;
      }
      bool all_bytes = spec_.byte_fallback;
      for (uint32_t k = 0; k < s.len && all_bytes; ++k) all_bytes = byte_ids_[uint8_t(word[s.begin + k])] >= 0;
      if (all_bytes) {
        for (uint32_t k = 0; k < s.len; ++k) out->push_back(byte_ids_[uint8_t(word[s.begin + k])]);
        prev_unk = false;
      } else if (spec_.unk_id >= 0 && !prev_unk) {
        out->push_back(spec_.unk_id);  // consecutive unknown characters fuse into one <unk>
        prev_unk = true;
      }
    }
  }

  std::array<int32_t, 256> byte_ids_;  // byte -> id of its <0xXX> piece, or -1
  std::vector<int16_t> token_byte_;    // id -> byte value of a <0xXX> piece, or -1
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> make_spm_tokenizer(TokenizerSpec spec) {
  auto tok = std::make_unique<SpmTokenizer>(std::move(spec));
  TRY_STATUS(tok->init());
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace trapetum
