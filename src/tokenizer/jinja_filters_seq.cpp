// Jinja filters on sequences: length, first/last, list, items, join, map, select/reject
// (and the attr forms), sort, dictsort, unique, reverse, sum, min and max.
#include <algorithm>
#include <unordered_set>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_text.h"

namespace trapetum::jinja {
namespace {

// item.a.b.0 with item lookup first (jinja's make_attrgetter); `fallback` replaces undefined.
Result<Value> get_path(const Value& item, const std::string& path, const Value& fallback) {
  Value v = item;
  size_t b = 0;
  while (true) {
    size_t e = path.find('.', b);
    std::string part = path.substr(b, e == std::string::npos ? std::string::npos : e - b);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    Value key = digits && part.size() < 18 ? Value::integer(std::stoll(part)) : Value::string(part);
    TRY(v, get_item(v, key));
    if (v.is_undefined() && !fallback.is_undefined() && !fallback.is_none()) v = fallback;
    if (e == std::string::npos) return v;
    b = e + 1;
  }
}

Value fold_case(const Value& v, bool case_sensitive) {
  return (!case_sensitive && v.is_string()) ? Value::string(py_lower(v.as_string())) : v;
}

// The sort key of one item: its attribute(s) (comma-separated paths) and case folding.
Result<Value> sort_key(const Value& item, const Value& attribute, bool case_sensitive) {
  if (!attribute.is_string()) return fold_case(item, case_sensitive);
  std::vector<std::string> paths = py_split(attribute.as_string(), std::string(","), -1, false);
  std::vector<Value> keys;
  for (const std::string& p : paths) {
    TRY(Value k, get_path(item, p, Value()));
    keys.push_back(fold_case(k, case_sensitive));
  }
  if (keys.size() == 1) return keys[0];
  return Value::list(std::move(keys), true);
}

// Stable sort by precomputed keys; the first comparison error is returned.
Status sort_by_keys(Evaluator& ev, std::vector<Value>* items, std::vector<Value> keys,
                    bool reverse) {
  std::vector<size_t> order(items->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Status error;
  size_t work = 0;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    if (!error.ok()) return false;
    Result<int> c = compare(keys[x], keys[y], &work);
    if (!c.ok()) {
      error = std::move(c).take_error();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  if (!error.ok()) return error;
  TRY_STATUS(ev.charge(work));
  std::vector<Value> sorted;
  for (size_t i : order) sorted.push_back(std::move((*items)[i]));
  *items = std::move(sorted);
  return Ok{};
}

Result<std::vector<Value>> items_of(Evaluator& ev, const Value& v) { return ev.iterate_counted(v); }

Result<Value> f_length(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'length'"));
  switch (v.kind()) {
    case Kind::kUndefined: return Value::integer(0);
    case Kind::kString: return Value::integer(int64_t(cp_length(v.as_string())));
    case Kind::kList: return Value::integer(int64_t(v.as_list().items.size()));
    case Kind::kDict: return Value::integer(int64_t(v.as_dict().size()));
    default: return make_error("object of type '", type_name(v), "' has no len()");
  }
}

Result<Value> f_first(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'first'"));
  TRY(std::vector<Value> items, items_of(ev, v));
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Result<Value> f_last(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'last'"));
  TRY(std::vector<Value> items, items_of(ev, v));
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Result<Value> f_list(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'list'"));
  TRY(std::vector<Value> items, items_of(ev, v));
  return Value::list(std::move(items));
}

Result<Value> f_items(Evaluator&, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'items'"));
  if (v.is_undefined()) return Value::list({});
  if (!v.is_dict()) return make_error("Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, x] : v.as_dict().entries()) out.push_back(Value::list({k, x}, true));
  return Value::list(std::move(out));
}

Result<Value> f_reverse(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {}, "filter 'reverse'"));
  if (v.is_string()) {
    std::u32string u = to_u32(v.as_string());
    std::reverse(u.begin(), u.end());
    return Value::string(to_utf8(u));
  }
  TRY(std::vector<Value> items, items_of(ev, v));
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Result<Value> f_join(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"d", "attribute"}, "filter 'join'"));
  TRY(std::vector<Value> items, items_of(ev, v));
  std::string sep = a[0].is_undefined() ? "" : to_str(a[0]);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    if (a[1].is_string()) {
      TRY(Value x, get_path(items[i], a[1].as_string(), Value()));
      out += to_str(x);
    } else {
      out += to_str(items[i]);
    }
    TRY_STATUS(ev.check_size(out.size()));
  }
  return Value::string(std::move(out));
}

Result<Value> f_map(Evaluator& ev, Value v, CallArgs& args) {
  TRY(std::vector<Value> items, items_of(ev, v));
  if (items.empty()) return Value::list({});  // jinja2 checks the arguments lazily
  std::vector<Value> out;
  if (args.args.empty()) {
    TRY(auto a, bind_args(args, {"attribute", "default"}, "filter 'map'"));
    if (!a[0].is_string()) return make_error("map: expected a filter name or attribute=");
    for (const Value& item : items) {
      TRY(Value x, get_path(item, a[0].as_string(), a[1]));
      out.push_back(std::move(x));
    }
    return Value::list(std::move(out));
  }
  if (!args.args[0].is_string()) return make_error("map: the filter name must be a string");
  std::string name = args.args[0].as_string();
  for (const Value& item : items) {
    CallArgs call{std::vector<Value>(args.args.begin() + 1, args.args.end()), args.kwargs};
    TRY(Value x, apply_filter(ev, name, item, call));
    out.push_back(std::move(x));
  }
  return Value::list(std::move(out));
}

// select / reject / selectattr / rejectattr.
Result<Value> select_impl(Evaluator& ev, const Value& v, CallArgs& args, bool by_attr, bool keep) {
  TRY(std::vector<Value> items, items_of(ev, v));
  if (items.empty()) return Value::list({});  // jinja2 checks the arguments lazily
  size_t off = by_attr ? 1 : 0;
  if (by_attr && (args.args.empty() || !args.args[0].is_string())) {
    return make_error("selectattr/rejectattr: expected an attribute name");
  }
  std::string test;
  if (args.args.size() > off) {
    if (!args.args[off].is_string()) return make_error("select: the test name must be a string");
    test = args.args[off].as_string();
  }
  std::vector<Value> out;
  for (const Value& item : items) {
    Value subject = item;
    if (by_attr) {
      TRY(subject, get_path(item, args.args[0].as_string(), Value()));
    }
    bool pass;
    if (test.empty()) {
      pass = truthy(subject);
    } else {
      CallArgs call{std::vector<Value>(args.args.begin() + long(off) + 1, args.args.end()), args.kwargs};
      TRY(pass, apply_test(ev, test, subject, call));
    }
    if (pass == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Result<Value> f_select(Evaluator& ev, Value v, CallArgs& a) { return select_impl(ev, v, a, false, true); }
Result<Value> f_reject(Evaluator& ev, Value v, CallArgs& a) { return select_impl(ev, v, a, false, false); }
Result<Value> f_selectattr(Evaluator& ev, Value v, CallArgs& a) { return select_impl(ev, v, a, true, true); }
Result<Value> f_rejectattr(Evaluator& ev, Value v, CallArgs& a) { return select_impl(ev, v, a, true, false); }

Result<Value> f_sort(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"reverse", "case_sensitive", "attribute"}, "filter 'sort'"));
  TRY(std::vector<Value> items, items_of(ev, v));
  std::vector<Value> keys;
  for (const Value& item : items) {
    TRY(Value k, sort_key(item, a[2], truthy(a[1])));
    keys.push_back(std::move(k));
  }
  TRY_STATUS(sort_by_keys(ev, &items, std::move(keys), truthy(a[0])));
  return Value::list(std::move(items));
}

Result<Value> f_dictsort(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"case_sensitive", "by", "reverse"}, "filter 'dictsort'"));
  if (!v.is_dict()) return make_error("dictsort: expected a mapping");
  bool by_value = a[1].is_string() && a[1].as_string() == "value";
  if (a[1].is_string() && !by_value && a[1].as_string() != "key") {
    return make_error("You can only sort by either \"key\" or \"value\"");
  }
  std::vector<Value> items, keys;
  for (const auto& [k, x] : v.as_dict().entries()) {
    items.push_back(Value::list({k, x}, true));
    keys.push_back(fold_case(by_value ? x : k, truthy(a[0])));
  }
  TRY_STATUS(sort_by_keys(ev, &items, std::move(keys), truthy(a[2])));
  return Value::list(std::move(items));
}

