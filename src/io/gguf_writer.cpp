// Streaming GGUF v3 writer: header serialization and the tensor data layout.
#include "io/gguf_writer.h"

#include <cstring>

namespace trapetum {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kDefaultAlignment = 32;

template <class T>
void put(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}

void put_string(std::string* out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out->append(s);
}

// One scalar of type t from v (integers from v.i, floats from v.f).
Status put_scalar(std::string* out, GgufType t, int64_t i, double f, const std::string& s, const std::string& key) {
  switch (t) {
    case GgufType::kU8: put<uint8_t>(out, uint8_t(i)); break;
    case GgufType::kI8: put<int8_t>(out, int8_t(i)); break;
    case GgufType::kU16: put<uint16_t>(out, uint16_t(i)); break;
    case GgufType::kI16: put<int16_t>(out, int16_t(i)); break;
    case GgufType::kU32: put<uint32_t>(out, uint32_t(i)); break;
    case GgufType::kI32: put<int32_t>(out, int32_t(i)); break;
    case GgufType::kU64: put<uint64_t>(out, uint64_t(i)); break;
    case GgufType::kI64: put<int64_t>(out, i); break;
    case GgufType::kF32: put<float>(out, float(f)); break;
    case GgufType::kF64: put<double>(out, f); break;
    case GgufType::kBool: put<uint8_t>(out, i ? 1 : 0); break;
    case GgufType::kString: put_string(out, s); break;
    default: return make_error("metadata '", key, "': type ", gguf_type_name(t), " cannot be an array element");
  }
  return Ok{};
}

Status put_value(std::string* out, const std::string& key, const GgufValue& v) {
  put<uint32_t>(out, uint32_t(v.type));
  if (v.type != GgufType::kArray) return put_scalar(out, v.type, v.type == GgufType::kBool ? v.b : v.i, v.f, v.s, key);
  put<uint32_t>(out, uint32_t(v.elem_type));
  if (v.elem_type == GgufType::kString) {
    put<uint64_t>(out, v.strings.size());
    for (const auto& s : v.strings) put_string(out, s);
  } else if (v.elem_type == GgufType::kF32 || v.elem_type == GgufType::kF64) {
    put<uint64_t>(out, v.floats.size());
    for (double f : v.floats) TRY_STATUS(put_scalar(out, v.elem_type, 0, f, "", key));
  } else {
    put<uint64_t>(out, v.ints.size());
    for (int64_t i : v.ints) TRY_STATUS(put_scalar(out, v.elem_type, i, 0, "", key));
  }
  return Ok{};
}

GgufValue scalar(GgufType t) {
  GgufValue v;
  v.type = t;
  return v;
}

GgufValue array(GgufType elem) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem_type = elem;
  return v;
}

}  // namespace

GgufValue gguf_string(std::string s) {
  GgufValue v = scalar(GgufType::kString);
  v.s = std::move(s);
  return v;
}
GgufValue gguf_u32(uint32_t x) {
  GgufValue v = scalar(GgufType::kU32);
  v.i = x;
  return v;
}
GgufValue gguf_i32(int32_t x) {
  GgufValue v = scalar(GgufType::kI32);
  v.i = x;
  return v;
}
GgufValue gguf_u64(uint64_t x) {
  GgufValue v = scalar(GgufType::kU64);
  v.i = int64_t(x);
  return v;
}
GgufValue gguf_f32(float x) {
  GgufValue v = scalar(GgufType::kF32);
  v.f = x;
  return v;
}
GgufValue gguf_bool(bool x) {
  GgufValue v = scalar(GgufType::kBool);
  v.b = x;
  v.i = x;
  return v;
}
GgufValue gguf_string_array(std::vector<std::string> x) {
  GgufValue v = array(GgufType::kString);
  v.strings = std::move(x);
  return v;
}
GgufValue gguf_f32_array(const std::vector<float>& x) {
  GgufValue v = array(GgufType::kF32);
  v.floats.assign(x.begin(), x.end());
  return v;
}
GgufValue gguf_i32_array(const std::vector<int32_t>& x) {
  GgufValue v = array(GgufType::kI32);
  v.ints.assign(x.begin(), x.end());
  return v;
}

