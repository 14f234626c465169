// The .cbk container: round trip, checksums that name the corrupt tensor, and clean errors
// for truncated, hostile and inconsistent files. Nothing is left behind by a failed write.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "core/half.h"
#include "io/cbk.h"
#include "io/cbk_index.h"

namespace trapetum {
namespace {

struct Written {
  std::vector<uint8_t> a, b;
  SparseRowsData outliers;
};

// Two tensors: 'a' q8 (5 x 70, outliers on rows 1 and 3), 'b' f32 (9).
Written write_sample(const std::string& path, std::mt19937& rng) {
  Written w;
  w.a = test::random_packed(DType::kQ8, 5, 70, rng);
  w.b = test::random_packed(DType::kF32, 1, 9, rng);
  w.outliers.row_ptr = {0, 0, 2, 2, 3, 3};
  w.outliers.cols = {4, 69, 0};
  w.outliers.vals = {float_to_fp16(1.5f), float_to_fp16(-2.0f), float_to_fp16(0.25f)};
  auto writer = CbkWriter::create(path);
  EXPECT_TRUE(writer.ok()) << writer.error();
  EXPECT_TRUE(writer.value()->add("a", DType::kQ8, {5, 70}, w.a.data(), w.a.size(), &w.outliers).ok());
  EXPECT_TRUE(writer.value()->add("b", DType::kF32, {9}, w.b.data(), w.b.size(), nullptr).ok());
  Status s = writer.value()->finish(R"({"hello":"world"})");
  EXPECT_TRUE(s.ok()) << s.error();
  return w;
}

TEST(Cbk, RoundTripsTensorsOutliersAndMetadata) {
  std::mt19937 rng(std::random_device{}());
  test::TempDir dir;
  const std::string path = dir.file("m.cbk");
  const Written w = write_sample(path, rng);
  auto f = CbkFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f.value()->metadata(), R"({"hello":"world"})");
  ASSERT_EQ(f.value()->tensors().size(), 2u);
  const CbkTensor& a = f.value()->tensors()[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.view.dtype, DType::kQ8);
  EXPECT_EQ(a.view.shape, (std::vector<int64_t>{5, 70}));
  EXPECT_EQ(a.offset % kCbkAlign, 0u);
  EXPECT_EQ(std::memcmp(a.view.data, w.a.data(), w.a.size()), 0);
  ASSERT_EQ(a.view.outliers.nnz, 3);
  EXPECT_EQ(a.view.outliers.cols[1], 69u);
  EXPECT_EQ(a.view.outliers.row_ptr[5], 3u);
  EXPECT_EQ(f.value()->tensors()[1].view.outliers.nnz, 0);
  Status v = f.value()->verify(nullptr);
  EXPECT_TRUE(v.ok()) << v.error();
  // No temporary file remains beside the output.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) EXPECT_EQ(e.path().filename(), "m.cbk");
}

TEST(Cbk, FlippedDataByteNamesTheTensor) {
  std::mt19937 rng(std::random_device{}());
  test::TempDir dir;
  write_sample(dir.file("m.cbk"), rng);
  std::string bytes = test::read_file(dir.file("m.cbk"));
  auto f = CbkFile::open(dir.file("m.cbk"));
  ASSERT_TRUE(f.ok());
  const uint64_t off_b = f.value()->tensors()[1].offset, off_out = f.value()->tensors()[0].outliers_offset;
  f = Error{"closed"};
  for (auto [off, what] : {std::pair{off_b + 3, std::string("tensor 'b' is corrupt")},
                           std::pair{off_out + 9, std::string("tensor 'a' is corrupt (outlier")}}) {
    std::string bad = bytes;
    bad[off] = char(bad[off] ^ 0x10);
    const std::string p = dir.write("bad.cbk", bad);
    auto g = CbkFile::open(p);
    if (g.ok()) {
      Status v = g.value()->verify(nullptr);
      ASSERT_FALSE(v.ok());
      EXPECT_NE(v.error().find(what), std::string::npos) << v.error();
    } else {
      // A flip inside the outlier structure may already fail validation; it must name the tensor.
      EXPECT_NE(g.error().find("'a'"), std::string::npos) << g.error();
    }
  }
}

TEST(Cbk, TruncatedAndCorruptHeadersGiveCleanErrors) {
  std::mt19937 rng(std::random_device{}());
  test::TempDir dir;
  write_sample(dir.file("m.cbk"), rng);
  const std::string bytes = test::read_file(dir.file("m.cbk"));
  for (size_t len = 0; len < bytes.size(); len += 1 + len / 7) {
    const std::string p = dir.write("t.cbk", bytes.substr(0, len));
    auto f = CbkFile::open(p);
    ASSERT_FALSE(f.ok()) << "truncated at " << len;
    EXPECT_NE(f.error().find(p), std::string::npos) << f.error();
  }
  // Every single-byte flip in header, metadata and index is caught before any tensor is used.
  auto f = CbkFile::open(dir.file("m.cbk"));
  ASSERT_TRUE(f.ok());
  const uint64_t meta = f.value()->tensors()[1].offset + f.value()->tensors()[1].nbytes;
  for (size_t off : {size_t(0), size_t(9), size_t(17), size_t(50), size_t(60), size_t(meta + 2), bytes.size() - 3}) {
    std::string bad = bytes;
    bad[off] = char(bad[off] ^ 0x41);
    auto g = CbkFile::open(dir.write("c.cbk", bad));
    EXPECT_FALSE(g.ok()) << "flip at " << off;
  }
}

// Re-signs a hand-made index so that only the structural checks can reject it.
std::string with_index(const std::string& good, const nlohmann::json& index) {
  CbkHeader h = cbk_parse_header(reinterpret_cast<const uint8_t*>(good.data()));
  const std::string meta = good.substr(size_t(h.meta_offset), size_t(h.meta_size));
  const std::string idx = index.dump();
  std::string out = good.substr(0, size_t(h.index_offset)) + idx;
  h.index_size = idx.size();
  h.file_size = out.size();
  h.trailer_xxh64 = cbk_trailer_hash(meta, idx);
  const auto hb = cbk_header_bytes(h);
  std::memcpy(out.data(), hb.data(), hb.size());
  return out;
}

TEST(Cbk, HostileIndexEntriesAreRejected) {
  std::mt19937 rng(std::random_device{}());
  test::TempDir dir;
  write_sample(dir.file("m.cbk"), rng);
  const std::string good = test::read_file(dir.file("m.cbk"));
  CbkHeader h = cbk_parse_header(reinterpret_cast<const uint8_t*>(good.data()));
  const nlohmann::json index = nlohmann::json::parse(good.substr(size_t(h.index_offset)));
  auto edit = [&](auto fn) {
    nlohmann::json j = index;
    fn(j["tensors"]);
    return CbkFile::open(dir.write("h.cbk", with_index(good, j)));
  };
  struct Case {
    const char* what;
    std::function<void(nlohmann::json&)> fn;
    const char* expect;
  };
  const Case cases[] = {
      {"huge dims", [](nlohmann::json& t) { t[0]["shape"] = {1ull << 40, 1ull << 40}; }, "'a'"},
      {"zero dim", [](nlohmann::json& t) { t[0]["shape"] = {0, 70}; }, "dimensions"},
      {"wrong nbytes", [](nlohmann::json& t) { t[1]["nbytes"] = 40; }, "'b'"},
      {"misaligned", [](nlohmann::json& t) { t[1]["offset"] = t[1]["offset"].get<uint64_t>() + 4; }, "aligned"},
      {"past the end", [](nlohmann::json& t) { t[1]["offset"] = 1ull << 50; }, "outside"},
      {"overlap", [](nlohmann::json& t) { t[1]["offset"] = t[0]["offset"]; }, "overlap"},
      {"unknown codec", [](nlohmann::json& t) { t[0]["codec"] = "q3z"; }, "unknown codec"},
      {"duplicate", [](nlohmann::json& t) { t[1]["name"] = "a"; }, "twice"},
      {"bad hash", [](nlohmann::json& t) { t[0]["xxh64"] = "xyz"; }, "xxh64"},
      {"outlier count", [](nlohmann::json& t) { t[0]["outliers"]["nnz"] = 1ull << 62; }, "outlier"},
      {"negative", [](nlohmann::json& t) { t[0]["offset"] = -64; }, "offset"},
  };
  for (const Case& c : cases) {
    auto f = edit(c.fn);
    ASSERT_FALSE(f.ok()) << c.what;
    EXPECT_NE(f.error().find(c.expect), std::string::npos) << c.what << ": " << f.error();
  }
}

TEST(Cbk, WriterRejectsMismatchedSizesAndLeavesNothing) {
  test::TempDir dir;
  const std::string path = dir.file("w.cbk");
  {
    auto w = CbkWriter::create(path);
    ASSERT_TRUE(w.ok());
    std::vector<uint8_t> bytes(10);
    Status s = w.value()->add("x", DType::kF32, {3}, bytes.data(), bytes.size(), nullptr);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find("'x'"), std::string::npos) << s.error();
    EXPECT_FALSE(std::filesystem::exists(path));  // nothing at the output path while writing
  }  // abandoned without finish()
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  auto bad = CbkWriter::create(dir.file("no/such/dir/x.cbk"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("no/such/dir"), std::string::npos);
}

}  // namespace
}  // namespace trapetum
