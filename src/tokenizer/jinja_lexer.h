// Jinja lexer: splits template source into text and tag tokens with jinja2's whitespace rules
// as transformers configures them (trim_blocks, lstrip_blocks, -/+ modifiers, no trailing
// newline kept).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace trapetum::jinja {

enum class TokenType {
  kData,        // literal template text
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,
  kInteger,
  kFloat,
  kOperator,    // text holds the operator: + - * / // % ** ~ == != < <= > >= = . , : | ( ) [ ] { } ;
  kEof,
};

struct Token {
  TokenType type;
  int line;
  std::string text;    // data, name, operator, or the unescaped string literal
  int64_t int_value = 0;
  double float_value = 0;
};

// Errors read "chat template line N: ...".
Result<std::vector<Token>> tokenize(const std::string& source);

// "chat template line N: " + message.
Error error_at(int line, const std::string& message);
// error_at(line, e.message), unless e already names a line (the innermost failing node wins).
Error locate(int line, Error e);

}  // namespace trapetum::jinja
