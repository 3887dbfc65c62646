#include "core/sessions.h"

#include <array>
#include <span>

#include "core/codes.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/text.h"
#include "core/validation.h"

namespace chatalot {
namespace {

constexpr std::size_t kMaxDeviceName = 64;

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The first match wins: Edge and Opera also say Chrome, Chrome also says Safari, Android
// also says Linux, iOS also says Mac OS X, and every iOS browser also says Safari (each names
// itself with its own token there: CriOS, FxiOS, EdgiOS; Edge on Android says EdgA).
struct Marker {
  std::string_view token;
  std::string_view name;
};
constexpr std::array kBrowsers = {
    Marker{"Edg/", "Edge"},        Marker{"EdgA/", "Edge"},
    Marker{"EdgiOS/", "Edge"},     Marker{"CriOS/", "Chrome"},
    Marker{"FxiOS/", "Firefox"},   Marker{"OPR/", "Opera"},
    Marker{"Firefox/", "Firefox"}, Marker{"Electron/", "Desktop app"},
    Marker{"Chrome/", "Chrome"},   Marker{"Chromium/", "Chrome"},
    Marker{"Safari/", "Safari"},
};
constexpr std::array kSystems = {
    Marker{"Android", "Android"}, Marker{"iPhone", "iOS"},   Marker{"iPad", "iOS"},
    Marker{"CrOS", "ChromeOS"},   Marker{"Windows", "Windows"}, Marker{"Mac OS X", "macOS"},
    Marker{"Linux", "Linux"},
};

std::optional<std::string_view> first_match(std::string_view text, std::span<const Marker> markers) {
  for (const Marker& m : markers) {
    if (contains(text, m.token)) return m.name;
  }
  return std::nullopt;
}

// The header's first product ("curl/8.1" -> "curl/8.1"), printable ASCII only, bounded.
std::optional<std::string> first_product(std::string_view user_agent) {
  std::string out;
  for (const char c : user_agent) {
    if (c == ' ' || out.size() == kMaxDeviceName) break;
    if (c > ' ' && c < 0x7F) out += c;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// The contract's answer for every string that is not a live refresh token.
Status invalid_refresh_token() { return {Code::kUnauthenticated, Msg::kRefreshTokenInvalid}; }


std::vector<Budget> budgets_for(std::string_view kind, std::string_view username,
                                std::string_view remote_addr, const CredentialLimits& limits) {
  return account_budgets(kind, username, remote_addr, limits.per_address,
                         limits.per_account_address, limits.per_account);
}

// A refresh token and a token id, drawn before anything is written.
struct FreshTokens {
  std::string refresh_token;
  std::string jti;
};

Result<FreshTokens> fresh_tokens(Random& random) {
  Result<std::string> refresh = generate_refresh_token(random);
  if (!refresh.is_ok()) return refresh.status();
  Result<std::string> jti = random.bytes(16);
  if (!jti.is_ok()) return jti.status();
  return FreshTokens{*refresh, uuid_v4(*jti)};
}

// The signing step that a store runs last inside its transaction: a session is never started
// or rotated without its answer.
std::function<Status(const TokenSubject&)> signing_into(std::string& access_token,
                                                        const TokenSigner& signer,
                                                        const Clock& clock, std::string jti) {
  return [&access_token, &signer, &clock, jti = std::move(jti)](const TokenSubject& subject) {
    Result<std::string> token = signer.sign(claims_for(subject, jti, clock.now_seconds(), signer.lifetime_seconds()));
    if (!token.is_ok()) return token.status();
    access_token = std::move(token).value();
    return Status::ok();
  };
}

// The new password of a recovery or a password change, with the registration's messages.
Result<std::string_view> new_password(const rapidjson::Value& body) {
  Result<std::string_view> password = string_field(body, "new_password", Msg::kNewPasswordNotString);
  if (!password.is_ok()) return password;
  CHATALOT_RETURN_IF_ERROR(check_password(*password));
  return password;
}

}  // namespace

std::optional<std::string> device_name(std::string_view user_agent) {
  user_agent = trim_ascii(user_agent);
  if (user_agent.empty()) return std::nullopt;
  const std::optional<std::string_view> browser = first_match(user_agent, kBrowsers);
  const std::optional<std::string_view> system = first_match(user_agent, kSystems);
  if (browser && system) return std::string(*browser) + " on " + std::string(*system);
  if (browser) return std::string(*browser);
  return first_product(user_agent);
}

AccessClaims claims_for(const TokenSubject& subject, std::string jti, std::int64_t now,
                        std::int64_t lifetime_seconds) {
  // The owner is always an admin.
  return {subject.user_id, subject.username, subject.is_admin || subject.is_owner, subject.is_owner,
          now,             now + lifetime_seconds, std::move(jti), std::string(kAudience),
          subject.session_id};
}

Result<SignedIn> login(const SessionRequest& request, LoginDeps& deps) {
  Result<rapidjson::Document> body = parse_json_object(request.body);
  if (!body.is_ok()) return body.status();
  Result<std::string_view> username = string_field(*body, "username", Msg::kUsernameNotString);
  if (!username.is_ok()) return username.status();
  Result<std::string_view> password = string_field(*body, "password", Msg::kPasswordNotString);
  if (!password.is_ok()) return password.status();
  // totp_code is accepted and ignored: this service has no second factor yet.

  FailureBudgets budgets(deps.limiter, budgets_for("login", *username, request.remote_addr, deps.limits));
  CHATALOT_RETURN_IF_ERROR(budgets.begin());
  // A name that is no valid username has no account: no lookup, but the same hash work.
  Result<std::optional<Account>> account = std::optional<Account>();
  if (check_username(*username).is_ok()) account = deps.sessions.find_by_username(*username);
  if (!account.is_ok()) {
    budgets.gave_back();
    return account.status();
  }
  const std::optional<std::string> stored =
      *account ? std::optional((*account)->password_hash) : std::nullopt;
  Result<bool> verified = deps.hasher.verify(stored, *password);
  if (!verified.is_ok()) {
    budgets.gave_back();
    return verified.status();
  }
  if (!*verified) return Status(Code::kUnauthenticated, Msg::kInvalidCredentials);
  budgets.succeeded();
  const Account& user = **account;
  if (user.suspended_at) return Status(Code::kPermissionDenied, Msg::kAccountSuspended);

  Result<FreshTokens> fresh = fresh_tokens(deps.random);
  if (!fresh.is_ok()) return fresh.status();
  NewSession session{user.id, fresh->refresh_token,
                     {device_name(request.user_agent), std::string(request.remote_addr)},
                     std::nullopt, std::string(request.request_id)};
  if (deps.hasher.needs_rehash(user.password_hash)) {
    // The login succeeds with the old hash if a new one cannot be had now; the next one retries.
    Result<std::string> rehashed = deps.hasher.hash(*password);
    if (rehashed.is_ok()) session.rehashed_password = *rehashed;
    if (!rehashed.is_ok()) log_error("password rehash skipped: " + rehashed.status().describe());
  }
  std::string access_token;
  const auto sign = signing_into(access_token, deps.signer, deps.clock, fresh->jti);
  Result<std::string> started = deps.sessions.start(session, [&](const std::string& session_id) {
    return sign(TokenSubject{user.id, user.username, user.is_admin, user.is_owner, session_id});
  });
  if (!started.is_ok()) return started.status();
  SignedIn signed_in{access_token, fresh->refresh_token, user};
  signed_in.account.password_hash.clear();  // never leaves the domain
  return signed_in;
}

Result<TokenPair> refresh(const SessionRequest& request, RefreshDeps& deps) {
  Result<rapidjson::Document> body = parse_json_object(request.body);
  if (!body.is_ok()) return body.status();
  Result<std::string_view> token = string_field(*body, "refresh_token", Msg::kRefreshTokenNotString);
  if (!token.is_ok()) return token.status();
  if (!is_refresh_token(*token)) return invalid_refresh_token();

  Result<FreshTokens> fresh = fresh_tokens(deps.random);
  if (!fresh.is_ok()) return fresh.status();
  std::string access_token;
  Result<SessionStore::Rotated> rotated =
      deps.sessions.rotate(*token, fresh->refresh_token, deps.grace_seconds, request.request_id,
                           signing_into(access_token, deps.signer, deps.clock, fresh->jti));
  if (!rotated.is_ok()) return rotated.status();
  if (rotated->outcome == Rotation::kReused) {
    log_info("event=refresh_token_reuse session=" + rotated->session_id +
             " action=session_ended request_id=" + std::string(request.request_id));
  }
  if (rotated->outcome != Rotation::kRotated) return invalid_refresh_token();
  return TokenPair{access_token, fresh->refresh_token};
}

Status logout(const SessionRequest& request, SessionStore& sessions) {
  Result<rapidjson::Document> body = parse_json_object(request.body);
  if (!body.is_ok()) return body.status();
  Result<std::string_view> token = string_field(*body, "refresh_token", Msg::kRefreshTokenNotString);
  if (!token.is_ok()) return token.status();
  // Anything that is not a token names no session: nothing to end, and the same answer.
  if (!is_refresh_token(*token)) return Status::ok();
  return sessions.end_by_token(*token, request.request_id);
}

Result<std::string> recover(const SessionRequest& request, RecoverDeps& deps) {
  Result<rapidjson::Document> body = parse_json_object(request.body);
  if (!body.is_ok()) return body.status();
  Result<std::string_view> username = string_field(*body, "username", Msg::kUsernameNotString);
  if (!username.is_ok()) return username.status();
  Result<std::string_view> code = string_field(*body, "recovery_code", Msg::kRecoveryCodeNotString);
  if (!code.is_ok()) return code.status();
  Result<std::string_view> password = new_password(*body);
  if (!password.is_ok()) return password.status();

  FailureBudgets budgets(deps.limiter, budgets_for("recover", *username, request.remote_addr, deps.limits));
  CHATALOT_RETURN_IF_ERROR(budgets.begin());
  // The expensive part first, whatever the answer will be: neither the answer nor its time
  // tells whether the account exists.
  Result<std::string> hash = deps.hasher.hash(*password);
  Result<std::string> next_code = hash.is_ok() ? generate_recovery_code(deps.random) : hash.status();
  if (!next_code.is_ok()) {
    budgets.gave_back();
    return next_code.status();
  }
  const std::string normalized = normalize_recovery_code(*code);
  Result<Recovery> recovered = Recovery::kNoMatch;
  if (check_username(*username).is_ok() && !normalized.empty()) {
    recovered = deps.sessions.recover(*username, normalized, *hash, *next_code, request.request_id);
  }
  if (!recovered.is_ok()) {
    budgets.gave_back();
    return recovered.status();
  }
  if (*recovered == Recovery::kNoMatch) return invalid_argument(Msg::kRecoveryInvalid);
  budgets.succeeded();
  if (*recovered == Recovery::kSuspended) return Status(Code::kPermissionDenied, Msg::kAccountSuspended);
  return std::move(next_code).value();
}

}  // namespace chatalot
