// .cbk header encoding and the JSON tensor index.
#include "io/cbk_index.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <xxhash.h>

namespace trapetum {
namespace {

void put_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }  // the format is little-endian, like every supported host
uint64_t get_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool parse_hex64(const std::string& s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return false;
    v = v << 4 | uint64_t(d);
  }
  *out = v;
  return true;
}

}  // namespace

std::vector<uint8_t> cbk_header_bytes(const CbkHeader& h) {
  std::vector<uint8_t> b(kCbkHeaderBytes, 0);
  std::memcpy(b.data(), kCbkMagic, 8);
  std::memcpy(b.data() + 8, &h.version, 4);
  std::memcpy(b.data() + 12, &h.flags, 4);
  put_u64(b.data() + 16, h.meta_offset);
  put_u64(b.data() + 24, h.meta_size);
  put_u64(b.data() + 32, h.index_offset);
  put_u64(b.data() + 40, h.index_size);
  put_u64(b.data() + 48, h.trailer_xxh64);
  put_u64(b.data() + 56, h.file_size);
  return b;
}

CbkHeader cbk_parse_header(const uint8_t* p) {
  CbkHeader h;
  std::memcpy(&h.version, p + 8, 4);
  std::memcpy(&h.flags, p + 12, 4);
  h.meta_offset = get_u64(p + 16);
  h.meta_size = get_u64(p + 24);
  h.index_offset = get_u64(p + 32);
  h.index_size = get_u64(p + 40);
  h.trailer_xxh64 = get_u64(p + 48);
  h.file_size = get_u64(p + 56);
  return h;
}

uint64_t cbk_trailer_hash(const std::string& metadata, const std::string& index) {
  XXH64_state_t* st = XXH64_createState();
  XXH64_reset(st, 0);
  XXH64_update(st, metadata.data(), metadata.size());
  XXH64_update(st, index.data(), index.size());
  const uint64_t h = XXH64_digest(st);
  XXH64_freeState(st);
  return h;
}

std::string cbk_index_to_json(const std::vector<CbkTensor>& tensors) {
  nlohmann::json arr = nlohmann::json::array();
  for (const CbkTensor& t : tensors) {
    nlohmann::json e = {{"name", t.name},           {"codec", std::string(dtype_name(t.view.dtype))},
                        {"shape", t.view.shape},    {"offset", t.offset},
                        {"nbytes", t.nbytes},       {"xxh64", hex64(t.xxh64)}};
    if (t.view.outliers.nnz > 0)
      e["outliers"] = {{"offset", t.outliers_offset},
                       {"nbytes", t.outliers_nbytes},
                       {"nnz", t.view.outliers.nnz},
                       {"xxh64", hex64(t.outliers_xxh64)}};
    arr.push_back(std::move(e));
  }
  return nlohmann::json{{"tensors", std::move(arr)}}.dump();
}

Result<std::vector<CbkTensor>> cbk_index_from_json(const std::string& text, const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("tensors") || !j["tensors"].is_array())
    return make_error(path, ": tensor index is not valid JSON with a 'tensors' array");
  std::vector<CbkTensor> out;
  for (size_t i = 0; i < j["tensors"].size(); ++i) {
    const nlohmann::json& e = j["tensors"][i];
    const std::string where = str_cat(path, ": tensor index entry ", i);
    auto u64 = [&](const nlohmann::json& o, const char* key, uint64_t* v) -> Status {
      if (!o.is_object() || !o.contains(key) || !o[key].is_number_unsigned())
        return make_error(where, ": field '", key, "' missing or not an unsigned integer");
      *v = o[key].get<uint64_t>();
      return Ok{};
    };
    auto hash = [&](const nlohmann::json& o, uint64_t* v) -> Status {
      if (!o.contains("xxh64") || !o["xxh64"].is_string() || !parse_hex64(o["xxh64"].get<std::string>(), v))
        return make_error(where, ": field 'xxh64' missing or not 16 lowercase hex digits");
      return Ok{};
    };
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || e["name"].get<std::string>().empty())
      return make_error(where, ": field 'name' missing or not a non-empty string");
    CbkTensor t;
    t.name = e["name"].get<std::string>();
    if (!e.contains("codec") || !e["codec"].is_string())
      return make_error(where, " ('", t.name, "'): field 'codec' missing or not a string");
    const auto dt = dtype_from_name(e["codec"].get<std::string>());
    if (!dt) return make_error(where, " ('", t.name, "'): unknown codec '", e["codec"].get<std::string>(), "'");
    t.view.dtype = *dt;
    if (!e.contains("shape") || !e["shape"].is_array() || e["shape"].empty() || e["shape"].size() > 4)
      return make_error(where, " ('", t.name, "'): field 'shape' must be an array of 1 to 4 dimensions");
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() == 0 || d.get<uint64_t>() > (uint64_t(1) << 40))
        return make_error(where, " ('", t.name, "'): dimensions must be integers in [1, 2^40]");
      t.view.shape.push_back(d.get<int64_t>());
    }
    TRY_STATUS(u64(e, "offset", &t.offset));
    TRY_STATUS(u64(e, "nbytes", &t.nbytes));
    TRY_STATUS(hash(e, &t.xxh64));
    if (e.contains("outliers")) {
      const nlohmann::json& o = e["outliers"];
      uint64_t nnz = 0;
      TRY_STATUS(u64(o, "offset", &t.outliers_offset));
      TRY_STATUS(u64(o, "nbytes", &t.outliers_nbytes));
      TRY_STATUS(u64(o, "nnz", &nnz));
      TRY_STATUS(hash(o, &t.outliers_xxh64));
      if (nnz == 0 || nnz > (uint64_t(1) << 40)) return make_error(where, " ('", t.name, "'): bad outlier count ", nnz);
      t.view.outliers.nnz = int64_t(nnz);
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace trapetum
