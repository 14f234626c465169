// Jinja values with Python semantics: construction, truth, str/repr, equality, ordering and
// iteration.
#include "tokenizer/jinja_value.h"

#include <algorithm>

#include "tokenizer/jinja_text.h"

namespace trapetum::jinja {
namespace {

// repr() of a namespace that holds itself must stop somewhere.
constexpr int kMaxReprDepth = 600;

void append_repr(std::string* out, const Value& v, int depth, std::vector<const void*>* open_ns);

void append_items(std::string* out, const std::vector<Value>& items, int depth,
                  std::vector<const void*>* open_ns) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out->append(", ");
    append_repr(out, items[i], depth + 1, open_ns);
  }
}

void append_dict(std::string* out, const DictData& d, int depth, std::vector<const void*>* open_ns) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : d.entries()) {
    if (!first) out->append(", ");
    first = false;
    append_repr(out, k, depth + 1, open_ns);
    out->append(": ");
    append_repr(out, v, depth + 1, open_ns);
  }
  out->push_back('}');
}

// open_ns: the namespaces being printed, so one that holds itself prints as {...} (as Python's
// reprlib guard does).
void append_repr(std::string* out, const Value& v, int depth, std::vector<const void*>* open_ns) {
  if (depth > kMaxReprDepth) {
    out->append("...");
    return;
  }
  switch (v.kind()) {
    case Kind::kUndefined:
      out->append("Undefined");
      return;
    case Kind::kString:
      out->append(py_repr_string(v.as_string()));
      return;
    case Kind::kList: {
      const ListData& l = v.as_list();
      out->push_back(l.is_tuple ? '(' : '[');
      append_items(out, l.items, depth, open_ns);
      if (l.is_tuple && l.items.size() == 1) out->push_back(',');
      out->push_back(l.is_tuple ? ')' : ']');
      return;
    }
    case Kind::kDict:
      append_dict(out, v.as_dict(), depth, open_ns);
      return;
    case Kind::kNamespace: {
      out->append("<Namespace ");
      if (std::find(open_ns->begin(), open_ns->end(), v.identity()) != open_ns->end()) {
        out->append("{...}>");
        return;
      }
      open_ns->push_back(v.identity());
      append_dict(out, v.as_ns().attrs, depth, open_ns);
      open_ns->pop_back();
      out->push_back('>');
      return;
    }
    default:
      out->append(to_str(v));
  }
}

bool equals_at(const Value& a, const Value& b, int depth, size_t* work) {
  if (depth > kMaxReprDepth) return false;
  if (work) *work += 16;
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_float() == b.as_float();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      if (work) *work += std::min(a.as_string().size(), b.as_string().size());
      return a.as_string() == b.as_string();
    case Kind::kList: {
      const ListData& x = a.as_list();
      const ListData& y = b.as_list();
      if (x.is_tuple != y.is_tuple || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i) {
        if (!equals_at(x.items[i], y.items[i], depth + 1, work)) return false;
      }
      return true;
    }
    case Kind::kDict: {
      const DictData& x = a.as_dict();
      const DictData& y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.entries()) {
        const Value* other = y.find(k);
        if (!other || !equals_at(v, *other, depth + 1, work)) return false;
      }
      return true;
    }
    default:
      return a.identity() == b.identity();
  }
}

}  // namespace

const Value* DictData::find(std::string_view key) const {
  auto it = string_keys_.find(std::string(key));
  return it == string_keys_.end() ? nullptr : &entries_[it->second].second;
}

const Value* DictData::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [k, v] : entries_) {
    if (equals(k, key)) return &v;
  }
  return nullptr;
}

