// Attribute, item and slice access with jinja2's sandboxed lookup order, and the str, dict
// and list methods templates call ('abc'.strip(), message.get('x'), d.items(), ...).
#include <algorithm>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_eval.h"
#include "tokenizer/jinja_text.h"

namespace trapetum::jinja {
namespace {

// Python str methods that are not implemented: calling one is an error that names it.
constexpr const char* kOtherStrMethods[] = {
    "center", "encode", "expandtabs", "format", "format_map", "index", "isascii", "isdecimal",
    "isidentifier", "isnumeric", "isprintable", "istitle", "ljust", "maketrans", "partition",
    "rindex", "rjust", "rpartition", "splitlines", "translate", "zfill",
};
constexpr const char* kStrMethods[] = {
    "capitalize", "casefold", "count", "endswith", "find", "isalnum", "isalpha", "isdigit",
    "islower", "isspace", "isupper", "join", "lower", "lstrip", "removeprefix", "removesuffix",
    "replace", "rfind", "rsplit", "rstrip", "split", "startswith", "strip", "swapcase", "title",
    "upper",
};
// Methods the immutable sandbox refuses (they would modify the object).
constexpr const char* kUnsafeMethods[] = {
    "append", "clear", "extend", "insert", "pop", "popitem", "remove", "reverse", "setdefault",
    "sort", "update",
};

template <size_t N>
bool in(const char* const (&list)[N], const std::string& name) {
  return std::find_if(std::begin(list), std::end(list),
                      [&](const char* m) { return name == m; }) != std::end(list);
}

std::string object_name(const Value& v) {
  return v.is_none() ? "None" : str_cat(type_name(v), " object");
}

Value no_attribute(const Value& obj, const std::string& name) {
  return Value::undefined(str_cat("'", object_name(obj), "' has no attribute '", name, "'"));
}

Result<std::optional<std::string>> opt_string(const Value& v, const char* what) {
  if (v.is_undefined() || v.is_none()) return std::optional<std::string>();
  if (!v.is_string()) return make_error(what, " must be None or a string, not ", type_name(v));
  return std::optional<std::string>(v.as_string());
}

Result<int64_t> int_arg(const Value& v, int64_t fallback, const char* what) {
  if (v.is_undefined() || v.is_none()) return fallback;
  if (!v.is_int()) return make_error(what, " must be an integer, not ", type_name(v));
  return v.as_int();
}

// s[start:end] in code points, for startswith/find's optional bounds.
Result<std::u32string> bounded(const std::u32string& u, const Value& start, const Value& end) {
  TRY(int64_t b, int_arg(start, 0, "start"));
  TRY(int64_t e, int_arg(end, int64_t(u.size()), "end"));
  int64_t n = int64_t(u.size());
  if (b < 0) b = std::max<int64_t>(0, b + n);
  if (e < 0) e = std::max<int64_t>(0, e + n);
  b = std::min(b, n);
  e = std::min(e, n);
  return e > b ? u.substr(size_t(b), size_t(e - b)) : std::u32string();
}

Result<Value> str_method(Evaluator& ev, const std::string& name, const std::string& s,
                         CallArgs& args) {
  std::string what = "str." + name + "()";
  TRY_STATUS(ev.charge(s.size()));
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    TRY(auto a, bind_args(args, {"chars"}, what));
    TRY(auto chars, opt_string(a[0], "chars"));
    return Value::string(py_strip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    TRY(auto a, bind_args(args, {"sep", "maxsplit"}, what));
    TRY(auto sep, opt_string(a[0], "sep"));
    TRY(int64_t maxsplit, int_arg(a[1], -1, "maxsplit"));
    if (sep && sep->empty()) return make_error("empty separator");
    TRY_STATUS(ev.count_iterations(int64_t(py_count(s, sep ? *sep : " "))));
    std::vector<Value> parts;
    for (std::string& p : py_split(s, sep, maxsplit, name == "rsplit")) {
      parts.push_back(Value::string(std::move(p)));
    }
    return Value::list(std::move(parts));
  }
  if (name == "startswith" || name == "endswith") {
    TRY(auto a, bind_args(args, {"prefix", "start", "end"}, what));
    TRY(std::u32string u, bounded(to_u32(s), a[1], a[2]));
    std::vector<Value> options = a[0].is_list() ? a[0].as_list().items : std::vector<Value>{a[0]};
    for (const Value& o : options) {
      if (!o.is_string()) {
        return make_error(name, " first arg must be str or a tuple of str, not ", type_name(o));
      }
      std::u32string p = to_u32(o.as_string());
      bool hit = p.size() <= u.size() &&
                 (name == "startswith" ? u.compare(0, p.size(), p) == 0
                                       : u.compare(u.size() - p.size(), p.size(), p) == 0);
      if (hit) return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  if (name == "replace") {
    TRY(auto a, bind_args(args, {"old", "new", "count"}, what));
    if (!a[0].is_string() || !a[1].is_string()) return make_error("replace() arguments must be str");
    TRY(int64_t count, int_arg(a[2], -1, "count"));
    size_t hits = py_count(s, a[0].as_string());
    if (count >= 0) hits = std::min(hits, size_t(count));
    TRY_STATUS(ev.check_size(s.size() + hits * a[1].as_string().size()));
    return Value::string(py_replace(s, a[0].as_string(), a[1].as_string(), count));
  }
  if (name == "find" || name == "rfind" || name == "count") {
    TRY(auto a, bind_args(args, {"sub", "start", "end"}, what));
    if (!a[0].is_string()) return make_error("must be str, not ", type_name(a[0]));
    std::u32string u = to_u32(s);
    TRY(std::u32string part32, bounded(u, a[1], a[2]));
    std::string part = to_utf8(part32);
    const std::string& sub = a[0].as_string();
    if (name == "count") return Value::integer(int64_t(py_count(part, sub)));
    size_t hit = name == "find" ? find_text(part, sub) : rfind_text(part, sub);
    if (hit == std::string::npos) return Value::integer(-1);
    TRY(int64_t start, int_arg(a[1], 0, "start"));
    if (start < 0) start = std::max<int64_t>(0, start + int64_t(u.size()));
    int64_t offset = std::min<int64_t>(start, int64_t(u.size()));
    return Value::integer(offset + int64_t(cp_length(std::string_view(part).substr(0, hit))));
  }
  if (name == "join") {
    TRY(auto a, bind_args(args, {"iterable"}, what));
    TRY(std::vector<Value> items, ev.iterate_counted(a[0]));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) {
        return make_error("sequence item ", i, ": expected str instance, ", type_name(items[i]),
                          " found");
      }
      if (i) out += s;
      out += items[i].as_string();
      TRY_STATUS(ev.check_size(out.size()));
    }
    return Value::string(std::move(out));
  }
  if (name == "removeprefix" || name == "removesuffix") {
    TRY(auto a, bind_args(args, {"affix"}, what));
    if (!a[0].is_string()) return make_error(name, "() argument must be str");
    const std::string& x = a[0].as_string();
    if (name == "removeprefix" && s.compare(0, x.size(), x) == 0) return Value::string(s.substr(x.size()));
    if (name == "removesuffix" && !x.empty() && s.size() >= x.size() &&
        s.compare(s.size() - x.size(), x.size(), x) == 0) {
      return Value::string(s.substr(0, s.size() - x.size()));
    }
    return Value::string(s);
  }
  TRY(auto a, bind_args(args, {}, what));
  if (name == "upper") return Value::string(py_upper(s));
  if (name == "lower" || name == "casefold") return Value::string(py_lower(s));
  if (name == "title") return Value::string(py_title(s));
  if (name == "capitalize") return Value::string(py_capitalize(s));
  if (name == "swapcase") return Value::string(py_swapcase(s));
  if (name == "islower") return Value::boolean(py_islower(s));
  if (name == "isupper") return Value::boolean(py_isupper(s));
  std::u32string u = to_u32(s);
  auto all = [&](auto pred) { return Value::boolean(!u.empty() && std::all_of(u.begin(), u.end(), pred)); };
  auto digit = [](char32_t c) { return c >= '0' && c <= '9'; };
  auto alpha = [](char32_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
  };
  if (name == "isdigit") return all(digit);
  if (name == "isalpha") return all(alpha);
  if (name == "isalnum") return all([&](char32_t c) { return digit(c) || alpha(c); });
  if (name == "isspace") return all(py_isspace);
  return make_error("unsupported str method '", name, "'");
}

Result<Value> dict_method(const std::string& name, const Value& d, CallArgs& args) {
  std::string what = "dict." + name + "()";
  if (name == "get") {
    TRY(auto a, bind_args(args, {"key", "default"}, what));
    const Value* v = d.as_dict().find(a[0]);
    if (v) return *v;
    return a[1].is_undefined() ? Value::none() : a[1];
  }
  TRY(auto a, bind_args(args, {}, what));
  std::vector<Value> out;
  for (const auto& [k, v] : d.as_dict().entries()) {
    if (name == "keys") {
      out.push_back(k);
    } else if (name == "values") {
      out.push_back(v);
    } else {
      out.push_back(Value::list({k, v}, true));
    }
  }
  return Value::list(std::move(out));
}

Result<Value> list_method(const std::string& name, const Value& l, CallArgs& args) {
  TRY(auto a, bind_args(args, {"value"}, "list." + name + "()"));
  const auto& items = l.as_list().items;
  int64_t count = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!equals(items[i], a[0])) continue;
    if (name == "index") return Value::integer(int64_t(i));
    ++count;
  }
  if (name == "index") return make_error(to_repr(a[0]), " is not in list");
  return Value::integer(count);
}

