// Compact JSON with correct escaping, over RapidJSON, for the answers handlers render.
// Not shared between threads.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatalot {

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
  void null_field(std::string_view k) { key(k), null(); }
  // null when absent.
  void nullable_field(std::string_view k, const std::optional<std::string>& v) {
    key(k);
    v ? string(*v) : null();
  }
  void nullable_field(std::string_view k, const std::optional<std::int64_t>& v) {
    key(k);
    v ? integer(*v) : null();
  }
  std::string take() { return {buffer_.GetString(), buffer_.GetSize()}; }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace chatalot
