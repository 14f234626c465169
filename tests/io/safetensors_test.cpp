// safetensors reader: valid files and shards, and hostile headers.
#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/test_util.h"

namespace trapetum {
namespace {

std::string make_file(const std::string& header, const std::string& data) {
  std::string s(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(&s[0], &n, 8);
  return s + header + data;
}

std::string floats(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(std::data(v)), v.size() * 4);
}

void expect_error(const std::string& path, const std::string& needle) {
  SafetensorsSet set;
  auto s = read_safetensors_file(path, &set);
  ASSERT_FALSE(s.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_NE(s.error().find(path), std::string::npos) << s.error();
  EXPECT_NE(s.error().find(needle), std::string::npos) << s.error();
}

const char* kHeader = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"format":"pt"}})";

TEST(Safetensors, ReadsTensor) {
  test::TempDir dir;
  SafetensorsSet set;
  // Pad the header with spaces to a multiple of 8, as writers do, so f32 data is aligned.
  std::string h = kHeader;
  h.resize((h.size() + 7) / 8 * 8, ' ');
  auto p = dir.write("m.safetensors", make_file(h, floats({1, 2, 3, 4})));
  auto s = read_safetensors_file(p, &set);
  ASSERT_TRUE(s.ok()) << s.error();
  const TensorView& v = set.tensors.at("a");
  EXPECT_EQ(v.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(static_cast<const float*>(v.data)[3], 4.0f);
}

TEST(Safetensors, HostileHeaders) {
  test::TempDir dir;
  auto pad = [](std::string h) {
    h.resize((h.size() + 7) / 8 * 8, ' ');
    return h;
  };
  expect_error(dir.write("short.safetensors", "abc"), "truncated");
  std::string huge(8, '\0');
  const uint64_t n = uint64_t(1) << 62;
  std::memcpy(&huge[0], &n, 8);
  expect_error(dir.write("huge.safetensors", huge + "{}"), "header length");
  expect_error(dir.write("json.safetensors", make_file(pad("{not json"), "")), "corrupted header");
  expect_error(dir.write("past.safetensors",
                         make_file(pad(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})"), floats({1, 2}))),
               "'w': data [0, 16) runs past the end");
  expect_error(dir.write("size.safetensors",
                         make_file(pad(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})"), floats({1, 2, 3, 4}))),
               "'w': shape [3] of F32 needs 12 bytes");
  expect_error(dir.write("dtype.safetensors",
                         make_file(pad(R"({"w":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})"), floats({1, 2, 3, 4}))),
               "'w': unsupported dtype I64");
  expect_error(dir.write("overlap.safetensors",
                         make_file(pad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"),
                                   floats({1, 2, 3, 4}))),
               "overlap");
  expect_error(dir.write("shape.safetensors",
                         make_file(pad(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})"),
                                   floats({1, 2, 3, 4}))),
               "too large");
  expect_error(dir.write("fields.safetensors", make_file(pad(R"({"w":{"dtype":"F32"}})"), "")), "'w'");
}

TEST(Safetensors, TruncatedAtEveryOffset) {
  test::TempDir dir;
  std::string h = kHeader;
  h.resize((h.size() + 7) / 8 * 8, ' ');
  const std::string full = make_file(h, floats({1, 2, 3, 4}));
  for (size_t cut = 0; cut < full.size(); ++cut) {
    SafetensorsSet set;
    auto p = dir.write("t.safetensors", full.substr(0, cut));
    EXPECT_FALSE(read_safetensors_file(p, &set).ok()) << "cut at " << cut;
  }
}

TEST(Safetensors, ShardIndexMustMatch) {
  test::TempDir dir;
  std::string h = kHeader;
  h.resize((h.size() + 7) / 8 * 8, ' ');
  dir.write("model-00001-of-00001.safetensors", make_file(h, floats({1, 2, 3, 4})));
  dir.write("model.safetensors.index.json",
            R"({"weight_map":{"a":"model-00001-of-00001.safetensors","b":"model-00001-of-00001.safetensors"}})");
  auto r = read_safetensors_dir(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("'b'"), std::string::npos) << r.error();
  dir.write("model.safetensors.index.json", R"({"weight_map":{"a":"../../etc/passwd"}})");
  r = read_safetensors_dir(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("not a file in this directory"), std::string::npos) << r.error();
  dir.write("model.safetensors.index.json", R"({"weight_map":{"a":"model-00001-of-00001.safetensors"}})");
  r = read_safetensors_dir(dir.path());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().tensors.size(), 1u);
}

}  // namespace
}  // namespace trapetum
