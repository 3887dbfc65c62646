#include "http/views.h"

namespace chatalot {

void write_user_public(JsonWriter& w, const Account& a) {
  w.start_object();
  w.field("id", a.id);
  w.field("username", a.username);
  w.field("display_name", a.display_name);
  w.nullable_field("avatar_url", a.avatar_url);
  w.nullable_field("banner_url", a.banner_url);
  w.field("status", a.status);
  w.nullable_field("custom_status", a.custom_status);
  w.field("is_admin", a.is_admin || a.is_owner);
  w.field("is_owner", a.is_owner);
  w.field("created_at", a.created_at);
  w.end_object();
}

std::string auth_response_json(const std::string& access_token, const std::string& refresh_token,
                               const Account& account,
                               const std::optional<std::string>& recovery_code) {
  JsonWriter w;
  w.start_object();
  w.field("access_token", access_token);
  w.field("refresh_token", refresh_token);
  w.key("user");
  write_user_public(w, account);
  if (recovery_code) w.field("recovery_code", *recovery_code);
  w.end_object();
  return w.take();
}

std::string recovery_code_json(const std::string& code) {
  JsonWriter w;
  w.start_object();
  w.field("recovery_code", code);
  w.end_object();
  return w.take();
}

}  // namespace chatalot
