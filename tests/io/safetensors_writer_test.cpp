// safetensors writer: round trips through our reader, alignment of mixed dtypes, bad input,
// and atomicity (nothing at the target, and no temporary file, after an error).
#include "io/safetensors_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "common/writer_checks.h"
#include "io/safetensors.h"

namespace trapetum {
namespace {

nlohmann::json header_of(const std::string& path) {
  const std::string bytes = test::read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  return nlohmann::json::parse(bytes.substr(8, n));
}

TEST(SafetensorsWriter, RoundTripsMixedDtypesAligned) {
  test::TempDir dir;
  const std::string path = dir.file("model.safetensors");
  std::mt19937 rng(3);
  // An odd-length f16 tensor first would misalign the f32 one after it if written in this order.
  std::vector<SafetensorsTensorSpec> specs = {{"h.odd", DType::kF16, {3}},
                                              {"f.mat", DType::kF32, {2, 5}},
                                              {"b.bf", DType::kBF16, {1, 3, 2}},
                                              {"s.scalar", DType::kF32, {}}};
  std::vector<std::vector<uint8_t>> data = {test::random_packed(DType::kF16, 1, 3, rng),
                                            test::random_packed(DType::kF32, 2, 5, rng),
                                            test::random_packed(DType::kBF16, 3, 2, rng),
                                            test::random_packed(DType::kF32, 1, 1, rng)};
  auto w = SafetensorsWriter::create(path, specs, {{"source", "test"}});
  ASSERT_TRUE(w.ok()) << w.error();
  for (size_t i : {1, 0, 3}) ASSERT_TRUE(w.value()->write_tensor(specs[i].name, data[i].data(), data[i].size()).ok());
  ASSERT_TRUE(w.value()->write_part("b.bf", data[2].data(), 4).ok());
  ASSERT_TRUE(w.value()->write_part("b.bf", data[2].data() + 4, data[2].size() - 4).ok());
  ASSERT_TRUE(w.value()->finish().ok());
  EXPECT_EQ(std::filesystem::file_size(path), w.value()->file_size());

  SafetensorsSet set;
  auto st = read_safetensors_file(path, &set);  // also checks every tensor's alignment
  ASSERT_TRUE(st.ok()) << st.error();
  ASSERT_EQ(set.tensors.size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorView& v = set.tensors.at(specs[i].name);
    EXPECT_EQ(v.dtype, specs[i].dtype);
    EXPECT_EQ(v.shape, specs[i].shape);
    EXPECT_EQ(std::memcmp(v.data, data[i].data(), data[i].size()), 0) << specs[i].name;
  }
  const nlohmann::json h = header_of(path);
  EXPECT_EQ(h["__metadata__"]["format"], "pt");
  EXPECT_EQ(h["__metadata__"]["source"], "test");
  // Contiguous data from offset 0 (the safetensors library rejects gaps).
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (auto& [k, v] : h.items())
    if (k != "__metadata__") spans.emplace_back(v["data_offsets"][0], v["data_offsets"][1]);
  std::sort(spans.begin(), spans.end());
  uint64_t end = 0;
  for (auto [b, e] : spans) {
    EXPECT_EQ(b, end);
    end = e;
  }
  EXPECT_EQ(test::dir_entries(dir.path()), std::vector<std::string>{"model.safetensors"});
}

std::vector<SafetensorsTensorSpec> two_tensors() { return {{"a", DType::kF32, {3, 4}}, {"b", DType::kF16, {5}}}; }

void expect_failure_leaves_nothing(const std::string& needle,
                                   const std::function<Status(SafetensorsWriter&, const std::vector<uint8_t>&)>& misuse) {
  test::TempDir dir;
  const std::string path = dir.file("model.safetensors");
  test::expect_misuse_leaves_nothing(SafetensorsWriter::create(path, two_tensors()), dir.path(), path, needle, misuse);
}

TEST(SafetensorsWriter, UnknownTensor) {
  expect_failure_leaves_nothing("unknown tensor 'model.x'", [](SafetensorsWriter& w, const std::vector<uint8_t>& a) {
    return w.write_tensor("model.x", a.data(), a.size());
  });
}

TEST(SafetensorsWriter, WrongByteCount) {
  expect_failure_leaves_nothing("got 40 bytes, its dtype and shape need 48",
                                [](SafetensorsWriter& w, const std::vector<uint8_t>& a) {
                                  return w.write_tensor("a", a.data(), 40);
                                });
  expect_failure_leaves_nothing("18 bytes written, more than the 10", [](SafetensorsWriter& w,
                                                                         const std::vector<uint8_t>& a) {
    (void)w.write_part("b", a.data(), 6);
    return w.write_part("b", a.data(), 12);
  });
}

TEST(SafetensorsWriter, FinishBeforeAllTensorsWritten) {
  expect_failure_leaves_nothing("before tensor 'a' was complete (8 of 48 bytes",
                                [](SafetensorsWriter& w, const std::vector<uint8_t>& a) {
                                  (void)w.write_tensor("b", a.data(), 10);
                                  (void)w.write_part("a", a.data(), 8);
                                  return w.finish();
                                });
}

TEST(SafetensorsWriter, RejectsBadTensorTables) {
  test::TempDir dir;
  const std::string path = dir.file("model.safetensors");
  auto expect = [&](std::vector<SafetensorsTensorSpec> specs, const std::string& needle) {
    auto w = SafetensorsWriter::create(path, specs);
    ASSERT_FALSE(w.ok()) << needle;
    EXPECT_NE(w.error().find(needle), std::string::npos) << w.error();
    EXPECT_NE(w.error().find(path), std::string::npos) << w.error();
  };
  expect({{"a", DType::kF32, {2}}, {"a", DType::kF16, {2}}}, "duplicate tensor name 'a'");
  expect({{"q", DType::kQ8_0, {2, 32}}}, "dtype Q8_0 is not supported");
  expect({{"__metadata__", DType::kF32, {1}}}, "reserved");
  expect({{"", DType::kF32, {1}}}, "empty name");
  expect({{"n", DType::kF32, {-1}}}, "dimension -1 out of range");
  expect({{"bad\xff", DType::kF32, {1}}}, "not valid UTF-8");
  EXPECT_TRUE(test::dir_entries(dir.path()).empty());
}

TEST(SafetensorsWriter, ReplacesTargetOnlyOnSuccess) {
  test::TempDir dir;
  const std::string path = dir.write("model.safetensors", "old");
  {
    auto w = SafetensorsWriter::create(path, two_tensors());
    ASSERT_TRUE(w.ok());
    EXPECT_FALSE(w.value()->finish().ok());
  }
  EXPECT_EQ(test::read_file(path), "old");
  auto w = SafetensorsWriter::create(path, {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w.value()->finish().ok());
  SafetensorsSet set;
  EXPECT_TRUE(read_safetensors_file(path, &set).ok());
  EXPECT_TRUE(set.tensors.empty());
}

}  // namespace
}  // namespace trapetum
