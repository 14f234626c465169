// Jinja expression parser: jinja2's precedence ladder (condexpr, or, and, not, compare, + -,
// ~, * / // %, **, unary, filters/tests, postfix, primary).
#include "tokenizer/jinja_parser_impl.h"

namespace trapetum::jinja {

Result<ExprPtr> Parser::parse_expression(bool with_condexpr) {
  Nest nest(this);
  if (nest.too_deep()) return fail("expression nested too deeply");
  return with_condexpr ? parse_condexpr() : parse_or();
}

Result<ExprPtr> Parser::parse_tuple(bool with_condexpr, std::initializer_list<const char*> extra_end,
                                    bool explicit_parentheses) {
  int line = cur().line;
  std::vector<ExprPtr> args;
  bool is_tuple = false;
  while (true) {
    if (!args.empty()) TRY_STATUS(expect_op(","));
    if (is_tuple_end(extra_end)) break;
    TRY(ExprPtr e, parse_expression(with_condexpr));
    args.push_back(std::move(e));
    if (!is_op(",")) break;
    is_tuple = true;
  }
  if (!is_tuple) {
    if (!args.empty()) return std::move(args[0]);
    if (!explicit_parentheses) return fail(str_cat("expected an expression, got ", describe(cur())));
  }
  ExprPtr t = make(ExprKind::kTuple, line);
  t->items = std::move(args);
  TRY_STATUS(seal(t.get()));
  return t;
}

Result<ExprPtr> Parser::parse_condexpr() {
  int line = cur().line;
  TRY(ExprPtr expr, parse_or());
  while (skip_name("if")) {
    ExprPtr c = make(ExprKind::kCondExpr, line);
    TRY(ExprPtr test, parse_or());
    ExprPtr otherwise;
    if (skip_name("else")) {
      TRY(otherwise, parse_condexpr());
    }
    c->items.push_back(std::move(test));
    c->items.push_back(std::move(expr));
    c->items.push_back(std::move(otherwise));
    TRY_STATUS(seal(c.get()));
    expr = std::move(c);
    line = cur().line;
  }
  return expr;
}

Result<ExprPtr> Parser::parse_logical(const char* word, ExprKind kind, Result<ExprPtr> (Parser::*operand)()) {
  int line = cur().line;
  TRY(ExprPtr left, (this->*operand)());
  while (skip_name(word)) {
    ExprPtr node = make(kind, line);
    node->operand = std::move(left);
    TRY(ExprPtr right, (this->*operand)());
    node->items.push_back(std::move(right));
    TRY_STATUS(seal(node.get()));
    left = std::move(node);
  }
  return left;
}

Result<ExprPtr> Parser::parse_or() { return parse_logical("or", ExprKind::kOr, &Parser::parse_and); }

Result<ExprPtr> Parser::parse_and() { return parse_logical("and", ExprKind::kAnd, &Parser::parse_not); }

Result<ExprPtr> Parser::parse_not() {
  if (is_name("not")) {
    Nest nest(this);
    if (nest.too_deep()) return fail("expression nested too deeply");
    ExprPtr node = make(ExprKind::kNot, next().line);
    TRY(node->operand, parse_not());
    TRY_STATUS(seal(node.get()));
    return node;
  }
  return parse_compare();
}

Result<ExprPtr> Parser::parse_compare() {
  int line = cur().line;
  TRY(ExprPtr expr, parse_math1());
  ExprPtr node;
  while (true) {
    CmpOp op;
    if (is_op("==")) {
      op = CmpOp::kEq;
    } else if (is_op("!=")) {
      op = CmpOp::kNe;
    } else if (is_op("<")) {
      op = CmpOp::kLt;
    } else if (is_op("<=")) {
      op = CmpOp::kLe;
    } else if (is_op(">")) {
      op = CmpOp::kGt;
    } else if (is_op(">=")) {
      op = CmpOp::kGe;
    } else if (is_name("in")) {
      op = CmpOp::kIn;
    } else if (is_name("not") && peek().type == TokenType::kName && peek().text == "in") {
      next();
      op = CmpOp::kNotIn;
    } else {
      break;
    }
    next();
    if (!node) {
      node = make(ExprKind::kCompare, line);
      node->operand = std::move(expr);
    }
    node->cmp_ops.push_back(op);
    TRY(ExprPtr rhs, parse_math1());
    node->items.push_back(std::move(rhs));
  }
  if (!node) return expr;
  TRY_STATUS(seal(node.get()));
  return node;
}

namespace {

Result<ExprPtr> binary(const Parser& p, ExprPtr left, BinOp op, ExprPtr right, int line) {
  ExprPtr node = p.make(ExprKind::kBinary, line);
  node->bin_op = op;
  node->operand = std::move(left);
  node->items.push_back(std::move(right));
  TRY_STATUS(p.seal(node.get()));
  return node;
}

}  // namespace

Result<ExprPtr> Parser::parse_math1() {
  int line = cur().line;
  TRY(ExprPtr left, parse_concat());
  while (is_op("+") || is_op("-")) {
    BinOp op = next().text == "+" ? BinOp::kAdd : BinOp::kSub;
    TRY(ExprPtr right, parse_concat());
    TRY(left, binary(*this, std::move(left), op, std::move(right), line));
  }
  return left;
}

Result<ExprPtr> Parser::parse_concat() {
  int line = cur().line;
  TRY(ExprPtr first, parse_math2());
  if (!is_op("~")) return first;
  ExprPtr node = make(ExprKind::kConcat, line);
  node->items.push_back(std::move(first));
  while (skip_op("~")) {
    TRY(ExprPtr part, parse_math2());
    node->items.push_back(std::move(part));
  }
  TRY_STATUS(seal(node.get()));
  return node;
}

Result<ExprPtr> Parser::parse_math2() {
  int line = cur().line;
  TRY(ExprPtr left, parse_pow());
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    const std::string& t = next().text;
    BinOp op = t == "*" ? BinOp::kMul : t == "/" ? BinOp::kDiv : t == "//" ? BinOp::kFloorDiv
                                                                         : BinOp::kMod;
    TRY(ExprPtr right, parse_pow());
    TRY(left, binary(*this, std::move(left), op, std::move(right), line));
  }
  return left;
}

