// Syntax tree of a parsed Jinja template: expressions and statements, each with its line for
// error messages.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja_value.h"

namespace trapetum::jinja {

enum class ExprKind {
  kConst,     // constant
  kName,      // name
  kList,      // [items...]
  kTuple,     // (items...)
  kDict,      // {items[0]: items[1], ...} (keys and values interleaved)
  kGetattr,   // operand.name
  kGetitem,   // operand[items[0]]
  kSlice,     // items: start, stop, step (each may be null); only inside kGetitem
  kCall,      // operand(items..., kwargs..., *dyn_args, **dyn_kwargs)
  kFilter,    // operand | name(items..., kwargs...); operand is null in {% filter %} and set blocks
  kTest,      // operand is name(items..., kwargs...)
  kNot,       // not operand
  kNeg,       // -operand
  kPos,       // +operand
  kBinary,    // operand <bin_op> items[0]
  kAnd,       // operand and items[0]
  kOr,        // operand or items[0]
  kConcat,    // items[0] ~ items[1] ~ ...
  kCompare,   // operand cmp_ops[0] items[0] cmp_ops[1] items[1] ...
  kCondExpr,  // items[1] if items[0] else items[2] (items[2] may be null)
};

enum class BinOp { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };
enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

using FilterFn = Result<Value> (*)(Evaluator&, Value, CallArgs&);
using TestFn = Result<bool> (*)(Evaluator&, const Value&, CallArgs&);

struct Expr {
  ExprKind kind;
  int line = 0;
  int depth = 1;               // height of this subtree (bounded by the parser)
  Value constant;              // kConst
  std::string name;            // kName, kGetattr, kFilter, kTest
  ExprPtr operand;             // see ExprKind
  std::vector<ExprPtr> items;  // see ExprKind
  std::vector<std::pair<std::string, ExprPtr>> kwargs;  // kCall, kFilter, kTest
  ExprPtr dyn_args, dyn_kwargs;                         // kCall: *args, **kwargs
  BinOp bin_op = BinOp::kAdd;
  std::vector<CmpOp> cmp_ops;
  FilterFn filter = nullptr;   // resolved at parse time
  TestFn test = nullptr;
};

// Assignment targets: a name, ns.attr, or a (nested) tuple of names.
struct Target {
  enum class Kind { kName, kNsAttr, kTuple } kind = Kind::kName;
  std::string name;
  std::string attr;
  std::vector<Target> items;
};

enum class StmtKind {
  kText,         // text
  kPrint,        // {{ expr }}
  kIf,           // branches, else_body
  kFor,          // for target in expr [if cond]: body [else: else_body]
  kSet,          // set target = expr
  kSetBlock,     // set target [| filter]: body
  kMacro,        // macro name(params): body
  kFilterBlock,  // filter ...: body
  kBreak,
  kContinue,
  kScope,        // a body rendered in place ({% generation %})
};

struct Stmt;
using StmtList = std::vector<Stmt>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Stmt {
  Stmt(StmtKind k, int l) : kind(k), line(l) {}

  StmtKind kind;
  int line = 0;
  std::string text;   // kText; kMacro: name
  ExprPtr expr;       // kPrint, kFor (iterable), kSet (value), kSetBlock/kFilterBlock (filter chain)
  ExprPtr cond;       // kFor: the inline `if` filter
  Target target;      // kFor, kSet, kSetBlock
  std::vector<std::pair<ExprPtr, StmtList>> branches;  // kIf: (test, body) for if and elifs
  StmtList body;
  StmtList else_body;
  std::vector<MacroParam> params;  // kMacro
  bool uses_varargs = false;       // kMacro: the body reads `varargs` / `kwargs`
  bool uses_kwargs = false;
};

struct TemplateAst {
  StmtList body;
};

}  // namespace trapetum::jinja
