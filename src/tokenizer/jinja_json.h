// JSON for the Jinja interpreter: the tojson filter (Python's json.dumps as transformers calls
// it) and JSON input (messages, tools) converted to template values.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "tokenizer/jinja_value.h"

namespace trapetum::jinja {

struct JsonDumpOptions {
  bool ensure_ascii = false;
  bool indent = false;       // pretty-print with indent_text per level
  std::string indent_text;
  std::string item_separator = ", ";  // json.dumps' separators; (",", ": ") when indenting
  std::string key_separator = ": ";
  bool sort_keys = false;
  size_t max_bytes = 16u << 20;  // the dump fails rather than grow past this
};

// json.dumps(v, ...). Undefined values, namespaces and functions are not serializable.
Result<std::string> dump_json(const Value& v, const JsonDumpOptions& options);

// JSON -> values (objects keep their key order). Nesting deeper than max_depth is an error.
Result<Value> value_from_json(const nlohmann::ordered_json& j, int max_depth);

}  // namespace trapetum::jinja