int ggml_type_id(DType t) {
  switch (t) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ4_1: return 3;
    case DType::kQ8_0: return 8;
    case DType::kQ4_K: return 12;
    case DType::kQ6_K: return 14;
    case DType::kBF16: return 30;
    default: return -1;
  }
}

Result<uint64_t> GgufWriter::tensor_bytes(const GgufTensorSpec& t) {
  if (ggml_type_id(t.dtype) < 0)
    return make_error("tensor '", t.name, "': dtype ", dtype_name(t.dtype), " has no GGUF type");
  if (t.shape.empty() || t.shape.size() > 4)
    return make_error("tensor '", t.name, "': ", t.shape.size(), " dimensions (GGUF holds 1 to 4)");
  int64_t rows = 1;
  for (int64_t d : t.shape) {
    if (d <= 0 || d > (int64_t(1) << 40)) return make_error("tensor '", t.name, "': dimension ", d, " out of range");
    if (rows > (int64_t(1) << 48) / d) return make_error("tensor '", t.name, "': shape ", shape_str(t.shape), " is too large");
    rows *= d;
  }
  const int64_t cols = t.shape.back();
  rows /= cols;
  const Codec& c = codec(t.dtype);
  const int64_t row_bytes = c.row_bytes(cols);
  if (row_bytes < 0 || c.row_header_bytes != 0)
    return make_error("tensor '", t.name, "': row length ", cols, " is not a multiple of the ", c.name, " block size ",
                      c.block_elems);
  return uint64_t(rows) * uint64_t(row_bytes);
}

Result<std::unique_ptr<GgufWriter>> GgufWriter::create(const std::string& path, const GgufMetadata& metadata,
                                                       const std::vector<GgufTensorSpec>& tensors,
                                                       uint64_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > 65536)
    return make_error(path, ": alignment ", alignment, " is not a power of two up to 65536");
  GgufMetadata kv = metadata;
  bool has_alignment = false;
  for (const auto& [key, v] : kv) {
    if (key.empty()) return make_error(path, ": empty metadata key");
    if (key == "general.alignment") has_alignment = true;
  }
  if (has_alignment) return make_error(path, ": pass the alignment as an argument, not as general.alignment metadata");
  if (alignment != kDefaultAlignment) kv.emplace_back("general.alignment", gguf_u32(uint32_t(alignment)));

  std::string header;
  put<uint32_t>(&header, kGgufMagic);
  put<uint32_t>(&header, 3);
  put<uint64_t>(&header, tensors.size());
  put<uint64_t>(&header, kv.size());
  for (const auto& [key, v] : kv) {
    put_string(&header, key);
    auto st = put_value(&header, key, v);
    if (!st.ok()) return make_error(path, ": ", st.error());
  }
  std::vector<TensorSink::Slot> slots;
  uint64_t offset = 0;  // from the start of the data section
  for (const GgufTensorSpec& t : tensors) {
    auto nbytes = tensor_bytes(t);
    if (!nbytes.ok()) return make_error(path, ": ", nbytes.error());
    put_string(&header, t.name);
    put<uint32_t>(&header, uint32_t(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) put<uint64_t>(&header, uint64_t(*it));
    put<uint32_t>(&header, uint32_t(ggml_type_id(t.dtype)));
    put<uint64_t>(&header, offset);
    slots.push_back({t.name, offset, *nbytes});
    offset = (offset + *nbytes + alignment - 1) / alignment * alignment;
  }
  const uint64_t data_start = (header.size() + alignment - 1) / alignment * alignment;
  header.resize(data_start, '\0');
  uint64_t end = data_start;
  for (auto& s : slots) {
    s.offset += data_start;
    end = s.offset + s.nbytes;
  }
  std::unique_ptr<GgufWriter> w(new GgufWriter());
  w->file_size_ = end;
  TRY(w->sink_, TensorSink::create(path, header, std::move(slots), end));
  return w;
}

}  // namespace trapetum
