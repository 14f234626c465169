// Jinja expression evaluation: names, literals, attribute/item access, calls, filters, tests,
// operators and conditional expressions.
#include "tokenizer/jinja_eval.h"

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_lexer.h"

namespace trapetum::jinja {
namespace {

Result<std::optional<int64_t>> slice_bound(const Value& v) {
  if (v.is_none() || v.is_undefined()) return std::optional<int64_t>();
  if (!v.is_int()) {
    return make_error("slice indices must be integers or None, not ", type_name(v));
  }
  return std::optional<int64_t>(v.as_int());
}

}  // namespace

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

Result<Value> Evaluator::eval(const Expr& e, const ScopePtr& scope) {
  DepthGuard guard(this);
  Status st = guard.check();
  if (!st.ok()) return locate(e.line, std::move(st).take_error());
  Result<Value> r = eval_inner(e, scope);
  if (!r.ok()) return locate(e.line, std::move(r).take_error());
  return r;
}

Result<Value> Evaluator::eval_inner(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case ExprKind::kConst:
      return e.constant;
    case ExprKind::kName: {
      const Value* v = scope->find(e.name);
      return v ? *v : Value::undefined(str_cat("'", e.name, "' is undefined"));
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      for (const ExprPtr& item : e.items) {
        TRY(Value v, eval(*item, scope));
        items.push_back(std::move(v));
      }
      return Value::list(std::move(items), e.kind == ExprKind::kTuple);
    }
    case ExprKind::kDict: {
      DictData d;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        TRY(Value k, eval(*e.items[i], scope));
        TRY(Value v, eval(*e.items[i + 1], scope));
        d.set(std::move(k), std::move(v));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::kGetattr: {
      TRY(Value obj, eval(*e.operand, scope));
      return get_attr(obj, e.name);
    }
    case ExprKind::kGetitem: {
      TRY(Value obj, eval(*e.operand, scope));
      if (obj.is_string()) TRY_STATUS(charge(obj.as_string().size()));
      const Expr& index = *e.items[0];
      if (index.kind == ExprKind::kSlice) {
        std::optional<int64_t> bounds[3];
        for (int k = 0; k < 3; ++k) {
          if (!index.items[k]) continue;
          TRY(Value b, eval(*index.items[k], scope));
          TRY(bounds[k], slice_bound(b));
        }
        return get_slice(obj, bounds[0], bounds[1], bounds[2]);
      }
      TRY(Value key, eval(index, scope));
      return get_item(obj, key);
    }
    case ExprKind::kSlice:
      return make_error("a slice is only valid inside []");
    case ExprKind::kCall:
      return eval_call(e, scope);
    case ExprKind::kFilter:
      return eval_filter(e, scope, nullptr);
    case ExprKind::kTest: {
      if (!e.test) {
        return make_error(is_jinja_test(e.name) ? "unsupported" : "unknown", " test '", e.name, "'");
      }
      TRY(Value v, eval(*e.operand, scope));
      if (v.is_string()) TRY_STATUS(charge(v.as_string().size()));
      CallArgs args;
      TRY_STATUS(eval_args(e, scope, &args));
      TRY(bool b, e.test(*this, v, args));
      return Value::boolean(b);
    }
    case ExprKind::kNot: {
      TRY(Value v, eval(*e.operand, scope));
      return Value::boolean(!truthy(v));
    }
    case ExprKind::kNeg: {
      TRY(Value v, eval(*e.operand, scope));
      return negate(v);
    }
    case ExprKind::kPos: {
      TRY(Value v, eval(*e.operand, scope));
      if (v.is_undefined()) return undefined_error(v);
      if (!v.is_number()) return make_error("bad operand type for unary +: '", type_name(v), "'");
      return v.kind() == Kind::kBool ? Value::integer(v.as_int()) : v;
    }
    case ExprKind::kBinary: {
      TRY(Value a, eval(*e.operand, scope));
      TRY(Value b, eval(*e.items[0], scope));
      return binary_op(*this, e.bin_op, a, b);
    }
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      TRY(Value a, eval(*e.operand, scope));
      bool t = truthy(a);
      if ((e.kind == ExprKind::kAnd) != t) return a;
      return eval(*e.items[0], scope);
    }
    case ExprKind::kConcat: {
      std::string s;
      for (const ExprPtr& part : e.items) {
        TRY(Value v, eval(*part, scope));
        s += to_str(v);
        TRY_STATUS(check_size(s.size()));
      }
      TRY_STATUS(charge(s.size()));
      return Value::string(std::move(s));
    }
    case ExprKind::kCompare:
      return eval_compare(e, scope);
    case ExprKind::kCondExpr: {
      TRY(Value test, eval(*e.items[0], scope));
      if (truthy(test)) return eval(*e.items[1], scope);
      if (e.items[2]) return eval(*e.items[2], scope);
      return Value::undefined(str_cat("the inline if-expression on line ", e.line,
                                      " evaluated to false and no else section was defined."));
    }
  }
  return make_error("unknown expression");
}

