// The Jinja evaluator: renders a parsed template against a scope of variables, with hard limits
// on output size, loop iterations and nesting so that hostile templates fail cleanly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_value.h"

namespace trapetum::jinja {

struct Limits {
  size_t max_output_bytes = 16u << 20;  // rendered text, captured blocks and any one string
  int64_t max_iterations = 1 << 20;     // loop iterations + macro calls + built collection items
  int max_depth = 400;                  // evaluation nesting (expressions, blocks, macro calls)
  int64_t max_work_bytes = int64_t(256) << 20;  // bytes copied, searched or compared by string ops
};

// Variables of one block level. Loop bodies and macros get a child scope per run; `if` does not.
struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;
  const Value* find(const std::string& name) const;
};
using ScopePtr = std::shared_ptr<Scope>;

class Evaluator {
 public:
  explicit Evaluator(const Limits& limits) : limits_(limits) {}
  ~Evaluator();  // empties every namespace made, breaking ns.x = ns reference cycles
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  Result<std::string> render(const TemplateAst& ast, ScopePtr root);

  Result<Value> eval(const Expr& e, const ScopePtr& scope);
  Status exec(const StmtList& body, const ScopePtr& scope, std::string* out);

  // Used by filters, tests, methods and globals.
  Result<Value> call(const Value& fn, CallArgs& args);
  Result<Value> call_macro(const Stmt& macro, const ScopePtr& closure, CallArgs& args);
  Status check_size(size_t bytes) const;
  Status count_iterations(int64_t n);
  // Adds to the work budget: the bytes a string operation reads or writes.
  Status charge(size_t bytes);
  // iterate(), with the items counted against the iteration limit before a string is split.
  Result<std::vector<Value>> iterate_counted(const Value& v);
  std::shared_ptr<NamespaceData> new_namespace();
  const Limits& limits() const { return limits_; }
  const ScopePtr& root() const { return root_; }

 private:
  Result<Value> eval_inner(const Expr& e, const ScopePtr& scope);
  Result<Value> eval_call(const Expr& e, const ScopePtr& scope);
  Result<Value> eval_compare(const Expr& e, const ScopePtr& scope);
  Result<Value> eval_filter(const Expr& e, const ScopePtr& scope, const Value* chain_input);
  Status eval_args(const Expr& e, const ScopePtr& scope, CallArgs* args);
  Status exec_stmt(const Stmt& s, const ScopePtr& scope, std::string* out);
  Status exec_for(const Stmt& s, const ScopePtr& scope, std::string* out);
  Status assign(const Target& t, Value v, Scope* scope, int line);
  Status append(std::string* out, const std::string& text) const;

  // Counts one level of evaluation nesting for its lifetime; check() fails past max_depth.
  class DepthGuard {
   public:
    explicit DepthGuard(Evaluator* ev) : ev_(ev) { ++ev_->depth_; }
    ~DepthGuard() { --ev_->depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    Status check() const {
      if (ev_->depth_ <= ev_->limits_.max_depth) return Ok{};
      return make_error("template nesting exceeds the limit of ", ev_->limits_.max_depth,
                        " (runaway macro recursion?)");
    }

   private:
    Evaluator* ev_;
  };

  Limits limits_;
  ScopePtr root_;
  int depth_ = 0;
  int64_t iterations_ = 0;
  int64_t work_ = 0;
  enum class Flow { kNormal, kBreak, kContinue } flow_ = Flow::kNormal;
  std::vector<std::shared_ptr<NamespaceData>> namespaces_;
};

// Attribute and item access with jinja2's sandboxed semantics (jinja_access.cpp):
// obj.name tries methods/attributes first, then items; obj[key] tries items first.
// Missing attributes and items are undefined values; access on an undefined value is an error.
Result<Value> get_attr(const Value& obj, const std::string& name);
Result<Value> get_item(const Value& obj, const Value& key);
// obj[start:stop:step] on strings, lists and tuples.
Result<Value> get_slice(const Value& obj, std::optional<int64_t> start, std::optional<int64_t> stop,
                        std::optional<int64_t> step);
// Python's binary operators and `in` (jinja_ops.cpp).
Result<Value> binary_op(Evaluator& ev, BinOp op, const Value& a, const Value& b);
Result<bool> contains(const Value& container, const Value& item, size_t* work = nullptr);
Result<Value> negate(const Value& v);

}  // namespace trapetum::jinja