Result<ExprPtr> Parser::parse_pow() {
  int line = cur().line;
  TRY(ExprPtr left, parse_unary(true));
  while (skip_op("**")) {
    TRY(ExprPtr right, parse_unary(true));
    TRY(left, binary(*this, std::move(left), BinOp::kPow, std::move(right), line));
  }
  return left;
}

Result<ExprPtr> Parser::parse_unary(bool with_filter) {
  Nest nest(this);
  if (nest.too_deep()) return fail("expression nested too deeply");
  int line = cur().line;
  ExprPtr node;
  if (is_op("-") || is_op("+")) {
    node = make(next().text == "-" ? ExprKind::kNeg : ExprKind::kPos, line);
    TRY(node->operand, parse_unary(false));
    TRY_STATUS(seal(node.get()));
  } else {
    TRY(node, parse_primary());
  }
  TRY(node, parse_postfix(std::move(node)));
  if (with_filter) {
    TRY(node, parse_filter_expr(std::move(node)));
  }
  return node;
}

Result<ExprPtr> Parser::parse_primary() {
  const Token& tok = cur();
  int line = tok.line;
  if (tok.type == TokenType::kName) {
    next();
    ExprPtr node = make(ExprKind::kConst, line);
    const std::string& n = tok.text;
    if (n == "true" || n == "True" || n == "false" || n == "False") {
      node->constant = Value::boolean(n == "true" || n == "True");
    } else if (n == "none" || n == "None") {
      node->constant = Value::none();
    } else {
      node->kind = ExprKind::kName;
      node->name = n;
    }
    return node;
  }
  if (tok.type == TokenType::kString) {
    std::string text;
    while (cur().type == TokenType::kString) text += next().text;
    ExprPtr node = make(ExprKind::kConst, line);
    node->constant = Value::string(std::move(text));
    return node;
  }
  if (tok.type == TokenType::kInteger || tok.type == TokenType::kFloat) {
    next();
    ExprPtr node = make(ExprKind::kConst, line);
    node->constant = tok.type == TokenType::kInteger ? Value::integer(tok.int_value)
                                                     : Value::number(tok.float_value);
    return node;
  }
  if (skip_op("(")) {
    TRY(ExprPtr inner, parse_tuple(true, {}, true));
    TRY_STATUS(expect_op(")"));
    return inner;
  }
  if (is_op("[") || is_op("{")) {
    bool is_dict = next().text == "{";
    const char* close = is_dict ? "}" : "]";
    ExprPtr node = make(is_dict ? ExprKind::kDict : ExprKind::kList, line);
    while (!is_op(close)) {
      if (!node->items.empty()) TRY_STATUS(expect_op(","));
      if (is_op(close)) break;
      TRY(ExprPtr item, parse_expression());
      node->items.push_back(std::move(item));
      if (is_dict) {
        TRY_STATUS(expect_op(":"));
        TRY(ExprPtr value, parse_expression());
        node->items.push_back(std::move(value));
      }
    }
    TRY_STATUS(expect_op(close));
    TRY_STATUS(seal(node.get()));
    return node;
  }
  return fail(str_cat("unexpected ", describe(tok)));
}

