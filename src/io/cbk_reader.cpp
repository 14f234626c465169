// CbkFile: maps a .cbk and validates it before any tensor is used: header, trailer checksum,
// index fields, bounds, alignment, overlaps and the structure of sparse outliers.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <xxhash.h>

#include "core/thread_pool.h"
#include "io/cbk.h"
#include "io/cbk_index.h"

namespace trapetum {
namespace {

// rows * row_bytes of a tensor, or an error when the shape is not storable in the codec.
Result<uint64_t> packed_bytes(const TensorView& v, const std::string& where) {
  int64_t numel = 1;
  for (int64_t d : v.shape)
    if (__builtin_mul_overflow(numel, d, &numel)) return make_error(where, ": shape overflows");
  const int64_t rb = codec(v.dtype).row_bytes(v.cols());
  if (rb < 0)
    return make_error(where, ": ", v.cols(), " columns are not a whole number of ", dtype_name(v.dtype), " blocks");
  int64_t total;
  if (__builtin_mul_overflow(numel / v.cols(), rb, &total)) return make_error(where, ": size overflows");
  return uint64_t(total);
}

// CSR invariants the kernels rely on: they index the output and the activations with these.
Status check_outliers(const SparseRows& o, int64_t rows, int64_t cols, const std::string& where) {
  if (o.row_ptr[0] != 0 || int64_t(o.row_ptr[rows]) != o.nnz)
    return make_error(where, ": outlier row pointers do not span [0, ", o.nnz, "]");
  for (int64_t r = 0; r < rows; ++r) {
    if (o.row_ptr[r] > o.row_ptr[r + 1]) return make_error(where, ": outlier row pointers decrease at row ", r);
    // Else the loop below reads cols[] past nnz, outside the region, before a later row fails.
    if (int64_t(o.row_ptr[r + 1]) > o.nnz)
      return make_error(where, ": outlier row pointer ", o.row_ptr[r + 1], " at row ", r + 1, " exceeds the ", o.nnz, " outliers");
    for (uint32_t i = o.row_ptr[r]; i < o.row_ptr[r + 1]; ++i) {
      if (int64_t(o.cols[i]) >= cols) return make_error(where, ": outlier column ", o.cols[i], " out of range");
      if (i > o.row_ptr[r] && o.cols[i] <= o.cols[i - 1])
        return make_error(where, ": outlier columns of row ", r, " are not strictly increasing");
    }
  }
  return Ok{};
}

}  // namespace

Result<std::unique_ptr<CbkFile>> CbkFile::open(const std::string& path) {
  std::unique_ptr<CbkFile> f(new CbkFile());
  TRY(f->file_, MappedFile::open(path));
  const uint8_t* base = f->file_->data();
  const uint64_t size = f->file_->size();
  if (size < kCbkHeaderBytes || std::memcmp(base, kCbkMagic, 8) != 0)
    return make_error(path, ": not a .cbk file (bad magic or shorter than the 64-byte header)");
  const CbkHeader h = cbk_parse_header(base);
  if (h.version != kCbkVersion)
    return make_error(path, ": .cbk version ", h.version, " is not supported (this build reads version ", kCbkVersion, ")");
  if (h.file_size != size)
    return make_error(path, ": file is ", size, " bytes but its header says ", h.file_size,
                      size < h.file_size ? " (truncated)" : " (trailing bytes)");
  if (h.meta_offset < kCbkHeaderBytes || h.meta_offset > size || h.meta_size > size - h.meta_offset ||
      h.index_offset != h.meta_offset + h.meta_size || h.index_size != size - h.index_offset)
    return make_error(path, ": header offsets of metadata and index are inconsistent with the file size");
  f->metadata_.assign(reinterpret_cast<const char*>(base + h.meta_offset), size_t(h.meta_size));
  const std::string index(reinterpret_cast<const char*>(base + h.index_offset), size_t(h.index_size));
  if (cbk_trailer_hash(f->metadata_, index) != h.trailer_xxh64)
    return make_error(path, ": metadata/index checksum mismatch (the file is corrupt)");
  TRY(f->tensors_, cbk_index_from_json(index, path));
  TRY_STATUS(f->parse_index(h.meta_offset));
  return f;
}

Status CbkFile::parse_index(uint64_t data_end) {
  const std::string& path = file_->path();
  const uint8_t* base = file_->data();
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [begin, end) of every region
  for (size_t i = 0; i < tensors_.size(); ++i) {
    CbkTensor& t = tensors_[i];
    const std::string where = str_cat(path, ": tensor '", t.name, "'");
    for (size_t j = 0; j < i; ++j)
      if (tensors_[j].name == t.name) return make_error(where, ": appears twice in the index");
    TRY(uint64_t need, packed_bytes(t.view, where));
    if (t.nbytes != need) return make_error(where, ": index says ", t.nbytes, " bytes, its shape and codec need ", need);
    auto region = [&](uint64_t off, uint64_t n, const char* what) -> Status {
      if (off % kCbkAlign) return make_error(where, ": ", what, " offset ", off, " is not ", kCbkAlign, "-byte aligned");
      if (off < kCbkHeaderBytes || off > data_end || n > data_end - off)
        return make_error(where, ": ", what, " [", off, ", +", n, ") lies outside the data section");
      ranges.emplace_back(off, off + n);
      return Ok{};
    };
    TRY_STATUS(region(t.offset, t.nbytes, "data"));
    t.view.data = base + t.offset;
    if (t.view.outliers.nnz > 0) {
      const uint64_t rows = uint64_t(t.view.rows()), nnz = uint64_t(t.view.outliers.nnz);
      if (t.outliers_nbytes != cbk_outliers_bytes(rows, nnz))
        return make_error(where, ": outlier region is ", t.outliers_nbytes, " bytes, ", nnz, " outliers need ",
                          cbk_outliers_bytes(rows, nnz));
      TRY_STATUS(region(t.outliers_offset, t.outliers_nbytes, "outliers"));
      const uint8_t* o = base + t.outliers_offset;
      t.view.outliers.row_ptr = reinterpret_cast<const uint32_t*>(o);
      t.view.outliers.cols = reinterpret_cast<const uint32_t*>(o + 4 * (rows + 1));
      t.view.outliers.vals = reinterpret_cast<const uint16_t*>(o + 4 * (rows + 1) + 4 * nnz);
      TRY_STATUS(check_outliers(t.view.outliers, int64_t(rows), t.view.cols(), where));
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      return make_error(path, ": two tensors overlap at byte ", ranges[i].first);
  return Ok{};
}

Status CbkFile::verify_tensor(const CbkTensor& t) const {
  const uint8_t* base = file_->data();
  const uint64_t h = XXH64(base + t.offset, size_t(t.nbytes), 0);
  drop_mapped_pages(base + t.offset, size_t(t.nbytes));  // hashing must not make the whole file resident
  if (h != t.xxh64)
    return make_error(path(), ": tensor '", t.name, "' is corrupt (checksum mismatch)");
  if (t.view.outliers.nnz > 0 && XXH64(base + t.outliers_offset, size_t(t.outliers_nbytes), 0) != t.outliers_xxh64)
    return make_error(path(), ": tensor '", t.name, "' is corrupt (outlier checksum mismatch)");
  return Ok{};
}

Status CbkFile::verify(ThreadPool* pool) const {
  std::vector<std::string> errors(tensors_.size());
  auto one = [&](int64_t i, int) {
    Status s = verify_tensor(tensors_[size_t(i)]);
    if (!s.ok()) errors[size_t(i)] = s.error();
  };
  if (pool) pool->parallel_for(int64_t(tensors_.size()), one);
  else for (size_t i = 0; i < tensors_.size(); ++i) one(int64_t(i), 0);
  for (const std::string& e : errors)
    if (!e.empty()) return Error{e};
  return Ok{};
}

}  // namespace trapetum
