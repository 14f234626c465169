// Jinja statement parser: template text, {{ }} and the tags for, if, set, macro, filter,
// break/continue, print and transformers' generation; anything else is a named error.
#include "tokenizer/jinja_parser.h"

#include <algorithm>
#include <cstring>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_parser_impl.h"

namespace trapetum::jinja {
namespace {

// jinja2 tags (core and extensions) that this interpreter does not implement.
constexpr const char* kUnsupportedTags[] = {
    "block", "extends", "include", "import", "from", "call", "with", "autoescape", "do",
    "trans", "pluralize", "debug", "endcall", "endblock", "endwith", "endautoescape", "endtrans",
};

constexpr std::initializer_list<const char*> kClosingTags = {
    "elif", "else", "endif", "endfor", "endset", "endmacro", "endfilter", "endgeneration", "endraw",
};

bool in_list(std::initializer_list<const char*> names, const std::string& s) {
  for (const char* n : names) {
    if (s == n) return true;
  }
  return false;
}

std::string quoted_list(std::initializer_list<const char*> names) {
  std::string out;
  size_t i = 0;
  for (const char* n : names) {
    if (i++) out += i == names.size() ? " or " : ", ";
    out += str_cat("'", n, "'");
  }
  return out;
}

}  // namespace

Result<TemplateAst> parse_template(const std::string& source) {
  TRY(std::vector<Token> tokens, tokenize(source));
  return Parser(std::move(tokens)).parse();
}

Result<TemplateAst> Parser::parse() {
  TemplateAst ast;
  TRY(ast.body, subparse({}));
  TRY_STATUS(resolve(&ast.body, false));
  return ast;
}

Result<StmtList> Parser::subparse(std::initializer_list<const char*> end_names) {
  Nest nest(this);
  if (nest.too_deep()) return fail("blocks nested too deeply");
  if (end_names.size()) expected_.push_back(end_names);
  auto r = subparse_body(end_names);
  if (end_names.size()) expected_.pop_back();
  return r;
}

Result<StmtList> Parser::subparse_body(std::initializer_list<const char*> end_names) {
  StmtList body;
  while (true) {
    const Token& tok = cur();
    if (tok.type == TokenType::kEof) {
      if (end_names.size() == 0) return body;
      std::string msg = str_cat("unexpected end of template, expected ", quoted_list(end_names));
      if (!blocks_.empty()) {
        msg += str_cat(" to close the '", blocks_.back().first, "' opened on line ",
                       blocks_.back().second);
      }
      return fail(msg);
    }
    if (tok.type == TokenType::kData) {
      Stmt s{StmtKind::kText, tok.line};
      s.text = tok.text;
      body.push_back(std::move(s));
      next();
    } else if (tok.type == TokenType::kVarBegin) {
      int line = next().line;
      Stmt s{StmtKind::kPrint, line};
      TRY(s.expr, parse_tuple(true, {}, false));
      TRY_STATUS(expect(TokenType::kVarEnd));
      body.push_back(std::move(s));
    } else if (tok.type == TokenType::kBlockBegin) {
      next();
      if (cur().type == TokenType::kName && in_list(end_names, cur().text)) return body;
      TRY(Stmt s, parse_statement());
      TRY_STATUS(expect(TokenType::kBlockEnd));
      body.push_back(std::move(s));
    } else {
      return fail(str_cat("unexpected ", describe(tok)));
    }
  }
}

Result<StmtList> Parser::parse_statements(std::initializer_list<const char*> end_names,
                                          bool drop_needle) {
  skip_op(":");
  TRY_STATUS(expect(TokenType::kBlockEnd));
  TRY(StmtList body, subparse(end_names));
  if (drop_needle) next();
  return body;
}

Result<Stmt> Parser::parse_statement() {
  const Token& tok = cur();
  if (tok.type != TokenType::kName) return fail(str_cat("tag name expected, got ", describe(tok)));
  const std::string name = tok.text;
  int line = tok.line;
  if (name == "for" || name == "if" || name == "set" || name == "macro" || name == "filter" ||
      name == "generation") {
    blocks_.emplace_back(name, line);
  }
  next();
  Result<Stmt> r = make_error("");
  if (name == "for") {
    r = parse_for(line);
  } else if (name == "if") {
    r = parse_if(line);
  } else if (name == "set") {
    r = parse_set(line);
  } else if (name == "macro") {
    r = parse_macro(line);
  } else if (name == "filter") {
    Stmt s{StmtKind::kFilterBlock, line};
    auto f = parse_filter(nullptr, true);
    if (!f.ok()) return std::move(f).take_error();
    s.expr = std::move(f).value();
    auto b = parse_statements({"endfilter"}, true);
    if (!b.ok()) return std::move(b).take_error();
    s.body = std::move(b).value();
    r = std::move(s);
  } else if (name == "generation") {
    Stmt s{StmtKind::kScope, line};
    auto b = parse_statements({"endgeneration"}, true);
    if (!b.ok()) return std::move(b).take_error();
    s.body = std::move(b).value();
    r = std::move(s);
  } else if (name == "print") {
    // {% print a, b %} prints the tuple's items one after another; {% print %} prints nothing.
    Stmt s{StmtKind::kPrint, line};
    s.expr = make(ExprKind::kConcat, line);
    while (cur().type != TokenType::kBlockEnd) {
      if (!s.expr->items.empty()) TRY_STATUS(expect_op(","));
      TRY(ExprPtr part, parse_expression());
      s.expr->items.push_back(std::move(part));
    }
    TRY_STATUS(seal(s.expr.get()));
    return s;
  } else if (name == "break" || name == "continue") {
    if (loop_depth_ == 0) return error_at(line, str_cat("'", name, "' outside of a for loop"));
    return Stmt{name == "break" ? StmtKind::kBreak : StmtKind::kContinue, line};
  } else if (std::find_if(std::begin(kUnsupportedTags), std::end(kUnsupportedTags),
                          [&](const char* t) { return name == t; }) != std::end(kUnsupportedTags)) {
    return error_at(line, str_cat("unsupported tag '", name, "'"));
  } else if (in_list(kClosingTags, name)) {
    std::string msg = str_cat("unexpected tag '", name, "'");
    if (!expected_.empty() && !blocks_.empty()) {
      msg += str_cat(", expected ", quoted_list(expected_.back()), " to close the '",
                     blocks_.back().first, "' opened on line ", blocks_.back().second);
    }
    return error_at(line, msg);
  } else {
    return error_at(line, str_cat("unknown tag '", name, "'"));
  }
  if (r.ok()) blocks_.pop_back();
  return r;
}

Result<Stmt> Parser::parse_for(int line) {
  Stmt s{StmtKind::kFor, line};
  TRY(s.target, parse_target(false, {"in"}));
  if (!skip_name("in")) return fail(str_cat("expected 'in', got ", describe(cur())));
  TRY(s.expr, parse_tuple(false, {"recursive"}, false));
  if (skip_name("if")) {
    TRY(s.cond, parse_expression());
  }
  if (is_name("recursive")) return fail("unsupported recursive for loop");
  ++loop_depth_;
  auto body = parse_statements({"endfor", "else"}, false);
  --loop_depth_;
  if (!body.ok()) return std::move(body).take_error();
  s.body = std::move(body).value();
  if (next().text == "else") {
    TRY(s.else_body, parse_statements({"endfor"}, true));
  }
  return s;
}

Result<Stmt> Parser::parse_if(int line) {
  Stmt s{StmtKind::kIf, line};
  while (true) {
    TRY(ExprPtr test, parse_tuple(false, {}, false));
    TRY(StmtList body, parse_statements({"elif", "else", "endif"}, false));
    s.branches.emplace_back(std::move(test), std::move(body));
    const std::string& end = next().text;
    if (end == "elif") continue;
    if (end == "else") {
      TRY(s.else_body, parse_statements({"endif"}, true));
    }
    return s;
  }
}

Result<Stmt> Parser::parse_set(int line) {
  TRY(Target target, parse_target(true, {}));
  if (skip_op("=")) {
    Stmt s{StmtKind::kSet, line};
    s.target = std::move(target);
    TRY(s.expr, parse_tuple(true, {}, false));
    return s;
  }
  Stmt s{StmtKind::kSetBlock, line};
  s.target = std::move(target);
  if (is_op("|")) {
    TRY(s.expr, parse_filter(nullptr, false));
  }
  TRY(s.body, parse_statements({"endset"}, true));
  return s;
}

Result<Stmt> Parser::parse_macro(int line) {
  Stmt s{StmtKind::kMacro, line};
  TRY(s.text, expect_name());
  TRY_STATUS(expect_op("("));
  while (!is_op(")")) {
    if (!s.params.empty()) TRY_STATUS(expect_op(","));
    MacroParam p;
    TRY(p.name, expect_name());
    if (skip_op("=")) {
      TRY(p.default_value, parse_expression());
    } else if (!s.params.empty() && s.params.back().default_value) {
      return fail("non-default argument follows default argument");
    }
    s.params.push_back(std::move(p));
  }
  TRY_STATUS(expect_op(")"));
  size_t body_begin = i_;
  int saved_loops = loop_depth_;
  loop_depth_ = 0;
  auto body = parse_statements({"endmacro"}, true);
  loop_depth_ = saved_loops;
  if (!body.ok()) return std::move(body).take_error();
  s.body = std::move(body).value();
  for (size_t k = body_begin; k < i_; ++k) {
    if (t_[k].type != TokenType::kName) continue;
    s.uses_varargs = s.uses_varargs || t_[k].text == "varargs";
    s.uses_kwargs = s.uses_kwargs || t_[k].text == "kwargs";
  }
  return s;
}

Result<Target> Parser::parse_target(bool with_namespace,
                                    std::initializer_list<const char*> end_names) {
  Target tuple;
  tuple.kind = Target::Kind::kTuple;
  bool is_tuple = false;
  while (true) {
    if (!tuple.items.empty()) TRY_STATUS(expect_op(","));
    if (is_tuple_end(end_names)) break;
    TRY(Target item, parse_target_item(with_namespace));
    tuple.items.push_back(std::move(item));
    if (!is_op(",")) break;
    is_tuple = true;
  }
  if (tuple.items.empty()) return fail(str_cat("expected an assignment target, got ", describe(cur())));
  if (!is_tuple) return std::move(tuple.items[0]);
  return tuple;
}

Result<Target> Parser::parse_target_item(bool with_namespace) {
  if (skip_op("(")) {
    Nest nest(this);
    if (nest.too_deep()) return fail("assignment target nested too deeply");
    TRY(Target inner, parse_target(false, {}));
    TRY_STATUS(expect_op(")"));
    return inner;
  }
  if (cur().type != TokenType::kName) return fail(str_cat("can't assign to ", describe(cur())));
  std::string name = next().text;
  static constexpr const char* kConstants[] = {"true", "false", "True", "False", "none", "None"};
  for (const char* c : kConstants) {
    if (name == c) return fail(str_cat("can't assign to constant '", name, "'"));
  }
  Target t;
  t.name = name;
  if (with_namespace && skip_op(".")) {
    t.kind = Target::Kind::kNsAttr;
    TRY(t.attr, expect_name());
  }
  return t;
}

// Filter and test names are resolved after parsing, as jinja2's compiler does: an unknown
// name is an error, except inside an if statement or an inline if-expression (a "soft" frame),
// where it fails only if that code runs.
Status Parser::resolve(StmtList* body, bool soft) {
  for (Stmt& s : *body) {
    switch (s.kind) {
      case StmtKind::kIf:
        for (auto& [test, branch] : s.branches) {
          TRY_STATUS(resolve(test.get(), true));
          TRY_STATUS(resolve(&branch, true));
        }
        TRY_STATUS(resolve(&s.else_body, true));
        break;
      case StmtKind::kFor:
        TRY_STATUS(resolve(s.expr.get(), soft));
        TRY_STATUS(resolve(s.cond.get(), false));
        TRY_STATUS(resolve(&s.body, false));
        TRY_STATUS(resolve(&s.else_body, false));
        break;
      case StmtKind::kMacro:
        for (MacroParam& p : s.params) TRY_STATUS(resolve(p.default_value.get(), false));
        TRY_STATUS(resolve(&s.body, false));
        break;
      case StmtKind::kSetBlock:
      case StmtKind::kFilterBlock:
      case StmtKind::kScope:
        TRY_STATUS(resolve(s.expr.get(), soft));
        TRY_STATUS(resolve(&s.body, false));
        break;
      default:
        TRY_STATUS(resolve(s.expr.get(), soft));
    }
  }
  return Ok{};
}

Status Parser::resolve(Expr* e, bool soft) {
  if (!e) return Ok{};
  soft = soft || e->kind == ExprKind::kCondExpr;
  if (e->kind == ExprKind::kFilter) {
    e->filter = find_filter(e->name);
    if (!e->filter && !soft) {
      return error_at(e->line, str_cat(is_jinja_filter(e->name) ? "unsupported" : "unknown",
                                       " filter '", e->name, "'"));
    }
  } else if (e->kind == ExprKind::kTest) {
    e->test = find_test(e->name);
    if (!e->test && !soft) {
      return error_at(e->line, str_cat(is_jinja_test(e->name) ? "unsupported" : "unknown",
                                       " test '", e->name, "'"));
    }
  }
  TRY_STATUS(resolve(e->operand.get(), soft));
  TRY_STATUS(resolve(e->dyn_args.get(), soft));
  TRY_STATUS(resolve(e->dyn_kwargs.get(), soft));
  for (ExprPtr& c : e->items) TRY_STATUS(resolve(c.get(), soft));
  for (auto& kw : e->kwargs) TRY_STATUS(resolve(kw.second.get(), soft));
  return Ok{};
}

// Token helpers.

bool Parser::is_op(const char* op) const {
  return cur().type == TokenType::kOperator && cur().text == op;
}

bool Parser::is_name(const char* name) const {
  return cur().type == TokenType::kName && cur().text == name;
}

bool Parser::skip_op(const char* op) {
  if (!is_op(op)) return false;
  next();
  return true;
}

bool Parser::skip_name(const char* name) {
  if (!is_name(name)) return false;
  next();
  return true;
}

Status Parser::expect_op(const char* op) {
  if (skip_op(op)) return Ok{};
  return fail(str_cat("expected '", op, "', got ", describe(cur())));
}

Result<std::string> Parser::expect_name() {
  if (cur().type != TokenType::kName) return fail(str_cat("expected a name, got ", describe(cur())));
  return next().text;
}

Status Parser::expect(TokenType type) {
  if (cur().type == type) {
    next();
    return Ok{};
  }
  const char* what = type == TokenType::kBlockEnd ? "end of statement block '%}'"
                     : type == TokenType::kVarEnd ? "end of print statement '}}'"
                                                  : "a different token";
  return fail(str_cat("expected ", what, ", got ", describe(cur())));
}

bool Parser::is_tuple_end(std::initializer_list<const char*> extra_end) const {
  const Token& t = cur();
  if (t.type == TokenType::kVarEnd || t.type == TokenType::kBlockEnd || is_op(")")) return true;
  return t.type == TokenType::kName && in_list(extra_end, t.text);
}

std::string Parser::describe(const Token& t) const {
  switch (t.type) {
    case TokenType::kData: return "template data";
    case TokenType::kVarBegin: return "'{{'";
    case TokenType::kVarEnd: return "end of print statement '}}'";
    case TokenType::kBlockBegin: return "'{%'";
    case TokenType::kBlockEnd: return "end of statement block '%}'";
    case TokenType::kEof: return "end of template";
    case TokenType::kString: return "a string literal";
    default: return str_cat("'", t.text, "'");
  }
}

ExprPtr Parser::make(ExprKind kind, int line) const {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

Status Parser::seal(Expr* node) const {
  int d = 0;
  auto see = [&](const ExprPtr& c) {
    if (c) d = std::max(d, c->depth);
  };
  see(node->operand);
  see(node->dyn_args);
  see(node->dyn_kwargs);
  for (const ExprPtr& c : node->items) see(c);
  for (const auto& kw : node->kwargs) see(kw.second);
  node->depth = d + 1;
  if (node->depth > kMaxExprDepth) return error_at(node->line, "expression nested too deeply");
  return Ok{};
}

}  // namespace trapetum::jinja
