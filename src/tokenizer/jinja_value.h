// Values of the Jinja interpreter: Python's None/bool/int/float/str/list/tuple/dict, jinja2's
// Undefined, namespace() objects and callables, with Python's str(), repr(), ==, < and truth.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"

namespace trapetum::jinja {

class Value;
class Evaluator;

// Lists and tuples are immutable once built (the sandbox forbids append and friends).
struct ListData {
  std::vector<Value> items;
  bool is_tuple = false;
  int depth = 1;  // nesting depth, bounded so that hostile templates cannot build deep chains
};

// An insertion-ordered dict. Keys compare with Python equality (1 == 1.0 == True).
class DictData {
 public:
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
  size_t size() const;  // defined below Value: clang instantiates vector::size eagerly
  int depth() const { return depth_; }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<Value, Value>> entries_;
  std::unordered_map<std::string, size_t> string_keys_;  // string key -> index in entries_
  int depth_ = 1;
};

// namespace(): the one mutable object (ns.x = ... assigns through every reference).
struct NamespaceData {
  DictData attrs;
};

struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};

using NativeFn = std::function<Result<Value>(Evaluator&, CallArgs&)>;

// The `loop` variable of one for-loop iteration; its attributes are computed on access.
struct LoopData {
  std::shared_ptr<const std::vector<Value>> items;  // the (filtered) sequence being looped over
  size_t index = 0;
};

// Globals, bound methods ('abc'.upper), loop.cycle and macros.
struct Function {
  std::string name;  // printed as <name>: "function range", "Macro 'm'", ...
  NativeFn fn;
};

enum class Kind : uint8_t {
  kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kFunction, kLoop
};

class Value {
 public:
  Value() = default;  // undefined
  static Value undefined(std::string hint);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s);
  static Value list(std::vector<Value> items, bool is_tuple = false);
  static Value dict(std::shared_ptr<DictData> d);
  static Value dict(DictData d) { return dict(std::make_shared<DictData>(std::move(d))); }
  static Value ns(std::shared_ptr<NamespaceData> n);
  static Value function(std::string name, NativeFn fn);
  static Value loop(std::shared_ptr<const std::vector<Value>> items, size_t index);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }  // list or tuple
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_int() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }  // bool is an int
  bool is_number() const { return is_int() || kind_ == Kind::kFloat; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::kBool ? int64_t(b_) : i_; }
  double as_float() const { return kind_ == Kind::kFloat ? f_ : double(as_int()); }
  // The text, or an undefined's hint. Strings are shared, so copying a Value is O(1).
  const std::string& as_string() const { return s_ ? *s_ : empty_string(); }
  const ListData& as_list() const { return *static_cast<const ListData*>(ptr_.get()); }
  const DictData& as_dict() const { return *static_cast<const DictData*>(ptr_.get()); }
  NamespaceData& as_ns() const { return *static_cast<NamespaceData*>(ptr_.get()); }
  const Function& as_function() const { return *static_cast<const Function*>(ptr_.get()); }
  const LoopData& as_loop() const { return *static_cast<const LoopData*>(ptr_.get()); }
  const void* identity() const { return ptr_.get(); }  // for the `sameas` test
  // Nesting depth of lists and dicts (namespaces count 1: they are shared, not nested).
  int depth() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::shared_ptr<const std::string> s_;
  static const std::string& empty_string();
  std::shared_ptr<void> ptr_;  // ListData, DictData, NamespaceData, Function or LoopData
};

inline size_t DictData::size() const { return entries_.size(); }

// Python's type name: 'str', 'int', 'list', 'NoneType', ...
const char* type_name(const Value& v);
bool truthy(const Value& v);
// str(v) as jinja prints it (undefined prints empty).
std::string to_str(const Value& v);
std::string to_repr(const Value& v);
// `work`, when given, accumulates the bytes compared (for the evaluator's work budget).
bool equals(const Value& a, const Value& b, size_t* work = nullptr);
// Python's <: -1, 0 or 1; an error for unorderable types ("'<' not supported between ...").
Result<int> compare(const Value& a, const Value& b, size_t* work = nullptr);
// Iteration as Python does it: list items, dict keys, string characters; undefined is empty.
Result<std::vector<Value>> iterate(const Value& v);
// The error a use of an undefined value raises: its hint, or "'x' is undefined".
Error undefined_error(const Value& v);

}  // namespace trapetum::jinja
