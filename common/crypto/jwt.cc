#include "crypto/jwt.h"

#include <algorithm>
#include <set>

#include "core/json.h"
#include "http/json_writer.h"

namespace chatalot {
namespace {

constexpr std::string_view kHeader = R"({"alg":"EdDSA","typ":"JWT"})";
// Our tokens are about 400 bytes; a cap keeps a hostile Authorization header from costing more
// than a few microseconds to reject.
constexpr std::size_t kMaxTokenSize = std::size_t{8} * 1024;
// A leeway is for clock skew; an absurd one must not make every token immortal.
constexpr std::int64_t kMaxLeewaySeconds = std::int64_t{24} * 60 * 60;

Status invalid_token() { return {Code::kUnauthenticated, Msg::kTokenInvalid}; }

// RapidJSON keeps every duplicate and FindMember returns the first; another parser might take
// the last. A signed object whose meaning depends on the parser is refused outright.
bool has_duplicate_keys(const rapidjson::Value& object) {
  std::set<std::string_view> seen;
  for (const auto& m : object.GetObject()) {
    if (!seen.emplace(m.name.GetString(), m.name.GetStringLength()).second) return true;
  }
  return false;
}

Result<rapidjson::Document> decode_object(std::string_view segment) {
  Result<std::string> json = base64url_decode(segment);
  if (!json.is_ok()) return invalid_token();
  Result<rapidjson::Document> doc = parse_json_object(*json);
  if (!doc.is_ok() || has_duplicate_keys(*doc)) return invalid_token();
  return doc;
}

bool get_string(const rapidjson::Value& object, const char* name, std::string& out) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return false;
  out.assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}

bool get_bool(const rapidjson::Value& object, const char* name, bool& out) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsBool()) return false;
  out = it->value.GetBool();
  return true;
}

bool get_int(const rapidjson::Value& object, const char* name, std::int64_t& out) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsInt64()) return false;
  out = it->value.GetInt64();
  return true;
}

// Only EdDSA, and no "crit" extension (RFC 7515 4.1.11: one we do not understand must fail).
bool header_is_acceptable(const rapidjson::Value& header) {
  std::string alg;
  if (!get_string(header, "alg", alg) || alg != "EdDSA") return false;
  if (header.HasMember("crit")) return false;
  std::string typ;
  return !header.HasMember("typ") || (get_string(header, "typ", typ) && typ == "JWT");
}

}  // namespace

Result<std::string> sign_access_token(const Ed25519Key& key, const AccessClaims& claims) {
  JsonWriter w;
  w.start_object();
  w.field("sub", claims.sub);
  w.field("username", claims.username);
  w.field("is_admin", claims.is_admin);
  w.field("is_owner", claims.is_owner);
  w.field("iat", claims.iat);
  w.field("exp", claims.exp);
  w.field("jti", claims.jti);
  w.field("aud", claims.aud);
  if (!claims.sid.empty()) w.field("sid", claims.sid);
  w.end_object();
  std::string token = base64url_encode(kHeader) + "." + base64url_encode(w.take());
  Result<std::string> signature = key.sign(token);
  if (!signature.is_ok()) return signature.status();
  token += ".";
  token += base64url_encode(*signature);
  return token;
}

Result<AccessClaims> verify_access_token(const Ed25519Key& key, std::string_view token,
                                         std::int64_t now, std::int64_t leeway_seconds,
                                         std::int64_t max_lifetime_seconds, bool signature_known) {
  if (token.size() > kMaxTokenSize) return invalid_token();
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return invalid_token();
  }
  const std::string_view signing_input = token.substr(0, dot2);

  Result<rapidjson::Document> header = decode_object(token.substr(0, dot1));
  if (!header.is_ok() || !header_is_acceptable(*header)) return invalid_token();

  // The signature is checked before the claims are parsed, so unsigned input meets only the
  // small header above.
  if (!signature_known) {
    Result<std::string> signature = base64url_decode(token.substr(dot2 + 1));
    if (!signature.is_ok() || !key.verify(signing_input, *signature)) return invalid_token();
  }

  Result<rapidjson::Document> payload = decode_object(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload.is_ok()) return invalid_token();
  const rapidjson::Value& p = *payload;
  AccessClaims claims;
  if (!get_string(p, "sub", claims.sub) || claims.sub.empty() ||
      !get_string(p, "username", claims.username) || !get_bool(p, "is_admin", claims.is_admin) ||
      !get_bool(p, "is_owner", claims.is_owner) || !get_int(p, "iat", claims.iat) ||
      !get_int(p, "exp", claims.exp) || !get_string(p, "jti", claims.jti) ||
      !get_string(p, "aud", claims.aud) || claims.aud != kAudience) {
    return invalid_token();
  }
  // The session's id: absent only in tokens issued before sessions existed.
  if (p.HasMember("sid") && !get_string(p, "sid", claims.sid)) return invalid_token();

  const std::int64_t leeway = std::clamp<std::int64_t>(leeway_seconds, 0, kMaxLeewaySeconds);
  // Overflow means a far-future bound, which the comparison it skips would have passed.
  std::int64_t deadline = 0;  // accepted strictly before exp + leeway
  if (!__builtin_add_overflow(claims.exp, leeway, &deadline) && deadline <= now) {
    return Status(Code::kUnauthenticated, Msg::kTokenExpired);
  }
  // Our tokens live ACCESS_TOKEN_SECONDS; a signed one claiming more was not issued by us as it
  // stands (a leaked key's forgery, a bug, or a lifetime since lowered), and must not outlive it.
  std::int64_t lifetime = 0;
  if (__builtin_sub_overflow(claims.exp, claims.iat, &lifetime) || lifetime < 0 ||
      lifetime > max_lifetime_seconds) {
    return invalid_token();
  }
  // A token issued in the future was not issued by a clock we agree with.
  std::int64_t latest_iat = 0;
  if (!__builtin_add_overflow(now, leeway, &latest_iat) && claims.iat > latest_iat) {
    return invalid_token();
  }
  return claims;
}

Result<JwtSigner> JwtSigner::load(const std::string& private_key_path,
                                  std::int64_t lifetime_seconds) {
  Result<Ed25519Key> key = Ed25519Key::load_private_pem(private_key_path);
  if (!key.is_ok()) {
    return Status(Code::kFailedPrecondition, "JWT_PRIVATE_KEY_PATH: " + key.status().describe());
  }
  return JwtSigner(std::move(key).value(), lifetime_seconds);
}

Result<JwtVerifier> JwtVerifier::load(const std::string& public_key_path,
                                      std::int64_t lifetime_seconds) {
  Result<Ed25519Key> key = Ed25519Key::load_public_pem(public_key_path);
  if (!key.is_ok()) {
    return Status(Code::kFailedPrecondition, "JWT_PUBLIC_KEY_PATH: " + key.status().describe());
  }
  return JwtVerifier(std::move(key).value(), lifetime_seconds);
}

Result<AccessClaims> JwtVerifier::verify(std::string_view token, std::int64_t now) const {
  const bool known = verified_->contains(token);
  Result<AccessClaims> claims =
      verify_access_token(key_, token, now, kTokenLeewaySeconds, lifetime_seconds_, known);
  if (!known && claims.is_ok()) verified_->add(token);
  return claims;
}

bool VerifiedTokens::contains(std::string_view token) const {
  std::lock_guard lock(mu_);
  return set_.contains(std::string(token));
}

void VerifiedTokens::add(std::string_view token) {
  std::lock_guard lock(mu_);
  if (!set_.emplace(token).second) return;
  order_.emplace_back(token);
  if (order_.size() > capacity_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace chatalot
