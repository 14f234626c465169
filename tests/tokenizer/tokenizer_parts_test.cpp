// The tokenizer's building blocks: UTF-8 repair, NFC, added-token splitting, regex split
// behaviours (expected values from HF `tokenizers`), and the GGUF pre-name table.
#include <gtest/gtest.h>

#include "tokenizer/added_tokens.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/unicode_nfc.h"

namespace trapetum {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(TokenizerUnicode, LossyRepairMatchesRust) {
  EXPECT_EQ(utf8_lossy("abc"), "abc");
  EXPECT_EQ(utf8_lossy("\xE2\x82"), kFffd);              // truncated: one replacement
  EXPECT_EQ(utf8_lossy("\xF0\x9F\x98" "a"), kFffd + "a");
  EXPECT_EQ(utf8_lossy("\xFF\xFE"), kFffd + kFffd);
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // surrogate
  EXPECT_EQ(utf8_lossy("\xC0\xAF"), kFffd + kFffd);              // overlong
  EXPECT_TRUE(utf8_is_valid("\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(utf8_is_valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_EQ(utf8_incomplete_tail("a\xF0\x9F"), 2u);
  EXPECT_EQ(utf8_incomplete_tail("a\xF0\x41"), 0u);
}

TEST(TokenizerUnicode, ByteLevelTable) {
  ByteUnicodeMap m;
  EXPECT_EQ(m.encode(' '), "\xC4\xA0");  // Ġ
  EXPECT_EQ(m.encode('\n'), "\xC4\x8A");  // Ċ
  EXPECT_EQ(m.encode('a'), "a");
  for (int b = 0; b < 256; ++b) {
    const std::string& s = m.encode(uint8_t(b));
    EXPECT_EQ(m.decode(utf8_decode(s, 0, s.size())), b);
  }
  EXPECT_EQ(m.decode(0x2581), -1);
}

TEST(TokenizerUnicode, Nfc) {
  EXPECT_EQ(nfc_normalize("plain ascii"), "plain ascii");
  EXPECT_EQ(nfc_normalize("e\xCC\x81"), "\xC3\xA9");                           // é
  EXPECT_EQ(nfc_normalize("a\xCC\xA3\xCC\x88"), "\xE1\xBA\xA1\xCC\x88");        // ạ + U+0308
  EXPECT_EQ(nfc_normalize("a\xCC\x88\xCC\xA3"), "\xE1\xBA\xA1\xCC\x88");        // reordered first
  EXPECT_EQ(nfc_normalize("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // Hangul LVT
  EXPECT_EQ(nfc_normalize("\xE2\x84\xAB"), "\xC3\x85");                         // Angstrom sign -> Å
  EXPECT_EQ(nfc_normalize("A\xCC\x8A\xCC\x81"), "\xC7\xBA");                    // Ǻ
  EXPECT_EQ(nfc_normalize("e\xCC\xB4\xCC\x81"), "\xC3\xA9\xCC\xB4");            // not blocked by class 1
  EXPECT_EQ(nfc_normalize("\xE0\xA4\x95\xE0\xA4\xBC"), "\xE0\xA4\x95\xE0\xA4\xBC");  // excluded
  EXPECT_EQ(nfc_normalize("\xCC\x81" "e"), "\xCC\x81" "e");                     // leading mark
  EXPECT_EQ(nfc_normalize("e\xFF\xCC\x81"), "e\xFF\xCC\x81");                   // invalid byte
}

TEST(TokenizerAdded, LongestLeftmostAndStrip) {
  std::vector<std::string> contents = {"<|a|>", "<|a|>x", "<m>", "<r>"};
  std::vector<AddedToken> tokens = {{0}, {1}, {2, true, false, false}, {3, false, true, false}};
  AddedTokenMatcher m(tokens, contents);
  auto show = [&](std::string_view text) {
    std::string out;
    for (const TextFragment& f : m.split(text)) out += f.token >= 0 ? "[" + std::to_string(f.token) + "]" : "'" + std::string(f.text) + "'";
    return out;
  };
  EXPECT_EQ(show("<|a|>xy"), "[1]'y'");
  EXPECT_EQ(show("q<|a|>"), "'q'[0]");
  EXPECT_EQ(show("a  <m> b"), "'a'[2]' b'");    // lstrip eats the spaces on the left
  EXPECT_EQ(show("a  <r>  b"), "'a  '[3]'b'");  // rstrip on the right
  EXPECT_EQ(show(""), "");
  EXPECT_EQ(show("<|a"), "'<|a'");
}

TEST(TokenizerAdded, SingleWord) {
  std::vector<std::string> contents = {"cat"};
  AddedTokenMatcher m({{0, false, false, true}}, contents);
  EXPECT_EQ(m.split("a cat here").size(), 3u);
  EXPECT_EQ(m.split("concatenate").size(), 1u);
}

std::vector<std::string> split(const std::string& pattern, SplitBehavior b, const std::string& text) {
  auto r = RegexSplitter::create({pattern}, {b});
  EXPECT_TRUE(r.ok()) << r.error();
  std::vector<std::string> out;
  for (std::string_view p : r.value()->split(text)) out.emplace_back(p);
  return out;
}

using V = std::vector<std::string>;

TEST(TokenizerSplit, BehavioursMatchHf) {
  const std::string t = "the-final--countdown";
  EXPECT_EQ(split("-", SplitBehavior::kIsolated, t), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split("-", SplitBehavior::kRemoved, t), (V{"the", "final", "countdown"}));
  EXPECT_EQ(split("-", SplitBehavior::kMergedWithPrevious, t), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split("-", SplitBehavior::kMergedWithNext, t), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split("-", SplitBehavior::kContiguous, t), (V{"the", "-", "final", "--", "countdown"}));
  EXPECT_EQ(split("-", SplitBehavior::kMergedWithPrevious, "-a--"), (V{"-", "a-", "-"}));
  EXPECT_EQ(split("-", SplitBehavior::kMergedWithNext, "-a--"), (V{"-a", "-", "-"}));
  EXPECT_EQ(split(regex_escape("a.b"), SplitBehavior::kIsolated, "xa.byaxb"), (V{"x", "a.b", "yaxb"}));
}

TEST(TokenizerSplit, Gpt2PatternAndUnicodeSpaces) {
  EXPECT_EQ(split(kGpt2Pattern, SplitBehavior::kIsolated, "Hello world's  end\n"),
            (V{"Hello", " world", "'s", " ", " end", "\n"}));
  // U+180E is not White_Space (HF), though PCRE2 10.42's \s would match it.
  EXPECT_EQ(split(kGpt2Pattern, SplitBehavior::kIsolated, "a\xE1\xA0\x8E" "b \xE1\xA0\x8E c"),
            (V{"a", "\xE1\xA0\x8E", "b", " \xE1\xA0\x8E", " c"}));
  // Invalid UTF-8 never matches: it stays in a piece of its own.
  EXPECT_EQ(split(kGpt2Pattern, SplitBehavior::kIsolated, "ab\xFF" "cd"), (V{"ab", "\xFF", "cd"}));
  auto bad = RegexSplitter::create({"(unclosed"}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("(unclosed"), std::string::npos);
}

TEST(TokenizerSplit, GgufPreNames) {
  bool known = false, nfc = false, ignore = false;
  EXPECT_EQ(pre_patterns_for_gguf("smollm", &known, &nfc, &ignore).size(), 2u);
  EXPECT_TRUE(known);
  pre_patterns_for_gguf("qwen2", &known, &nfc, &ignore);
  EXPECT_TRUE(known && nfc && !ignore);
  pre_patterns_for_gguf("llama-bpe", &known, &nfc, &ignore);
  EXPECT_TRUE(known && !nfc && ignore);
  EXPECT_EQ(pre_patterns_for_gguf("gpt-2", &known, &nfc, &ignore), (V{kGpt2Pattern}));
  EXPECT_EQ(pre_patterns_for_gguf("no-such-pre", &known, &nfc, &ignore), (V{kGpt2Pattern}));
  EXPECT_FALSE(known);
}

}  // namespace
}  // namespace trapetum
