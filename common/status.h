// Errors as values. A Status is a code from a small fixed set plus a message that may be shown to
// a client (library error text goes to the log, never into a Status message). Result<T> holds a
// value or a non-ok Status. Both are [[nodiscard]] so a failure cannot be dropped silently.
// http.h maps the codes to HTTP statuses and the JSON error body, in one place.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace chatalot {

enum class ErrorCode {
  kOk,
  kInvalidArgument,       // 400 validation_error
  kUnauthorized,          // 401
  kForbidden,             // 403
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kAlreadyExists,         // 409 conflict
  kPayloadTooLarge,       // 413
  kUnsupportedMediaType,  // 415
  kRateLimited,           // 429
  kInternal,              // 500
  kUnavailable,           // 503: retry later
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}    // NOLINT(google-explicit-constructor)

  bool is_ok() const { return v_.index() == 0; }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const T& operator*() const { return value(); }
  T& operator*() { return value(); }
  // The error; only meaningful when !is_ok().
  const Status& status() const { return std::get<1>(v_); }
  // The error, or ok when there is a value.
  Status status_or_ok() const { return is_ok() ? Status::ok() : status(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace chatalot
