// Result<T>: a value or an error message. File, IO and user errors travel as Results;
// invariants use CHECK (check.h). No exceptions cross module boundaries.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "core/str.h"

namespace trapetum {

struct Error {
  std::string message;
};

// Builds an Error from any streamable pieces: make_error("file ", path, ": bad magic").
template <class... Args>
Error make_error(const Args&... args) {
  return Error{str_cat(args...)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const std::string& error() const { return std::get<1>(v_).message; }
  Error take_error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Ok) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : error_(std::move(error.message)), failed_(true) {}  // NOLINT
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_; }
  Error take_error() && { return Error{std::move(error_)}; }

 private:
  std::string error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace trapetum

#define TRAPETUM_CONCAT_INNER(a, b) a##b
#define TRAPETUM_CONCAT(a, b) TRAPETUM_CONCAT_INNER(a, b)

// TRY(auto x, expr): evaluates expr (a Result), returns its error from the enclosing
// function, or binds the value to x.
#define TRY_IMPL(tmp, decl, expr)                            \
  auto tmp = (expr);                                         \
  if (!tmp.ok()) return std::move(tmp).take_error();         \
  decl = std::move(tmp).value()
#define TRY(decl, expr) TRY_IMPL(TRAPETUM_CONCAT(try_tmp_, __LINE__), decl, expr)

// TRY_STATUS(expr): returns the error of a Status-returning expression.
#define TRY_STATUS(expr)                                                   \
  do {                                                                     \
    auto try_status_ = (expr);                                             \
    if (!try_status_.ok()) return std::move(try_status_).take_error();     \
  } while (0)
