// The domain tests' check of a refusal: the code and the client-facing message, as a user of the
// API would see them. GoogleTest only.
#pragma once

#include <gtest/gtest.h>

#include "core/status.h"

namespace chatalot::testing {

inline ::testing::AssertionResult refused(const Status& s, Code code, Message message) {
  if (s.is_ok()) return ::testing::AssertionFailure() << "succeeded";
  if (s.code() != code || s.message() != message.text()) {
    return ::testing::AssertionFailure()
           << "code " << static_cast<int>(s.code()) << " message \"" << s.message()
           << "\", wanted code " << static_cast<int>(code) << " \"" << message.text() << "\"";
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
::testing::AssertionResult refused(const Result<T>& r, Code code, Message message) {
  return refused(r.status_or_ok(), code, message);
}

}  // namespace chatalot::testing
