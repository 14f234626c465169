// json.dumps semantics for tojson, and JSON documents converted to Jinja values.
#include "tokenizer/jinja_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tokenizer/jinja_text.h"
#include "tokenizer/unicode.h"

namespace trapetum::jinja {
namespace {

constexpr int kMaxDumpDepth = 600;

void append_json_string(std::string* out, const std::string& s, bool ensure_ascii) {
  out->push_back('"');
  char buf[16];
  for (char32_t c : to_u32(s)) {
    switch (c) {
      case '"': out->append("\\\""); continue;
      case '\\': out->append("\\\\"); continue;
      case '\n': out->append("\\n"); continue;
      case '\r': out->append("\\r"); continue;
      case '\t': out->append("\\t"); continue;
      case '\b': out->append("\\b"); continue;
      case '\f': out->append("\\f"); continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c >= 0x7F)) {
      if (c >= 0x10000) {
        char32_t v = c - 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", unsigned(0xD800 + (v >> 10)),
                      unsigned(0xDC00 + (v & 0x3FF)));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04x", unsigned(c));
      }
      out->append(buf);
    } else {
      utf8_append(out, c);
    }
  }
  out->push_back('"');
}

std::string float_json(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x < 0 ? "-Infinity" : "Infinity";
  return py_float_repr(x);
}

class Dumper {
 public:
  explicit Dumper(const JsonDumpOptions& o) : o_(o) {}

  Status dump(const Value& v, int level) {
    if (level > kMaxDumpDepth) return make_error("tojson: value nested too deeply");
    if (out.size() > o_.max_bytes) {
      return make_error("tojson: output exceeds the ", o_.max_bytes, "-byte limit");
    }
    switch (v.kind()) {
      case Kind::kNone: out += "null"; return Ok{};
      case Kind::kBool: out += v.as_bool() ? "true" : "false"; return Ok{};
      case Kind::kInt: out += std::to_string(v.as_int()); return Ok{};
      case Kind::kFloat: out += float_json(v.as_float()); return Ok{};
      case Kind::kString: append_json_string(&out, v.as_string(), o_.ensure_ascii); return Ok{};
      case Kind::kList: return dump_list(v.as_list().items, level);
      case Kind::kDict: return dump_dict(v.as_dict(), level);
      default:
        return make_error("Object of type ", type_name(v), " is not JSON serializable");
    }
  }

  std::string out;

 private:
  void newline(int level) {
    if (!o_.indent) return;
    out.push_back('\n');
    for (int i = 0; i < level; ++i) out += o_.indent_text;
  }

  Status dump_list(const std::vector<Value>& items, int level) {
    if (items.empty()) {
      out += "[]";
      return Ok{};
    }
    out.push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += o_.item_separator;
      newline(level + 1);
      TRY_STATUS(dump(items[i], level + 1));
    }
    newline(level);
    out.push_back(']');
    return Ok{};
  }

  Result<std::string> key_text(const Value& k) {
    switch (k.kind()) {
      case Kind::kString: return k.as_string();
      case Kind::kNone: return std::string("null");
      case Kind::kBool: return std::string(k.as_bool() ? "true" : "false");
      case Kind::kInt: return std::to_string(k.as_int());
      case Kind::kFloat: return float_json(k.as_float());
      default:
        return make_error("keys must be str, int, float, bool or None, not ", type_name(k));
    }
  }

  Status dump_dict(const DictData& d, int level) {
    if (d.size() == 0) {
      out += "{}";
      return Ok{};
    }
    std::vector<std::pair<std::string, const Value*>> entries;
    for (const auto& [k, v] : d.entries()) {
      TRY(std::string key, key_text(k));
      entries.emplace_back(std::move(key), &v);
    }
    if (o_.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    out.push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) out += o_.item_separator;
      newline(level + 1);
      append_json_string(&out, entries[i].first, o_.ensure_ascii);
      out += o_.key_separator;
      TRY_STATUS(dump(*entries[i].second, level + 1));
    }
    newline(level);
    out.push_back('}');
    return Ok{};
  }

  const JsonDumpOptions& o_;
};

}  // namespace

Result<std::string> dump_json(const Value& v, const JsonDumpOptions& options) {
  Dumper d(options);
  TRY_STATUS(d.dump(v, 0));
  if (d.out.size() > options.max_bytes) {
    return make_error("tojson: output exceeds the ", options.max_bytes, "-byte limit");
  }
  return std::move(d.out);
}

Result<Value> value_from_json(const nlohmann::ordered_json& j, int max_depth) {
  if (max_depth < 0) return make_error("JSON input nested too deeply");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > uint64_t(INT64_MAX)) return make_error("JSON integer ", u, " is out of range");
      return Value::integer(int64_t(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      for (const auto& e : j) {
        TRY(Value item, value_from_json(e, max_depth - 1));
        items.push_back(std::move(item));
      }
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      DictData d;
      for (const auto& [k, e] : j.items()) {
        TRY(Value item, value_from_json(e, max_depth - 1));
        d.set(Value::string(k), std::move(item));
      }
      return Value::dict(std::move(d));
    }
    default:
      return make_error("unsupported JSON value");
  }
}

}  // namespace trapetum::jinja
