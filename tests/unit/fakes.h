// In-memory fakes of every port and store of common/core (ports.h, registration.h, invites.h,
// auth.h), for the domain's unit tests. Each behaves like the real one in what the domain relies
// on (GCRA budgets, case-insensitive uniqueness, the first account as owner, usable invites,
// one transaction per registration), records what it was asked, so a test can assert what was
// spent, stored or never touched, and can be told to fail with a given Status the way a library
// failure arrives: the code and the library's words in detail() only. No mocking framework.
// Only the standard library and common/core: these tests link chatalot_core alone.
#pragma once

#include <time.h>  // gmtime_r

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/auth.h"
#include "core/codes.h"
#include "core/invites.h"
#include "core/limits.h"
#include "core/ports.h"
#include "core/registration.h"
#include "core/status.h"
#include "core/text.h"

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

class FakeHasher final : public PasswordHasher {
 public:
  static constexpr std::string_view kPrefix = "$argon2id$fake$";

  Result<std::string> hash(std::string_view password) override {
    ++calls_;
    if (failure_) return *failure_;
    return std::string(kPrefix) + std::string(password);
  }
  void fail_with(Status failure) { failure_ = std::move(failure); }
  int calls() const { return calls_; }

 private:
  int calls_ = 0;
  std::optional<Status> failure_;
};

class FakeSigner final : public TokenSigner {
 public:
  Result<std::string> sign(const AccessClaims& claims) const override {
    signed_.push_back(claims);
    if (failure_) return *failure_;
    return "token-for-" + claims.sub;
  }
  void fail_with(Status failure) { failure_ = std::move(failure); }
  // Every claim set it was asked to sign, failed ones included.
  const std::vector<AccessClaims>& signed_claims() const { return signed_; }

 private:
  mutable std::vector<AccessClaims> signed_;
  std::optional<Status> failure_;
};

// "valid:<sub>" verifies with that sub, "expired" is Msg::kTokenExpired, anything else
// Msg::kTokenInvalid, as the real verifier answers.
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
      claims.sub = std::string(token.substr(kValid.size()));
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

  Result<std::vector<Invite>> list(int limit) override {
    if (failures.list) return *failures.list;
    std::vector<Invite> out;
    for (auto it = invites_.rbegin(); it != invites_.rend() && std::ssize(out) < limit; ++it) {
      out.push_back(it->invite);
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
    CreatedAccount created{fake_uuid("11111111", static_cast<int>(users_.size()) + 1),
                           std::string(kCreatedAt), owner, std::move(invite_id)};
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

}  // namespace chatalot::testing
