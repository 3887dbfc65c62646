// POST /api/auth/register's body: parse_json_object() and validate_registration() with the real
// Ed25519 checks, in all three modes. Whatever the bytes: no crash, a refusal is a 400 with a
// message, and an accepted body holds only what the contract allows.
#include <algorithm>
#include <unordered_set>
#include <vector>

#include "core/json.h"
#include "core/validation.h"
#include "crypto/ed25519.h"
#include "fuzz.h"

namespace chatalot {
namespace {

using fuzz::as_text;
using fuzz::is_refusal;

const OpenSslKeyChecks kKeys;

// Every string of a parsed document (keys included) is UTF-8: parse_json_object() promises it.
bool every_string_is_utf8(const rapidjson::Value& root) {
  std::vector<const rapidjson::Value*> pending{&root};
  while (!pending.empty()) {
    const rapidjson::Value& v = *pending.back();
    pending.pop_back();
    if (v.IsString() && !is_valid_utf8({v.GetString(), v.GetStringLength()})) return false;
    if (v.IsArray()) {
      for (const auto& e : v.GetArray()) pending.push_back(&e);
    } else if (v.IsObject()) {
      for (const auto& m : v.GetObject()) {
        pending.push_back(&m.name);
        pending.push_back(&m.value);
      }
    }
  }
  return true;
}

bool is_white_space_edge(std::string_view s) {
  if (s.empty()) return false;
  const auto front = static_cast<unsigned char>(s.front());
  const auto back = static_cast<unsigned char>(s.back());
  const auto ascii_blank = [](unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0D); };
  return ascii_blank(front) || ascii_blank(back);
}

std::string_view bytes(const std::array<std::uint8_t, 32>& a) {
  return {reinterpret_cast<const char*>(a.data()), a.size()};
}
std::string_view bytes(const std::array<std::uint8_t, 64>& a) {
  return {reinterpret_cast<const char*>(a.data()), a.size()};
}

void check_accepted(const RegistrationInput& in, RegistrationMode mode) {
  FUZZ_CHECK(mode != RegistrationMode::kClosed);
  for (const std::string* s :
       {&in.username, &in.email, &in.password, &in.display_name, &in.invite_code}) {
    FUZZ_CHECK_MSG(is_valid_utf8(*s), *s);
  }
  FUZZ_CHECK_MSG(check_username(in.username).is_ok(), in.username);
  FUZZ_CHECK_MSG(check_email(in.email).is_ok(), in.email);
  FUZZ_CHECK(check_password(in.password).is_ok());
  // Usernames are ASCII letters, digits, '_', '-', '.': 3 to 32 of them.
  FUZZ_CHECK(in.username.size() >= 3 && in.username.size() <= 32);
  FUZZ_CHECK(std::all_of(in.username.begin(), in.username.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
  }));
  FUZZ_CHECK(in.email.size() <= 254 && in.email.find('@') != std::string::npos);
  FUZZ_CHECK(in.password.find('\0') == std::string::npos);
  // The display name: trimmed, at most 64 code points, no control characters, never empty.
  FUZZ_CHECK(!in.display_name.empty());
  FUZZ_CHECK(count_code_points(in.display_name) <= 64);
  FUZZ_CHECK_MSG(!is_white_space_edge(in.display_name), in.display_name);
  for (std::size_t i = 0; i < in.display_name.size();) {
    const CodePoint c = decode_utf8_at(in.display_name, i);
    FUZZ_CHECK_MSG(!is_control(c.value), in.display_name);
    i += c.size;
  }
  if (mode == RegistrationMode::kInviteOnly) {
    FUZZ_CHECK(!in.invite_code.empty());
    FUZZ_CHECK(in.invite_code.find('\0') == std::string::npos);
  } else {
    FUZZ_CHECK(in.invite_code.empty());
  }
  // The keys: an identity key that is a curve point of large order and signs the prekey.
  FUZZ_CHECK(kKeys.is_identity_key(bytes(in.identity_key)));
  FUZZ_CHECK(kKeys.verify(bytes(in.identity_key), bytes(in.signed_prekey),
                          bytes(in.signed_prekey_signature)));
  FUZZ_CHECK(in.one_time_prekeys.size() <= kMaxOneTimePrekeys);
  std::unordered_set<std::uint32_t> ids;
  for (const OneTimePrekey& k : in.one_time_prekeys) FUZZ_CHECK(ids.insert(k.key_id).second);
}

bool same_except_invite(const RegistrationInput& a, const RegistrationInput& b) {
  const auto prekeys_equal = [](const RegistrationInput& x, const RegistrationInput& y) {
    return std::equal(x.one_time_prekeys.begin(), x.one_time_prekeys.end(),
                      y.one_time_prekeys.begin(), y.one_time_prekeys.end(),
                      [](const OneTimePrekey& p, const OneTimePrekey& q) {
                        return p.key_id == q.key_id && p.public_key == q.public_key;
                      });
  };
  return a.username == b.username && a.email == b.email && a.password == b.password &&
         a.display_name == b.display_name && a.identity_key == b.identity_key &&
         a.signed_prekey_id == b.signed_prekey_id && a.signed_prekey == b.signed_prekey &&
         a.signed_prekey_signature == b.signed_prekey_signature && prekeys_equal(a, b);
}

}  // namespace
}  // namespace chatalot

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chatalot;
  const std::string_view body = as_text(data, size);
  Result<rapidjson::Document> doc = parse_json_object(body);
  if (!doc.is_ok()) {
    FUZZ_CHECK(is_refusal(doc.status(), Code::kInvalidArgument));
    fuzz::trace("not parsed", doc.status().message());
    return 0;
  }
  FUZZ_CHECK(doc->IsObject());
  FUZZ_CHECK(every_string_is_utf8(*doc));
  // Outside strings JSON is ASCII, and the strings were validated.
  FUZZ_CHECK(is_valid_utf8(fuzz::accepted_json(body)));

  Result<RegistrationInput> open = validate_registration(*doc, RegistrationMode::kOpen, kKeys);
  Result<RegistrationInput> invite =
      validate_registration(*doc, RegistrationMode::kInviteOnly, kKeys);
  Result<RegistrationInput> closed = validate_registration(*doc, RegistrationMode::kClosed, kKeys);

  // Closed refuses everything, first of all.
  FUZZ_CHECK(is_refusal(closed.status(), Code::kInvalidArgument));
  FUZZ_CHECK(closed.status().message() == Msg::kRegistrationClosed.text());
  for (const auto* r : {&open, &invite}) {
    if (!r->is_ok()) FUZZ_CHECK(is_refusal(r->status(), Code::kInvalidArgument));
  }
  fuzz::trace("open", open.is_ok() ? "accepted" : open.status().message());
  fuzz::trace("invite_only", invite.is_ok() ? "accepted" : invite.status().message());
  if (open.is_ok()) check_accepted(*open, RegistrationMode::kOpen);
  // The invite is one more check: anything invite_only accepts, open accepts alike.
  if (invite.is_ok()) {
    check_accepted(*invite, RegistrationMode::kInviteOnly);
    FUZZ_CHECK(open.is_ok());
    FUZZ_CHECK(same_except_invite(*open, *invite));
  }
  // A refusal in invite_only mode is about the invite, or else the very refusal of open mode.
  if (!invite.is_ok()) {
    const std::string& m = invite.status().message();
    const bool about_invite = m == Msg::kInviteRequired.text() ||
                              m == Msg::kInviteCodeNotString.text() ||
                              m == Msg::kInviteCodeNul.text();
    if (!about_invite) FUZZ_CHECK(!open.is_ok() && m == open.status().message());
  }
  return 0;
}
