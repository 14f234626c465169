// GGUF v2/v3 reader: parses the header, metadata and tensor index of a memory-mapped file
// and validates every count, length and offset against the file size.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "core/result.h"
#include "core/tensor.h"

namespace trapetum {

enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// One metadata value. Scalars fill one of i/f/b/s; arrays fill ints, floats or strings
// according to elem_type.
struct GgufValue {
  GgufType type = GgufType::kU8;
  GgufType elem_type = GgufType::kU8;  // arrays only
  int64_t i = 0;                       // all integer types (u64 values above 2^63 are rejected)
  double f = 0;                        // f32 / f64
  bool b = false;
  std::string s;
  std::vector<int64_t> ints;           // integer and bool arrays
  std::vector<double> floats;          // float arrays
  std::vector<std::string> strings;    // string arrays

  bool is_integer() const;
  bool is_float() const { return type == GgufType::kF32 || type == GgufType::kF64; }
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // outermost first (GGUF lists dims innermost first; reversed here)
  DType dtype;
  uint64_t offset;             // from the start of the data section
  uint64_t nbytes;
};

class GgufFile {
 public:
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return version_; }
  const std::map<std::string, GgufValue>& metadata() const { return kv_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufValue* find(const std::string& key) const;

  // Typed look-ups. A missing key gives nullopt; a key of the wrong type gives an error
  // naming the file, the key, and the expected and actual types.
  Result<std::optional<int64_t>> get_int(const std::string& key) const;
  Result<std::optional<double>> get_float(const std::string& key) const;  // also accepts integers
  Result<std::optional<bool>> get_bool(const std::string& key) const;
  Result<std::optional<std::string>> get_string(const std::string& key) const;
  Result<const std::vector<std::string>*> get_string_array(const std::string& key) const;  // nullptr if absent
  Result<const std::vector<int64_t>*> get_int_array(const std::string& key) const;
  Result<const std::vector<double>*> get_float_array(const std::string& key) const;

  // A view of a tensor's data (points into the mapping).
  TensorView view(const GgufTensorInfo& t) const;

 private:
  explicit GgufFile(std::unique_ptr<MappedFile> f) : file_(std::move(f)) {}
  Status parse();

  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t data_offset_ = 0;
  std::map<std::string, GgufValue> kv_;
  std::vector<GgufTensorInfo> tensors_;
};

const char* gguf_type_name(GgufType t);

}  // namespace trapetum
