// GGUF reader on hostile input: truncation at many offsets, byte flips, huge counts and
// lengths, misaligned and overlapping offsets. Each gives a clean error naming the file.
#include <gtest/gtest.h>

#include <cstring>

#include "common/test_util.h"
#include "io/gguf.h"

namespace trapetum {
namespace {

std::string minimal(std::mt19937& rng) { return test::tiny_llama_gguf(rng).build(); }

void expect_error(const std::string& path, const std::string& needle) {
  auto g = GgufFile::open(path);
  ASSERT_FALSE(g.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_NE(g.error().find(path), std::string::npos) << g.error();
  EXPECT_NE(g.error().find(needle), std::string::npos) << g.error();
}

TEST(GgufCorruption, ValidFileOpens) {
  std::mt19937 rng(1);
  test::TempDir dir;
  auto g = GgufFile::open(dir.write("ok.gguf", minimal(rng)));
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ(g.value()->tensors().size(), 12u);
}

TEST(GgufCorruption, TruncatedAtManyOffsets) {
  std::mt19937 rng(2);
  const std::string bytes = minimal(rng);
  test::TempDir dir;
  int tried = 0;
  for (size_t cut = 0; cut < bytes.size(); cut += (cut < 4096 ? 7 : 997)) {
    const std::string p = dir.write("t.gguf", bytes.substr(0, cut));
    auto g = GgufFile::open(p);
    ASSERT_FALSE(g.ok()) << "truncated at " << cut << " of " << bytes.size() << " opened";
    EXPECT_NE(g.error().find(p), std::string::npos);
    ++tried;
  }
  EXPECT_GT(tried, 100);
}

TEST(GgufCorruption, RandomByteFlipsNeverCrash) {
  std::mt19937 rng(std::random_device{}());
  const std::string bytes = minimal(rng);
  test::TempDir dir;
  // Flip bytes in the header region, where they change structure rather than weights.
  std::uniform_int_distribution<size_t> where(0, 4096);
  for (int i = 0; i < 300; ++i) {
    std::string b = bytes;
    for (int f = 0; f < 3; ++f) b[where(rng) % b.size()] ^= char(1 + rng() % 255);
    auto g = GgufFile::open(dir.write("f.gguf", b));
    if (!g.ok()) {
      EXPECT_FALSE(g.error().empty());
    }
  }
}

TEST(GgufCorruption, BadMagicAndVersion) {
  std::mt19937 rng(3);
  std::string b = minimal(rng);
  test::TempDir dir;
  std::string m = b;
  m[0] = 'X';
  expect_error(dir.write("magic.gguf", m), "bad magic");
  std::string v = b;
  v[4] = 7;
  expect_error(dir.write("version.gguf", v), "unsupported GGUF version 7");
}

TEST(GgufCorruption, HugeCounts) {
  std::mt19937 rng(4);
  const std::string b = minimal(rng);
  test::TempDir dir;
  std::string t = b;
  const uint64_t huge = uint64_t(1) << 63;
  std::memcpy(&t[8], &huge, 8);
  expect_error(dir.write("tensors.gguf", t), "tensor count");
  std::string k = b;
  std::memcpy(&k[16], &huge, 8);
  expect_error(dir.write("kv.gguf", k), "metadata count");
  // The first key's length, right after the header, set past the end of the file.
  std::string s = b;
  const uint64_t len = uint64_t(1) << 40;
  std::memcpy(&s[24], &len, 8);
  expect_error(dir.write("strlen.gguf", s), "runs past the end of the file");
}

TEST(GgufCorruption, HugeArrayLength) {
  test::GgufBuilder g;
  g.str("general.architecture", "llama");
  std::string b = g.build();
  // Append a hand-made array entry claiming 2^60 u32 elements.
  test::TempDir dir;
  std::string key = "x";
  std::string entry;
  const uint64_t klen = key.size();
  entry.append(reinterpret_cast<const char*>(&klen), 8);
  entry += key;
  const uint32_t arr = 9, elem = 4;
  const uint64_t count = uint64_t(1) << 60;
  entry.append(reinterpret_cast<const char*>(&arr), 4);
  entry.append(reinterpret_cast<const char*>(&elem), 4);
  entry.append(reinterpret_cast<const char*>(&count), 8);
  std::string head = b.substr(0, 24) + b.substr(24, b.size() - 24);
  const uint64_t n_kv = 2;
  std::memcpy(&head[16], &n_kv, 8);
  // Insert the entry after the existing key/value pair (which ends where padding begins).
  const size_t kv_end = 24 + 8 + 20 + 4 + 8 + 5;
  std::string file = head.substr(0, kv_end) + entry + std::string(64, '\0');
  expect_error(dir.write("arr.gguf", file), "cannot fit");
}

TEST(GgufCorruption, TensorDataPastEndOfFile) {
  std::mt19937 rng(5);
  std::string b = minimal(rng);
  b.resize(b.size() - 4);
  test::TempDir dir;
  expect_error(dir.write("short.gguf", b), "output.weight");
}

TEST(GgufCorruption, UnknownTensorTypeNamesTensorAndType) {
  test::GgufBuilder g;
  g.str("general.architecture", "llama");
  g.tensor("blk.0.attn_q.weight", 13 /* Q5_K */, {1, 256}, std::vector<uint8_t>(176));
  test::TempDir dir;
  expect_error(dir.write("q5k.gguf", g.build()), "'blk.0.attn_q.weight': unsupported GGUF type Q5_K");
}

TEST(GgufCorruption, DimsWhoseProductOverflows) {
  test::GgufBuilder g;
  g.tensor("big", test::kGgmlF32, {int64_t(1) << 30, int64_t(1) << 30}, std::vector<uint8_t>(4));
  test::TempDir dir;
  expect_error(dir.write("big.gguf", g.build()), "'big'");
}

TEST(GgufCorruption, MisalignedOffset) {
  test::GgufBuilder g;
  g.tensor("a", test::kGgmlF32, {8}, std::vector<uint8_t>(32));
  std::string b = g.build();
  // The offset field is the last 8 bytes of the tensor entry, just before the padding.
  const size_t name_at = b.find('a', 24);
  const size_t off_at = name_at + 1 + 4 + 8 + 4;
  const uint64_t off = 3;
  std::memcpy(&b[off_at], &off, 8);
  test::TempDir dir;
  expect_error(dir.write("mis.gguf", b), "not aligned");
}

TEST(GgufCorruption, DuplicateTensorNames) {
  test::GgufBuilder g;
  g.tensor("a", test::kGgmlF32, {8}, std::vector<uint8_t>(32));
  g.tensor("a", test::kGgmlF32, {8}, std::vector<uint8_t>(32));
  test::TempDir dir;
  expect_error(dir.write("dup.gguf", g.build()), "duplicate tensor name 'a'");
}

TEST(GgufCorruption, MissingAndEmptyFiles) {
  test::TempDir dir;
  expect_error(dir.file("nope.gguf"), "cannot open");
  expect_error(dir.write("empty.gguf", ""), "empty");
  expect_error(dir.path(), "not a regular file");
}

}  // namespace
}  // namespace trapetum
