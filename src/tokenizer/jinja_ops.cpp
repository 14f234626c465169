// Python's arithmetic operators (+ - * / // % **), unary minus and `in` on Jinja values, with
// 64-bit integers (overflow is an error) and size checks on string and list growth.
#include <cmath>

#include "tokenizer/jinja_eval.h"
#include "tokenizer/jinja_text.h"

namespace trapetum::jinja {
namespace {

const char* op_symbol(BinOp op) {
  switch (op) {
    case BinOp::kAdd: return "+";
    case BinOp::kSub: return "-";
    case BinOp::kMul: return "*";
    case BinOp::kDiv: return "/";
    case BinOp::kFloorDiv: return "//";
    case BinOp::kMod: return "%";
    case BinOp::kPow: return "**";
  }
  return "?";
}

Error unsupported(BinOp op, const Value& a, const Value& b) {
  return make_error("unsupported operand type(s) for ", op_symbol(op), ": '", type_name(a), "' and '",
                    type_name(b), "'");
}

Error overflow() { return make_error("integer overflow (integers are limited to 64 bits)"); }

Result<Value> int_op(BinOp op, int64_t x, int64_t y) {
  int64_t r = 0;
  switch (op) {
    case BinOp::kAdd:
      if (__builtin_add_overflow(x, y, &r)) return overflow();
      return Value::integer(r);
    case BinOp::kSub:
      if (__builtin_sub_overflow(x, y, &r)) return overflow();
      return Value::integer(r);
    case BinOp::kMul:
      if (__builtin_mul_overflow(x, y, &r)) return overflow();
      return Value::integer(r);
    case BinOp::kDiv:
      if (y == 0) return make_error("division by zero");
      return Value::number(double(x) / double(y));
    case BinOp::kFloorDiv:
    case BinOp::kMod: {
      if (y == 0) {
        return make_error(op == BinOp::kMod ? "integer modulo by zero"
                                            : "integer division or modulo by zero");
      }
      if (x == INT64_MIN && y == -1) {
        if (op == BinOp::kMod) return Value::integer(0);
        return overflow();
      }
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value::integer(op == BinOp::kMod ? m : q);
    }
    case BinOp::kPow: {
      if (y < 0) {
        if (x == 0) return make_error("0.0 cannot be raised to a negative power");
        return Value::number(std::pow(double(x), double(y)));
      }
      int64_t result = 1, base = x;
      for (int64_t e = y; e > 0; e >>= 1) {
        if (e & 1 && __builtin_mul_overflow(result, base, &result)) return overflow();
        if (e > 1 && __builtin_mul_overflow(base, base, &base)) return overflow();
      }
      return Value::integer(result);
    }
  }
  return make_error("bad operator");
}

Result<Value> float_op(BinOp op, double x, double y) {
  switch (op) {
    case BinOp::kAdd: return Value::number(x + y);
    case BinOp::kSub: return Value::number(x - y);
    case BinOp::kMul: return Value::number(x * y);
    case BinOp::kDiv:
      if (y == 0) return make_error("float division by zero");
      return Value::number(x / y);
    case BinOp::kFloorDiv:
    case BinOp::kMod: {
      if (y == 0) return make_error(op == BinOp::kMod ? "float modulo" : "float floor division by zero");
      // CPython's float_divmod.
      double mod = std::fmod(x, y);
      double div = (x - mod) / y;
      if (mod != 0) {
        if ((y < 0) != (mod < 0)) {
          mod += y;
          div -= 1.0;
        }
      } else {
        mod = std::copysign(0.0, y);
      }
      double floordiv;
      if (div != 0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
      } else {
        floordiv = std::copysign(0.0, x / y);
      }
      return Value::number(op == BinOp::kMod ? mod : floordiv);
    }
    case BinOp::kPow: {
      if (x == 0 && y < 0) return make_error("0.0 cannot be raised to a negative power");
      if (x < 0 && y != std::floor(y)) return make_error("complex results are not supported");
      return Value::number(std::pow(x, y));
    }
  }
  return make_error("bad operator");
}

Result<Value> repeat(Evaluator& ev, const Value& seq, int64_t n) {
  if (n <= 0) return seq.is_string() ? Value::string("") : Value::list({}, seq.as_list().is_tuple);
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && uint64_t(n) > ev.limits().max_output_bytes / s.size()) {
      return ev.check_size(ev.limits().max_output_bytes + 1).take_error();
    }
    TRY_STATUS(ev.charge(s.size() * size_t(n)));
    std::string out;
    out.reserve(s.size() * size_t(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return Value::string(std::move(out));
  }
  const auto& items = seq.as_list().items;
  if (!items.empty() && uint64_t(n) > uint64_t(ev.limits().max_iterations) / items.size()) {
    return make_error("list repetition exceeds the limit of ", ev.limits().max_iterations, " items");
  }
  TRY_STATUS(ev.count_iterations(int64_t(items.size()) * n));
  std::vector<Value> out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list(std::move(out), seq.as_list().is_tuple);
}

}  // namespace

Result<Value> binary_op(Evaluator& ev, BinOp op, const Value& a, const Value& b) {
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return int_op(op, a.as_int(), b.as_int());
    return float_op(op, a.as_float(), b.as_float());
  }
  if (op == BinOp::kAdd) {
    if (a.is_string() && b.is_string()) {
      TRY_STATUS(ev.check_size(a.as_string().size() + b.as_string().size()));
      TRY_STATUS(ev.charge(a.as_string().size() + b.as_string().size()));
      return Value::string(a.as_string() + b.as_string());
    }
    if (a.is_string()) {
      return make_error("can only concatenate str (not \"", type_name(b), "\") to str");
    }
    if (a.is_list() && b.is_list()) {
      if (a.as_list().is_tuple != b.as_list().is_tuple) {
        return make_error("can only concatenate ", type_name(a), " (not \"", type_name(b), "\") to ",
                          type_name(a));
      }
      TRY_STATUS(ev.count_iterations(int64_t(a.as_list().items.size() + b.as_list().items.size())));
      std::vector<Value> items = a.as_list().items;
      items.insert(items.end(), b.as_list().items.begin(), b.as_list().items.end());
      return Value::list(std::move(items), a.as_list().is_tuple);
    }
  }
  if (op == BinOp::kMul) {
    if ((a.is_string() || a.is_list()) && b.is_int()) return repeat(ev, a, b.as_int());
    if (a.is_int() && (b.is_string() || b.is_list())) return repeat(ev, b, a.as_int());
  }
  if (op == BinOp::kMod && a.is_string()) {
    return make_error("printf-style string formatting ('...' % x) is not supported");
  }
  return unsupported(op, a, b);
}