Value bound(const Value& self, const std::string& name,
            Result<Value> (*method)(Evaluator&, const std::string&, const Value&, CallArgs&)) {
  std::string display = str_cat("built-in method ", name, " of ", type_name(self), " object");
  return Value::function(display, [self, name, method](Evaluator& ev, CallArgs& args) {
    return method(ev, name, self, args);
  });
}

Value unsafe(const Value& obj, const std::string& name) {
  return Value::undefined(str_cat("access to attribute '", name, "' of '", type_name(obj),
                                  "' object is unsafe (templates cannot modify values)"));
}

// The method `name` of obj, an undefined value naming the problem, or nullopt (no such method).
std::optional<Value> method_of(const Value& obj, const std::string& name) {
  if (obj.is_string()) {
    if (in(kStrMethods, name)) {
      return bound(obj, name, [](Evaluator& ev, const std::string& n, const Value& self, CallArgs& a) {
        return str_method(ev, n, self.as_string(), a);
      });
    }
    if (in(kOtherStrMethods, name)) {
      return Value::undefined(str_cat("unsupported str method '", name, "'"));
    }
  } else if (obj.is_dict()) {
    if (name == "get" || name == "items" || name == "keys" || name == "values") {
      return bound(obj, name, [](Evaluator&, const std::string& n, const Value& self, CallArgs& a) {
        return dict_method(n, self, a);
      });
    }
    if (in(kUnsafeMethods, name)) return unsafe(obj, name);
    if (name == "copy" || name == "fromkeys") {
      return Value::undefined(str_cat("unsupported dict method '", name, "'"));
    }
  } else if (obj.is_list()) {
    if (name == "index" || name == "count") {
      return bound(obj, name, [](Evaluator&, const std::string& n, const Value& self, CallArgs& a) {
        return list_method(n, self, a);
      });
    }
    if (in(kUnsafeMethods, name) || name == "copy") return unsafe(obj, name);
  }
  return std::nullopt;
}

