// TensorSink: the shared back half of the GGUF and safetensors writers. A temporary file next
// to the target holds a header written up front; tensors are then written by name at offsets
// fixed in advance, and finish() renames the file onto the target. Errors are sticky, name the
// file and the tensor, and an unfinished sink deletes its temporary file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace trapetum {

class TensorSink {
 public:
  struct Slot {
    std::string name;
    uint64_t offset = 0;  // absolute offset in the file
    uint64_t nbytes = 0;
  };

  // Creates an unnamed file beside path (O_TMPFILE; path.tmp-XXXXXX where the filesystem
  // lacks it), writes header at offset 0 and sizes the file to file_size.
  // Slot names must be unique and slots must lie inside [header.size(), file_size).
  static Result<std::unique_ptr<TensorSink>> create(const std::string& path, const std::string& header,
                                                    std::vector<Slot> slots, uint64_t file_size);
  ~TensorSink();  // removes the temporary file unless finish() succeeded
  TensorSink(const TensorSink&) = delete;
  TensorSink& operator=(const TensorSink&) = delete;

  // The whole tensor in one call: nbytes must equal its size and nothing may be written yet.
  Status write_tensor(const std::string& name, const void* data, size_t nbytes);
  // The next nbytes of a tensor (tensors may be written in any order, each front to back).
  Status write_part(const std::string& name, const void* data, size_t nbytes);
  // Checks that every tensor is complete, then renames the temporary file onto path.
  Status finish();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  TensorSink() = default;
  Status fail(Error e);
  Result<size_t> find(const std::string& name);

  // The temporary file's name for messages: its path, or "<path> (unnamed temporary file)".
  std::string tmp_name() const { return anonymous_ ? path_ + " (unnamed temporary file)" : temp_path_; }

  std::string path_, temp_path_;  // temp_path_ stays empty while the file is unnamed
  bool anonymous_ = false;        // O_TMPFILE: no name until finish()
  int fd_ = -1;
  std::vector<Slot> slots_;
  std::vector<uint64_t> written_;  // bytes written per slot
  std::map<std::string, size_t> index_;
  uint64_t bytes_written_ = 0;
  std::string error_;  // the first error; later calls repeat it
  bool finished_ = false;
};

}  // namespace trapetum
