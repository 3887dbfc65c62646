#include "registration.h"

#include <openssl/rand.h>

#include "../test_keys.h"
#include "core/json.h"
#include "http/json_writer.h"

namespace chatalot::testing {
namespace {

void write_bytes(JsonWriter& w, const unsigned char* data, std::size_t n) {
  w.start_array();
  for (std::size_t i = 0; i < n; ++i) w.integer(data[i]);
  w.end_array();
}

}  // namespace

std::string registration_body(const Registrant& r) {
  const PkeyPtr key = new_ed25519_key();
  const std::string identity = raw_public_key(key.get());
  unsigned char prekey[32];
  RAND_bytes(prekey, sizeof prekey);
  std::string signature = sign(key.get(), std::string_view(reinterpret_cast<char*>(prekey), 32));
  if (r.bad_signature) signature[10] = static_cast<char>(signature[10] ^ 0x01);

  JsonWriter w;
  w.start_object();
  w.field("username", r.username);
  w.field("email", r.email);
  w.field("password", r.password);
  if (!r.invite_code.empty()) w.field("invite_code", r.invite_code);
  w.key("identity_key");
  write_bytes(w, reinterpret_cast<const unsigned char*>(identity.data()), identity.size());
  w.key("signed_prekey");
  w.start_object();
  w.field("key_id", std::int64_t{1});
  w.key("public_key");
  write_bytes(w, prekey, sizeof prekey);
  w.key("signature");
  write_bytes(w, reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
  w.end_object();
  w.key("one_time_prekeys");
  w.start_array();
  for (int i = 0; i < r.one_time_prekeys; ++i) {
    unsigned char otpk[32];
    RAND_bytes(otpk, sizeof otpk);
    w.start_object();
    w.field("key_id", std::int64_t{i + 1});
    w.key("public_key");
    write_bytes(w, otpk, sizeof otpk);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

Registrant registrant(const std::string& tag, const std::string& invite_code) {
  static const std::string prefix = [] {
    unsigned char b[3];
    RAND_bytes(b, sizeof b);
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    for (unsigned char c : b) s += kHex[c >> 4], s += kHex[c & 15];
    return s;
  }();
  Registrant r;
  r.username = "u" + prefix + "_" + tag;
  r.email = r.username + "@example.com";
  r.invite_code = invite_code;
  return r;
}

}  // namespace chatalot::testing
