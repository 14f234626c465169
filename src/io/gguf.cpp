// GGUF v2/v3 reader. Every count and length read from the file is checked against the
// bytes that remain before anything is allocated, so hostile headers fail cleanly.
#include "io/gguf.h"

#include <limits>

#include "io/byte_reader.h"

namespace trapetum {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;

// Bytes a scalar of this type occupies, or 0 for string/array/unknown.
size_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: return 8;
    default: return 0;
  }
}

bool valid_type(uint32_t t) { return t <= uint32_t(GgufType::kF64); }

// ggml type id -> our DType, for the types we execute.
std::optional<DType> dtype_from_ggml(uint32_t t) {
  switch (t) {
    case 0: return DType::kF32;
    case 1: return DType::kF16;
    case 2: return DType::kQ4_0;
    case 3: return DType::kQ4_1;
    case 8: return DType::kQ8_0;
    case 12: return DType::kQ4_K;
    case 14: return DType::kQ6_K;
    case 30: return DType::kBF16;
    default: return std::nullopt;
  }
}

const char* ggml_type_name(uint32_t t) {
  static const char* const kNames[] = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1",
                                       "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K",
                                       "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",
                                       "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16"};
  return t < sizeof(kNames) / sizeof(kNames[0]) ? kNames[t] : "unknown";
}

// Reads one scalar of type t into v.
bool read_scalar(ByteReader& r, GgufType t, GgufValue* v, const char* what) {
  switch (t) {
    case GgufType::kU8: { uint8_t x; if (!r.read(&x, what)) return false; v->i = x; return true; }
    case GgufType::kI8: { int8_t x; if (!r.read(&x, what)) return false; v->i = x; return true; }
    case GgufType::kU16: { uint16_t x; if (!r.read(&x, what)) return false; v->i = x; return true; }
    case GgufType::kI16: { int16_t x; if (!r.read(&x, what)) return false; v->i = x; return true; }
    case GgufType::kU32: { uint32_t x; if (!r.read(&x, what)) return false; v->i = x; return true; }
    case GgufType::kI32: { int32_t x; if (!r.read(&x, what)) return false; v->i = x; return true; }
    case GgufType::kI64: { int64_t x; if (!r.read(&x, what)) return false; v->i = x; return true; }
    case GgufType::kU64: {
      uint64_t x;
      if (!r.read(&x, what)) return false;
      if (x > uint64_t(std::numeric_limits<int64_t>::max())) {
        r.fail(what, "u64 value too large");
        return false;
      }
      v->i = int64_t(x);
      return true;
    }
    case GgufType::kF32: { float x; if (!r.read(&x, what)) return false; v->f = x; return true; }
    case GgufType::kF64: { double x; if (!r.read(&x, what)) return false; v->f = x; return true; }
    case GgufType::kBool: {
      uint8_t x;
      if (!r.read(&x, what)) return false;
      if (x > 1) {
        r.fail(what, "bool value " + std::to_string(x) + " is neither 0 nor 1");
        return false;
      }
      v->b = x != 0;
      v->i = x;
      return true;
    }
    case GgufType::kString: return r.read_string(&v->s, what);
    default: r.fail(what, "unexpected value type"); return false;
  }
}