// loop.index and friends (jinja2's LoopContext).
Value loop_attr(const Value& obj, const std::string& name) {
  const LoopData& l = obj.as_loop();
  int64_t n = int64_t(l.items->size());
  int64_t i = int64_t(l.index);
  if (name == "index") return Value::integer(i + 1);
  if (name == "index0") return Value::integer(i);
  if (name == "revindex") return Value::integer(n - i);
  if (name == "revindex0") return Value::integer(n - i - 1);
  if (name == "first") return Value::boolean(i == 0);
  if (name == "last") return Value::boolean(i == n - 1);
  if (name == "length") return Value::integer(n);
  if (name == "depth") return Value::integer(1);
  if (name == "depth0") return Value::integer(0);
  if (name == "previtem") {
    return i > 0 ? (*l.items)[size_t(i - 1)] : Value::undefined("there is no previous item");
  }
  if (name == "nextitem") {
    return i + 1 < n ? (*l.items)[size_t(i + 1)] : Value::undefined("there is no next item");
  }
  if (name == "cycle") {
    return Value::function("function loop.cycle", [i](Evaluator&, CallArgs& args) -> Result<Value> {
      if (args.args.empty()) return make_error("no items for cycling given");
      return args.args[size_t(i % int64_t(args.args.size()))];
    });
  }
  if (name == "changed") return Value::undefined("loop.changed() is not supported");
  return no_attribute(obj, name);
}

}  // namespace

