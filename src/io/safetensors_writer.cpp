// Streaming safetensors writer: 8-byte header length, JSON header padded to 8 bytes, raw data.
#include "io/safetensors_writer.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

namespace trapetum {
namespace {

const char* st_dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    default: return nullptr;
  }
}

}  // namespace

Result<uint64_t> SafetensorsWriter::tensor_bytes(const SafetensorsTensorSpec& t) {
  if (!st_dtype_name(t.dtype))
    return make_error("tensor '", t.name, "': dtype ", dtype_name(t.dtype), " is not supported (F32, F16, BF16)");
  uint64_t n = 1;
  for (int64_t d : t.shape) {
    if (d < 0 || d > (int64_t(1) << 40)) return make_error("tensor '", t.name, "': dimension ", d, " out of range");
    if (d && n > (uint64_t(1) << 48) / uint64_t(d))
      return make_error("tensor '", t.name, "': shape ", shape_str(t.shape), " is too large");
    n *= uint64_t(d);
  }
  return n * uint64_t(codec(t.dtype).block_bytes);
}

Result<std::unique_ptr<SafetensorsWriter>> SafetensorsWriter::create(const std::string& path,
                                                                     const std::vector<SafetensorsTensorSpec>& tensors,
                                                                     std::map<std::string, std::string> metadata) {
  using nlohmann::ordered_json;
  std::vector<uint64_t> sizes(tensors.size());
  std::set<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    if (t.name.empty()) return make_error(path, ": tensor ", i, " has an empty name");
    if (t.name == "__metadata__") return make_error(path, ": '__metadata__' is reserved and cannot name a tensor");
    if (!names.insert(t.name).second) return make_error(path, ": duplicate tensor name '", t.name, "'");
    auto n = tensor_bytes(t);
    if (!n.ok()) return make_error(path, ": ", n.error());
    sizes[i] = *n;
  }
  // Largest elements first keeps every tensor aligned to its element size (the header is
  // padded to 8 bytes and each group's sizes are multiples of its element size).
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return codec(tensors[a].dtype).block_bytes > codec(tensors[b].dtype).block_bytes;
  });

  if (!metadata.count("format")) metadata["format"] = "pt";
  ordered_json header = ordered_json::object();
  header["__metadata__"] = metadata;
  std::vector<TensorSink::Slot> slots;
  uint64_t offset = 0;
  for (size_t i : order) {
    const auto& t = tensors[i];
    header[t.name] = {{"dtype", st_dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + sizes[i]}}};
    slots.push_back({t.name, offset, sizes[i]});
    offset += sizes[i];
  }
  std::string json_text;
  try {  // nlohmann reports invalid UTF-8 in a name or metadata string only by exception
    json_text = header.dump(-1, ' ', false, ordered_json::error_handler_t::strict);
  } catch (const ordered_json::exception& e) {
    return make_error(path, ": a tensor name or metadata string is not valid UTF-8");
  }
  json_text.resize((json_text.size() + 7) / 8 * 8, ' ');
  std::string bytes(8, '\0');
  const uint64_t len = json_text.size();
  std::memcpy(bytes.data(), &len, 8);
  bytes += json_text;
  for (auto& s : slots) s.offset += bytes.size();

  std::unique_ptr<SafetensorsWriter> w(new SafetensorsWriter());
  w->file_size_ = bytes.size() + offset;
  TRY(w->sink_, TensorSink::create(path, bytes, std::move(slots), w->file_size_));
  return w;
}

}  // namespace trapetum
