// GGUF writer: round trips through our reader, streaming in parts, bad input, and atomicity
// (nothing at the target, and no temporary file, after an error).
#include "io/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>

#include "common/test_util.h"
#include "common/writer_checks.h"

namespace trapetum {
namespace {

std::vector<GgufTensorSpec> two_tensors() {
  return {{"a", DType::kF32, {3, 4}}, {"b", DType::kF16, {5}}};
}

TEST(GgufWriter, RoundTripsMetadataAndTensors) {
  test::TempDir dir;
  const std::string path = dir.file("m.gguf");
  std::mt19937 rng(1);
  GgufMetadata kv = {{"general.architecture", gguf_string("llama")},
                     {"x.u32", gguf_u32(4000000000u)},
                     {"x.i32", gguf_i32(-7)},
                     {"x.u64", gguf_u64(uint64_t(1) << 40)},
                     {"x.f32", gguf_f32(0.25f)},
                     {"x.bool", gguf_bool(true)},
                     {"x.strs", gguf_string_array({"a", "", "ü"})},
                     {"x.floats", gguf_f32_array({1.5f, -2})},
                     {"x.ints", gguf_i32_array({1, -2, 3})}};
  std::vector<GgufTensorSpec> specs = {{"w.q8", DType::kQ8_0, {3, 64}},
                                       {"w.f32", DType::kF32, {2, 3}},
                                       {"w.f16", DType::kF16, {7}},
                                       {"w.bf16", DType::kBF16, {2, 2, 3}}};
  std::vector<std::vector<uint8_t>> data = {test::random_packed(DType::kQ8_0, 3, 64, rng),
                                            test::random_packed(DType::kF32, 2, 3, rng),
                                            test::random_packed(DType::kF16, 1, 7, rng),
                                            test::random_packed(DType::kBF16, 4, 3, rng)};
  for (uint64_t alignment : {32, 64}) {
    auto w = GgufWriter::create(path, kv, specs, alignment);
    ASSERT_TRUE(w.ok()) << w.error();
    // Out of order, and the first tensor in two parts.
    for (size_t i : {3, 1, 2}) ASSERT_TRUE(w.value()->write_tensor(specs[i].name, data[i].data(), data[i].size()).ok());
    ASSERT_TRUE(w.value()->write_part("w.q8", data[0].data(), 10).ok());
    ASSERT_TRUE(w.value()->write_part("w.q8", data[0].data() + 10, data[0].size() - 10).ok());
    ASSERT_TRUE(w.value()->finish().ok());
    EXPECT_EQ(std::filesystem::file_size(path), w.value()->file_size());

    auto g = GgufFile::open(path);
    ASSERT_TRUE(g.ok()) << g.error();
    const GgufFile& f = *g.value();
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(*f.get_string("general.architecture").value(), "llama");
    EXPECT_EQ(*f.get_int("x.u32").value(), 4000000000ll);
    EXPECT_EQ(*f.get_int("x.i32").value(), -7);
    EXPECT_EQ(*f.get_int("x.u64").value(), int64_t(1) << 40);
    EXPECT_EQ(*f.get_float("x.f32").value(), 0.25);
    EXPECT_EQ(*f.get_bool("x.bool").value(), true);
    EXPECT_EQ(*f.get_string_array("x.strs").value(), (std::vector<std::string>{"a", "", "ü"}));
    EXPECT_EQ(*f.get_float_array("x.floats").value(), (std::vector<double>{1.5, -2}));
    EXPECT_EQ(*f.get_int_array("x.ints").value(), (std::vector<int64_t>{1, -2, 3}));
    EXPECT_EQ(f.find("general.alignment") != nullptr, alignment != 32);
    ASSERT_EQ(f.tensors().size(), specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      const GgufTensorInfo& t = f.tensors()[i];
      EXPECT_EQ(t.name, specs[i].name);
      EXPECT_EQ(t.dtype, specs[i].dtype);
      EXPECT_EQ(t.shape, specs[i].shape);
      EXPECT_EQ(t.offset % alignment, 0u);
      ASSERT_EQ(t.nbytes, data[i].size());
      EXPECT_EQ(std::memcmp(f.view(t).data, data[i].data(), data[i].size()), 0) << t.name;
    }
  }
  EXPECT_EQ(test::dir_entries(dir.path()), std::vector<std::string>{"m.gguf"});  // no temporary files left
}

// Each error names the file and leaves neither the target nor a temporary file behind.
void expect_failure_leaves_nothing(const std::string& needle,
                                   const std::function<Status(GgufWriter&, const std::vector<uint8_t>&)>& misuse) {
  test::TempDir dir;
  const std::string path = dir.file("m.gguf");
  auto w = GgufWriter::create(path, {{"general.architecture", gguf_string("llama")}}, two_tensors());
  test::expect_misuse_leaves_nothing(std::move(w), dir.path(), path, needle, misuse);
}

TEST(GgufWriter, UnknownTensor) {
  expect_failure_leaves_nothing("unknown tensor 'zzz'", [](GgufWriter& w, const std::vector<uint8_t>& a) {
    return w.write_tensor("zzz", a.data(), a.size());
  });
}

TEST(GgufWriter, WrongByteCount) {
  expect_failure_leaves_nothing("got 47 bytes, its dtype and shape need 48",
                                [](GgufWriter& w, const std::vector<uint8_t>& a) {
                                  return w.write_tensor("a", a.data(), a.size() - 1);
                                });
  expect_failure_leaves_nothing("more than the 10", [](GgufWriter& w, const std::vector<uint8_t>& a) {
    return w.write_part("b", a.data(), 12);
  });
  expect_failure_leaves_nothing("written twice", [](GgufWriter& w, const std::vector<uint8_t>& a) {
    (void)w.write_part("a", a.data(), 8);
    return w.write_tensor("a", a.data(), a.size());
  });
}

TEST(GgufWriter, FinishBeforeAllTensorsWritten) {
  expect_failure_leaves_nothing("before tensor 'b' was complete (0 of 10 bytes", [](GgufWriter& w,
                                                                                   const std::vector<uint8_t>& a) {
    (void)w.write_tensor("a", a.data(), a.size());
    return w.finish();
  });
}

TEST(GgufWriter, RejectsBadTensorTables) {
  test::TempDir dir;
  const std::string path = dir.file("m.gguf");
  auto expect = [&](std::vector<GgufTensorSpec> specs, const std::string& needle) {
    auto w = GgufWriter::create(path, {}, specs);
    ASSERT_FALSE(w.ok()) << needle;
    EXPECT_NE(w.error().find(needle), std::string::npos) << w.error();
    EXPECT_NE(w.error().find(path), std::string::npos) << w.error();
  };
  expect({{"a", DType::kF32, {2}}, {"a", DType::kF32, {2}}}, "duplicate tensor name 'a'");
  expect({{"q", DType::kQ8_0, {2, 48}}}, "row length 48 is not a multiple of the Q8_0 block size 32");
  expect({{"q", DType::kQ4G64, {2, 64}}}, "has no GGUF type");
  expect({{"e", DType::kF32, {}}}, "0 dimensions");
  expect({{"z", DType::kF32, {4, 0}}}, "dimension 0 out of range");
  auto w = GgufWriter::create(path, {{"general.alignment", gguf_u32(64)}}, {});
  EXPECT_FALSE(w.ok());
  EXPECT_TRUE(test::dir_entries(dir.path()).empty());
}

TEST(GgufWriter, ReplacesTargetOnlyOnSuccess) {
  test::TempDir dir;
  const std::string path = dir.write("m.gguf", "old");
  {
    auto w = GgufWriter::create(path, {}, two_tensors());
    ASSERT_TRUE(w.ok());
    EXPECT_FALSE(w.value()->finish().ok());
  }
  EXPECT_EQ(test::read_file(path), "old");
  auto w = GgufWriter::create(path, {}, {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w.value()->finish().ok());
  EXPECT_TRUE(GgufFile::open(path).ok());
}

}  // namespace
}  // namespace trapetum
