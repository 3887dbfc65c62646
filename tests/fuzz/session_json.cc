// The session endpoints and the admin's user tools (SPEC section 3, "The session lifecycle",
// "Keys", "Admin users"): every input is, all at once, the body of POST /api/auth/login,
// /refresh, /logout, /recover, PUT /api/account/password, POST /api/keys/register and an admin's
// suspension, run through the domain over tests/unit/fakes.h in a fresh world each
// (session_world.h: accounts, live, spent and dead refresh tokens); the query string of GET
// /api/admin/users; the User-Agent of the login; a typed recovery code, a search, a suspension
// reason and a session id. (The admin flag's body is read in handlers/, not in the domain.)
//
// Invariants: no crash, never kInternal; a refusal has its endpoint's code and one of its
// messages from the catalogue (valid UTF-8, not empty) and writes nothing; a malformed body (400)
// spends no budget and touches no store; every string that reaches a store (usernames, searches,
// reasons, device names, recovery codes, refresh tokens, session ids) is UTF-8 without NUL
// (PostgreSQL text) and of its shape; a device name is at most 64 bytes of printable ASCII; a
// normalised recovery code is "" or XXXX-XXXX-XXXX-XXXX of its alphabet; a user query is within
// limit 1..100 and offset 0..1e9; rate-limit keys stay short and printable.
#include <algorithm>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>

#include "../unit/fakes.h"
#include "core/account.h"
#include "core/codes.h"
#include "core/json.h"
#include "core/query.h"
#include "core/sessions.h"
#include "core/text.h"
#include "core/users.h"
#include "crypto/ed25519.h"
#include "fuzz.h"
#include "session_world.h"

