// Jinja tests (`x is defined`, `n is divisibleby 3`, ...) as jinja2's tests.py defines them,
// and their lookup table.
#include <algorithm>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_text.h"

namespace trapetum::jinja {
namespace {

// Tests that take no argument beyond the value.
Result<bool> no_args(CallArgs& args, const char* name) {
  TRY(auto a, bind_args(args, {}, str_cat("test '", name, "'")));
  return true;
}

Result<Value> one_arg(CallArgs& args, const char* name) {
  if (args.args.empty() && args.kwargs.empty()) {
    return make_error("test '", name, "' expects an argument");
  }
  TRY(auto a, bind_args(args, {"other"}, str_cat("test '", name, "'")));
  return a[0];
}

// A test of the value alone (no arguments).
#define TRAPETUM_SIMPLE_TEST(fn, name, expr)                    \
  Result<bool> fn(Evaluator&, const Value& v, CallArgs& args) { \
    TRY(bool no_extra_args, no_args(args, name));               \
    return no_extra_args && (expr);                             \
  }

TRAPETUM_SIMPLE_TEST(t_defined, "defined", !v.is_undefined())
TRAPETUM_SIMPLE_TEST(t_undefined, "undefined", v.is_undefined())
TRAPETUM_SIMPLE_TEST(t_none, "none", v.is_none())
TRAPETUM_SIMPLE_TEST(t_boolean, "boolean", v.kind() == Kind::kBool)
TRAPETUM_SIMPLE_TEST(t_true, "true", v.kind() == Kind::kBool && v.as_bool())
TRAPETUM_SIMPLE_TEST(t_false, "false", v.kind() == Kind::kBool && !v.as_bool())
TRAPETUM_SIMPLE_TEST(t_integer, "integer", v.kind() == Kind::kInt)
TRAPETUM_SIMPLE_TEST(t_float, "float", v.kind() == Kind::kFloat)
TRAPETUM_SIMPLE_TEST(t_number, "number", v.is_number())
TRAPETUM_SIMPLE_TEST(t_string, "string", v.is_string())
TRAPETUM_SIMPLE_TEST(t_mapping, "mapping", v.is_dict())
TRAPETUM_SIMPLE_TEST(t_callable, "callable", v.kind() == Kind::kFunction || v.is_undefined())
TRAPETUM_SIMPLE_TEST(t_escaped, "escaped", false)
TRAPETUM_SIMPLE_TEST(t_iterable, "iterable",
                     v.is_undefined() || v.is_string() || v.is_list() || v.is_dict())
TRAPETUM_SIMPLE_TEST(t_sequence, "sequence",
                     v.is_undefined() || v.is_string() || v.is_list() || v.is_dict())
TRAPETUM_SIMPLE_TEST(t_lower, "lower", py_islower(to_str(v)))
TRAPETUM_SIMPLE_TEST(t_upper, "upper", py_isupper(to_str(v)))

#undef TRAPETUM_SIMPLE_TEST

Result<bool> remainder_is(Evaluator& ev, const Value& v, const Value& divisor, int64_t want) {
  TRY(Value r, binary_op(ev, BinOp::kMod, v, divisor));
  return equals(r, Value::integer(want));
}

Result<bool> t_odd(Evaluator& ev, const Value& v, CallArgs& args) {
  TRY(bool ok, no_args(args, "odd"));
  (void)ok;
  return remainder_is(ev, v, Value::integer(2), 1);
}

Result<bool> t_even(Evaluator& ev, const Value& v, CallArgs& args) {
  TRY(bool ok, no_args(args, "even"));
  (void)ok;
  return remainder_is(ev, v, Value::integer(2), 0);
}

Result<bool> t_divisibleby(Evaluator& ev, const Value& v, CallArgs& args) {
  TRY(Value n, one_arg(args, "divisibleby"));
  return remainder_is(ev, v, n, 0);
}

Result<bool> t_eq(Evaluator&, const Value& v, CallArgs& args) {
  TRY(Value o, one_arg(args, "eq"));
  return equals(v, o);
}

Result<bool> t_ne(Evaluator&, const Value& v, CallArgs& args) {
  TRY(Value o, one_arg(args, "ne"));
  return !equals(v, o);
}

template <int kSign, bool kOrEqual>
Result<bool> t_order(Evaluator&, const Value& v, CallArgs& args) {
  TRY(Value o, one_arg(args, "comparison"));
  TRY(int c, compare(v, o));
  return c == kSign || (kOrEqual && c == 0);
}

Result<bool> t_in(Evaluator&, const Value& v, CallArgs& args) {
  TRY(Value seq, one_arg(args, "in"));
  return contains(seq, v);
}

Result<bool> t_sameas(Evaluator&, const Value& v, CallArgs& args) {
  TRY(Value o, one_arg(args, "sameas"));
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Kind::kList:
    case Kind::kDict:
    case Kind::kNamespace:
    case Kind::kFunction:
      return v.identity() == o.identity();
    default:
      return equals(v, o);
  }
}

Result<bool> t_filter(Evaluator&, const Value& v, CallArgs& args) {
  TRY(bool ok, no_args(args, "filter"));
  return ok && v.is_string() && find_filter(v.as_string()) != nullptr;
}

Result<bool> t_test(Evaluator&, const Value& v, CallArgs& args) {
  TRY(bool ok, no_args(args, "test"));
  return ok && v.is_string() && find_test(v.as_string()) != nullptr;
}

struct TestEntry {
  const char* name;
  TestFn fn;
};

constexpr TestEntry kTests[] = {
    {"!=", t_ne},
    {"<", t_order<-1, false>},
    {"<=", t_order<-1, true>},
    {"==", t_eq},
    {">", t_order<1, false>},
    {">=", t_order<1, true>},
    {"boolean", t_boolean},
    {"callable", t_callable},
    {"defined", t_defined},
    {"divisibleby", t_divisibleby},
    {"eq", t_eq},
    {"equalto", t_eq},
    {"escaped", t_escaped},
    {"even", t_even},
    {"false", t_false},
    {"filter", t_filter},
    {"float", t_float},
    {"ge", t_order<1, true>},
    {"greaterthan", t_order<1, false>},
    {"gt", t_order<1, false>},
    {"in", t_in},
    {"integer", t_integer},
    {"iterable", t_iterable},
    {"le", t_order<-1, true>},
    {"lessthan", t_order<-1, false>},
    {"lower", t_lower},
    {"lt", t_order<-1, false>},
    {"mapping", t_mapping},
    {"ne", t_ne},
    {"none", t_none},
    {"number", t_number},
    {"odd", t_odd},
    {"sameas", t_sameas},
    {"sequence", t_sequence},
    {"string", t_string},
    {"test", t_test},
    {"true", t_true},
    {"undefined", t_undefined},
    {"upper", t_upper},
};

}  // namespace

TestFn find_test(std::string_view name) {
  for (const TestEntry& t : kTests) {
    if (name == t.name) return t.fn;
  }
  return nullptr;
}

bool is_jinja_test(std::string_view) { return false; }  // every jinja2 builtin test is here

Result<bool> apply_test(Evaluator& ev, const std::string& name, const Value& v, CallArgs& args) {
  TestFn t = find_test(name);
  if (!t) return make_error("unknown test '", name, "'");
  return t(ev, v, args);
}

}  // namespace trapetum::jinja
