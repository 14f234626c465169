// CbkWriter: streams tensors to a temporary file, then writes metadata, index and header,
// syncs and renames, so a .cbk either appears whole or not at all.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <xxhash.h>

#include "io/cbk.h"
#include "io/cbk_index.h"

namespace trapetum {

Result<std::unique_ptr<CbkWriter>> CbkWriter::create(const std::string& path) {
  std::unique_ptr<CbkWriter> w(new CbkWriter());
  w->path_ = path;
  w->tmp_path_ = path + ".tmp-" + std::to_string(::getpid());
  // An unnamed file (O_TMPFILE) vanishes by itself if the process dies, even by SIGKILL; it
  // gets a name only in finish(). Filesystems without O_TMPFILE get a named temporary file.
  std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    w->f_ = ::fdopen(fd, "wb");
    w->anonymous_ = w->f_ != nullptr;
    if (!w->f_) ::close(fd);
  }
  if (!w->f_) w->f_ = std::fopen(w->tmp_path_.c_str(), "wb");
  if (!w->f_) return make_error(path, ": cannot create: ", std::strerror(errno));
  const std::vector<uint8_t> header(kCbkHeaderBytes, 0);  // rewritten by finish()
  TRY_STATUS(w->write(header.data(), header.size()));
  return w;
}

CbkWriter::~CbkWriter() {
  if (f_) std::fclose(f_);
  if (!done_ && (!anonymous_ || linked_)) std::remove(tmp_path_.c_str());
}

Status CbkWriter::write(const void* p, uint64_t n) {
  if (n && std::fwrite(p, 1, size_t(n), f_) != size_t(n))
    return make_error(path_, ": write failed at byte ", pos_, ": ", std::strerror(errno));
  pos_ += n;
  return Ok{};
}

Status CbkWriter::pad_to(uint64_t align) {
  static constexpr uint8_t kZeros[kCbkAlign] = {};
  const uint64_t pad = (align - pos_ % align) % align;
  return write(kZeros, pad);
}

Status CbkWriter::add(const std::string& name, DType dtype, const std::vector<int64_t>& shape, const void* data,
                      uint64_t nbytes, const SparseRowsData* outliers) {
  if (done_ || !f_) return make_error(path_, ": tensor '", name, "' added after finish");
  CbkTensor t;
  t.name = name;
  t.view.dtype = dtype;
  t.view.shape = shape;
  if (uint64_t(t.view.nbytes()) != nbytes)
    return make_error(path_, ": tensor '", name, "': ", nbytes, " bytes given, its shape and codec need ",
                      t.view.nbytes());
  TRY_STATUS(pad_to(kCbkAlign));
  t.offset = pos_;
  t.nbytes = nbytes;
  t.xxh64 = XXH64(data, size_t(nbytes), 0);
  TRY_STATUS(write(data, nbytes));
  if (outliers && outliers->nnz() > 0) {
    const uint64_t rows = uint64_t(t.view.rows()), nnz = uint64_t(outliers->nnz());
    if (outliers->row_ptr.size() != rows + 1 || outliers->vals.size() != nnz)
      return make_error(path_, ": tensor '", name, "': outlier arrays do not match its ", rows, " rows");
    TRY_STATUS(pad_to(kCbkAlign));
    t.outliers_offset = pos_;
    t.outliers_nbytes = cbk_outliers_bytes(rows, nnz);
    t.view.outliers.nnz = int64_t(nnz);
    XXH64_state_t* st = XXH64_createState();
    XXH64_reset(st, 0);
    XXH64_update(st, outliers->row_ptr.data(), (rows + 1) * 4);
    XXH64_update(st, outliers->cols.data(), nnz * 4);
    XXH64_update(st, outliers->vals.data(), nnz * 2);
    t.outliers_xxh64 = XXH64_digest(st);
    XXH64_freeState(st);
    TRY_STATUS(write(outliers->row_ptr.data(), (rows + 1) * 4));
    TRY_STATUS(write(outliers->cols.data(), nnz * 4));
    TRY_STATUS(write(outliers->vals.data(), nnz * 2));
  }
  entries_.push_back(std::move(t));
  return Ok{};
}

Status CbkWriter::finish(const std::string& metadata_json) {
  if (done_ || !f_) return make_error(path_, ": finished twice");
  const std::string index = cbk_index_to_json(entries_);
  CbkHeader h;
  h.meta_offset = pos_;
  h.meta_size = metadata_json.size();
  TRY_STATUS(write(metadata_json.data(), metadata_json.size()));
  h.index_offset = pos_;
  h.index_size = index.size();
  TRY_STATUS(write(index.data(), index.size()));
  h.file_size = pos_;
  h.trailer_xxh64 = cbk_trailer_hash(metadata_json, index);
  const std::vector<uint8_t> bytes = cbk_header_bytes(h);
  if (std::fseek(f_, 0, SEEK_SET) != 0) return make_error(path_, ": seek failed: ", std::strerror(errno));
  if (std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size() || std::fflush(f_) != 0 ||
      ::fsync(::fileno(f_)) != 0)
    return make_error(path_, ": write failed: ", std::strerror(errno));
  if (anonymous_) {
    const std::string proc = "/proc/self/fd/" + std::to_string(::fileno(f_));
    std::remove(tmp_path_.c_str());  // a stale name from an earlier run with the same pid
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, tmp_path_.c_str(), AT_SYMLINK_FOLLOW) != 0)
      return make_error(tmp_path_, ": cannot name the finished file: ", std::strerror(errno));
    linked_ = true;
  }
  const int rc = std::fclose(f_);
  f_ = nullptr;
  if (rc != 0) return make_error(path_, ": close failed: ", std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(tmp_path_, path_, ec);
  if (ec) return make_error(path_, ": cannot rename from ", tmp_path_, ": ", ec.message());
  done_ = true;
  return Ok{};
}

}  // namespace trapetum
