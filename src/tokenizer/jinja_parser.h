// Jinja parser: template source -> syntax tree, following jinja2's grammar (parser.py).
// Unknown or unsupported tags, filters and tests are errors naming the construct and line.
#pragma once

#include <string>

#include "core/result.h"
#include "tokenizer/jinja_ast.h"

namespace trapetum::jinja {

Result<TemplateAst> parse_template(const std::string& source);

}  // namespace trapetum::jinja