namespace chatalot {
namespace {

namespace world = fuzz::session_world;
using testing::FakeClock;
using testing::FakeHasher;
using testing::FakeKeyStore;
using testing::FakeLimiter;
using testing::FakeRandom;
using testing::FakeSessionStore;
using testing::FakeSigner;

// README's defaults: per address, per (account, address), per account.
const CredentialLimits kLimits{{0.05, 20}, {0.02, 10}, {0.2, 50}};
const OpenSslKeyChecks kKeyChecks;

// --- Refusals: each endpoint's codes and messages ------------------------------------------------

struct Refusal {
  Code code;
  Message message;
};
using Refusals = std::span<const Refusal>;

constexpr Refusal kBody[] = {
    {Code::kInvalidArgument, Msg::kBodyInvalidJson},
    {Code::kInvalidArgument, Msg::kBodyInvalidUtf8},
    {Code::kInvalidArgument, Msg::kBodyNotObject},
};
constexpr Refusal kNewPasswordRules[] = {
    {Code::kInvalidArgument, Msg::kNewPasswordNotString},
    {Code::kInvalidArgument, Msg::kPasswordNul},
    {Code::kInvalidArgument, Msg::kPasswordTooShort},
    {Code::kInvalidArgument, Msg::kPasswordTooLong},
    {Code::kInvalidArgument, Msg::kPasswordUpper},
    {Code::kInvalidArgument, Msg::kPasswordLower},
    {Code::kInvalidArgument, Msg::kPasswordDigit},
    {Code::kInvalidArgument, Msg::kPasswordSpecial},
};
constexpr Refusal kLogin[] = {
    {Code::kInvalidArgument, Msg::kUsernameNotString},
    {Code::kInvalidArgument, Msg::kPasswordNotString},
    {Code::kUnauthenticated, Msg::kInvalidCredentials},
    {Code::kPermissionDenied, Msg::kAccountSuspended},
};
constexpr Refusal kRefresh[] = {
    {Code::kInvalidArgument, Msg::kRefreshTokenNotString},
    {Code::kUnauthenticated, Msg::kRefreshTokenInvalid},
};
constexpr Refusal kLogout[] = {
    {Code::kInvalidArgument, Msg::kRefreshTokenNotString},
};
constexpr Refusal kRecover[] = {
    {Code::kInvalidArgument, Msg::kUsernameNotString},
    {Code::kInvalidArgument, Msg::kRecoveryCodeNotString},
    {Code::kInvalidArgument, Msg::kRecoveryInvalid},
    {Code::kPermissionDenied, Msg::kAccountSuspended},
};
constexpr Refusal kChangePassword[] = {
    {Code::kInvalidArgument, Msg::kCurrentPasswordNotString},
    {Code::kUnauthenticated, Msg::kPasswordInvalid},
};
constexpr Refusal kKeys[] = {
    {Code::kInvalidArgument, Msg::kIdentityKeySize},
    {Code::kInvalidArgument, Msg::kIdentityKeyBytes},
    {Code::kInvalidArgument, Msg::kSignedPrekeyNotObject},
    {Code::kInvalidArgument, Msg::kSignedPrekeyId},
    {Code::kInvalidArgument, Msg::kSignedPrekeySize},
    {Code::kInvalidArgument, Msg::kSignedPrekeyBytes},
    {Code::kInvalidArgument, Msg::kSignatureSize},
    {Code::kInvalidArgument, Msg::kSignatureBytes},
    {Code::kInvalidArgument, Msg::kIdentityKeyInvalid},
    {Code::kInvalidArgument, Msg::kSignatureInvalid},
    {Code::kInvalidArgument, Msg::kPrekeysNotArray},
    {Code::kInvalidArgument, Msg::kPrekeysTooMany},
    {Code::kInvalidArgument, Msg::kPrekeyNotObject},
    {Code::kInvalidArgument, Msg::kPrekeyId},
    {Code::kInvalidArgument, Msg::kPrekeySize},
    {Code::kInvalidArgument, Msg::kPrekeyBytes},
    {Code::kInvalidArgument, Msg::kPrekeyDuplicate},
};
constexpr Refusal kReasonBody[] = {
    {Code::kInvalidArgument, Msg::kReasonType},
    {Code::kInvalidArgument, Msg::kReasonRange},
};
constexpr Refusal kReason[] = {{Code::kInvalidArgument, Msg::kReasonRange}};
constexpr Refusal kSearch[] = {{Code::kInvalidArgument, Msg::kSearchParam}};
constexpr Refusal kLimit[] = {{Code::kInvalidArgument, Msg::kLimitParam}};
constexpr Refusal kOffset[] = {{Code::kInvalidArgument, Msg::kOffsetParam}};
constexpr Refusal kSessionId[] = {{Code::kNotFound, Msg::kSessionNotFound}};

// parse_json_object()'s refusal of a string that is not Unicode, naming its top-level field.
bool is_field_not_unicode(const Status& s) {
  constexpr std::string_view kSuffix = " must be valid Unicode text";
  const std::string& m = s.message();
  if (s.code() != Code::kInvalidArgument || !m.ends_with(kSuffix)) return false;
  const std::string_view name = std::string_view(m).substr(0, m.size() - kSuffix.size());
  return !name.empty() && name.size() <= 64 && !has_control_or_bidi(name);
}

// A refusal a client may be shown: never kInternal, a non-empty UTF-8 message, and one of the
// endpoint's (json_body: also the refusals of the body's JSON itself).
void check_refusal(const Status& s, std::string_view endpoint,
                   std::initializer_list<Refusals> allowed, bool json_body) {
  fuzz::trace(endpoint, s.is_ok() ? "ok" : s.message());
  FUZZ_CHECK(!s.is_ok());
  FUZZ_CHECK_MSG(s.code() != Code::kInternal, std::string(endpoint) + ": " + s.describe());
  FUZZ_CHECK_MSG(!s.message().empty() && is_valid_utf8(s.message()), endpoint);
  if (json_body) {
    for (const Refusal& r : Refusals(kBody)) {
      if (s.code() == r.code && s.message() == r.message.text()) return;
    }
    if (is_field_not_unicode(s)) return;
  }
  for (const Refusals set : allowed) {
    for (const Refusal& r : set) {
      if (s.code() == r.code && s.message() == r.message.text()) return;
    }
  }
  fuzz::invariant_failed("a refusal that is not one of the endpoint's", __FILE__, __LINE__,
                         std::string(endpoint) + ": " + std::to_string(static_cast<int>(s.code())) +
                             " " + s.message());
}

// --- What reaches a store ------------------------------------------------------------------------

// PostgreSQL text: UTF-8 and no NUL.
void check_text(std::string_view s) {
  FUZZ_CHECK_MSG(is_valid_utf8(s), s);
  FUZZ_CHECK_MSG(s.find('\0') == std::string_view::npos, s);
}

void check_stored_username(std::string_view username) {
  check_text(username);
  FUZZ_CHECK_MSG(check_username(username).is_ok(), username);
}

bool is_recovery_code(std::string_view code) {
  constexpr std::string_view kAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  if (code.size() != 19) return false;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const bool ok = i % 5 == 4 ? code[i] == '-' : kAlphabet.find(code[i]) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

void check_device_name(std::string_view name) {
  FUZZ_CHECK(!name.empty() && name.size() <= 64);
  FUZZ_CHECK_MSG(
      std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c < 0x7F; }), name);
  FUZZ_CHECK_MSG(name.front() != ' ' && name.back() != ' ', name);
}

void check_reason(std::string_view reason) {
  check_text(reason);
  FUZZ_CHECK_MSG(!has_control_or_bidi(reason), reason);
  FUZZ_CHECK(count_code_points(reason) <= 500);
}

void check_search(std::string_view search) {
  check_text(search);
  FUZZ_CHECK(count_code_points(search) <= 100);
  FUZZ_CHECK_MSG(trim_ascii(search) == search, search);
}

// Redis keys of the failure budgets: short and printable whatever the client sent.
void check_limiter_keys(const FakeLimiter& limiter) {
  for (const FakeLimiter::Call& call : limiter.calls()) {
    FUZZ_CHECK_MSG(call.key.size() <= 128, call.key);
    FUZZ_CHECK_MSG(
        std::all_of(call.key.begin(), call.key.end(), [](char c) { return c > 0x20 && c < 0x7F; }),
        call.key);
  }
}

// --- The world each endpoint starts in -----------------------------------------------------------

struct World {
  FakeClock clock;
  FakeSessionStore sessions{clock};
  FakeLimiter limiter{clock};
  FakeHasher hasher;
  FakeSigner signer;
  FakeRandom random;
  FakeKeyStore keys;
  Caller alice;