Status Evaluator::eval_args(const Expr& e, const ScopePtr& scope, CallArgs* args) {
  for (const ExprPtr& a : e.items) {
    TRY(Value v, eval(*a, scope));
    args->args.push_back(std::move(v));
  }
  if (e.dyn_args) {
    TRY(Value extra, eval(*e.dyn_args, scope));
    TRY(std::vector<Value> items, iterate_counted(extra));
    for (Value& v : items) args->args.push_back(std::move(v));
  }
  for (const auto& [name, expr] : e.kwargs) {
    TRY(Value v, eval(*expr, scope));
    args->kwargs.emplace_back(name, std::move(v));
  }
  if (e.dyn_kwargs) {
    TRY(Value extra, eval(*e.dyn_kwargs, scope));
    if (!extra.is_dict()) return make_error("argument after ** must be a mapping");
    for (const auto& [k, v] : extra.as_dict().entries()) {
      if (!k.is_string()) return make_error("keywords must be strings");
      args->kwargs.emplace_back(k.as_string(), v);
    }
  }
  return Ok{};
}

Result<Value> Evaluator::eval_call(const Expr& e, const ScopePtr& scope) {
  TRY(Value fn, eval(*e.operand, scope));
  CallArgs args;
  TRY_STATUS(eval_args(e, scope, &args));
  TRY(Value result, call(fn, args));
  if (result.is_string()) TRY_STATUS(charge(result.as_string().size()));
  return result;
}

Result<Value> Evaluator::call(const Value& fn, CallArgs& args) {
  if (fn.is_undefined()) return undefined_error(fn);
  if (fn.kind() != Kind::kFunction) {
    return make_error("'", type_name(fn), "' object is not callable");
  }
  return fn.as_function().fn(*this, args);
}

Result<Value> Evaluator::eval_filter(const Expr& e, const ScopePtr& scope, const Value* chain_input) {
  if (!e.filter) {
    return make_error(is_jinja_filter(e.name) ? "unsupported" : "unknown", " filter '", e.name, "'");
  }
  Value input;
  if (e.operand) {
    if (chain_input && e.operand->kind == ExprKind::kFilter) {
      TRY(input, eval_filter(*e.operand, scope, chain_input));
    } else {
      TRY(input, eval(*e.operand, scope));
    }
  } else if (chain_input) {
    input = *chain_input;
  }
  CallArgs args;
  TRY_STATUS(eval_args(e, scope, &args));
  if (input.is_string()) TRY_STATUS(charge(input.as_string().size()));
  Result<Value> r = e.filter(*this, std::move(input), args);
  if (!r.ok()) return locate(e.line, std::move(r).take_error());
  if (r->is_string()) TRY_STATUS(charge(r->as_string().size()));
  return r;
}

Result<Value> Evaluator::eval_compare(const Expr& e, const ScopePtr& scope) {
  TRY(Value left, eval(*e.operand, scope));
  for (size_t i = 0; i < e.cmp_ops.size(); ++i) {
    TRY(Value right, eval(*e.items[i], scope));
    size_t work = 0;
    bool ok = false;
    switch (e.cmp_ops[i]) {
      case CmpOp::kEq: ok = equals(left, right, &work); break;
      case CmpOp::kNe: ok = !equals(left, right, &work); break;
      case CmpOp::kIn:
      case CmpOp::kNotIn: {
        TRY(bool in, contains(right, left, &work));
        ok = (e.cmp_ops[i] == CmpOp::kIn) == in;
        break;
      }
      default: {
        TRY(int c, compare(left, right, &work));
        CmpOp op = e.cmp_ops[i];
        ok = op == CmpOp::kLt ? c < 0 : op == CmpOp::kLe ? c <= 0 : op == CmpOp::kGt ? c > 0 : c >= 0;
      }
    }
    TRY_STATUS(charge(work));
    if (!ok) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Status Evaluator::check_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    return make_error("output exceeds the limit of ", limits_.max_output_bytes, " bytes");
  }
  return Ok{};
}

Status Evaluator::count_iterations(int64_t n) {
  iterations_ += n;
  if (iterations_ > limits_.max_iterations) {
    return make_error("template exceeds the limit of ", limits_.max_iterations,
                      " loop iterations and macro calls");
  }
  return Ok{};
}

Status Evaluator::charge(size_t bytes) {
  work_ += int64_t(std::min<size_t>(bytes, size_t(INT64_MAX / 4)));
  if (work_ > limits_.max_work_bytes) {
    return make_error("template exceeds the work limit of ", limits_.max_work_bytes,
                      " bytes of string operations");
  }
  return Ok{};
}

Result<std::vector<Value>> Evaluator::iterate_counted(const Value& v) {
  if (v.is_string()) {
    TRY_STATUS(count_iterations(int64_t(v.as_string().size())));
  } else if (v.is_list()) {
    TRY_STATUS(count_iterations(int64_t(v.as_list().items.size())));
  } else if (v.is_dict()) {
    TRY_STATUS(count_iterations(int64_t(v.as_dict().size())));
  }
  return iterate(v);
}

std::shared_ptr<NamespaceData> Evaluator::new_namespace() {
  auto ns = std::make_shared<NamespaceData>();
  namespaces_.push_back(ns);
  return ns;
}

Evaluator::~Evaluator() {
  for (auto& ns : namespaces_) ns->attrs = DictData();
}

}  // namespace trapetum::jinja
