// Errors as values. A Status is a code from a small, transport-neutral set, a client-facing
// message and a log-only detail, kept apart:
//   - the message is a Message of the catalogue (messages.h), whose constructor only the
//     catalogue can call, so library text (libpq, hiredis, OpenSSL) cannot become one;
//   - the detail is any text for the log (what failed, the library's words) and is never sent.
// A Status built from a code and a detail alone shows the code's generic message. Result<T>
// holds a value or a non-ok Status. Both are [[nodiscard]]. http/render.h turns a Status into
// an HTTP answer, in one place.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/messages.h"

namespace chatalot {

enum class Code {
  kOk,
  kInvalidArgument,       // the input is wrong; the message says how
  kUnauthenticated,       // no, or no valid, credential
  kPermissionDenied,      // a valid credential that may not do this
  kNotFound,              // no such resource
  kAlreadyExists,         // the resource (a username, an e-mail address) exists
  kResourceExhausted,     // a budget is spent (rate limits); retry_after() says when to retry
  kUnsupportedOperation,  // the resource does not support the operation (allow() lists those it does)
  kTooLarge,              // the input is larger than the operation accepts
  kUnsupportedFormat,     // the input is in a format the operation does not read
  kFailedPrecondition,    // the system is not set up for this (configuration, schema version)
  kUnavailable,           // a dependency cannot answer now; retrying later may work
  kInternal,              // a bug or an unexpected failure
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  // Client-facing: the catalogue's message, with an optional detail for the log.
  Status(Code code, Message message, std::string detail = {})
      : code_(code), message_(message.text()), detail_(std::move(detail)) {}
  // A message with one slot, filled with the argument (e.g. the method a client sent).
  Status(Code code, MessageWithArgument message, std::string_view argument)
      : code_(code), message_(message.fill(argument)) {}
  // Log-only: the client sees the code's generic message.
  Status(Code code, std::string detail)
      : code_(code), message_(generic_message(code).text()), detail_(std::move(detail)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }  // for the client
  const std::string& detail() const { return detail_; }    // for the log only
  // For operators (the CLI, start-up errors): the detail, or the message when there is none.
  const std::string& describe() const { return detail_.empty() ? message_ : detail_; }

  int retry_after() const { return retry_after_; }  // seconds; 0: the renderer's default
  Status with_retry_after(int seconds) && {
    retry_after_ = seconds;
    return std::move(*this);
  }
  const std::string& allow() const { return allow_; }  // kUnsupportedOperation: what is allowed
  Status with_allow(std::string allow) && {
    allow_ = std::move(allow);
    return std::move(*this);
  }

  // The generic message shown for each code when a Status carries only a detail.
  static Message generic_message(Code code);

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string detail_;
  int retry_after_ = 0;
  std::string allow_;
};

// Shorthands for the common client-facing and dependency failures.
inline Status invalid_argument(Message message) { return {Code::kInvalidArgument, message}; }
inline Status unavailable(std::string detail) { return {Code::kUnavailable, std::move(detail)}; }
inline Status internal_error(std::string detail) { return {Code::kInternal, std::move(detail)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

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

// Returns the Status of an expression when it is not ok.
#define CHATALOT_RETURN_IF_ERROR(expr)             \
  do {                                             \
    if (::chatalot::Status s_ = (expr); !s_.is_ok()) return s_; \
  } while (false)

}  // namespace chatalot
