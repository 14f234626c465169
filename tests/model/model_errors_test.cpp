// Model loading on bad input: each failure names the file and the tensor or field, with
// expected vs actual where there is one.
#include <gtest/gtest.h>

#include <cstring>

#include "common/test_util.h"
#include "model/config_json.h"
#include "model/model.h"
#include "runtime/session.h"
#include "backend/cpu_backend.h"

namespace trapetum {
namespace {

std::string patch(std::string bytes, const std::string& from, const std::string& to) {
  const size_t at = bytes.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) bytes.replace(at, from.size(), to);
  return bytes;
}

void patch_u32_after_key(std::string& bytes, const std::string& key, uint32_t v) {
  const size_t at = bytes.find(key);
  ASSERT_NE(at, std::string::npos);
  std::memcpy(&bytes[at + key.size() + 4], &v, 4);
}

void expect_load_error(const std::string& path, const std::vector<std::string>& needles) {
  auto m = Model::load(path);
  ASSERT_FALSE(m.ok()) << "loaded " << path;
  EXPECT_EQ(m.error().find('\n'), std::string::npos) << "multi-line error: " << m.error();
  EXPECT_NE(m.error().find(path), std::string::npos) << m.error();
  for (const auto& n : needles) EXPECT_NE(m.error().find(n), std::string::npos) << m.error();
}

TEST(ModelErrors, TinyGgufLoadsAndRuns) {
  std::mt19937 rng(7);
  test::TempDir dir;
  auto m = Model::load(dir.write("ok.gguf", test::tiny_llama_gguf(rng).build()));
  ASSERT_TRUE(m.ok()) << m.error();
  CpuBackend b(2);
  auto t = Transformer::create(*m.value(), b);
  ASSERT_TRUE(t.ok()) << t.error();
  auto s = Session::create(*t.value(), 16, 4);
  ASSERT_TRUE(s.ok()) << s.error();
  const std::vector<int32_t> ids = {1, 6, 7, 4, 5, 3};
  auto logits = s.value()->eval(ids);
  ASSERT_TRUE(logits.ok()) << logits.error();
  for (int i = 0; i < m.value()->config().vocab_size; ++i) ASSERT_TRUE(std::isfinite(logits.value()[i]));
  // A prompt longer than the context is refused with the figures.
  auto too_long = s.value()->eval(std::vector<int32_t>(20, 4));
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().find("context of 16 tokens"), std::string::npos) << too_long.error();
}

// A .cbk's config with numbers that do not fit their fields (found by fuzz_cbk: 1e300 was
// converted to int unchecked) is refused, naming the field; the config round-trips otherwise.
TEST(ModelErrors, ConfigJsonNumbersOutOfRange) {
  ModelConfig c;
  c.arch_name = "llama";
  c.dim = 64;
  c.n_layers = 2;
  c.n_heads = c.n_kv_heads = 4;
  c.head_dim = c.rope_dim = 16;
  c.hidden_dim = 128;
  c.vocab_size = 100;
  c.max_seq_len = 256;
  const nlohmann::json good = config_to_json(c);
  auto back = config_from_json(good, "m.cbk: metadata.config");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->dim, 64);
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"dim", 1e300}, {"dim", 4294967296LL}, {"n_layers", -9223372036854775807LL}, {"vocab_size", 2.5},
      {"max_seq_len", 18446744073709551615ULL}};
  for (const auto& [key, value] : bad) {
    nlohmann::json j = good;
    j[key] = value;
    auto r = config_from_json(j, "m.cbk: metadata.config");
    ASSERT_FALSE(r.ok()) << key << " = " << value.dump();
    EXPECT_NE(r.error().find("'" + key + "'"), std::string::npos) << r.error();
  }
}

TEST(ModelErrors, MissingPath) { expect_load_error("/nonexistent/model.gguf", {"no such file"}); }

TEST(ModelErrors, MissingTensor) {
  std::mt19937 rng(8);
  test::TempDir dir;
  const std::string b = patch(test::tiny_llama_gguf(rng).build(), "blk.0.ffn_up.weight", "blk.0.ffn_XX.weight");
  expect_load_error(dir.write("missing.gguf", b), {"missing tensor 'blk.0.ffn_up.weight'"});
}

TEST(ModelErrors, WrongShape) {
  std::mt19937 rng(9);
  test::TempDir dir;
  std::string b = test::tiny_llama_gguf(rng).build();
  patch_u32_after_key(b, "llama.feed_forward_length", 96);
  expect_load_error(dir.write("shape.gguf", b),
                    {"tensor 'blk.0.ffn_gate.weight'", "expected shape [96, 32]", "found [64, 32]"});
}

TEST(ModelErrors, UnknownArchitecture) {
  std::mt19937 rng(10);
  test::TempDir dir;
  const std::string b = patch(test::tiny_llama_gguf(rng).build(), std::string("\x05\0\0\0\0\0\0\0llama", 13), std::string("\x05\0\0\0\0\0\0\0bloom", 13));
  expect_load_error(dir.write("arch.gguf", b), {"unsupported architecture 'bloom'", "general.architecture"});
}

TEST(ModelErrors, MissingConfigField) {
  std::mt19937 rng(11);
  test::TempDir dir;
  const std::string b = patch(test::tiny_llama_gguf(rng).build(), "llama.block_count", "llama.block_XXXXX");
  expect_load_error(dir.write("field.gguf", b), {"'llama.block_count' is missing"});
}

TEST(ModelErrors, TruncatedAndCorruptedFiles) {
  std::mt19937 rng(12);
  test::TempDir dir;
  const std::string b = test::tiny_llama_gguf(rng).build();
  expect_load_error(dir.write("trunc.gguf", b.substr(0, b.size() / 2)), {"runs past the end of the file"});
  std::string c = b;
  c[1] = 'X';
  expect_load_error(dir.write("corrupt.gguf", c), {"bad magic"});
}

TEST(ModelErrors, HfDirectoryErrors) {
  test::TempDir dir;
  expect_load_error(dir.path(), {"config.json"});
  dir.write("config.json", "{\"model_type\": \"gpt2\"}");
  expect_load_error(dir.path(), {"unsupported model_type 'gpt2'"});
  dir.write("config.json", "{\"model_type\": \"llama\", \"hidden_size\": \"64\"}");
  expect_load_error(dir.path(), {"'hidden_size' must be an integer"});
  dir.write("config.json", "{\"model_type\": \"llama\", \"hidden_size\": 64");
  expect_load_error(dir.path(), {"not valid JSON"});
}

}  // namespace
}  // namespace trapetum

namespace trapetum {
namespace {

TEST(ModelErrors, ContextThatCannotFitFailsBeforeAllocating) {
  ModelConfig c;
  c.n_layers = 4096;
  c.n_kv_heads = 64;
  c.head_dim = 128;
  CpuBackend b(1);
  // 2 * 4096 * 64 * 2^20 * 128 * 4 bytes: far beyond any machine.
  auto kv = KvCache::create(b, c, 1 << 20, KvType::kF32);
  ASSERT_FALSE(kv.ok());
  EXPECT_NE(kv.error().find("context of 1048576 tokens needs"), std::string::npos) << kv.error();
  EXPECT_NE(kv.error().find("MiB of memory are available"), std::string::npos) << kv.error();
}

}  // namespace
}  // namespace trapetum
