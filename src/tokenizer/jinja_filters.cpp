// Jinja filters on single values (strings, numbers, tojson, default, ...) and the filter table
// the parser resolves names against. Sequence filters live in jinja_filters_seq.cpp.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_json.h"
#include "tokenizer/jinja_text.h"

namespace trapetum::jinja {
namespace {

// jinja2's builtin filters that are left out here.
constexpr const char* kOtherJinjaFilters[] = {
    "attr", "batch", "center", "filesizeformat", "forceescape", "format", "groupby", "pprint",
    "random", "slice", "striptags", "truncate", "urlencode", "urlize", "wordcount", "wordwrap",
    "xmlattr",
};

Result<Value> f_string(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'string'"));
  return Value::string(to_str(v));
}

Result<Value> f_upper(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'upper'"));
  return Value::string(py_upper(to_str(v)));
}

Result<Value> f_lower(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'lower'"));
  return Value::string(py_lower(to_str(v)));
}

Result<Value> f_title(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'title'"));
  return Value::string(jinja_title(to_str(v)));
}

Result<Value> f_capitalize(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'capitalize'"));
  return Value::string(py_capitalize(to_str(v)));
}

Result<Value> f_trim(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"chars"}, "filter 'trim'"));
  std::optional<std::string> chars;
  if (a[0].is_string()) chars = a[0].as_string();
  return Value::string(py_strip(to_str(v), chars, true, true));
}

Result<Value> f_escape(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'escape'"));
  return Value::string(escape_html(to_str(v)));
}

Result<Value> f_replace(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"old", "new", "count"}, "filter 'replace'"));
  std::string s = to_str(v), old = to_str(a[0]), repl = to_str(a[1]);
  int64_t count = a[2].is_int() ? a[2].as_int() : -1;
  size_t hits = py_count(s, old);
  if (count >= 0) hits = std::min(hits, size_t(count));
  TRY_STATUS(ev.check_size(s.size() + hits * repl.size()));
  return Value::string(py_replace(s, old, repl, count));
}

Result<Value> f_indent(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"width", "first", "blank"}, "filter 'indent'"));
  std::string ind = a[0].is_string() ? a[0].as_string()
                    : a[0].is_int()   ? std::string(size_t(std::clamp<int64_t>(a[0].as_int(), 0, 4096)), ' ')
                                      : std::string(4, ' ');
  std::string s = to_str(v) + "\n";
  // str.splitlines() on the \n-terminated text.
  std::vector<std::string> lines;
  std::u32string u = to_u32(s);
  size_t b = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    char32_t c = u[i];
    bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) ||
               c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) continue;
    lines.push_back(to_utf8(u.substr(b, i - b)));
    if (c == '\r' && i + 1 < u.size() && u[i + 1] == '\n') ++i;
    b = i + 1;
  }
  if (b < u.size()) lines.push_back(to_utf8(u.substr(b)));
  TRY_STATUS(ev.check_size(s.size() + lines.size() * ind.size()));
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\n";
    if (i && (truthy(a[2]) || !lines[i].empty())) out += ind;
    out += lines[i];
  }
  if (truthy(a[1])) out = ind + out;
  return Value::string(std::move(out));
}

Result<Value> f_default(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"default_value", "boolean"}, "filter 'default'"));
  Value fallback = a[0].is_undefined() ? Value::string("") : a[0];
  if (v.is_undefined() || (truthy(a[1]) && !truthy(v))) return fallback;
  return v;
}

// Python's float() on a string: strips whitespace, accepts inf/nan and '_' between digits.
std::optional<double> parse_float(const std::string& text) {
  std::string s = py_strip(text, std::nullopt, true, true);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && isdigit((unsigned char)s[i - 1]) &&
        isdigit((unsigned char)s[i + 1]))
      continue;
    clean.push_back(s[i]);
  }
  if (clean.empty() || clean.find_first_of("xXpP") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return d;
}

// Python's int(text, base) for base 10 or 0/2/8/16.
std::optional<int64_t> parse_int(const std::string& text, int64_t base) {
  std::string s = py_strip(text, std::nullopt, true, true);
  std::string clean;
  for (char c : s) {
    if (c != '_') clean.push_back(c);
  }
  if (clean.empty() || base < 0 || base == 1 || base > 36) return std::nullopt;
  size_t sign = (clean[0] == '+' || clean[0] == '-') ? 1 : 0;
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (clean.size() > sign + 1 && clean[sign] == '0') {
      char p = char(clean[sign + 1] | 0x20);
      int64_t prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (prefixed && (base == 0 || base == prefixed)) {
        base = prefixed;
        clean.erase(sign, 2);
      }
    }
    if (base == 0) base = 10;
  }
  if (clean.size() == sign) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(clean.c_str(), &end, int(base));
  if (errno || end != clean.c_str() + clean.size() || !isalnum((unsigned char)clean.back())) {
    return std::nullopt;
  }
  return int64_t(v);
}

Result<Value> f_int(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"default", "base"}, "filter 'int'"));
  Value fallback = a[0].is_undefined() ? Value::integer(0) : a[0];
  int64_t base = a[1].is_int() ? a[1].as_int() : 10;
  if (v.is_undefined()) return undefined_error(v);  // int(Undefined) raises in jinja2
  if (v.is_int()) return Value::integer(v.as_int());
  if (v.kind() == Kind::kFloat) {
    double d = v.as_float();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value::integer(int64_t(d));
  }
  if (v.is_string()) {
    if (auto i = parse_int(v.as_string(), base)) return Value::integer(*i);
    if (auto d = parse_float(v.as_string()); d && std::isfinite(*d) && std::fabs(*d) < 9.2e18) {
      return Value::integer(int64_t(*d));
    }
  }
  return fallback;
}

