// In-memory fakes of every port and store of common/core (ports.h, registration.h, invites.h,
// auth.h, sessions.h, account.h, users.h), for the domain's unit tests. Each behaves like the real
// one in what the domain relies on (GCRA budgets, case-insensitive uniqueness, the first account as
// owner, usable invites, one transaction per registration), records what it was asked, so a test
// can assert what was spent, stored or never touched, and can be told to fail with a given Status
// the way a library failure arrives: the code and the library's words in detail() only. No mocking
// framework. Only the standard library and common/core: these tests link chatalot_core alone.
#pragma once

#include <time.h>  // gmtime_r

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/account.h"
#include "core/auth.h"
#include "core/codes.h"
#include "core/invites.h"
#include "core/limits.h"
#include "core/ports.h"
#include "core/registration.h"
#include "core/sessions.h"
#include "core/status.h"
#include "core/text.h"
#include "core/users.h"

namespace chatalot::testing {

inline constexpr std::int64_t kStartTime = 1'750'000'000;  // 2025-06-15T15:06:40Z

inline std::string rfc3339(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Distinct, valid UUIDs: the domain refuses anything else before a store sees it.
inline std::string fake_uuid(std::string_view prefix8, int n) {
  char tail[16];
  std::snprintf(tail, sizeof tail, "%012d", n);
  return std::string(prefix8) + "-0000-4000-8000-" + tail;
}

// An InviteSpec by position (designated initializers that skip a member warn under -Wextra).
inline InviteSpec invite_spec(std::optional<std::int64_t> max_uses,
                              std::optional<std::int64_t> expires_in_hours = std::nullopt,
                              std::optional<std::string> note = std::nullopt) {
  return InviteSpec{max_uses, expires_in_hours, std::move(note)};
}

class FakeClock final : public Clock {
 public:
  std::int64_t now_seconds() const override { return now_; }
  void advance(std::int64_t seconds) { now_ += seconds; }

 private:
  std::int64_t now_ = kStartTime;
};

// Byte i of everything drawn from one FakeRandom is i mod 256, so what is built from it is
// predictable: the first invite code drawn is "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV" (byte b is
// Crockford character b mod 32).
class FakeRandom final : public Random {
 public:
  Result<std::string> bytes(std::size_t n) override {
    ++calls_;
    if (failure_ && calls_ > succeed_first_) return *failure_;
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(next_++ & 0xFFU);
    return out;
  }
  // Every call after the first `succeed_first` answers `failure`.
  void fail_with(Status failure, int succeed_first = 0) {
    failure_ = std::move(failure);
    succeed_first_ = succeed_first;
  }
  int calls() const { return calls_; }

 private:
  unsigned next_ = 0;
  int calls_ = 0;
  int succeed_first_ = 0;
  std::optional<Status> failure_;
};

// hash() is the prefix and the password. verify() matches strings of hash() and of kOldPrefix
// (a hash made with other parameters, which needs_rehash() reports); with no string it answers
// false, as the real one does after the same work.
class FakeHasher final : public PasswordHasher {
 public:
  static constexpr std::string_view kPrefix = "$argon2id$fake$";
  static constexpr std::string_view kOldPrefix = "$argon2id$old$";

  struct Verification {
    std::optional<std::string> phc;
    std::string password;
  };

  static std::string hashed(std::string_view password) {
    return std::string(kPrefix) + std::string(password);
  }

  Result<std::string> hash(std::string_view password) override {
    ++calls_;
    if (failure_) return *failure_;
    return hashed(password);
  }
  Result<bool> verify(const std::optional<std::string>& phc, std::string_view password) override {
    verifications_.push_back({phc, std::string(password)});
    if (verify_failure_) return *verify_failure_;
    if (!phc) return false;
    return *phc == hashed(password) || *phc == std::string(kOldPrefix) + std::string(password);
  }
  bool needs_rehash(std::string_view phc) const override { return !phc.starts_with(kPrefix); }

  void fail_with(Status failure) { failure_ = std::move(failure); }  // hash() only
  void fail_verify_with(Status failure) { verify_failure_ = std::move(failure); }
  int calls() const { return calls_; }  // of hash()
  const std::vector<Verification>& verifications() const { return verifications_; }

 private:
  int calls_ = 0;
  std::vector<Verification> verifications_;
  std::optional<Status> failure_;
  std::optional<Status> verify_failure_;
};

class FakeSigner final : public TokenSigner {
 public:
  Result<std::string> sign(const AccessClaims& claims) const override {
    signed_.push_back(claims);
    if (failure_) return *failure_;
    return "token-for-" + claims.sub;
  }
  std::int64_t lifetime_seconds() const override { return lifetime_seconds_; }
  void fail_with(Status failure) { failure_ = std::move(failure); }
  void set_lifetime_seconds(std::int64_t seconds) { lifetime_seconds_ = seconds; }
  // Every claim set it was asked to sign, failed ones included.
  const std::vector<AccessClaims>& signed_claims() const { return signed_; }

 private:
  mutable std::vector<AccessClaims> signed_;
  std::int64_t lifetime_seconds_ = kAccessTokenSeconds;
  std::optional<Status> failure_;
};

// "valid:<sub>" verifies with that sub (and "valid:<sub>|<sid>" with that sid too), "expired" is
// Msg::kTokenExpired, anything else Msg::kTokenInvalid, as the real verifier answers.
class FakeVerifier final : public TokenVerifier {
 public:
  struct Call {
    std::string token;
    std::int64_t now;
  };
  Result<AccessClaims> verify(std::string_view token, std::int64_t now) const override {
    calls_.push_back({std::string(token), now});
    constexpr std::string_view kValid = "valid:";
    if (token.starts_with(kValid)) {
      AccessClaims claims;
      const std::string_view rest = token.substr(kValid.size());
      const std::size_t bar = rest.find('|');
      claims.sub = std::string(rest.substr(0, bar));
      if (bar != std::string_view::npos) claims.sid = std::string(rest.substr(bar + 1));
      claims.iat = now;
      claims.exp = now + kAccessTokenSeconds;
      return claims;
    }
    if (token == "expired") return Status(Code::kUnauthenticated, Msg::kTokenExpired);
    return Status(Code::kUnauthenticated, Msg::kTokenInvalid);
  }
  const std::vector<Call>& calls() const { return calls_; }

 private:
  mutable std::vector<Call> calls_;
};

struct FakeKeyChecks final : KeyChecks {
  bool identity_key_valid = true;
  bool signature_valid = true;

  bool is_identity_key(std::string_view) const override { return identity_key_valid; }
  bool verify(std::string_view, std::string_view, std::string_view) const override {
    return signature_valid;
  }
};

// core/limits.cc keeps the invite budget's keys to itself; they are the Redis key names that
// operators see, so spelling them out here also pins them.
inline std::string invite_key(std::string_view addr) {
  return "chatalot:rl:invite:" + client_key(addr);
}
inline std::string network_budget_key(std::string_view addr) {
  return "chatalot:rl:invite-net:" + network_key(addr);
}
inline const std::string kFailuresCounter(kInviteFailuresKey);

// GCRA per key, in memory, as limits/gcra.cc's script does it in Redis: whole milliseconds,
// a take or a refund moves the key's theoretical arrival time by one emission interval, a peek
// only looks, and a refusal says how many seconds (at least 1) until one more fits.
class FakeLimiter final : public Limiter {
 public:
  struct Call {
    std::string key;
    LimitMode mode;
    bool operator==(const Call&) const = default;
  };

  explicit FakeLimiter(const Clock& clock) : clock_(clock) {}

  Status apply(const std::string& key, const RateLimit& limit, LimitMode mode) override {
    calls_.push_back({key, mode});
    if (const auto it = key_failures_.find(key); it != key_failures_.end()) return it->second;
    if (failure_) return *failure_;
    const std::int64_t now = clock_.now_seconds() * 1000;
    const std::int64_t interval = interval_ms(limit);
    const auto it = tat_.find(key);
    const std::int64_t tat = it == tat_.end() ? now : std::max(it->second, now);
    const std::int64_t next =
        std::max(tat + (mode == LimitMode::kRefund ? -interval : interval), now);
    const std::int64_t over = next - now - allowance_ms(limit);
    if (over > 0) {
      const auto seconds = static_cast<int>(std::max<std::int64_t>(1, (over + 999) / 1000));
      return Status(Code::kResourceExhausted, Msg::kRateLimited).with_retry_after(seconds);
    }
    if (mode != LimitMode::kPeek) tat_[key] = next;
    return Status::ok();
  }

  // The failure counter of the port: kept apart from the calls, read with counter().
  Result<long long> count(const std::string& key) override {
    if (failure_) return *failure_;
    return ++counters_[key];
  }
  long long counter(const std::string& key) const {
    const auto it = counters_.find(key);
    return it == counters_.end() ? 0 : it->second;
  }

  // Spends the whole burst of `key` now, without recording a call: the state a client that
  // already used its budget leaves behind.
  void exhaust(const std::string& key, const RateLimit& limit) {
    tat_[key] = clock_.now_seconds() * 1000 + allowance_ms(limit);
  }
  // Every call answers `failure` (e.g. unavailable("Redis: ...")); with a key, only that key's.
  void fail_with(Status failure) { failure_ = std::move(failure); }
  void fail_with(const std::string& key, Status failure) {
    key_failures_[key] = std::move(failure);
  }

  const std::vector<Call>& calls() const { return calls_; }
  int count(const std::string& key, LimitMode mode) const {
    return static_cast<int>(std::count(calls_.begin(), calls_.end(), Call{key, mode}));
  }
  // Whether any call touched a key starting with prefix.
  bool touched(std::string_view prefix) const {
    return std::any_of(calls_.begin(), calls_.end(),
                       [&](const Call& c) { return c.key.starts_with(prefix); });
  }

 private:
  static std::int64_t interval_ms(const RateLimit& limit) {
    return static_cast<std::int64_t>(1000.0 / limit.per_second + 0.5);
  }
  static std::int64_t allowance_ms(const RateLimit& limit) {
    return static_cast<std::int64_t>(limit.burst * static_cast<double>(interval_ms(limit)) + 0.5);
  }

  const Clock& clock_;
  std::map<std::string, std::int64_t, std::less<>> tat_;
  std::vector<Call> calls_;
  std::optional<Status> failure_;
  std::map<std::string, Status, std::less<>> key_failures_;
  std::map<std::string, long long, std::less<>> counters_;
};

// Invites keyed by their normalised code. Usable: not revoked, not expired, uses left.
class FakeInviteStore final : public InviteStore {
 public:
  struct Stored {
    Invite invite;
    std::string code;                        // normalised
    std::optional<std::int64_t> expires_at;  // Unix time
  };
  struct Failures {
    std::optional<Status> find_usable, create, list, revoke;
  };
  struct RevokeCall {
    std::string id;
    std::optional<std::string> actor;
    std::string request_id;
  };

  explicit FakeInviteStore(const Clock& clock) : clock_(clock) {}

  // Seeds an invite as an admin would have made it; the code may be dashed or in lower case.
  const Invite& add(std::string_view code, const InviteSpec& spec = {}) {
    return insert(normalize_invite_code(code), spec, std::nullopt);
  }
  // The stored invite of a code (normalised here), or nullptr.
  const Invite* find(std::string_view code) const {
    const Stored* s = stored(normalize_invite_code(code));
    return s ? &s->invite : nullptr;
  }

  Result<std::optional<UsableInvite>> find_usable(std::string_view code) override {
    lookups_.emplace_back(code);
    if (failures.find_usable) return *failures.find_usable;
    const Stored* s = stored(code);
    if (s == nullptr || !usable(*s)) return std::optional<UsableInvite>();
    std::optional<std::int64_t> left;
    if (s->invite.max_uses) left = *s->invite.max_uses - s->invite.used_count;
    return std::optional<UsableInvite>(UsableInvite{s->invite.expires_at, left});
  }

  Result<Invite> create(const NewInvite& invite) override {
    created_.push_back(invite);
    if (failures.create) return *failures.create;
    return insert(invite.code, invite.spec, invite.created_by);
  }

  Result<std::vector<Invite>> list(int limit, bool include_revoked) override {
    if (failures.list) return *failures.list;
    std::vector<Invite> out;
    for (auto it = invites_.rbegin(); it != invites_.rend() && std::ssize(out) < limit; ++it) {
      if (include_revoked || !it->invite.revoked_at) out.push_back(it->invite);
    }
    return out;
  }

  Result<std::optional<Invite>> revoke(std::string_view id, const std::optional<std::string>& actor,
                                       std::string_view request_id) override {
    revoked_.push_back({std::string(id), actor, std::string(request_id)});
    if (failures.revoke) return *failures.revoke;
    for (Stored& s : invites_) {
      if (s.invite.id != id) continue;
      if (!s.invite.revoked_at) s.invite.revoked_at = rfc3339(clock_.now_seconds());
      return std::optional<Invite>(s.invite);
    }
    return std::optional<Invite>();
  }

  // One use of a usable invite, for FakeAccountStore's transaction: its id, or nullopt.
  std::optional<std::string> consume(std::string_view code) {
    for (Stored& s : invites_) {
      if (s.code != code || !usable(s)) continue;
      ++s.invite.used_count;
      return s.invite.id;
    }
    return std::nullopt;
  }
  // The whole state, for FakeAccountStore's rollback.
  std::vector<Stored> snapshot() const { return invites_; }
  void restore(std::vector<Stored> state) { invites_ = std::move(state); }

  Failures failures;
  const std::vector<std::string>& lookups() const { return lookups_; }  // codes find_usable got
  const std::vector<NewInvite>& created() const { return created_; }
  const std::vector<RevokeCall>& revoked() const { return revoked_; }

 private:
  const Stored* stored(std::string_view code) const {
    for (const Stored& s : invites_) {
      if (!code.empty() && s.code == code) return &s;
    }
    return nullptr;
  }
  bool usable(const Stored& s) const {
    return !s.invite.revoked_at && (!s.expires_at || clock_.now_seconds() < *s.expires_at) &&
           (!s.invite.max_uses || s.invite.used_count < *s.invite.max_uses);
  }
  const Invite& insert(std::string code, const InviteSpec& spec,
                       const std::optional<std::string>& created_by) {
    Stored s;
    s.invite.id = fake_uuid("00000000", static_cast<int>(invites_.size()) + 1);
    s.invite.code_hint = code.substr(0, 4);
    s.invite.created_by = created_by;
    s.invite.max_uses = spec.max_uses;
    s.invite.created_at = rfc3339(clock_.now_seconds());
    s.invite.note = spec.note;
    if (spec.expires_in_hours) {
      s.expires_at = clock_.now_seconds() + *spec.expires_in_hours * 3600;
      s.invite.expires_at = rfc3339(*s.expires_at);
    }
    s.code = std::move(code);
    invites_.push_back(std::move(s));
    return invites_.back().invite;
  }

  const Clock& clock_;
  std::vector<Stored> invites_;
  std::vector<std::string> lookups_;
  std::vector<NewInvite> created_;
  std::vector<RevokeCall> revoked_;
};

// Accounts in memory, unique ignoring case; the first account is the owner; create() is one
// transaction: it consumes the invite through the FakeInviteStore, runs before_commit last and
// rolls everything back if anything fails.
class FakeAccountStore final : public AccountStore {
 public:
  static constexpr std::string_view kCreatedAt = "2025-06-15T15:06:40.000000Z";

  struct Stored {
    CreatedAccount created;
    NewAccount account;
    bool is_admin = false;
  };
  struct Failures {
    std::optional<Status> taken, create, promote_admin;
  };

  explicit FakeAccountStore(FakeInviteStore& invites) : invites_(invites) {}

  // Seeds an account, as an earlier registration would have left it.
  const Stored& add(std::string_view username, std::string_view email) {
    NewAccount account;
    account.input.username = username;
    account.input.email = email;
    return insert(account, std::nullopt);
  }

  Result<Taken> taken(std::string_view username, std::string_view email) override {
    ++taken_calls_;
    if (failures.taken) return *failures.taken;
    return find_taken(username, email);
  }

  Result<CreatedAccount> create(
      const NewAccount& account,
      const std::function<Status(const CreatedAccount&)>& before_commit) override {
    ++create_calls_;
    if (failures.create) return *failures.create;
    // The unique indexes: a concurrent twin that passed taken() fails here.
    const Taken twin = find_taken(account.input.username, account.input.email);
    if (twin.username) return Status(Code::kAlreadyExists, Msg::kUsernameTaken);
    if (twin.email) return Status(Code::kAlreadyExists, Msg::kEmailTaken);
    std::vector<FakeInviteStore::Stored> invites_before = invites_.snapshot();
    std::optional<std::string> invite_id;
    if (account.invite_code) {
      invite_id = invites_.consume(*account.invite_code);
      if (!invite_id) return invalid_argument(Msg::kInviteInvalid);  // used up meanwhile
    }
    const CreatedAccount created = insert(account, invite_id).created;
    if (Status s = before_commit(created); !s.is_ok()) {
      users_.pop_back();
      invites_.restore(std::move(invites_before));
      return s;
    }
    return created;
  }

  Result<std::optional<std::string>> promote_admin(std::string_view username) override {
    if (failures.promote_admin) return *failures.promote_admin;
    for (Stored& s : users_) {
      if (ascii_lower(s.account.input.username) != ascii_lower(username) || s.is_admin) continue;
      s.is_admin = true;
      return std::optional<std::string>(s.account.input.username + " (" + s.created.id + ")");
    }
    return std::optional<std::string>();
  }

  Failures failures;
  const std::vector<Stored>& users() const { return users_; }  // committed accounts only
  int taken_calls() const { return taken_calls_; }
  int create_calls() const { return create_calls_; }

 private:
  Taken find_taken(std::string_view username, std::string_view email) const {
    Taken t;
    for (const Stored& s : users_) {
      t.username = t.username || ascii_lower(s.account.input.username) == ascii_lower(username);
      t.email = t.email || ascii_lower(s.account.input.email) == ascii_lower(email);
    }
    return t;
  }
  const Stored& insert(const NewAccount& account, std::optional<std::string> invite_id) {
    const bool owner = users_.empty();  // the instance's first account claims it
    const int n = static_cast<int>(users_.size()) + 1;
    CreatedAccount created{fake_uuid("11111111", n), std::string(kCreatedAt), owner,
                           std::move(invite_id), fake_uuid("22222222", n)};
    users_.push_back({std::move(created), account, owner});
    return users_.back();
  }

  FakeInviteStore& invites_;
  std::vector<Stored> users_;
  int taken_calls_ = 0;
  int create_calls_ = 0;
};

class FakeUserDirectory final : public UserDirectory {
 public:
  void set(std::string user_id, Roles roles) { users_[std::move(user_id)] = roles; }
  void fail_with(Status failure) { failure_ = std::move(failure); }

  Result<std::optional<Roles>> roles(std::string_view user_id) override {
    asked_.emplace_back(user_id);
    if (failure_) return *failure_;
    const auto it = users_.find(user_id);
    if (it == users_.end()) return std::optional<Roles>();
    return std::optional<Roles>(it->second);
  }
  const std::vector<std::string>& asked() const { return asked_; }

 private:
  std::map<std::string, Roles, std::less<>> users_;
  std::vector<std::string> asked_;
  std::optional<Status> failure_;
};

// Accounts, sessions and refresh tokens in memory, as store/pg_sessions.cc keeps them: usernames
// match ignoring case; a session lives until it is ended or 30 days after its last refresh; each
// token is spent once; start() and rotate() are transactions whose before_commit failure rolls
// everything back. Secrets are kept in the clear (the real store keeps digests).
class FakeSessionStore final : public SessionStore {
 public:
  struct Session {
    std::string id;
    std::string user_id;
    SessionOrigin origin;
    std::int64_t created = 0;  // Unix time
    std::int64_t expires = 0;
    std::optional<std::string> ended;  // why: "logout", "reuse", "logout_all", ...
  };
  struct Token {
    std::string session_id;
    std::optional<std::int64_t> spent_at;
  };
  struct Failures {
    std::optional<Status> find_by_username, find_by_id, start, rotate, end_by_token, recover,
        live_sessions, end_session, end_sessions, change_password, set_recovery_code;
  };
  struct RecoverCall {
    std::string username, recovery_code, password_hash, new_recovery_code, request_id;
  };
  struct EndSessionsCall {
    std::string user_id, keep, reason;
    std::optional<std::string> actor;
    std::string request_id;
  };
  struct PasswordChange {
    std::string user_id, password_hash, keep, request_id;
  };
  struct Call {  // end_by_token ("" for the user), end_session, set_recovery_code
    std::string user_id, value, request_id;
  };
  struct RotateCall {
    std::string token, next_token, request_id;
    int grace_seconds = 0;
  };

  explicit FakeSessionStore(const Clock& clock) : clock_(clock) {}

  // Seeds an account whose password is `password` (FakeHasher's form) and whose recovery code
  // is `recovery_code` (normalised); stable reference.
  Account& add(std::string_view username, std::string_view password = "Correct-horse-9",
               std::string_view recovery_code = "WXYZ-WXYZ-2345-2345") {
    Account a;
    a.id = fake_uuid("11111111", static_cast<int>(accounts_.size()) + 1);
    a.username = username;
    a.display_name = username;
    a.email = std::string(username) + "@example.com";
    a.created_at = rfc3339(clock_.now_seconds());
    a.password_hash = FakeHasher::hashed(password);
    recovery_codes_[a.id] = recovery_code;
    accounts_.push_back(std::move(a));
    return accounts_.back();
  }
  // Seeds a live session of an account with one live refresh token; its id.
  std::string add_session(const std::string& user_id, const std::string& refresh_token,
                          SessionOrigin origin = {}) {
    return open(user_id, refresh_token, std::move(origin));
  }

  Result<std::optional<Account>> find_by_username(std::string_view username) override {
    username_lookups_.emplace_back(username);
    if (failures.find_by_username) return *failures.find_by_username;
    const Account* a = by_username(username);
    return a ? std::optional<Account>(*a) : std::nullopt;
  }
  Result<std::optional<Account>> find_by_id(std::string_view user_id) override {
    id_lookups_.emplace_back(user_id);
    if (failures.find_by_id) return *failures.find_by_id;
    const Account* a = account(user_id);
    return a ? std::optional<Account>(*a) : std::nullopt;
  }

  Result<std::string> start(
      const NewSession& session,
      const std::function<Status(const std::string&)>& before_commit) override {
    started_.push_back(session);
    if (failures.start) return *failures.start;
    Account* a = account(session.user_id);
    if (a == nullptr) return internal_error("start: no such user");
    const std::string hash_before = a->password_hash;
    if (session.rehashed_password) a->password_hash = *session.rehashed_password;
    const std::string id = open(session.user_id, session.refresh_token, session.origin);
    if (Status s = before_commit(id); !s.is_ok()) {
      tokens_.erase(session.refresh_token);
      sessions_.pop_back();
      a->password_hash = hash_before;
      return s;
    }
    return id;
  }

  Result<Rotated> rotate(std::string_view token, std::string_view next_token, int grace_seconds,
                         std::string_view request_id,
                         const std::function<Status(const TokenSubject&)>& before_commit) override {
    rotations_.push_back(
        {std::string(token), std::string(next_token), std::string(request_id), grace_seconds});
    if (failures.rotate) return *failures.rotate;
    const auto t = tokens_.find(token);
    if (t == tokens_.end()) return Rotated{Rotation::kUnknown, ""};
    Session& s = *session(t->second.session_id);
    const Account* a = account(s.user_id);
    const std::int64_t now = clock_.now_seconds();
    if (!live(s) || a == nullptr || a->suspended_at) return Rotated{Rotation::kDead, s.id};
    if (t->second.spent_at) {
      if (now - *t->second.spent_at <= grace_seconds) return Rotated{Rotation::kLate, s.id};
      s.ended = "reuse";
      return Rotated{Rotation::kReused, s.id};
    }
    const Session session_before = s;
    t->second.spent_at = now;
    tokens_[std::string(next_token)] = {s.id, std::nullopt};
    s.expires = now + kSessionDays * 86400;
    if (Status st = before_commit({a->id, a->username, a->is_admin, a->is_owner, s.id});
        !st.is_ok()) {
      t->second.spent_at.reset();
      tokens_.erase(std::string(next_token));
      s = session_before;
      return st;
    }
    return Rotated{Rotation::kRotated, s.id};
  }

  Status end_by_token(std::string_view token, std::string_view request_id) override {
    ended_by_token_.push_back({"", std::string(token), std::string(request_id)});
    if (failures.end_by_token) return *failures.end_by_token;
    const auto t = tokens_.find(token);
    if (t != tokens_.end()) end(*session(t->second.session_id), "logout");
    return Status::ok();
  }

  Result<Recovery> recover(std::string_view username, std::string_view recovery_code,
                           std::string_view password_hash, std::string_view new_recovery_code,
                           std::string_view request_id) override {
    recoveries_.push_back({std::string(username), std::string(recovery_code),
                           std::string(password_hash), std::string(new_recovery_code),
                           std::string(request_id)});
    if (failures.recover) return *failures.recover;
    Account* a = by_username(username);
    if (a == nullptr || recovery_codes_[a->id] != recovery_code) return Recovery::kNoMatch;
    if (a->suspended_at) return Recovery::kSuspended;
    a->password_hash = password_hash;
    recovery_codes_[a->id] = new_recovery_code;
    for (Session& s : sessions_) {
      if (s.user_id == a->id) end(s, "recovery");
    }
    return Recovery::kRecovered;
  }

  Result<std::vector<SessionInfo>> live_sessions(std::string_view user_id) override {
    if (failures.live_sessions) return *failures.live_sessions;
    std::vector<SessionInfo> out;
    for (auto it = sessions_.rbegin(); it != sessions_.rend(); ++it) {  // newest first
      if (it->user_id != user_id || !live(*it)) continue;
      out.push_back({it->id, it->origin.device_name, it->origin.ip_address, rfc3339(it->created),
                     rfc3339(it->expires)});
    }
    return out;
  }

  Result<bool> end_session(std::string_view user_id, std::string_view session_id,
                           std::string_view request_id) override {
    ended_one_.push_back({std::string(user_id), std::string(session_id), std::string(request_id)});
    if (failures.end_session) return *failures.end_session;
    Session* s = session(session_id);
    if (s == nullptr || s->user_id != user_id || !live(*s)) return false;
    end(*s, "logout");
    return true;
  }

  Result<std::int64_t> end_sessions(std::string_view user_id, std::string_view keep,
                                    std::string_view reason,
                                    const std::optional<std::string>& actor,
                                    std::string_view request_id) override {
    ended_all_.push_back({std::string(user_id), std::string(keep), std::string(reason), actor,
                          std::string(request_id)});
    if (failures.end_sessions) return *failures.end_sessions;
    return end_all_but(user_id, keep, reason);
  }

  Status change_password(std::string_view user_id, std::string_view password_hash,
                         std::string_view keep, std::string_view request_id) override {
    password_changes_.push_back({std::string(user_id), std::string(password_hash),
                                 std::string(keep), std::string(request_id)});
    if (failures.change_password) return *failures.change_password;
    Account* a = account(user_id);
    if (a == nullptr) return internal_error("change_password: no such user");
    a->password_hash = password_hash;
    end_all_but(user_id, keep, "password_change");
    return Status::ok();
  }

  Status set_recovery_code(std::string_view user_id, std::string_view recovery_code,
                           std::string_view request_id) override {
    recovery_code_sets_.push_back(
        {std::string(user_id), std::string(recovery_code), std::string(request_id)});
    if (failures.set_recovery_code) return *failures.set_recovery_code;
    recovery_codes_[std::string(user_id)] = recovery_code;
    return Status::ok();
  }

  Failures failures;

  Account* account(std::string_view id) {
    for (Account& a : accounts_) {
      if (a.id == id) return &a;
    }
    return nullptr;
  }
  Session* session(std::string_view id) {
    for (Session& s : sessions_) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }
  bool live(const Session& s) const { return !s.ended && clock_.now_seconds() < s.expires; }
  // The sessions of an account that are live now.
  int live_count(std::string_view user_id) const {
    return static_cast<int>(
        std::count_if(sessions_.begin(), sessions_.end(),
                      [&](const Session& s) { return s.user_id == user_id && live(s); }));
  }
  // Whether a refresh token is known and not yet spent, in a live session.
  bool token_usable(const std::string& token) {
    const auto t = tokens_.find(token);
    return t != tokens_.end() && !t->second.spent_at && live(*session(t->second.session_id));
  }
  const std::string& recovery_code(const std::string& user_id) { return recovery_codes_[user_id]; }
  const std::deque<Session>& sessions() const { return sessions_; }

  const std::vector<std::string>& username_lookups() const { return username_lookups_; }
  const std::vector<std::string>& id_lookups() const { return id_lookups_; }
  const std::vector<NewSession>& started() const { return started_; }  // failed ones included
  const std::vector<RotateCall>& rotations() const { return rotations_; }
  const std::vector<Call>& ended_by_token() const { return ended_by_token_; }
  const std::vector<RecoverCall>& recoveries() const { return recoveries_; }
  const std::vector<Call>& ended_one() const { return ended_one_; }
  const std::vector<EndSessionsCall>& ended_all() const { return ended_all_; }
  const std::vector<PasswordChange>& password_changes() const { return password_changes_; }
  const std::vector<Call>& recovery_code_sets() const { return recovery_code_sets_; }

 private:
  Account* by_username(std::string_view username) {
    for (Account& a : accounts_) {
      if (ascii_lower(a.username) == ascii_lower(username)) return &a;
    }
    return nullptr;
  }
  std::string open(const std::string& user_id, const std::string& refresh_token,
                   SessionOrigin origin) {
    const std::int64_t now = clock_.now_seconds();
    Session s{fake_uuid("22222222", ++session_count_),
              user_id,
              std::move(origin),
              now,
              now + kSessionDays * 86400,
              std::nullopt};
    tokens_[refresh_token] = {s.id, std::nullopt};
    sessions_.push_back(std::move(s));
    return sessions_.back().id;
  }
  void end(Session& s, std::string_view reason) {
    if (live(s)) s.ended = std::string(reason);
  }
  std::int64_t end_all_but(std::string_view user_id, std::string_view keep,
                           std::string_view reason) {
    std::int64_t n = 0;
    for (Session& s : sessions_) {
      if (s.user_id != user_id || s.id == keep || !live(s)) continue;
      end(s, reason);
      ++n;
    }
    return n;
  }

  const Clock& clock_;
  std::deque<Account> accounts_;
  std::map<std::string, std::string, std::less<>> recovery_codes_;
  std::deque<Session> sessions_;
  std::map<std::string, Token, std::less<>> tokens_;
  int session_count_ = 0;
  std::vector<std::string> username_lookups_;
  std::vector<std::string> id_lookups_;
  std::vector<NewSession> started_;
  std::vector<RotateCall> rotations_;
  std::vector<Call> ended_by_token_;
  std::vector<RecoverCall> recoveries_;
  std::vector<Call> ended_one_;
  std::vector<EndSessionsCall> ended_all_;
  std::vector<PasswordChange> password_changes_;
  std::vector<Call> recovery_code_sets_;
};

// The E2E keys of each account; replace() records what it was given.
class FakeKeyStore final : public KeyStore {
 public:
  struct Replaced {
    std::string user_id;
    KeySet keys;
    std::string request_id;
  };
  Status replace(std::string_view user_id, const KeySet& keys,
                 std::string_view request_id) override {
    replaced_.push_back({std::string(user_id), keys, std::string(request_id)});
    if (failure) return *failure;
    return Status::ok();
  }
  std::optional<Status> failure;
  const std::vector<Replaced>& replaced() const { return replaced_; }

 private:
  std::vector<Replaced> replaced_;
};

// Accounts for the admin's user management, newest last; every change is recorded with its
// actor. set_admin() never removes an owner's flag; suspend() refuses the owner (false).
class FakeUserAdminStore final : public UserAdminStore {
 public:
  struct Change {
    std::string what;  // "admin", "suspend", "unsuspend"
    std::string id;
    std::optional<bool> is_admin;
    std::optional<std::string> reason;
    std::optional<std::string> actor;
    std::string request_id;
  };
  struct Failures {
    std::optional<Status> list, find, change;
  };

  explicit FakeUserAdminStore(const Clock& clock) : clock_(clock) {}

  Account& add(std::string_view username, bool is_admin = false, bool is_owner = false) {
    Account a;
    a.id = fake_uuid("44444444", static_cast<int>(accounts_.size()) + 1);
    a.username = username;
    a.display_name = username;
    a.email = std::string(username) + "@example.com";
    a.is_admin = is_admin || is_owner;
    a.is_owner = is_owner;
    a.created_at = rfc3339(clock_.now_seconds());
    accounts_.push_back(std::move(a));
    return accounts_.back();
  }

  Result<std::vector<Account>> list(const UserQuery& query) override {
    queries_.push_back(query);
    if (failures.list) return *failures.list;
    std::vector<Account> out;
    std::int64_t skipped = 0;
    const std::string needle = ascii_lower(query.search);
    for (auto it = accounts_.rbegin(); it != accounts_.rend() && std::ssize(out) < query.limit;
         ++it) {
      const bool match = ascii_lower(it->username).find(needle) != std::string::npos ||
                         ascii_lower(it->display_name).find(needle) != std::string::npos ||
                         ascii_lower(it->email).find(needle) != std::string::npos;
      if (!match || skipped++ < query.offset) continue;
      out.push_back(*it);
    }
    return out;
  }
  Result<std::optional<Account>> find_by_id(std::string_view id) override {
    lookups_.emplace_back(id);
    if (failures.find) return *failures.find;
    const Account* a = account(id);
    return a ? std::optional<Account>(*a) : std::nullopt;
  }
  Result<std::optional<Account>> find_by_username(std::string_view username) override {
    lookups_.emplace_back(username);
    if (failures.find) return *failures.find;
    for (const Account& a : accounts_) {
      if (ascii_lower(a.username) == ascii_lower(username)) return std::optional<Account>(a);
    }
    return std::optional<Account>();
  }
  Result<bool> set_admin(std::string_view id, bool is_admin, const Actor& actor,
                         std::string_view request_id) override {
    changes_.push_back(
        {"admin", std::string(id), is_admin, std::nullopt, actor.id, std::string(request_id)});
    if (failures.change) return *failures.change;
    Account* a = account(id);
    if (a == nullptr) return false;
    a->is_admin = is_admin || a->is_owner;
    return true;
  }
  Result<bool> suspend(std::string_view id, const std::optional<std::string>& reason,
                       const Actor& actor, std::string_view request_id) override {
    changes_.push_back(
        {"suspend", std::string(id), std::nullopt, reason, actor.id, std::string(request_id)});
    if (failures.change) return *failures.change;
    Account* a = account(id);
    if (a == nullptr || a->is_owner) return false;
    if (!a->suspended_at) a->suspended_at = rfc3339(clock_.now_seconds());
    a->suspended_reason = reason;
    return true;
  }
  Result<bool> unsuspend(std::string_view id, const Actor& actor,
                         std::string_view request_id) override {
    changes_.push_back({"unsuspend", std::string(id), std::nullopt, std::nullopt, actor.id,
                        std::string(request_id)});
    if (failures.change) return *failures.change;
    Account* a = account(id);
    if (a == nullptr) return false;
    a->suspended_at.reset();
    a->suspended_reason.reset();
    return true;
  }

  Account* account(std::string_view id) {
    for (Account& a : accounts_) {
      if (a.id == id) return &a;
    }
    return nullptr;
  }

  Failures failures;
  const std::vector<UserQuery>& queries() const { return queries_; }
  const std::vector<std::string>& lookups() const { return lookups_; }
  const std::vector<Change>& changes() const { return changes_; }

 private:
  const Clock& clock_;
  std::deque<Account> accounts_;
  std::vector<UserQuery> queries_;
  std::vector<std::string> lookups_;
  std::vector<Change> changes_;
};

}  // namespace chatalot::testing
