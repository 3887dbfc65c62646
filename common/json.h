// JSON in and out, over RapidJSON. parse_json_object() never recurses (iterative parser, so a
// deeply nested body cannot exhaust the stack), validates UTF-8 and wants an object at the top.
// JsonWriter builds compact JSON with correct escaping. Not shared between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "status.h"

namespace chatalot {

// 400 "request body must be valid JSON" / "... valid UTF-8" / "... a JSON object".
Result<rapidjson::Document> parse_json_object(std::string_view body);

class JsonWriter {
 public:
  JsonWriter() : writer_(buffer_) {}
  void start_object() { writer_.StartObject(); }
  void end_object() { writer_.EndObject(); }
  void start_array() { writer_.StartArray(); }
  void end_array() { writer_.EndArray(); }
  void key(std::string_view k) { writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
  void string(std::string_view v) {
    writer_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  void boolean(bool v) { writer_.Bool(v); }
  void integer(std::int64_t v) { writer_.Int64(v); }
  void null() { writer_.Null(); }
  void field(std::string_view k, std::string_view v) { key(k), string(v); }
  void field(std::string_view k, const char* v) { key(k), string(v); }
  void field(std::string_view k, bool v) { key(k), boolean(v); }
  void field(std::string_view k, std::int64_t v) { key(k), integer(v); }
  std::string take() { return {buffer_.GetString(), buffer_.GetSize()}; }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace chatalot
