// safetensors reader: 8-byte header length, JSON header, then raw little-endian data.
#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

namespace trapetum {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeader = uint64_t(100) << 20;  // 100 MiB of JSON is far beyond any real model

Result<DType> st_dtype(const std::string& path, const std::string& name, const std::string& s) {
  if (s == "F32") return DType::kF32;
  if (s == "F16") return DType::kF16;
  if (s == "BF16") return DType::kBF16;
  return make_error(path, ": tensor '", name, "': unsupported dtype ", s, " (supported: F32, F16, BF16)");
}

}  // namespace

Status read_safetensors_file(const std::string& path, SafetensorsSet* out) {
  TRY(auto file, MappedFile::open(path));
  const uint8_t* base = file->data();
  const uint64_t size = file->size();
  if (size < 8) return make_error(path, ": truncated: ", size, " bytes, too short for a safetensors header");
  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);
  if (header_len > size - 8 || header_len > kMaxHeader)
    return make_error(path, ": header length ", header_len, " exceeds the file size (", size, " bytes)");
  json header = json::parse(base + 8, base + 8 + header_len, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object())
    return make_error(path, ": corrupted header: not a JSON object");
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = size - data_start;

  struct Span { uint64_t begin, end; std::string name; };
  std::vector<Span> spans;
  for (auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    if (!info.is_object() || !info.contains("dtype") || !info["dtype"].is_string() || !info.contains("shape") ||
        !info["shape"].is_array() || !info.contains("data_offsets") || !info["data_offsets"].is_array() ||
        info["data_offsets"].size() != 2)
      return make_error(path, ": tensor '", name, "': header entry needs dtype, shape and data_offsets [begin, end]");
    TRY(DType dt, st_dtype(path, name, info["dtype"].get<std::string>()));
    TensorView v;
    v.dtype = dt;
    int64_t numel = 1;
    for (auto& d : info["shape"]) {
      if (!d.is_number_unsigned()) return make_error(path, ": tensor '", name, "': shape entries must be non-negative integers");
      const uint64_t x = d.get<uint64_t>();
      if (x > (uint64_t(1) << 40) || (x && uint64_t(numel) > (uint64_t(1) << 48) / x))
        return make_error(path, ": tensor '", name, "': shape ", info["shape"].dump(), " is too large");
      numel *= int64_t(x);
      v.shape.push_back(int64_t(x));
    }
    auto& off = info["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return make_error(path, ": tensor '", name, "': data_offsets must be non-negative integers");
    const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    const uint64_t elem = uint64_t(codec(dt).block_bytes);
    if (e < b || e > data_size)
      return make_error(path, ": tensor '", name, "': data [", b, ", ", e, ") runs past the end of the file (",
                        data_size, " data bytes)");
    if (e - b != uint64_t(numel) * elem)
      return make_error(path, ": tensor '", name, "': shape ", shape_str(v.shape), " of ", info["dtype"].get<std::string>(),
                        " needs ", uint64_t(numel) * elem, " bytes, data_offsets give ", e - b);
    if ((data_start + b) % elem != 0)
      return make_error(path, ": tensor '", name, "': data offset ", data_start + b, " is not aligned to ", elem, " bytes");
    v.data = base + data_start + b;
    if (out->tensors.count(name)) return make_error(path, ": tensor '", name, "' appears in more than one file");
    out->tensors[name] = std::move(v);
    out->origin[name] = path;
    spans.push_back({b, e, name});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].begin < spans[i - 1].end)
      return make_error(path, ": tensors '", spans[i - 1].name, "' and '", spans[i].name, "' overlap");
  out->files.push_back(std::move(file));
  return Ok{};
}

Result<SafetensorsSet> read_safetensors_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  SafetensorsSet set;
  const std::string single = dir + "/model.safetensors";
  const std::string index = dir + "/model.safetensors.index.json";
  if (fs::exists(single)) {
    TRY_STATUS(read_safetensors_file(single, &set));
    return set;
  }
  if (!fs::exists(index)) return make_error(dir, ": no model.safetensors or model.safetensors.index.json");
  std::string text;
  if (!read_text_file(index, &text)) return make_error(index, ": cannot read");
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(index, ": not valid JSON");
  if (!j.contains("weight_map") || !j["weight_map"].is_object())
    return make_error(index, ": field 'weight_map' missing or not an object");
  std::set<std::string> shards;
  for (auto& [name, file] : j["weight_map"].items()) {
    if (!file.is_string()) return make_error(index, ": weight_map['", name, "'] is not a string");
    const std::string f = file.get<std::string>();
    if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
      return make_error(index, ": weight_map['", name, "'] names '", f, "', which is not a file in this directory");
    shards.insert(f);
  }
  for (const auto& s : shards) TRY_STATUS(read_safetensors_file(dir + "/" + s, &set));
  for (auto& [name, file] : j["weight_map"].items()) {
    auto it = set.origin.find(name);
    const std::string want = dir + "/" + file.get<std::string>();
    if (it == set.origin.end()) return make_error(want, ": tensor '", name, "' listed in ", index, " is missing");
    if (it->second != want)
      return make_error(index, ": tensor '", name, "' is listed in ", want, " but found in ", it->second);
  }
  return set;
}

}  // namespace trapetum
