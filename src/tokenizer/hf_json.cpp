// HfJson: file loading and typed field access with file/field error messages.
#include "tokenizer/hf_json.h"

#include <filesystem>

namespace trapetum {
namespace {

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

}  // namespace

Result<json> HfJson::load() const {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file_, ec)) return make_error(file_, ": no such file");
  std::string text;
  if (!read_text_file(file_, &text)) return make_error(file_, ": cannot read the file");
  json j;
  try {  // nlohmann reports the position of a syntax error only through its exception
    j = json::parse(text);
  } catch (const json::exception& e) {
    return make_error(file_, ": malformed JSON: ", e.what());
  }
  if (!j.is_object()) return make_error(file_, ": expected a JSON object at the top level, got ", type_name(j));
  return j;
}

Error HfJson::error(const std::string& field, const std::string& what) const {
  return make_error(file_, ": field '", field, "': ", what);
}

Error HfJson::wrong_type(const std::string& field, const char* expected, const json& v) const {
  return error(field, str_cat("expected ", expected, ", got ", type_name(v)));
}

const json* HfJson::find(const json& obj, const char* key) const {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> HfJson::string(const json& v, const std::string& field) const {
  if (!v.is_string()) return wrong_type(field, "a string", v);
  return v.get<std::string>();
}

Result<bool> HfJson::boolean(const json& v, const std::string& field) const {
  if (!v.is_boolean()) return wrong_type(field, "a boolean", v);
  return v.get<bool>();
}

Result<int64_t> HfJson::integer(const json& v, const std::string& field) const {
  if (!v.is_number_integer()) return wrong_type(field, "an integer", v);
  return v.get<int64_t>();
}

Result<std::string> HfJson::string_or(const json& obj, const char* key, const std::string& field,
                                      std::string fallback) const {
  const json* v = find(obj, key);
  if (!v) return fallback;
  return string(*v, field);
}

Result<bool> HfJson::bool_or(const json& obj, const char* key, const std::string& field, bool fallback) const {
  const json* v = find(obj, key);
  if (!v) return fallback;
  return boolean(*v, field);
}

}  // namespace trapetum