  World() {
    Account& a = sessions.add(world::kAlice, world::kPassword, world::kRecoveryCode);
    Account& suspended = sessions.add(world::kSuspended, world::kPassword, world::kRecoveryCode);
    suspended.suspended_at = testing::rfc3339(clock.now_seconds());
    Account& old = sessions.add(world::kOldHash, world::kPassword, world::kRecoveryCode);
    old.password_hash = std::string(FakeHasher::kOldPrefix) + std::string(world::kPassword);

    // Spent a minute ago, then a live session, then one spent just now.
    sessions.add_session(a.id, std::string(world::kReusedToken));
    spend(world::kReusedToken, std::string(64, 'e'));
    clock.advance(60);
    const std::string live =
        sessions.add_session(a.id, std::string(world::kLiveToken),
                             {std::string("Firefox on Linux"), std::string(world::kRemoteAddr)});
    sessions.add_session(a.id, std::string(world::kLateToken));
    spend(world::kLateToken, std::string(64, 'd'));
    sessions.add_session(suspended.id, std::string(world::kSuspendedToken));
    FUZZ_CHECK(a.id == world::kAliceId && live == world::kAliceSessionId);
    alice = Caller{a.id, live, Roles{}};
  }

  void spend(std::string_view token, const std::string& next) {
    Result<SessionStore::Rotated> r =
        sessions.rotate(token, next, world::kGraceSeconds, "setup",
                        [](const TokenSubject&) { return Status::ok(); });
    FUZZ_CHECK(r.is_ok() && r->outcome == Rotation::kRotated);
  }

  // Whether nothing was looked up, spent, drawn, hashed, signed or written since the setup.
  bool untouched() const {
    return sessions.username_lookups().empty() && sessions.id_lookups().empty() &&
           sessions.started().empty() && sessions.rotations().size() == 2 &&
           sessions.ended_by_token().empty() && sessions.recoveries().empty() &&
           sessions.ended_one().empty() && sessions.password_changes().empty() &&
           limiter.calls().empty() && hasher.calls() == 0 && hasher.verifications().empty() &&
           signer.signed_claims().empty() && random.calls() == 0 && keys.replaced().empty();
  }

