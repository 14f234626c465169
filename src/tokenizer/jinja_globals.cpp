// Jinja globals as transformers' sandboxed environment defines them: range, dict, namespace,
// raise_exception and strftime_now; plus Python-style argument binding for builtins.
#include <ctime>

#include "tokenizer/jinja_builtins.h"

namespace trapetum::jinja {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

Result<Value> range_fn(Evaluator& ev, CallArgs& args) {
  if (!args.kwargs.empty()) return make_error("range() takes no keyword arguments");
  std::vector<int64_t> a;
  for (const Value& v : args.args) {
    if (!v.is_int()) return make_error("'", type_name(v), "' object cannot be interpreted as an integer");
    a.push_back(v.as_int());
  }
  if (a.empty() || a.size() > 3) return make_error("range expected 1 to 3 arguments, got ", a.size());
  int64_t start = a.size() == 1 ? 0 : a[0];
  int64_t stop = a.size() == 1 ? a[0] : a[1];
  int64_t step = a.size() == 3 ? a[2] : 1;
  if (step == 0) return make_error("range() arg 3 must not be zero");
  // Length computed in floating point first so huge bounds cannot overflow.
  double span = (double(stop) - double(start)) / double(step);
  if (span > double(kMaxRange)) {
    return make_error("Range too big. The sandbox blocks ranges larger than MAX_RANGE (", kMaxRange, ").");
  }
  std::vector<Value> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
    out.push_back(Value::integer(i));
    if (__builtin_add_overflow(i, step, &i)) break;  // past any int64 stop: range(0, 2**63-1, 2**62)
  }
  TRY_STATUS(ev.count_iterations(int64_t(out.size())));
  return Value::list(std::move(out));
}

Status add_pairs(Evaluator& ev, DictData* d, const Value& source) {
  if (source.is_dict()) {
    for (const auto& [k, v] : source.as_dict().entries()) d->set(k, v);
    return Ok{};
  }
  TRY(std::vector<Value> items, ev.iterate_counted(source));
  for (const Value& item : items) {
    if (!item.is_list() || item.as_list().items.size() != 2) {
      return make_error("dictionary update sequence element has the wrong length (need 2)");
    }
    d->set(item.as_list().items[0], item.as_list().items[1]);
  }
  return Ok{};
}

Result<Value> dict_fn(Evaluator& ev, CallArgs& args) {
  if (args.args.size() > 1) return make_error("dict expected at most 1 argument, got ", args.args.size());
  DictData d;
  if (!args.args.empty()) TRY_STATUS(add_pairs(ev, &d, args.args[0]));
  for (auto& [k, v] : args.kwargs) d.set(Value::string(k), std::move(v));
  return Value::dict(std::move(d));
}

Result<Value> namespace_fn(Evaluator& ev, CallArgs& args) {
  if (args.args.size() > 1) {
    return make_error("namespace expected at most 1 argument, got ", args.args.size());
  }
  auto ns = ev.new_namespace();
  if (!args.args.empty()) TRY_STATUS(add_pairs(ev, &ns->attrs, args.args[0]));
  for (auto& [k, v] : args.kwargs) ns->attrs.set(Value::string(k), std::move(v));
  for (const auto& entry : ns->attrs.entries()) {
    if (entry.first.is_string() && !entry.first.as_string().empty() && entry.first.as_string()[0] == '_') {
      return make_error("namespaces cannot store underscore-prefixed attribute '",
                        entry.first.as_string(), "'");
    }
  }
  return Value::ns(ns);
}

Result<Value> raise_exception_fn(Evaluator&, CallArgs& args) {
  TRY(auto a, bind_args(args, {"message"}, "raise_exception()"));
  return make_error(to_str(a[0]));
}

Result<Value> strftime_now_fn(Evaluator&, CallArgs& args) {
  TRY(auto a, bind_args(args, {"format"}, "strftime_now()"));
  if (!a[0].is_string()) return make_error("strftime_now() argument must be str, not ", type_name(a[0]));
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::string buf(256 + a[0].as_string().size() * 16, '\0');
  size_t n = std::strftime(buf.data(), buf.size(), a[0].as_string().c_str(), &local);
  if (n == 0 && !a[0].as_string().empty()) return make_error("strftime_now(): format too long");
  buf.resize(n);
  return Value::string(std::move(buf));
}

}  // namespace

void add_globals(Scope* scope) {
  scope->vars["range"] = Value::function("function range", range_fn);
  scope->vars["dict"] = Value::function("function dict", dict_fn);
  scope->vars["namespace"] = Value::function("function namespace", namespace_fn);
  scope->vars["raise_exception"] = Value::function("function raise_exception", raise_exception_fn);
  scope->vars["strftime_now"] = Value::function("function strftime_now", strftime_now_fn);
}

Result<std::vector<Value>> bind_args(CallArgs& args, const std::vector<const char*>& params,
                                     const std::string& what) {
  std::vector<Value> out(params.size());
  if (args.args.size() > params.size()) {
    return make_error(what, " takes at most ", params.size(), " argument(s) (", args.args.size(),
                      " given)");
  }
  std::vector<bool> given(params.size(), false);
  for (size_t i = 0; i < args.args.size(); ++i) {
    out[i] = std::move(args.args[i]);
    given[i] = true;
  }
  for (auto& [name, v] : args.kwargs) {
    size_t i = 0;
    while (i < params.size() && name != params[i]) ++i;
    if (i == params.size()) return make_error(what, " got an unexpected keyword argument '", name, "'");
    if (given[i]) return make_error(what, " got multiple values for argument '", name, "'");
    out[i] = std::move(v);
    given[i] = true;
  }
  return out;
}

}  // namespace trapetum::jinja
