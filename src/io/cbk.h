// The .cbk container: trapetum's single-file, mmap-able, checksummed model format
// (docs/cbk-format.md). CbkFile reads and validates one; CbkWriter streams one to disk
// atomically (temporary file, then rename).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "core/result.h"
#include "core/tensor.h"

namespace trapetum {

class ThreadPool;

inline constexpr char kCbkMagic[8] = {'T', 'R', 'A', 'P', 'C', 'B', 'K', '\0'};
inline constexpr uint32_t kCbkVersion = 1;
inline constexpr uint64_t kCbkAlign = 64;
inline constexpr uint64_t kCbkHeaderBytes = 64;

struct CbkTensor {
  std::string name;
  TensorView view;           // data points into the mapping; outliers too when present
  uint64_t offset = 0;       // of the packed data, from the start of the file
  uint64_t nbytes = 0;       // of the packed data
  uint64_t xxh64 = 0;        // of the packed data
  uint64_t outliers_offset = 0, outliers_nbytes = 0, outliers_xxh64 = 0;
};

class CbkFile {
 public:
  // Maps the file and validates header, metadata and index checksums and every tensor's
  // bounds, alignment, codec and shape. Tensor checksums are checked by verify().
  static Result<std::unique_ptr<CbkFile>> open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  const std::string& metadata() const { return metadata_; }  // JSON text
  const std::vector<CbkTensor>& tensors() const { return tensors_; }
  uint64_t file_size() const { return file_->size(); }

  // Hashes one tensor (and its outliers) and compares with the index; names it on mismatch.
  Status verify_tensor(const CbkTensor& t) const;
  // Every tensor, in parallel when a pool is given; reports the first corrupt tensor in index order.
  Status verify(ThreadPool* pool) const;

 private:
  CbkFile() = default;
  Status parse_index(uint64_t data_end);
  std::unique_ptr<MappedFile> file_;
  std::string metadata_;
  std::vector<CbkTensor> tensors_;
};

// Host-side outliers being written: CSR arrays as in SparseRows.
struct SparseRowsData {
  std::vector<uint32_t> row_ptr;  // (rows + 1)
  std::vector<uint32_t> cols;     // (nnz)
  std::vector<uint16_t> vals;     // (nnz) fp16
  int64_t nnz() const { return int64_t(cols.size()); }
  SparseRows view() const { return cols.empty() ? SparseRows{} : SparseRows{row_ptr.data(), cols.data(), vals.data(), nnz()}; }
};

class CbkWriter {
 public:
  // Opens an unnamed file beside path (or `path.tmp-<pid>` where the filesystem cannot);
  // nothing appears at path until finish().
  static Result<std::unique_ptr<CbkWriter>> create(const std::string& path);
  ~CbkWriter();  // removes the temporary file unless finish() succeeded
  CbkWriter(const CbkWriter&) = delete;
  CbkWriter& operator=(const CbkWriter&) = delete;

  // Appends one tensor: data is rows * row_bytes of its codec; outliers may be null.
  Status add(const std::string& name, DType dtype, const std::vector<int64_t>& shape, const void* data,
             uint64_t nbytes, const SparseRowsData* outliers);
  // Writes metadata and index, then the header, syncs and renames into place.
  Status finish(const std::string& metadata_json);
  uint64_t bytes_written() const { return pos_; }
  const std::string& temp_path() const { return tmp_path_; }

 private:
  CbkWriter() = default;
  Status write(const void* p, uint64_t n);
  Status pad_to(uint64_t align);
  std::string path_, tmp_path_;
  std::FILE* f_ = nullptr;
  uint64_t pos_ = 0;
  std::vector<CbkTensor> entries_;  // the index being built (views carry dtype and shape only)
  bool done_ = false;
  bool anonymous_ = false;  // O_TMPFILE: no name until finish()
  bool linked_ = false;     // the unnamed file got tmp_path_
};

}  // namespace trapetum
