// Streaming safetensors writer: the JSON header is built from names, dtypes and shapes up
// front; tensor bytes then stream in, and finish() renames the temporary file onto the target,
// so a failed write never leaves a partial file behind.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/tensor.h"
#include "io/tensor_sink.h"

namespace trapetum {

struct SafetensorsTensorSpec {
  std::string name;             // e.g. "model.layers.0.self_attn.q_proj.weight"
  DType dtype = DType::kF32;    // F32, F16 or BF16
  std::vector<int64_t> shape;   // outermost first; may be empty (a scalar)
};

class SafetensorsWriter {
 public:
  // Validates the tensors and writes the header to path.tmp-XXXXXX. metadata becomes
  // "__metadata__"; "format": "pt" is added when absent, because transformers requires it.
  // Data is laid out by element size, largest first (stable), as the safetensors library
  // does, so every tensor is aligned to its element size.
  static Result<std::unique_ptr<SafetensorsWriter>> create(const std::string& path,
                                                           const std::vector<SafetensorsTensorSpec>& tensors,
                                                           std::map<std::string, std::string> metadata = {});

  // Bytes of one tensor's data (element count times element size).
  static Result<uint64_t> tensor_bytes(const SafetensorsTensorSpec& t);

  // See TensorSink: whole tensors or front-to-back parts, any tensor order; errors are sticky.
  Status write_tensor(const std::string& name, const void* data, size_t nbytes) {
    return sink_->write_tensor(name, data, nbytes);
  }
  Status write_part(const std::string& name, const void* data, size_t nbytes) {
    return sink_->write_part(name, data, nbytes);
  }
  Status finish() { return sink_->finish(); }

  const std::string& path() const { return sink_->path(); }
  uint64_t file_size() const { return file_size_; }

 private:
  SafetensorsWriter() = default;
  std::unique_ptr<TensorSink> sink_;
  uint64_t file_size_ = 0;
};

}  // namespace trapetum
