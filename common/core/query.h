// Query strings (application/x-www-form-urlencoded: '&'-separated name=value pairs, %XX
// escapes, '+' for a blank), read without trusting them. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace chatalot {

// The value of one parameter, decoded; nullopt when absent; "" when it has no value; the last
// of a repeated one. kInvalidArgument with bad_value when its escapes are broken or it is not
// UTF-8. Pairs whose name cannot be decoded are skipped.
Result<std::optional<std::string>> query_parameter(std::string_view query_string,
                                                   std::string_view name, Message bad_value);

}  // namespace chatalot