Result<Value> f_float(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"default"}, "filter 'float'"));
  Value fallback = a[0].is_undefined() ? Value::number(0.0) : a[0];
  if (v.is_undefined()) return undefined_error(v);
  if (v.is_number()) return Value::number(v.as_float());
  if (v.is_string()) {
    if (auto d = parse_float(v.as_string())) return Value::number(*d);
  }
  return fallback;
}

Result<Value> f_abs(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'abs'"));
  if (v.kind() == Kind::kFloat) return Value::number(std::fabs(v.as_float()));
  if (v.is_int()) {
    if (v.as_int() == INT64_MIN) return make_error("integer overflow");
    return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  return make_error("bad operand type for abs(): '", type_name(v), "'");
}

Result<Value> f_round(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"precision", "method"}, "filter 'round'"));
  int64_t precision = a[0].is_int() ? a[0].as_int() : 0;
  std::string method = a[1].is_string() ? a[1].as_string() : "common";
  if (method != "common" && method != "ceil" && method != "floor") {
    return make_error("method must be common, ceil or floor");
  }
  if (!v.is_number()) return make_error("type ", type_name(v), " doesn't define __round__ method");
  if (method == "common") {
    if (v.is_int()) {
      // round(int, -n): to the nearest multiple of 10^n, ties to even.
      if (precision >= 0) return Value::integer(v.as_int());
      if (precision < -18) return Value::integer(0);
      int64_t unit = 1;
      for (int64_t k = 0; k < -precision; ++k) unit *= 10;
      int64_t x = v.as_int(), q = x / unit, r = x % unit;
      if (r < 0) {
        r += unit;
        --q;
      }
      if (2 * r > unit || (2 * r == unit && q % 2 != 0)) ++q;
      int64_t result = 0;
      if (__builtin_mul_overflow(q, unit, &result)) return make_error("integer overflow");
      return Value::integer(result);
    }
    double x = v.as_float();
    if (!std::isfinite(x)) return Value::number(x);
    if (precision >= 0 && precision <= 300) {
      // printf rounds the exact binary value half-to-even, as Python's round() does.
      char buf[512];
      std::snprintf(buf, sizeof(buf), "%.*f", int(precision), x);
      return Value::number(std::strtod(buf, nullptr));
    }
    double scale = std::pow(10.0, -double(precision));  // negated as a double: -INT64_MIN overflows
    return Value::number(std::nearbyint(x / scale) * scale);
  }
  double scale = std::pow(10.0, double(precision));
  double x = v.as_float() * scale;
  return Value::number((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Result<Value> f_tojson(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"ensure_ascii", "indent", "separators", "sort_keys"}, "filter 'tojson'"));
  JsonDumpOptions o;
  o.ensure_ascii = truthy(a[0]);
  o.max_bytes = ev.limits().max_output_bytes;
  if (a[1].is_int()) {
    o.indent = true;
    o.indent_text.assign(size_t(std::clamp<int64_t>(a[1].as_int(), 0, 1024)), ' ');
  } else if (a[1].is_string()) {
    o.indent = true;
    o.indent_text = a[1].as_string();
  } else if (!a[1].is_none() && !a[1].is_undefined()) {
    return make_error("tojson: indent must be an int or a string");
  }
  if (o.indent) o.item_separator = ",";
  if (!a[2].is_none() && !a[2].is_undefined()) {
    if (!a[2].is_list() || a[2].as_list().items.size() != 2 || !a[2].as_list().items[0].is_string() ||
        !a[2].as_list().items[1].is_string()) {
      return make_error("tojson: separators must be a pair of strings");
    }
    o.item_separator = a[2].as_list().items[0].as_string();
    o.key_separator = a[2].as_list().items[1].as_string();
  }
  o.sort_keys = truthy(a[3]);
  TRY(std::string s, dump_json(v, o));
  return Value::string(std::move(s));
}

struct FilterEntry {
  const char* name;
  FilterFn fn;
};

constexpr FilterEntry kFilters[] = {
    {"abs", f_abs},         {"capitalize", f_capitalize}, {"d", f_default},
    {"default", f_default}, {"e", f_escape},              {"escape", f_escape},
    {"float", f_float},     {"indent", f_indent},         {"int", f_int},
    {"lower", f_lower},     {"replace", f_replace},       {"round", f_round},
    {"safe", f_string},     {"string", f_string},         {"title", f_title},
    {"tojson", f_tojson},   {"trim", f_trim},             {"upper", f_upper},
};

}  // namespace

FilterFn find_filter(std::string_view name) {
  for (const FilterEntry& f : kFilters) {
    if (name == f.name) return f.fn;
  }
  return find_sequence_filter(name);
}

bool is_jinja_filter(std::string_view name) {
  return std::find_if(std::begin(kOtherJinjaFilters), std::end(kOtherJinjaFilters),
                      [&](const char* f) { return name == f; }) != std::end(kOtherJinjaFilters);
}

Result<Value> apply_filter(Evaluator& ev, const std::string& name, Value v, CallArgs& args) {
  FilterFn f = find_filter(name);
  if (!f) return make_error(is_jinja_filter(name) ? "unsupported" : "unknown", " filter '", name, "'");
  return f(ev, std::move(v), args);
}

}  // namespace trapetum::jinja
