// GGUF reader: real files from ../shared.
#include "io/gguf.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace trapetum {
namespace {

std::string shared(const std::string& rel) { return std::string(TRAPETUM_SHARED_DIR) + "/" + rel; }

TEST(Gguf, ReadsStories260K) {
  const std::string path = shared("models/stories260K/stories260K.gguf");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "../shared not present: " << path;
  auto g = GgufFile::open(path);
  ASSERT_TRUE(g.ok()) << g.error();
  auto& f = *g.value();
  EXPECT_EQ(*f.get_string("general.architecture").value(), "llama");
  EXPECT_EQ(*f.get_int("llama.embedding_length").value(), 64);
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  ASSERT_NE(tokens.value(), nullptr);
  EXPECT_EQ(tokens.value()->size(), 512u);
  bool found = false;
  for (const auto& t : f.tensors()) {
    if (t.name == "token_embd.weight") {
      found = true;
      EXPECT_EQ(t.shape, (std::vector<int64_t>{512, 64}));
      EXPECT_EQ(t.dtype, DType::kF32);
    }
  }
  EXPECT_TRUE(found);
  auto wrong = f.get_int("general.architecture");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().find("general.architecture"), std::string::npos);
}

TEST(Gguf, ReadsF16TinyLlama2) {
  const std::string path = shared("models/llama2-tiny-random/llama-2-tiny-random.gguf");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "../shared not present: " << path;
  auto g = GgufFile::open(path);
  ASSERT_TRUE(g.ok()) << g.error();
  int f16 = 0;
  for (const auto& t : g.value()->tensors()) f16 += t.dtype == DType::kF16;
  EXPECT_GT(f16, 0);
}

}  // namespace
}  // namespace trapetum