Result<ExprPtr> Parser::parse_call(ExprPtr callee) {
  ExprPtr call = make(ExprKind::kCall, cur().line);
  call->operand = std::move(callee);
  TRY_STATUS(parse_call_args(call.get()));
  return call;
}

Result<ExprPtr> Parser::parse_postfix(ExprPtr node) {
  while (true) {
    if (is_op(".") || is_op("[")) {
      TRY(node, parse_subscript(std::move(node)));
    } else if (is_op("(")) {
      TRY(node, parse_call(std::move(node)));
    } else {
      return node;
    }
  }
}

Result<ExprPtr> Parser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (is_op("|")) {
      TRY(node, parse_filter(std::move(node), false));
    } else if (is_name("is")) {
      TRY(node, parse_test(std::move(node)));
    } else if (is_op("(")) {
      TRY(node, parse_call(std::move(node)));
    } else {
      return node;
    }
  }
}

Result<ExprPtr> Parser::parse_subscript(ExprPtr node) {
  const Token& tok = next();
  if (tok.text == ".") {
    const Token& attr = next();
    if (attr.type == TokenType::kName) {
      ExprPtr g = make(ExprKind::kGetattr, tok.line);
      g->operand = std::move(node);
      g->name = attr.text;
      TRY_STATUS(seal(g.get()));
      return g;
    }
    if (attr.type != TokenType::kInteger) return error_at(attr.line, "expected name or number");
    ExprPtr g = make(ExprKind::kGetitem, tok.line);
    g->operand = std::move(node);
    ExprPtr index = make(ExprKind::kConst, attr.line);
    index->constant = Value::integer(attr.int_value);
    g->items.push_back(std::move(index));
    TRY_STATUS(seal(g.get()));
    return g;
  }
  std::vector<ExprPtr> args;
  while (!is_op("]")) {
    if (!args.empty()) TRY_STATUS(expect_op(","));
    TRY(ExprPtr a, parse_subscribed());
    args.push_back(std::move(a));
  }
  TRY_STATUS(expect_op("]"));
  ExprPtr g = make(ExprKind::kGetitem, tok.line);
  g->operand = std::move(node);
  if (args.size() == 1) {
    g->items.push_back(std::move(args[0]));
  } else {
    ExprPtr t = make(ExprKind::kTuple, tok.line);
    t->items = std::move(args);
    TRY_STATUS(seal(t.get()));
    g->items.push_back(std::move(t));
  }
  TRY_STATUS(seal(g.get()));
  return g;
}

