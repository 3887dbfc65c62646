#include "core/json.h"

#include <vector>

#include "core/text.h"

namespace chatalot {
namespace {

using rapidjson::Value;

// Whether every string (keys included) in a value is well-formed UTF-8. RapidJSON validates the
// raw bytes, but decodes a lone low surrogate escape ("\udc00") into bytes that are not UTF-8
// (FIELD-NOTES pitfall 8): they must never reach a hash or PostgreSQL. Iterative, like the
// parser, so depth cannot exhaust the stack.
bool all_strings_valid(const Value& root) {
  std::vector<const Value*> pending{&root};
  while (!pending.empty()) {
    const Value& v = *pending.back();
    pending.pop_back();
    if (v.IsString() && !is_valid_utf8({v.GetString(), v.GetStringLength()})) return false;
    if (v.IsArray()) {
      for (const Value& e : v.GetArray()) pending.push_back(&e);
    } else if (v.IsObject()) {
      for (const auto& m : v.GetObject()) {
        pending.push_back(&m.name);
        pending.push_back(&m.value);
      }
    }
  }
  return true;
}

// Names the top-level field that holds text which is not Unicode; the whole body otherwise.
Status unicode_failure(const Value& object) {
  for (const auto& m : object.GetObject()) {
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    const bool nameable = !name.empty() && name.size() <= 64 && is_valid_utf8(name) &&
                          !has_control_or_bidi(name);
    if (!all_strings_valid(m.value) && nameable) {
      return Status(Code::kInvalidArgument, Msg::kFieldNotUnicode, name);
    }
  }
  return invalid_argument(Msg::kBodyInvalidUtf8);
}

}  // namespace

Result<rapidjson::Document> parse_json_object(std::string_view body) {
  // RapidJSON takes a NUL byte for the end of the input ("{...}\0anything" would pass) and skips
  // the bytes of a UTF-8 byte order mark one by one: neither is JSON (tests/fuzz/regressions).
  if (body.find('\0') != std::string_view::npos ||
      (!body.empty() && static_cast<unsigned char>(body.front()) >= 0x80)) {
    return invalid_argument(Msg::kBodyInvalidJson);
  }
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  rapidjson::Document doc;
  doc.Parse<kFlags>(body.data(), body.size());
  if (doc.HasParseError()) {
    if (doc.GetParseError() == rapidjson::kParseErrorStringInvalidEncoding) {
      return invalid_argument(Msg::kBodyInvalidUtf8);
    }
    return invalid_argument(Msg::kBodyInvalidJson);
  }
  if (!doc.IsObject()) return invalid_argument(Msg::kBodyNotObject);
  if (!all_strings_valid(doc)) return unicode_failure(doc);
  return doc;
}

Result<std::string_view> string_field(const rapidjson::Value& object, const char* name,
                                      Message type_message) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return invalid_argument(type_message);
  return std::string_view(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace chatalot