Result<Value> f_unique(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"case_sensitive", "attribute"}, "filter 'unique'"));
  TRY(std::vector<Value> items, items_of(ev, v));
  std::unordered_set<std::string> seen_strings;
  std::vector<Value> seen_other, out;
  for (const Value& item : items) {
    TRY(Value key, sort_key(item, a[1], truthy(a[0])));
    if (key.is_list() || key.is_dict()) return make_error("unhashable type: '", type_name(key), "'");
    bool fresh;
    if (key.is_string()) {
      fresh = seen_strings.insert(key.as_string()).second;
    } else {
      TRY_STATUS(ev.charge(16 * seen_other.size()));
      fresh = std::none_of(seen_other.begin(), seen_other.end(),
                           [&](const Value& s) { return equals(s, key); });
      if (fresh) seen_other.push_back(key);
    }
    if (fresh) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Result<Value> f_sum(Evaluator& ev, Value v, CallArgs& args) {
  TRY(auto a, bind_args(args, {"attribute", "start"}, "filter 'sum'"));
  TRY(std::vector<Value> items, items_of(ev, v));
  Value total = a[1].is_undefined() ? Value::integer(0) : a[1];
  for (const Value& item : items) {
    Value x = item;
    if (a[0].is_string()) {
      TRY(x, get_path(item, a[0].as_string(), Value()));
    }
    TRY(total, binary_op(ev, BinOp::kAdd, total, x));
  }
  return total;
}

Result<Value> min_max(Evaluator& ev, const Value& v, CallArgs& args, bool want_max) {
  TRY(auto a, bind_args(args, {"case_sensitive", "attribute"}, want_max ? "filter 'max'" : "filter 'min'"));
  TRY(std::vector<Value> items, items_of(ev, v));
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  TRY(Value best_key, sort_key(items[0], a[1], truthy(a[0])));
  for (size_t i = 1; i < items.size(); ++i) {
    TRY(Value key, sort_key(items[i], a[1], truthy(a[0])));
    size_t work = 0;
    TRY(int c, compare(key, best_key, &work));
    TRY_STATUS(ev.charge(work));
    if (want_max ? c > 0 : c < 0) {
      best = i;
      best_key = key;
    }
  }
  return items[best];
}

Result<Value> f_min(Evaluator& ev, Value v, CallArgs& a) { return min_max(ev, v, a, false); }
Result<Value> f_max(Evaluator& ev, Value v, CallArgs& a) { return min_max(ev, v, a, true); }

struct FilterEntry {
  const char* name;
  FilterFn fn;
};

constexpr FilterEntry kSequenceFilters[] = {
    {"count", f_length},   {"dictsort", f_dictsort},     {"first", f_first},
    {"items", f_items},    {"join", f_join},             {"last", f_last},
    {"length", f_length},  {"list", f_list},             {"map", f_map},
    {"max", f_max},        {"min", f_min},               {"reject", f_reject},
    {"rejectattr", f_rejectattr}, {"reverse", f_reverse}, {"select", f_select},
    {"selectattr", f_selectattr}, {"sort", f_sort},       {"sum", f_sum},
    {"unique", f_unique},
};

}  // namespace

FilterFn find_sequence_filter(std::string_view name) {
  for (const FilterEntry& f : kSequenceFilters) {
    if (name == f.name) return f.fn;
  }
  return nullptr;
}

}  // namespace trapetum::jinja