Result<ExprPtr> Parser::parse_subscribed() {
  int line = cur().line;
  ExprPtr first;
  if (!is_op(":")) {
    TRY(first, parse_expression());
    if (!is_op(":")) return first;
  }
  next();  // ':'
  ExprPtr slice = make(ExprKind::kSlice, line);
  slice->items.push_back(std::move(first));
  ExprPtr stop, step;
  if (!is_op(":") && !is_op("]") && !is_op(",")) {
    TRY(stop, parse_expression());
  }
  if (skip_op(":") && !is_op("]") && !is_op(",")) {
    TRY(step, parse_expression());
  }
  slice->items.push_back(std::move(stop));
  slice->items.push_back(std::move(step));
  TRY_STATUS(seal(slice.get()));
  return slice;
}

Status Parser::parse_call_args(Expr* call) {
  int line = cur().line;
  TRY_STATUS(expect_op("("));
  bool need_comma = false;
  auto bad = [&] { return error_at(line, "invalid syntax for function call expression"); };
  while (!is_op(")")) {
    if (need_comma) {
      TRY_STATUS(expect_op(","));
      if (is_op(")")) break;
    }
    if (skip_op("*")) {
      if (call->dyn_args || call->dyn_kwargs) return bad();
      TRY(call->dyn_args, parse_expression());
    } else if (skip_op("**")) {
      if (call->dyn_kwargs) return bad();
      TRY(call->dyn_kwargs, parse_expression());
    } else if (cur().type == TokenType::kName && peek().type == TokenType::kOperator &&
               peek().text == "=") {
      if (call->dyn_kwargs) return bad();
      std::string key = next().text;
      next();
      TRY(ExprPtr value, parse_expression());
      call->kwargs.emplace_back(std::move(key), std::move(value));
    } else {
      if (call->dyn_args || call->dyn_kwargs || !call->kwargs.empty()) return bad();
      TRY(ExprPtr value, parse_expression());
      call->items.push_back(std::move(value));
    }
    need_comma = true;
  }
  TRY_STATUS(expect_op(")"));
  return seal(call);
}

Result<ExprPtr> Parser::parse_filter(ExprPtr node, bool start_inline) {
  while (is_op("|") || start_inline) {
    if (!start_inline) next();
    start_inline = false;
    int line = cur().line;
    TRY(std::string name, expect_name());
    while (skip_op(".")) {
      TRY(std::string part, expect_name());
      name += "." + part;
    }
    ExprPtr f = make(ExprKind::kFilter, line);
    f->name = name;
    f->operand = std::move(node);
    if (is_op("(")) {
      TRY_STATUS(parse_call_args(f.get()));
      if (f->dyn_args || f->dyn_kwargs) return error_at(line, "unsupported *args in a filter call");
    }
    TRY_STATUS(seal(f.get()));
    node = std::move(f);
  }
  return node;
}

Result<ExprPtr> Parser::parse_test(ExprPtr node) {
  int line = next().line;  // 'is'
  bool negated = skip_name("not");
  TRY(std::string name, expect_name());
  while (skip_op(".")) {
    TRY(std::string part, expect_name());
    name += "." + part;
  }
  ExprPtr t = make(ExprKind::kTest, line);
  t->name = name;
  t->operand = std::move(node);
  const Token& c = cur();
  bool arg_start = c.type == TokenType::kName || c.type == TokenType::kString ||
                   c.type == TokenType::kInteger || c.type == TokenType::kFloat ||
                   is_op("(") || is_op("[") || is_op("{");
  if (is_op("(")) {
    TRY_STATUS(parse_call_args(t.get()));
    if (t->dyn_args || t->dyn_kwargs) return error_at(line, "unsupported *args in a test");
  } else if (arg_start && !is_name("else") && !is_name("or") && !is_name("and")) {
    if (is_name("is")) return fail("you cannot chain multiple tests with is");
    TRY(ExprPtr arg, parse_primary());
    TRY(arg, parse_postfix(std::move(arg)));
    t->items.push_back(std::move(arg));
  }
  TRY_STATUS(seal(t.get()));
  if (!negated) return t;
  ExprPtr n = make(ExprKind::kNot, line);
  n->operand = std::move(t);
  TRY_STATUS(seal(n.get()));
  return n;
}

}  // namespace trapetum::jinja
