#include "json.h"

namespace chatalot {

Result<rapidjson::Document> parse_json_object(std::string_view body) {
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  rapidjson::Document doc;
  doc.Parse<kFlags>(body.data(), body.size());
  if (doc.HasParseError()) {
    if (doc.GetParseError() == rapidjson::kParseErrorStringInvalidEncoding) {
      return invalid_argument("request body must be valid UTF-8");
    }
    return invalid_argument("request body must be valid JSON");
  }
  if (!doc.IsObject()) return invalid_argument("request body must be a JSON object");
  return doc;
}

}  // namespace chatalot