Result<Value> negate(const Value& v) {
  if (v.is_undefined()) return undefined_error(v);
  if (v.kind() == Kind::kFloat) return Value::number(-v.as_float());
  if (v.is_int()) {
    if (v.as_int() == INT64_MIN) return overflow();
    return Value::integer(-v.as_int());
  }
  return make_error("bad operand type for unary -: '", type_name(v), "'");
}

Result<bool> contains(const Value& container, const Value& item, size_t* work) {
  switch (container.kind()) {
    case Kind::kUndefined:
      return false;
    case Kind::kString:
      if (!item.is_string()) {
        return make_error("'in <string>' requires string as left operand, not ", type_name(item));
      }
      if (work) *work += container.as_string().size() + item.as_string().size();
      return find_text(container.as_string(), item.as_string()) != std::string::npos;
    case Kind::kList:
      for (const Value& v : container.as_list().items) {
        if (equals(v, item, work)) return true;
      }
      return false;
    case Kind::kDict:
      if (item.is_list() && !item.as_list().is_tuple) return make_error("unhashable type: 'list'");
      if (item.is_dict()) return make_error("unhashable type: 'dict'");
      if (work) *work += 16 + (item.is_string() ? item.as_string().size() : 0);
      return container.as_dict().find(item) != nullptr;
    default:
      return make_error("argument of type '", type_name(container), "' is not iterable");
  }
}

}  // namespace trapetum::jinja
