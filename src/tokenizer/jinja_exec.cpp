// Jinja statement execution: text and {{ }} output, if, for (loop variable, filtering,
// else, break/continue), set (names, tuples, namespace attributes, blocks), macros, filter
// blocks; plus the top-level render.
#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_eval.h"
#include "tokenizer/jinja_lexer.h"
#include "tokenizer/jinja_text.h"

namespace trapetum::jinja {
namespace {

// Values nested deeper than this cannot be stored (bounds recursion in repr, ==, tojson).
constexpr int kMaxValueDepth = 256;

}  // namespace

Result<std::string> Evaluator::render(const TemplateAst& ast, ScopePtr root) {
  root_ = std::move(root);
  std::string out;
  TRY_STATUS(exec(ast.body, root_, &out));
  return out;
}

Status Evaluator::append(std::string* out, const std::string& text) const {
  if (out->size() + text.size() > limits_.max_output_bytes) {
    return make_error("output exceeds the limit of ", limits_.max_output_bytes, " bytes");
  }
  out->append(text);
  return Ok{};
}

Status Evaluator::exec(const StmtList& body, const ScopePtr& scope, std::string* out) {
  for (const Stmt& s : body) {
    DepthGuard guard(this);
    Status st = guard.check();
    if (st.ok()) st = exec_stmt(s, scope, out);
    if (!st.ok()) return locate(s.line, std::move(st).take_error());
    if (flow_ != Flow::kNormal) return Ok{};
  }
  return Ok{};
}

Status Evaluator::exec_stmt(const Stmt& s, const ScopePtr& scope, std::string* out) {
  switch (s.kind) {
    case StmtKind::kText:
      return append(out, s.text);
    case StmtKind::kPrint: {
      TRY(Value v, eval(*s.expr, scope));
      return append(out, to_str(v));
    }
    case StmtKind::kIf:
      for (const auto& [test, branch] : s.branches) {
        TRY(Value v, eval(*test, scope));
        if (truthy(v)) return exec(branch, scope, out);
      }
      return exec(s.else_body, scope, out);
    case StmtKind::kFor:
      return exec_for(s, scope, out);
    case StmtKind::kSet: {
      TRY(Value v, eval(*s.expr, scope));
      return assign(s.target, std::move(v), scope.get(), s.line);
    }
    case StmtKind::kSetBlock:
    case StmtKind::kFilterBlock: {
      std::string text;
      TRY_STATUS(exec(s.body, scope, &text));
      Value v = Value::string(std::move(text));
      if (s.expr) {
        TRY(v, eval_filter(*s.expr, scope, &v));
      }
      if (s.kind == StmtKind::kSetBlock) return assign(s.target, std::move(v), scope.get(), s.line);
      return append(out, to_str(v));
    }
    case StmtKind::kMacro: {
      const Stmt* macro = &s;
      std::weak_ptr<Scope> closure = scope;
      scope->vars[s.text] =
          Value::function(str_cat("Macro '", s.text, "'"), [macro, closure](Evaluator& ev, CallArgs& args) {
            ScopePtr defined_in = closure.lock();
            return ev.call_macro(*macro, defined_in ? defined_in : ev.root(), args);
          });
      return Ok{};
    }
    case StmtKind::kBreak:
      flow_ = Flow::kBreak;
      return Ok{};
    case StmtKind::kContinue:
      flow_ = Flow::kContinue;
      return Ok{};
    case StmtKind::kScope:
      return exec(s.body, scope, out);
  }
  return make_error("unknown statement");
}

Status Evaluator::exec_for(const Stmt& s, const ScopePtr& scope, std::string* out) {
  TRY(Value seq, eval(*s.expr, scope));
  if (seq.is_string()) TRY_STATUS(count_iterations(int64_t(seq.as_string().size())));
  TRY(std::vector<Value> items, iterate(seq));
  if (s.cond) {
    std::vector<Value> kept;
    for (Value& item : items) {
      TRY_STATUS(count_iterations(1));
      auto probe = std::make_shared<Scope>();
      probe->parent = scope;
      TRY_STATUS(assign(s.target, item, probe.get(), s.line));
      TRY(Value keep, eval(*s.cond, probe));
      if (truthy(keep)) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) return exec(s.else_body, scope, out);
  auto shared_items = std::make_shared<const std::vector<Value>>(std::move(items));
  for (size_t i = 0; i < shared_items->size(); ++i) {
    TRY_STATUS(count_iterations(1));
    auto iteration = std::make_shared<Scope>();
    iteration->parent = scope;
    TRY_STATUS(assign(s.target, (*shared_items)[i], iteration.get(), s.line));
    iteration->vars["loop"] = Value::loop(shared_items, i);
    TRY_STATUS(exec(s.body, iteration, out));
    if (flow_ == Flow::kBreak) {
      flow_ = Flow::kNormal;
      break;
    }
    flow_ = Flow::kNormal;
  }
  return Ok{};
}

Status Evaluator::assign(const Target& t, Value v, Scope* scope, int line) {
  if (v.depth() > kMaxValueDepth) {
    return make_error("value nested deeper than ", kMaxValueDepth, " levels");
  }
  switch (t.kind) {
    case Target::Kind::kName:
      scope->vars[t.name] = std::move(v);
      return Ok{};
    case Target::Kind::kNsAttr: {
      const Value* ns = scope->find(t.name);
      if (!ns || ns->kind() != Kind::kNamespace) {
        return make_error("cannot assign attribute on non-namespace object '", t.name, "'");
      }
      if (!t.attr.empty() && t.attr[0] == '_') {
        return make_error("cannot store underscore-prefixed attribute '", t.attr, "' on a namespace");
      }
      ns->as_ns().attrs.set(Value::string(t.attr), std::move(v));
      return Ok{};
    }
    case Target::Kind::kTuple: {
      if (v.is_string() && cp_length(v.as_string()) != t.items.size()) {
        return make_error("cannot unpack a string of ", cp_length(v.as_string()), " characters into ",
                          t.items.size(), " names");
      }
      TRY(std::vector<Value> items, iterate(v));
      if (items.size() != t.items.size()) {
        return make_error(items.size() < t.items.size() ? "not enough" : "too many",
                          " values to unpack (expected ", t.items.size(), ", got ", items.size(), ")");
      }
      for (size_t i = 0; i < items.size(); ++i) {
        TRY_STATUS(assign(t.items[i], std::move(items[i]), scope, line));
      }
      return Ok{};
    }
  }
  return Ok{};
}

Result<Value> Evaluator::call_macro(const Stmt& macro, const ScopePtr& closure, CallArgs& args) {
  DepthGuard guard(this);
  TRY_STATUS(guard.check());
  TRY_STATUS(count_iterations(1));
  auto scope = std::make_shared<Scope>();
  scope->parent = closure;
  const auto& params = macro.params;
  std::vector<Value> extra;
  for (size_t i = 0; i < args.args.size(); ++i) {
    if (i < params.size()) {
      scope->vars[params[i].name] = std::move(args.args[i]);
    } else if (macro.uses_varargs) {
      extra.push_back(std::move(args.args[i]));
    } else {
      return make_error("macro '", macro.text, "' takes not more than ", params.size(),
                        " argument(s)");
    }
  }
  DictData kwargs;
  for (auto& [name, v] : args.kwargs) {
    bool known = false;
    for (const MacroParam& p : params) known = known || p.name == name;
    if (known) {
      scope->vars[name] = std::move(v);
    } else if (macro.uses_kwargs) {
      kwargs.set(Value::string(name), std::move(v));
    } else {
      return make_error("macro '", macro.text, "' takes no keyword argument '", name, "'");
    }
  }
  for (const MacroParam& p : params) {
    if (scope->vars.count(p.name)) continue;
    if (p.default_value) {
      TRY(Value v, eval(*p.default_value, scope));
      scope->vars[p.name] = std::move(v);
    } else {
      scope->vars[p.name] = Value::undefined(str_cat("parameter '", p.name, "' was not provided"));
    }
  }
  if (macro.uses_varargs) scope->vars["varargs"] = Value::list(std::move(extra), true);
  if (macro.uses_kwargs) scope->vars["kwargs"] = Value::dict(std::move(kwargs));
  std::string out;
  TRY_STATUS(exec(macro.body, scope, &out));
  return Value::string(std::move(out));
}

}  // namespace trapetum::jinja