bool read_value(ByteReader& r, GgufValue* v) {
  uint32_t type = 0;
  if (!r.read(&type, "metadata value type")) return false;
  if (!valid_type(type)) {
    r.fail("metadata value type", "unknown type id " + std::to_string(type));
    return false;
  }
  v->type = GgufType(type);
  if (v->type != GgufType::kArray) return read_scalar(r, v->type, v, "metadata value");
  uint32_t elem = 0;
  uint64_t count = 0;
  if (!r.read(&elem, "array element type") || !r.read(&count, "array length")) return false;
  if (!valid_type(elem) || GgufType(elem) == GgufType::kArray) {
    r.fail("array element type", "unsupported element type id " + std::to_string(elem));
    return false;
  }
  v->elem_type = GgufType(elem);
  // Each element needs at least its scalar size (strings: their 8-byte length).
  const size_t min_elem = v->elem_type == GgufType::kString ? 8 : scalar_size(v->elem_type);
  if (count > r.remaining() / min_elem) {
    r.fail("array length", "array of " + std::to_string(count) + " elements cannot fit in the " +
                               std::to_string(r.remaining()) + " bytes left");
    return false;
  }
  GgufValue tmp;
  if (v->elem_type == GgufType::kString) {
    v->strings.resize(size_t(count));
    for (auto& s : v->strings)
      if (!r.read_string(&s, "array string")) return false;
  } else if (v->elem_type == GgufType::kF32 || v->elem_type == GgufType::kF64) {
    v->floats.resize(size_t(count));
    for (auto& f : v->floats) {
      if (!read_scalar(r, v->elem_type, &tmp, "array element")) return false;
      f = tmp.f;
    }
  } else {
    v->ints.resize(size_t(count));
    for (auto& i : v->ints) {
      if (!read_scalar(r, v->elem_type, &tmp, "array element")) return false;
      i = tmp.i;
    }
  }
  return true;
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  static const char* const kNames[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                       "bool", "string", "array", "u64", "i64", "f64"};
  return uint32_t(t) <= uint32_t(GgufType::kF64) ? kNames[uint32_t(t)] : "unknown";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kU16: case GgufType::kI16:
    case GgufType::kU32: case GgufType::kI32: case GgufType::kU64: case GgufType::kI64: return true;
    default: return false;
  }
}

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  TRY(auto mapped, MappedFile::open(path));
  std::unique_ptr<GgufFile> g(new GgufFile(std::move(mapped)));
  TRY_STATUS(g->parse());
  return g;
}

Status GgufFile::parse() {
  const std::string& p = file_->path();
  ByteReader r(file_->data(), file_->size());
  uint32_t magic = 0;
  uint64_t n_tensors = 0, n_kv = 0;
  if (!r.read(&magic, "magic")) return make_error(p, ": not a GGUF file: ", r.failure());
  if (magic != kGgufMagic) return make_error(p, ": not a GGUF file: bad magic (expected 'GGUF')");
  if (!r.read(&version_, "version")) return make_error(p, ": ", r.failure());
  if (version_ != 2 && version_ != 3)
    return make_error(p, ": unsupported GGUF version ", version_, " (expected 2 or 3)");
  if (!r.read(&n_tensors, "tensor count") || !r.read(&n_kv, "metadata count")) return make_error(p, ": ", r.failure());
  // A metadata entry takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor entry 8+4+8+4+8.
  if (n_kv > r.remaining() / 13) return make_error(p, ": metadata count ", n_kv, " is impossible for a file of ", file_->size(), " bytes");
  if (n_tensors > r.remaining() / 32) return make_error(p, ": tensor count ", n_tensors, " is impossible for a file of ", file_->size(), " bytes");

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key;
    GgufValue v;
    if (!r.read_string(&key, "metadata key") || !read_value(r, &v))
      return make_error(p, ": metadata entry ", k, key.empty() ? "" : " '" + key + "'", ": ", r.failure());
    if (kv_.count(key)) return make_error(p, ": duplicate metadata key '", key, "'");
    kv_.emplace(std::move(key), std::move(v));
  }

  uint64_t alignment = kDefaultAlignment;
  TRY(auto align_opt, get_int("general.alignment"));
  if (align_opt) {
    if (*align_opt <= 0 || (*align_opt & (*align_opt - 1)) != 0 || *align_opt > 65536)
      return make_error(p, ": general.alignment ", *align_opt, " is not a power of two up to 65536");
    alignment = uint64_t(*align_opt);
  }

  tensors_.reserve(size_t(n_tensors));
  for (uint64_t t = 0; t < n_tensors; ++t) {
    GgufTensorInfo info;
    uint32_t n_dims = 0, type = 0;
    if (!r.read_string(&info.name, "tensor name") || !r.read(&n_dims, "tensor dimension count"))
      return make_error(p, ": tensor entry ", t, ": ", r.failure());
    if (n_dims == 0 || n_dims > kMaxDims)
      return make_error(p, ": tensor '", info.name, "': ", n_dims, " dimensions (expected 1..", kMaxDims, ")");
    std::vector<int64_t> dims(n_dims);
    for (auto& d : dims) {
      uint64_t x = 0;
      if (!r.read(&x, "tensor dimension")) return make_error(p, ": tensor '", info.name, "': ", r.failure());
      if (x == 0 || x > (uint64_t(1) << 40))
        return make_error(p, ": tensor '", info.name, "': dimension ", x, " out of range");
      d = int64_t(x);
    }
    if (!r.read(&type, "tensor type") || !r.read(&info.offset, "tensor offset"))
      return make_error(p, ": tensor '", info.name, "': ", r.failure());
    const auto dt = dtype_from_ggml(type);
    if (!dt)
      return make_error(p, ": tensor '", info.name, "': unsupported GGUF type ", ggml_type_name(type), " (id ", type,
                        "); supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K");
    info.dtype = *dt;
    info.shape.assign(dims.rbegin(), dims.rend());
    const Codec& c = codec(info.dtype);
    if (dims[0] % c.block_elems != 0)
      return make_error(p, ": tensor '", info.name, "': row length ", dims[0], " is not a multiple of the ", c.name,
                        " block size ", c.block_elems);
    // Element count, guarding against overflow: each dim <= 2^40 and the product <= 2^48.
    int64_t n = 1;
    for (int64_t d : dims) {
      if (n > (int64_t(1) << 48) / d) return make_error(p, ": tensor '", info.name, "': element count overflows");
      n *= d;
    }
    info.nbytes = uint64_t(n / c.block_elems * c.block_bytes);
    if (info.offset % alignment != 0)
      return make_error(p, ": tensor '", info.name, "': offset ", info.offset, " is not aligned to ", alignment);
    tensors_.push_back(std::move(info));
  }

  data_offset_ = (r.offset() + alignment - 1) / alignment * alignment;
  const uint64_t file_size = file_->size();
  if (data_offset_ > file_size) return make_error(p, ": truncated: tensor data section starts past the end of the file");
  const uint64_t data_size = file_size - data_offset_;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto& t = tensors_[i];
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      return make_error(p, ": tensor '", t.name, "': data [", data_offset_ + t.offset, ", ",
                        data_offset_ + t.offset + t.nbytes, ") runs past the end of the file (", file_size, " bytes)");
    if (!seen.emplace(t.name, i).second) return make_error(p, ": duplicate tensor name '", t.name, "'");
  }
  return Ok{};
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

