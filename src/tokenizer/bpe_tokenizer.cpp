// Byte-level BPE (GPT-2, Llama-3, Qwen2/3, SmolLM2): regex pre-tokenization, bytes mapped to
// printable characters, then merges in rank order. Decoding maps the characters back to bytes.
#include <array>
#include <memory>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/unicode_nfc.h"
#include "tokenizer/vocab_tokenizer.h"

namespace trapetum {
namespace {

class ByteLevelTokenizer final : public VocabTokenizer {
 public:
  explicit ByteLevelTokenizer(TokenizerSpec spec) : VocabTokenizer(std::move(spec)) {}

  Status init() {
    TRY_STATUS(init_vocab());
    TRY(splitter_, RegexSplitter::create(spec_.pre_regexes, spec_.pre_behaviors));
    for (int b = 0; b < 256; ++b) byte_ids_[size_t(b)] = find(bytes_.encode(uint8_t(b)));
    return Ok{};
  }

  // HF ByteLevel decoder: a token whose characters all map back to bytes gives those bytes;
  // any other token (an added token with other characters) gives its text as is.
  std::string token_bytes(int32_t id, bool skip_special) const override {
    if (!in_range(id) || (skip_special && is_special(id))) return "";
    const std::string& piece = spec_.tokens[size_t(id)];
    std::string out;
    out.reserve(piece.size());
    for (size_t i = 0; i < piece.size();) {
      size_t n = utf8_valid_len(piece, i);
      int b = n ? bytes_.decode(utf8_decode(piece, i, n)) : -1;
      if (b < 0) return piece;
      out.push_back(char(b));
      i += n;
    }
    return out;
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
    std::string raw;
    for (int32_t id : ids) raw += token_bytes(id, skip_special);
    return utf8_lossy(raw);
  }

 protected:
  void encode_text(std::string_view text, bool /*at_start*/, std::vector<int32_t>* out) const override {
    std::string normalized, prefixed;
    if (spec_.normalize_nfc) text = normalized = nfc_normalize(text);
    if (spec_.byte_level_prefix_space && !text.empty() && text[0] != ' ') {
      prefixed.reserve(text.size() + 1);
      prefixed.push_back(' ');
      prefixed.append(text);
      text = prefixed;
    }
    std::string mapped;
    std::vector<std::pair<int32_t, uint32_t>> units;
    for (std::string_view piece : splitter_->split(text)) {
      mapped.clear();
      units.clear();
      for (char c : piece) {
        const std::string& m = bytes_.encode(uint8_t(c));
        mapped += m;
        // A byte missing from the vocabulary (SmolLM2 lacks 0x04, 0xF1, ...) is left out before
        // merging, as HF's BPE does without a model unk_token (GGUF's unknown_token_id names no
        // such token), so its neighbours may merge.
        if (byte_ids_[uint8_t(c)] >= 0) units.push_back({byte_ids_[uint8_t(c)], uint32_t(m.size())});
      }
      if (spec_.ignore_merges) {
        int32_t whole = find(mapped);
        if (whole >= 0) {
          out->push_back(whole);
          continue;
        }
      }
      std::vector<BpeSymbol> syms = bpe_symbols(units);
      bpe_merge(&syms, [&](const BpeSymbol& l, const BpeSymbol& r) { return merge_of(l.id, r.id); });
      for (int32_t i = syms.empty() ? -1 : 0; i >= 0; i = syms[size_t(i)].next) {
        out->push_back(syms[size_t(i)].id);
      }
    }
  }

 private:
  ByteUnicodeMap bytes_;
  std::array<int32_t, 256> byte_ids_{};  // byte -> id of its mapped character
  std::unique_ptr<RegexSplitter> splitter_;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> make_byte_level_tokenizer(TokenizerSpec spec) {
  auto tok = std::make_unique<ByteLevelTokenizer>(std::move(spec));
  TRY_STATUS(tok->init());
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace trapetum
