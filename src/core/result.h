// Errors as values. Every module returns Result<T> across its boundary; nothing throws
// out of a module. An Error carries one human-readable message that already names the
// place (file:line, field) and what was expected.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace prescale::core {

struct Error {
  std::string message;
};

// A value quoted for an error message: 'value', or its first `limit` bytes and the whole
// size ('aaaa…(5242880 bytes)'), so one bad 5 MB line does not become 5 MB of stderr. The
// cut never splits a UTF-8 sequence.
std::string echo(std::string_view value, std::size_t limit = 80);

// Result<T> holds either a value or an Error. Accessing the wrong side is a programming
// error (checked by assert-like terminate), so callers test ok() first.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error.message)), failed_(true) {}  // NOLINT
  static Status Ok() { return Status(); }
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  Error error() const { return Error{error_}; }
  const std::string& message() const { return error_; }

 private:
  std::string error_;
  bool failed_ = false;
};

}  // namespace prescale::core