namespace {
Error wrong_type(const std::string& path, const std::string& key, const char* expected, const GgufValue& v) {
  std::string actual = gguf_type_name(v.type);
  if (v.type == GgufType::kArray) actual += std::string(" of ") + gguf_type_name(v.elem_type);
  return make_error(path, ": metadata '", key, "': expected ", expected, ", found ", actual);
}
}  // namespace

Result<std::optional<int64_t>> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::optional<int64_t>();
  if (!v->is_integer()) return wrong_type(path(), key, "an integer", *v);
  return std::optional<int64_t>(v->i);
}

Result<std::optional<double>> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::optional<double>();
  if (v->is_float()) return std::optional<double>(v->f);
  if (v->is_integer()) return std::optional<double>(double(v->i));
  return wrong_type(path(), key, "a number", *v);
}

Result<std::optional<bool>> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::optional<bool>();
  if (v->type != GgufType::kBool) return wrong_type(path(), key, "a bool", *v);
  return std::optional<bool>(v->b);
}

Result<std::optional<std::string>> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::optional<std::string>();
  if (v->type != GgufType::kString) return wrong_type(path(), key, "a string", *v);
  return std::optional<std::string>(v->s);
}

Result<const std::vector<std::string>*> GgufFile::get_string_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return static_cast<const std::vector<std::string>*>(nullptr);
  if (v->type != GgufType::kArray || v->elem_type != GgufType::kString)
    return wrong_type(path(), key, "an array of strings", *v);
  return &v->strings;
}

Result<const std::vector<int64_t>*> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return static_cast<const std::vector<int64_t>*>(nullptr);
  if (v->type != GgufType::kArray || v->elem_type == GgufType::kString || v->elem_type == GgufType::kF32 ||
      v->elem_type == GgufType::kF64)
    return wrong_type(path(), key, "an array of integers", *v);
  return &v->ints;
}

Result<const std::vector<double>*> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return static_cast<const std::vector<double>*>(nullptr);
  if (v->type != GgufType::kArray || (v->elem_type != GgufType::kF32 && v->elem_type != GgufType::kF64))
    return wrong_type(path(), key, "an array of floats", *v);
  return &v->floats;
}

TensorView GgufFile::view(const GgufTensorInfo& t) const {
  TensorView v;
  v.dtype = t.dtype;
  v.shape = t.shape;
  v.data = file_->data() + data_offset_ + t.offset;
  return v;
}

}  // namespace trapetum