  // The stored secrets of every account, to show that a refusal changed none.
  std::vector<std::string> secrets() {
    std::vector<std::string> out;
    for (int n = 1; n <= 3; ++n) {
      const std::string id = testing::fake_uuid("11111111", n);
      out.push_back(sessions.account(id)->password_hash);
      out.push_back(sessions.recovery_code(id));
    }
    return out;
  }
};

// A body refused as malformed (400, but for a recovery code that matches nothing) was refused
// before anything was tried: no budget spent, no hash work, nothing read or written.
void check_nothing_tried(const Status& s, const World& w) {
  if (s.code() == Code::kInvalidArgument && s.message() != Msg::kRecoveryInvalid.text()) {
    FUZZ_CHECK_MSG(w.untouched(), s.message());
  }
}

SessionRequest request_of(std::string_view body, std::string_view user_agent = {}) {
  return {body, world::kRemoteAddr, user_agent, world::kRequestId};
}

// --- The bodies ----------------------------------------------------------------------------------

// The same bytes are the login's User-Agent: the device name it stores is checked too.
void fuzz_login(std::string_view input, World& w) {
  LoginDeps deps{kLimits, w.sessions, w.limiter, w.hasher, w.signer, w.clock, w.random};
  const Result<SignedIn> r = login(request_of(input, input), deps);
  for (const std::string& u : w.sessions.username_lookups()) check_stored_username(u);
  check_limiter_keys(w.limiter);
  if (!r.is_ok()) {
    check_refusal(r.status(), "login", {kLogin}, true);
    check_nothing_tried(r.status(), w);
    FUZZ_CHECK(w.sessions.started().empty());
    return;
  }
  fuzz::trace("login", "signed in " + r->account.username);
  FUZZ_CHECK(w.sessions.started().size() == 1);
  const NewSession& s = w.sessions.started().front();
  FUZZ_CHECK(is_refresh_token(s.refresh_token) && s.refresh_token == r->refresh_token);
  FUZZ_CHECK(w.sessions.token_usable(r->refresh_token));
  FUZZ_CHECK(!r->access_token.empty());
  FUZZ_CHECK(r->account.password_hash.empty());
  FUZZ_CHECK(!r->account.suspended_at);
  FUZZ_CHECK(s.origin.device_name == device_name(input));
  if (s.origin.device_name) check_device_name(*s.origin.device_name);
  FUZZ_CHECK(s.origin.ip_address == world::kRemoteAddr);
  FUZZ_CHECK(s.rehashed_password.has_value() == (r->account.username == world::kOldHash));
  if (s.rehashed_password) check_text(*s.rehashed_password);
}

void fuzz_refresh(std::string_view input, World& w) {
  RefreshDeps deps{world::kGraceSeconds, w.sessions, w.signer, w.clock, w.random};
  const std::size_t before = w.sessions.rotations().size();
  const Result<TokenPair> r = refresh(request_of(input), deps);
  const auto& rotations = w.sessions.rotations();
  for (std::size_t i = before; i < rotations.size(); ++i) {
    FUZZ_CHECK_MSG(is_refresh_token(rotations[i].token), rotations[i].token);
    FUZZ_CHECK(is_refresh_token(rotations[i].next_token));
  }
  if (!r.is_ok()) {
    check_refusal(r.status(), "refresh", {kRefresh}, true);
    check_nothing_tried(r.status(), w);
    return;
  }
  fuzz::trace("refresh", "rotated");
  FUZZ_CHECK(rotations.size() == before + 1);
  FUZZ_CHECK(r->refresh_token == rotations.back().next_token);
  FUZZ_CHECK(!w.sessions.token_usable(rotations.back().token));
  FUZZ_CHECK(w.sessions.token_usable(r->refresh_token));
  FUZZ_CHECK(!r->access_token.empty());
}

void fuzz_logout(std::string_view input, World& w) {
  const Status s = logout(request_of(input), w.sessions);
  for (const FakeSessionStore::Call& c : w.sessions.ended_by_token()) {
    FUZZ_CHECK_MSG(is_refresh_token(c.value), c.value);
  }
  if (!s.is_ok()) {
    check_refusal(s, "logout", {kLogout}, true);
    check_nothing_tried(s, w);
    FUZZ_CHECK(w.sessions.ended_by_token().empty());
    return;
  }
  fuzz::trace("logout", w.sessions.ended_by_token().empty() ? "no token" : "ended");
}

void fuzz_recover(std::string_view input, World& w) {
  const std::vector<std::string> secrets = w.secrets();
  RecoverDeps deps{kLimits, w.sessions, w.limiter, w.hasher, w.random};
  const Result<std::string> r = recover(request_of(input), deps);
  for (const FakeSessionStore::RecoverCall& c : w.sessions.recoveries()) {
    check_stored_username(c.username);
    FUZZ_CHECK_MSG(is_recovery_code(c.recovery_code), c.recovery_code);
    FUZZ_CHECK_MSG(is_recovery_code(c.new_recovery_code), c.new_recovery_code);
    check_text(c.password_hash);
  }
  check_limiter_keys(w.limiter);
  if (!r.is_ok()) {
    check_refusal(r.status(), "recover", {kRecover, kNewPasswordRules}, true);
    check_nothing_tried(r.status(), w);
    FUZZ_CHECK(w.secrets() == secrets);
    return;
  }
  fuzz::trace("recover", "recovered");
  FUZZ_CHECK_MSG(is_recovery_code(*r), *r);
  FUZZ_CHECK(w.sessions.recoveries().size() == 1);
  const FakeSessionStore::RecoverCall& c = w.sessions.recoveries().back();
  FUZZ_CHECK(c.recovery_code == world::kRecoveryCode && c.new_recovery_code == *r);
  FUZZ_CHECK(check_password(c.password_hash.substr(FakeHasher::kPrefix.size())).is_ok());
}

void fuzz_change_password(std::string_view input, World& w) {
  PasswordChangeDeps deps{kLimits, w.sessions, w.limiter, w.hasher};
  const Status s = change_password(w.alice, input, world::kRemoteAddr, world::kRequestId, deps);
  check_limiter_keys(w.limiter);
  if (!s.is_ok()) {
    check_refusal(s, "change_password", {kChangePassword, kNewPasswordRules}, true);
    check_nothing_tried(s, w);
    FUZZ_CHECK(w.sessions.password_changes().empty());
    return;
  }
  fuzz::trace("change_password", "changed");
  FUZZ_CHECK(w.sessions.password_changes().size() == 1);
  const FakeSessionStore::PasswordChange& c = w.sessions.password_changes().back();
  FUZZ_CHECK(c.user_id == w.alice.user_id && c.keep == w.alice.session_id);
  check_text(c.password_hash);
  FUZZ_CHECK(check_password(c.password_hash.substr(FakeHasher::kPrefix.size())).is_ok());
}

std::string_view bytes(std::span<const std::uint8_t> a) {
  return {reinterpret_cast<const char*>(a.data()), a.size()};
}

void fuzz_register_keys(std::string_view input, World& w) {
  const Status s = register_keys(w.alice, input, world::kRequestId, kKeyChecks, w.keys);
  if (!s.is_ok()) {
    check_refusal(s, "register_keys", {kKeys}, true);
    check_nothing_tried(s, w);
    FUZZ_CHECK(w.keys.replaced().empty());
    return;
  }
  fuzz::trace("register_keys", "replaced");
  FUZZ_CHECK(w.keys.replaced().size() == 1);
  const FakeKeyStore::Replaced& r = w.keys.replaced().back();
  FUZZ_CHECK(r.user_id == w.alice.user_id);
  FUZZ_CHECK(kKeyChecks.is_identity_key(bytes(r.keys.identity_key)));
  FUZZ_CHECK(kKeyChecks.verify(bytes(r.keys.identity_key), bytes(r.keys.signed_prekey),
                               bytes(r.keys.signed_prekey_signature)));
  FUZZ_CHECK(r.keys.one_time_prekeys.size() <= kMaxOneTimePrekeys);
  std::unordered_set<std::uint32_t> ids;
  for (const OneTimePrekey& k : r.keys.one_time_prekeys) FUZZ_CHECK(ids.insert(k.key_id).second);
}

void fuzz_suspension_reason(std::string_view input) {
  const Result<std::optional<std::string>> r = suspension_reason(input);
  if (!r.is_ok()) {
    check_refusal(r.status(), "suspension_reason", {kReasonBody}, true);
    return;
  }
  fuzz::trace("suspension_reason", r->value_or("none"));
  if (*r) check_reason(**r);
}

// --- The raw bytes as text ----------------------------------------------------------------------

void fuzz_user_query(std::string_view input) {
  const Result<UserQuery> q = user_query_from(input);
  // Each parameter alone, as query_parameter() decodes it.
  struct Param {
    const char* name;
    Message bad;
    Refusals refusals;
  };
  const Param params[] = {{"search", Msg::kSearchParam, kSearch},
                          {"limit", Msg::kLimitParam, kLimit},
                          {"offset", Msg::kOffsetParam, kOffset}};
  std::optional<std::string> values[3];
  for (int i = 0; i < 3; ++i) {
    const Result<std::optional<std::string>> v =
        query_parameter(input, params[i].name, params[i].bad);
    if (!v.is_ok()) {
      check_refusal(v.status(), params[i].name, {params[i].refusals}, false);
      FUZZ_CHECK(!q.is_ok());
      continue;
    }
    if (*v) FUZZ_CHECK_MSG(is_valid_utf8(**v), **v);
    values[i] = *v;
  }
  if (!q.is_ok()) {
    check_refusal(q.status(), "user_query_from", {kSearch, kLimit, kOffset}, false);
    return;
  }
  fuzz::trace("user_query_from", "search \"" + q->search + "\" limit " + std::to_string(q->limit) +
                                     " offset " + std::to_string(q->offset));
  check_search(q->search);
  FUZZ_CHECK(q->limit >= 1 && q->limit <= 100);
  FUZZ_CHECK(q->offset >= 0 && q->offset <= 1'000'000'000);
  FUZZ_CHECK(q->search == (values[0] ? trim_ascii(*values[0]) : ""));
  FUZZ_CHECK(q->limit == (values[1] ? parse_integer<int>(*values[1]).value_or(-1) : 50));
  FUZZ_CHECK(q->offset == (values[2] ? parse_integer<std::int64_t>(*values[2]).value_or(-1) : 0));
}

bool ignorable(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '-'; }

void fuzz_recovery_code(std::string_view input) {
  const std::string code = normalize_recovery_code(input);
  fuzz::trace("recovery code", code.empty() ? "refused" : code);
  if (code.empty()) return;
  FUZZ_CHECK_MSG(is_recovery_code(code), code);
  check_text(code);
  FUZZ_CHECK(normalize_recovery_code(code) == code);
  // Accepted: every input byte is ignorable or the next code character in either case.
  std::string chars;
  for (const char c : input) {
    if (ignorable(c)) continue;
    chars += c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  std::string undashed = code;
  std::erase(undashed, '-');
  FUZZ_CHECK_MSG(chars == undashed, code);
  std::string lower = undashed;
  for (char& c : lower) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  FUZZ_CHECK(normalize_recovery_code(" " + lower.substr(0, 7) + "\t-\n" + lower.substr(7) + " ") ==
             code);
}

void fuzz_device_name(std::string_view input) {
  const std::optional<std::string> name = device_name(input);
  fuzz::trace("device name", name.value_or("none"));
  if (trim_ascii(input).empty()) FUZZ_CHECK(!name);
  if (!name) return;
  check_device_name(*name);
  check_text(*name);
}

void fuzz_text(std::string_view input) {
  const Result<std::string> search = checked_search(input);
  if (search.is_ok()) {
    check_search(*search);
  } else {
    check_refusal(search.status(), "checked_search", {kSearch}, false);
  }
  const Status reason = check_suspension_reason(input);
  if (reason.is_ok()) {
    check_reason(input);
  } else {
    check_refusal(reason, "check_suspension_reason", {kReason}, false);
  }
  if (is_refresh_token(input)) {
    FUZZ_CHECK(input.size() == 64 &&
               input.find_first_not_of("0123456789abcdef") == std::string_view::npos);
  }
}

// DELETE /api/account/sessions/{id}: only a UUID may reach the store.
void fuzz_session_id(std::string_view input, World& w) {
  const Status s = end_my_session(w.alice, input, world::kRequestId, w.sessions);
  for (const FakeSessionStore::Call& c : w.sessions.ended_one()) {
    FUZZ_CHECK_MSG(is_uuid(c.value), c.value);
  }
  if (!s.is_ok()) {
    check_refusal(s, "end_my_session", {kSessionId}, false);
    return;
  }
  fuzz::trace("end_my_session", "ended");
  FUZZ_CHECK(w.sessions.ended_one().size() == 1 && w.sessions.ended_one().back().value == input);
}

}  // namespace
}  // namespace chatalot

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chatalot;
  const std::string_view input = fuzz::as_text(data, size);
  // The bodies, each in a fresh world. A body that is no JSON object is refused before anything
  // is read, spent or written: then they all share one world, which must stay as it was.
  using Endpoint = void (*)(std::string_view, World&);
  constexpr Endpoint kBodies[] = {fuzz_login,   fuzz_refresh,         fuzz_logout,
                                  fuzz_recover, fuzz_change_password, fuzz_register_keys};
  World shared;
  const bool is_object = parse_json_object(input).is_ok();
  for (const Endpoint endpoint : kBodies) {
    if (!is_object) {
      endpoint(input, shared);
      continue;
    }
    World fresh;
    endpoint(input, fresh);
  }
  FUZZ_CHECK(is_object || shared.untouched());
  fuzz_suspension_reason(input);
  fuzz_user_query(input);
  fuzz_recovery_code(input);
  fuzz_device_name(input);
  fuzz_text(input);
  fuzz_session_id(input, shared);
  return 0;
}
