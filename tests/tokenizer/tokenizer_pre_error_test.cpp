// A GGUF byte-level vocabulary with an unknown tokenizer.ggml.pre is refused with an error
// naming the field, rather than tokenized with a guessed pattern.
#include <gtest/gtest.h>

#include "common/test_util.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {
namespace {

Result<TokenizerSpec> spec_with_pre(const test::TempDir& dir, const std::string& pre) {
  test::GgufBuilder g;
  g.str("tokenizer.ggml.model", "gpt2");
  g.str("tokenizer.ggml.pre", pre);
  g.str_array("tokenizer.ggml.tokens", {"a", "b", "ab"});
  g.i32_array("tokenizer.ggml.token_type", {1, 1, 1});
  g.str_array("tokenizer.ggml.merges", {"a b"});
  auto f = GgufFile::open(dir.write(pre + ".gguf", g.build()));
  EXPECT_TRUE(f.ok()) << f.error();
  if (!f.ok()) return std::move(f).take_error();
  return tokenizer_spec_from_gguf(*f.value());
}

TEST(TokenizerPre, UnknownGgufPreIsAnError) {
  test::TempDir dir;
  auto bad = spec_with_pre(dir, "no-such-pre");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("tokenizer.ggml.pre 'no-such-pre'"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("no-such-pre.gguf"), std::string::npos) << bad.error();
  auto good = spec_with_pre(dir, "smollm");
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_EQ(good.value().pre_regexes.size(), 2u);
}

}  // namespace
}  // namespace trapetum
