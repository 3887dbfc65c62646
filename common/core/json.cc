#include "core/json.h"

namespace chatalot {

Result<rapidjson::Document> parse_json_object(std::string_view body) {
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
  return doc;
}

}  // namespace chatalot
