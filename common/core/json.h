// Reading JSON request bodies, over RapidJSON (headers only). parse_json_object() never
// recurses (iterative parser, so a deeply nested body cannot exhaust the stack), validates UTF-8
// and wants an object at the top. Thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

#include "core/status.h"

namespace chatalot {

// 400 Msg::kBodyInvalidJson, kBodyInvalidUtf8 or kBodyNotObject; 400 Msg::kFieldNotUnicode
// naming the field when a string decodes to text that is not Unicode (a lone surrogate escape).
Result<rapidjson::Document> parse_json_object(std::string_view body);

// A required string member of an object (parsed by parse_json_object, so valid UTF-8); the
// given message when it is absent, null or of another type.
Result<std::string_view> string_field(const rapidjson::Value& object, const char* name,
                                      Message type_message);

}  // namespace chatalot
