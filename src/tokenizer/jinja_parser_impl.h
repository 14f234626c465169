// The Jinja parser's internal state, shared by the statement parser (jinja_parser.cpp) and the
// expression parser (jinja_parser_expr.cpp).
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_lexer.h"

namespace trapetum::jinja {

// Nesting limits: recursion in the parser and the evaluator stays far from the stack's end.
constexpr int kMaxParseNesting = 96;   // open blocks plus open brackets/sub-expressions
constexpr int kMaxExprDepth = 160;     // height of one expression tree (a|f|f|f... chains too)

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}
  Result<TemplateAst> parse();

  // Statements (jinja_parser.cpp).
  Result<StmtList> subparse(std::initializer_list<const char*> end_names);
  Result<StmtList> subparse_body(std::initializer_list<const char*> end_names);
  Result<Stmt> parse_statement();
  Result<StmtList> parse_statements(std::initializer_list<const char*> end_names, bool drop_needle);
  Result<Stmt> parse_for(int line);
  Result<Stmt> parse_if(int line);
  Result<Stmt> parse_set(int line);
  Result<Stmt> parse_macro(int line);
  Result<Target> parse_target(bool with_namespace, std::initializer_list<const char*> end_names);
  Result<Target> parse_target_item(bool with_namespace);
  Status resolve(StmtList* body, bool soft);
  Status resolve(Expr* e, bool soft);

  // Expressions (jinja_parser_expr.cpp).
  Result<ExprPtr> parse_expression(bool with_condexpr = true);
  Result<ExprPtr> parse_tuple(bool with_condexpr, std::initializer_list<const char*> extra_end,
                              bool explicit_parentheses);
  Result<ExprPtr> parse_condexpr();
  Result<ExprPtr> parse_or();
  Result<ExprPtr> parse_and();
  // Left-associative chain `operand (word operand)*` of a logical operator.
  Result<ExprPtr> parse_logical(const char* word, ExprKind kind, Result<ExprPtr> (Parser::*operand)());
  Result<ExprPtr> parse_not();
  Result<ExprPtr> parse_compare();
  Result<ExprPtr> parse_math1();
  Result<ExprPtr> parse_concat();
  Result<ExprPtr> parse_math2();
  Result<ExprPtr> parse_pow();
  Result<ExprPtr> parse_unary(bool with_filter);
  Result<ExprPtr> parse_primary();
  // A call of callee; the current token is its "(".
  Result<ExprPtr> parse_call(ExprPtr callee);
  Result<ExprPtr> parse_postfix(ExprPtr node);
  Result<ExprPtr> parse_filter_expr(ExprPtr node);
  Result<ExprPtr> parse_subscript(ExprPtr node);
  Result<ExprPtr> parse_subscribed();
  Status parse_call_args(Expr* call);
  Result<ExprPtr> parse_filter(ExprPtr node, bool start_inline);
  Result<ExprPtr> parse_test(ExprPtr node);

  // Token helpers.
  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  const Token& next() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }
  bool is_op(const char* op) const;
  bool is_name(const char* name) const;
  bool skip_op(const char* op);
  bool skip_name(const char* name);
  Status expect_op(const char* op);
  Result<std::string> expect_name();
  Status expect(TokenType type);
  bool is_tuple_end(std::initializer_list<const char*> extra_end) const;
  std::string describe(const Token& t) const;
  Error fail(const std::string& message) const { return error_at(cur().line, message); }

  ExprPtr make(ExprKind kind, int line) const;
  // Computes node->depth from its children; an error when the tree grows too tall.
  Status seal(Expr* node) const;

  // RAII nesting counter for recursive descent.
  class Nest {
   public:
    explicit Nest(Parser* p) : p_(p) { ++p_->nesting_; }
    ~Nest() { --p_->nesting_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    bool too_deep() const { return p_->nesting_ > kMaxParseNesting; }

   private:
    Parser* p_;
  };

  std::vector<Token> t_;
  size_t i_ = 0;
  int nesting_ = 0;
  int loop_depth_ = 0;                                 // for break/continue
  std::vector<std::pair<std::string, int>> blocks_;  // open tags (name, line) for messages
  std::vector<std::initializer_list<const char*>> expected_;  // end tags each open body awaits
};

}  // namespace trapetum::jinja