void DictData::set(Value key, Value value) {
  depth_ = std::max(depth_, value.depth() + 1);
  if (key.is_string()) {
    auto [it, inserted] = string_keys_.emplace(key.as_string(), entries_.size());
    if (!inserted) {
      entries_[it->second].second = std::move(value);
      return;
    }
    entries_.emplace_back(std::move(key), std::move(value));
    return;
  }
  for (auto& [k, v] : entries_) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

const std::string& Value::empty_string() {
  static const std::string kEmpty;
  return kEmpty;
}

Value Value::undefined(std::string hint) {
  Value v;
  v.s_ = std::make_shared<const std::string>(std::move(hint));
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}

Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = f;
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.s_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::list(std::vector<Value> items, bool is_tuple) {
  auto data = std::make_shared<ListData>();
  int depth = 0;
  for (const Value& item : items) depth = std::max(depth, item.depth());
  data->items = std::move(items);
  data->is_tuple = is_tuple;
  data->depth = depth + 1;
  Value v;
  v.kind_ = Kind::kList;
  v.ptr_ = std::move(data);
  return v;
}

Value Value::dict(std::shared_ptr<DictData> d) {
  Value v;
  v.kind_ = Kind::kDict;
  v.ptr_ = std::move(d);
  return v;
}

Value Value::ns(std::shared_ptr<NamespaceData> n) {
  Value v;
  v.kind_ = Kind::kNamespace;
  v.ptr_ = std::move(n);
  return v;
}

Value Value::function(std::string name, NativeFn fn) {
  Value v;
  v.kind_ = Kind::kFunction;
  v.ptr_ = std::make_shared<Function>(Function{std::move(name), std::move(fn)});
  return v;
}

Value Value::loop(std::shared_ptr<const std::vector<Value>> items, size_t index) {
  Value v;
  v.kind_ = Kind::kLoop;
  v.ptr_ = std::make_shared<LoopData>(LoopData{std::move(items), index});
  return v;
}

int Value::depth() const {
  if (kind_ == Kind::kList) return as_list().depth;
  if (kind_ == Kind::kDict) return as_dict().depth();
  return kind_ == Kind::kNamespace ? 1 : 0;
}

const char* type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return v.as_list().is_tuple ? "tuple" : "list";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kFunction: return "function";
    case Kind::kLoop: return "LoopContext";
  }
  return "object";
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return v.as_bool();
    case Kind::kInt:
      return v.as_int() != 0;
    case Kind::kFloat:
      return v.as_float() != 0;
    case Kind::kString:
      return !v.as_string().empty();
    case Kind::kList:
      return !v.as_list().items.empty();
    case Kind::kDict:
      return v.as_dict().size() != 0;
    default:
      return true;
  }
}

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "";
    case Kind::kNone: return "None";
    case Kind::kBool: return v.as_bool() ? "True" : "False";
    case Kind::kInt: return std::to_string(v.as_int());
    case Kind::kFloat: return py_float_repr(v.as_float());
    case Kind::kString: return v.as_string();
    case Kind::kFunction: return "<" + v.as_function().name + ">";
    case Kind::kLoop:
      return str_cat("<LoopContext ", v.as_loop().index + 1, "/", v.as_loop().items->size(), ">");
    default: return to_repr(v);
  }
}

std::string to_repr(const Value& v) {
  std::string out;
  std::vector<const void*> open_ns;
  append_repr(&out, v, 0, &open_ns);
  return out;
}

bool equals(const Value& a, const Value& b, size_t* work) { return equals_at(a, b, 0, work); }

Result<int> compare(const Value& a, const Value& b, size_t* work) {
  if (work) *work += 16;
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    return a.as_float() < b.as_float() ? -1 : a.as_float() > b.as_float();
  }
  if (a.is_string() && b.is_string()) {
    if (work) *work += std::min(a.as_string().size(), b.as_string().size());
    int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : c > 0;
  }
  if (a.is_list() && b.is_list() && a.as_list().is_tuple == b.as_list().is_tuple) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals(x[i], y[i], work)) continue;
      return compare(x[i], y[i], work);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size();
  }
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  return make_error("'<' not supported between instances of '", type_name(a), "' and '",
                    type_name(b), "'");
}

Result<std::vector<Value>> iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return std::vector<Value>{};
    case Kind::kList:
      return v.as_list().items;
    case Kind::kDict: {
      std::vector<Value> keys;
      for (const auto& entry : v.as_dict().entries()) keys.push_back(entry.first);
      return keys;
    }
    case Kind::kString: {
      std::vector<Value> chars;
      for (char32_t c : to_u32(v.as_string())) chars.push_back(Value::string(to_utf8({&c, 1})));
      return chars;
    }
    default:
      return make_error("'", type_name(v), "' object is not iterable");
  }
}

Error undefined_error(const Value& v) {
  return make_error(v.as_string().empty() ? std::string("value is undefined") : v.as_string());
}

}  // namespace trapetum::jinja