Result<Value> get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) return undefined_error(obj);
  if (!name.empty() && name[0] == '_') {
    return Value::undefined(str_cat("access to attribute '", name, "' of '", type_name(obj),
                                    "' object is unsafe"));
  }
  if (obj.kind() == Kind::kLoop) return loop_attr(obj, name);
  if (std::optional<Value> m = method_of(obj, name)) return *m;
  if (obj.is_dict()) {
    const Value* v = obj.as_dict().find(std::string_view(name));
    if (v) return *v;
  } else if (obj.kind() == Kind::kNamespace) {
    const Value* v = obj.as_ns().attrs.find(std::string_view(name));
    if (v) return *v;
  }
  return no_attribute(obj, name);
}

Result<Value> get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) return undefined_error(obj);
  if (obj.is_dict()) {
    const Value* v = obj.as_dict().find(key);
    if (v) return *v;
  } else if (obj.is_list() || obj.is_string()) {
    if (key.is_int()) {
      int64_t n = obj.is_list() ? int64_t(obj.as_list().items.size())
                                : int64_t(cp_length(obj.as_string()));
      int64_t i = key.as_int() < 0 ? key.as_int() + n : key.as_int();
      if (i >= 0 && i < n) {
        if (obj.is_list()) return obj.as_list().items[size_t(i)];
        const std::string& s = obj.as_string();
        size_t b = cp_offset(s, i);
        size_t e = b + 1;
        while (e < s.size() && (static_cast<unsigned char>(s[e]) & 0xC0) == 0x80) ++e;
        return Value::string(s.substr(b, e - b));
      }
      return Value::undefined(str_cat(type_name(obj), " object has no element ", key.as_int()));
    }
  }
  if (key.is_string()) return get_attr(obj, key.as_string());
  return Value::undefined(str_cat("'", object_name(obj), "' has no element ", to_repr(key)));
}

Result<Value> get_slice(const Value& obj, std::optional<int64_t> start, std::optional<int64_t> stop,
                        std::optional<int64_t> step) {
  if (obj.is_undefined()) return undefined_error(obj);
  int64_t st = step.value_or(1);
  if (st == 0) return make_error("slice step cannot be zero");
  // A step beyond any length slices like the length itself; clamping keeps i += st and -step
  // from overflowing int64 (x[::-2**63]).
  st = std::clamp<int64_t>(st, -(int64_t(1) << 40), int64_t(1) << 40);
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    if (is_ascii(s)) {
      SliceRange r = slice_range(int64_t(s.size()), start, stop, st);
      if (st == 1) return Value::string(s.substr(size_t(r.start), size_t(r.count)));
      std::string out;
      for (int64_t k = 0, i = r.start; k < r.count; ++k, i += st) out.push_back(s[size_t(i)]);
      return Value::string(std::move(out));
    }
    SliceRange r = slice_range(int64_t(cp_length(s)), start, stop, st);
    if (st == 1) {
      size_t b = cp_offset(s, r.start);
      size_t e = b + cp_offset(std::string_view(s).substr(b), r.count);
      return Value::string(s.substr(b, e - b));
    }
    std::u32string u = to_u32(s), out;
    for (int64_t k = 0, i = r.start; k < r.count; ++k, i += st) out.push_back(u[size_t(i)]);
    return Value::string(to_utf8(out));
  }
  if (obj.is_list()) {
    const auto& items = obj.as_list().items;
    SliceRange r = slice_range(int64_t(items.size()), start, stop, st);
    std::vector<Value> out;
    out.reserve(size_t(r.count));
    for (int64_t k = 0, i = r.start; k < r.count; ++k, i += st) out.push_back(items[size_t(i)]);
    return Value::list(std::move(out), obj.as_list().is_tuple);
  }
  if (obj.is_dict()) return make_error("unhashable type: 'slice'");
  return make_error("'", type_name(obj), "' object is not subscriptable");
}

}  // namespace trapetum::jinja
