// Streaming GGUF v3 writer: metadata and the tensor table are known up front and written first;
// tensor data then streams in, tensor by tensor or in parts, and finish() renames the
// temporary file onto the target, so a failed write never leaves a partial file behind.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "io/gguf.h"
#include "io/tensor_sink.h"

namespace trapetum {

// Ordered metadata: key -> value, written in this order.
using GgufMetadata = std::vector<std::pair<std::string, GgufValue>>;

// Value builders for GgufMetadata.
GgufValue gguf_string(std::string v);
GgufValue gguf_u32(uint32_t v);
GgufValue gguf_i32(int32_t v);
GgufValue gguf_u64(uint64_t v);
GgufValue gguf_f32(float v);
GgufValue gguf_bool(bool v);
GgufValue gguf_string_array(std::vector<std::string> v);
GgufValue gguf_f32_array(const std::vector<float>& v);
GgufValue gguf_i32_array(const std::vector<int32_t>& v);

struct GgufTensorSpec {
  std::string name;
  DType dtype = DType::kF32;    // a type GGUF can hold: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K
  std::vector<int64_t> shape;   // outermost first, as TensorView (written innermost first)
};

class GgufWriter {
 public:
  // Validates names, dtypes and shapes, writes the header to path.tmp-XXXXXX. Tensor data is
  // laid out in the given order, each aligned to `alignment` (general.alignment is added
  // when it is not GGUF's default of 32). path is replaced on finish() if it exists.
  static Result<std::unique_ptr<GgufWriter>> create(const std::string& path, const GgufMetadata& metadata,
                                                    const std::vector<GgufTensorSpec>& tensors,
                                                    uint64_t alignment = 32);

  // Bytes of one tensor's data: its dtype's row bytes times its rows.
  static Result<uint64_t> tensor_bytes(const GgufTensorSpec& t);

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
  GgufWriter() = default;
  std::unique_ptr<TensorSink> sink_;
  uint64_t file_size_ = 0;
};

// The ggml type id of a dtype, or -1 when GGUF has none for it.
int ggml_type_id(DType t);

}  // namespace trapetum
