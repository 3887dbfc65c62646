// Access tokens on the admin API: bearer_token() on an Authorization header, then
// verify_access_token() with a fixed key. The first byte picks what the rest is:
//   'S'  header JSON '\n' payload JSON (or the payload alone, under the standard header): the
//        harness signs them with the fixed key, so the claims (not only the signature) meet the
//        verifier; the token goes through bearer_token() as "Bearer <token>";
//   'T'  now '\n' leeway '\n' payload JSON: signed the same way with the standard header, and
//        verified at that time with that leeway (clock arithmetic at the edges);
//   else the Authorization header itself, verified at kFuzzNow with the production leeway.
// Invariants: a bearer token is non-empty, blank-free and part of the header; a refusal is a
// 401 with kTokenInvalid or kTokenExpired; accepted claims are what the contract allows, and
// signing them again gives a token that verifies to the same claims, while the token with any one
// character changed is refused.
#include <algorithm>
#include <string>

#include "core/auth.h"
#include "crypto/jwt.h"
#include "fuzz.h"

namespace chatalot {
namespace {

using fuzz::fuzz_keys;

constexpr std::string_view kStandardHeader = R"({"alg":"EdDSA","typ":"JWT"})";

std::string signed_token(std::string_view header, std::string_view payload) {
  std::string token = base64url_encode(header) + "." + base64url_encode(payload);
  Result<std::string> signature = fuzz_keys().private_key.sign(token);
  FUZZ_CHECK(signature.is_ok());
  return token + "." + base64url_encode(*signature);
}

bool same(const AccessClaims& a, const AccessClaims& b) {
  return a.sub == b.sub && a.username == b.username && a.is_admin == b.is_admin &&
         a.is_owner == b.is_owner && a.iat == b.iat && a.exp == b.exp && a.jti == b.jti &&
         a.aud == b.aud;
}

void verify_and_check(std::string_view token, std::int64_t now, std::int64_t leeway) {
  Result<AccessClaims> claims = verify_access_token(fuzz_keys().public_key, token, now, leeway, kAccessTokenSeconds);
  fuzz::trace("token", claims.is_ok() ? "accepted" : claims.status().message());
  if (!claims.is_ok()) {
    FUZZ_CHECK(fuzz::is_refusal(claims.status(), Code::kUnauthenticated));
    const std::string& m = claims.status().message();
    FUZZ_CHECK_MSG(m == Msg::kTokenInvalid.text() || m == Msg::kTokenExpired.text(), m);
    return;
  }
  const AccessClaims& c = *claims;
  // What was signed is exactly what was read: no bytes after a NUL that a parser skips.
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.find('.', dot1 + 1);
  for (std::string_view segment : {token.substr(0, dot1), token.substr(dot1 + 1, dot2 - dot1 - 1)}) {
    Result<std::string> json = base64url_decode(segment);
    FUZZ_CHECK(json.is_ok());
    (void)fuzz::accepted_json(*json);
  }
  FUZZ_CHECK(c.aud == kAudience);
  FUZZ_CHECK(!c.sub.empty());
  for (const std::string* s : {&c.sub, &c.username, &c.jti}) FUZZ_CHECK(is_valid_utf8(*s));
  FUZZ_CHECK(c.exp >= c.iat && c.exp - c.iat <= kAccessTokenSeconds);
  const std::int64_t l = std::clamp<std::int64_t>(leeway, 0, 24 * 60 * 60);
  std::int64_t deadline = 0;
  FUZZ_CHECK(__builtin_add_overflow(c.exp, l, &deadline) || deadline > now);
  std::int64_t latest_iat = 0;
  FUZZ_CHECK(__builtin_add_overflow(now, l, &latest_iat) || c.iat <= latest_iat);
  // One character changed anywhere, and the token is refused: base64url has one spelling of
  // each byte string here, and the signature covers all of them.
  std::string changed(token);
  std::size_t at = 0;
  for (const char ch : token) at = at * 31 + static_cast<unsigned char>(ch);
  at %= changed.size();
  changed[at] = changed[at] == 'A' ? 'B' : 'A';
  FUZZ_CHECK_MSG(!verify_access_token(fuzz_keys().public_key, changed, now, leeway, kAccessTokenSeconds).is_ok(),
                 changed);
  // Signed again by the production signer, the claims come back the same.
  Result<std::string> again = sign_access_token(fuzz_keys().private_key, c);
  FUZZ_CHECK(again.is_ok());
  Result<AccessClaims> back = verify_access_token(fuzz_keys().public_key, *again, now, leeway, kAccessTokenSeconds);
  FUZZ_CHECK(back.is_ok() && same(*back, c));
  // The TokenVerifier port over the same key agrees.
  if (leeway == kTokenLeewaySeconds) {
    const TokenVerifier& port = fuzz_keys().verifier;
    Result<AccessClaims> via_port = port.verify(token, now);
    FUZZ_CHECK(via_port.is_ok() && same(*via_port, c));
  }
}

void check_bearer(std::string_view header) {
  const std::optional<std::string_view> token = bearer_token(header);
  fuzz::trace("bearer", token ? *token : "none");
  if (!token) return;
  FUZZ_CHECK(!token->empty());
  FUZZ_CHECK(token->find(' ') == std::string_view::npos && token->find('\t') == std::string_view::npos);
  FUZZ_CHECK(token->data() >= header.data() &&
             token->data() + token->size() <= header.data() + header.size());
  const std::size_t scheme = header.find_first_not_of(" \t");
  FUZZ_CHECK(scheme != std::string_view::npos && ascii_lower(header.substr(scheme, 6)) == "bearer");
  verify_and_check(*token, fuzz::kFuzzNow, kTokenLeewaySeconds);
}

}  // namespace
}  // namespace chatalot

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chatalot;
  const std::string_view input = fuzz::as_text(data, size);
  if (input.empty()) return 0;
  const std::string_view rest = input.substr(1);
  if (input[0] == 'S') {
    const std::vector<std::string_view> parts = fuzz::split(rest, '\n', 2);
    const std::string token = parts.size() == 2 ? signed_token(parts[0], parts[1])
                                                : signed_token(kStandardHeader, parts[0]);
    // As a client sends it: the scheme, then the token.
    check_bearer("Bearer " + token);
  } else if (input[0] == 'T') {
    const std::vector<std::string_view> parts = fuzz::split(rest, '\n', 3);
    if (parts.size() != 3) return 0;
    const std::optional<std::int64_t> now = parse_integer<std::int64_t>(parts[0]);
    const std::optional<std::int64_t> leeway = parse_integer<std::int64_t>(parts[1]);
    if (!now || !leeway) return 0;
    verify_and_check(signed_token(kStandardHeader, parts[2]), *now, *leeway);
  } else {
    check_bearer(rest);
  }
  return 0;
}
