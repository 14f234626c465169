// Jinja builtins: the filter and test tables (looked up by the parser) and the globals every
// template sees (range, namespace, dict, raise_exception, strftime_now).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_eval.h"

namespace trapetum::jinja {

// nullptr when the interpreter does not have the filter / test.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
// True for jinja2 builtins this interpreter leaves out (so errors say "unsupported").
bool is_jinja_filter(std::string_view name);
bool is_jinja_test(std::string_view name);
// The sequence filters' part of the table (jinja_filters_seq.cpp).
FilterFn find_sequence_filter(std::string_view name);

// Calls a filter or test by name at run time (map('upper'), select('odd'), ...).
Result<Value> apply_filter(Evaluator& ev, const std::string& name, Value v, CallArgs& args);
Result<bool> apply_test(Evaluator& ev, const std::string& name, const Value& v, CallArgs& args);

// range, dict, namespace, raise_exception, strftime_now.
void add_globals(Scope* scope);

// Binds call arguments to parameter names, Python style; missing ones are left undefined.
// `what` names the callee in errors ("filter 'join'").
Result<std::vector<Value>> bind_args(CallArgs& args, const std::vector<const char*>& params,
                                     const std::string& what);

}  // namespace trapetum::jinja
