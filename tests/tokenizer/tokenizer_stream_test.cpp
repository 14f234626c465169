// StreamDecoder: multi-byte characters split across byte tokens are held back until complete,
// invalid bytes become U+FFFD, flush() releases what is left; plus token_bytes on small vocabularies.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace trapetum {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// A SentencePiece vocabulary: <unk> <s> </s>, the 256 byte tokens, then a few pieces.
TokenizerSpec small_spm_spec() {
  TokenizerSpec s;
  s.kind = TokenizerSpec::Kind::kSentencePieceBpe;
  s.tokens = {"<unk>", "<s>", "</s>"};
  s.token_types = {TokenType::kUnknown, TokenType::kControl, TokenType::kControl};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    s.tokens.push_back(buf);
    s.token_types.push_back(TokenType::kByte);
  }
  for (const char* p : {"\xE2\x96\x81", "a", "b", "\xE2\x96\x81" "a", "ab", "\xE2\x96\x81" "ab"}) {
    s.tokens.push_back(p);
    s.token_types.push_back(TokenType::kNormal);
  }
  s.scores.assign(s.tokens.size(), 0.0f);
  for (size_t i = 259; i < s.tokens.size(); ++i) s.scores[i] = -float(i);
  s.unk_id = 0, s.bos_id = 1, s.eos_id = 2;
  s.add_bos = true;
  return s;
}

int32_t byte_id(uint8_t b) { return 3 + b; }

std::unique_ptr<Tokenizer> small_spm() {
  auto tok = Tokenizer::create(small_spm_spec());
  EXPECT_TRUE(tok.ok()) << tok.error();
  return std::move(tok).value();
}

TEST(TokenizerStream, HoldsBackSplitCharacters) {
  auto tok = small_spm();
  StreamDecoder d(*tok, true);
  EXPECT_EQ(d.push(byte_id(0xE2)), "");
  EXPECT_EQ(d.push(byte_id(0x82)), "");
  EXPECT_EQ(d.push(byte_id(0xAC)), "\xE2\x82\xAC");  // €
  // A four-byte emoji, then a piece.
  EXPECT_EQ(d.push(byte_id(0xF0)), "");
  EXPECT_EQ(d.push(byte_id(0x9F)), "");
  EXPECT_EQ(d.push(byte_id(0x98)), "");
  EXPECT_EQ(d.push(byte_id(0x80)), "\xF0\x9F\x98\x80");
  EXPECT_EQ(d.push(262), " a");  // "▁a"
  EXPECT_EQ(d.flush(), "");
}

TEST(TokenizerStream, InvalidBytesAndFlush) {
  auto tok = small_spm();
  StreamDecoder d(*tok, true);
  EXPECT_EQ(d.push(byte_id(0xFF)), kFffd);  // can never start a character: out at once
  EXPECT_EQ(d.push(byte_id(0xE2)), "");
  EXPECT_EQ(d.push(260), kFffd + "a");      // the lead byte is cut short by "a"
  EXPECT_EQ(d.push(byte_id(0xF0)), "");
  EXPECT_EQ(d.push(byte_id(0x9F)), "");
  EXPECT_EQ(d.flush(), kFffd);              // an unfinished character at the end
  EXPECT_EQ(d.flush(), "");
  EXPECT_EQ(d.push(byte_id(0xED)), "");
  EXPECT_EQ(d.push(byte_id(0xA0)), kFffd + kFffd);  // a surrogate: ED A0 is never valid
}

TEST(TokenizerStream, SkipSpecial) {
  auto tok = small_spm();
  StreamDecoder skip(*tok, true), keep(*tok, false);
  EXPECT_EQ(skip.push(1), "");
  EXPECT_EQ(keep.push(1), "<s>");
  EXPECT_EQ(tok->token_bytes(2, true), "");
  EXPECT_EQ(tok->token_bytes(2, false), "</s>");
  EXPECT_EQ(tok->token_bytes(byte_id('A'), true), "A");
  EXPECT_EQ(tok->token_bytes(-5, false), "");
  EXPECT_EQ(tok->token_bytes(100000, false), "");
}

TEST(TokenizerStream, SmallSpmEncodeDecode) {
  auto tok = small_spm();
  // "ab ab€": pieces merge by score; € falls back to bytes.
  std::vector<int32_t> ids = tok->encode("ab ab\xE2\x82\xAC", true);
  std::vector<int32_t> want = {1, 264, 264, byte_id(0xE2), byte_id(0x82), byte_id(0xAC)};
  EXPECT_EQ(ids, want);
  EXPECT_EQ(tok->decode(ids, true), "ab ab\xE2\x82\xAC");
  EXPECT_EQ(tok->decode(ids, false), "<s> ab ab\xE2\x82\xAC");
  // An invalid run of byte tokens: one U+FFFD per byte (HF ByteFallback).
  EXPECT_EQ(tok->decode({byte_id(0xE2), byte_id(0x82), 260}, true), kFffd + kFffd + "a");
  // "<s>" in the text is the special token.
  EXPECT_EQ(tok->encode("a<s>", false), (std::vector<int32_t>{262, 1}));
  EXPECT_TRUE(tok->is_end_of_generation(2));
  EXPECT_FALSE(tok->is_end_of_generation(1));
}

// A SentencePiece spec with merges and no scores merges by rank only; when none of its merges
// names two pieces of the vocabulary, nothing merges (a fuzzer found it reading the empty scores).
TEST(TokenizerStream, SpmMergesWithoutScores) {
  TokenizerSpec spec = small_spm_spec();
  spec.scores.clear();
  spec.merges = {"q r"};
  auto none = Tokenizer::create(spec);
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_EQ(none.value()->encode("ab", false), (std::vector<int32_t>{259, 260, 261}));
  spec.merges = {"q r", "\xE2\x96\x81 a"};
  auto one = Tokenizer::create(spec);
  ASSERT_TRUE(one.ok()) << one.error();
  EXPECT_EQ(one.value()->encode("ab", false), (std::vector<int32_t>{262, 261}));
}

// Streaming a real byte-level vocabulary reproduces decode() and never emits broken UTF-8.
TEST(TokenizerStream, Llama3StreamsValidUtf8) {
  std::string dir = test::shared("tokenizers/llama3");
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " not found: skipping";
  auto spec = tokenizer_spec_from_hf(dir + "/tokenizer.json", dir + "/tokenizer_config.json");
  ASSERT_TRUE(spec.ok()) << spec.error();
  auto tok = Tokenizer::create(std::move(spec).value());
  ASSERT_TRUE(tok.ok()) << tok.error();
  const std::string text = "日本語のテキスト 🙂👍🏽 naïve — ⅻ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢<|eot_id|>";
  std::vector<int32_t> ids = tok.value()->encode(text, true);
  StreamDecoder d(*tok.value(), true);
  std::string streamed;
  int held_back = 0;
  for (int32_t id : ids) {
    std::string piece = d.push(id);
    EXPECT_TRUE(utf8_is_valid(piece));
    held_back += piece.empty();
    streamed += piece;
  }
  streamed += d.flush();
  EXPECT_EQ(streamed, tok.value()->decode(ids, true));
  EXPECT_EQ(streamed, "日本語のテキスト 🙂👍🏽 naïve — ⅻ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢");
  EXPECT_GT(held_back, 0);  // some characters span several tokens
}

}  // namespace
}  // namespace trapetum
