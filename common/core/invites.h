// Invites in the domain (SPEC section 3): the invite check (POST /api/auth/invites/redeem), and
// the admin's create, list and revoke, shared by the admin API and the CLI. Codes are generated
// here and handed to the InviteStore in the clear once; it keeps only their SHA-256.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mode.h"
#include "core/ports.h"
#include "core/status.h"

namespace chatalot {

struct InviteSpec {
  std::optional<std::int64_t> max_uses;          // >= 1; nullopt: unlimited
  std::optional<std::int64_t> expires_in_hours;  // 1..8760; nullopt: never expires
  std::optional<std::string> note;               // at most 200 characters, no control characters
};

// Msg::kMaxUsesRange, kExpiresRange or kNoteRange.
Status check_invite_spec(const InviteSpec& spec);

// The admin API's POST body. Absent and null fields mean "none"; unknown fields are ignored.
// Wrong types first (Msg::kMaxUsesType, kExpiresType, kNoteType; 1.5 and 1.0 are not
// integers), then the ranges of check_invite_spec(). An integer too large for 64 bits is an
// integer out of range.
Result<InviteSpec> invite_spec_from_json(const rapidjson::Value& body);

// An invite as stored: everything but the code, which is never stored. Times in RFC 3339 UTC.
struct Invite {
  std::string id;
  std::string code_hint;                  // the first 4 characters of the normalised code
  std::optional<std::string> created_by;  // nullopt: made on the server's shell
  std::optional<std::int64_t> max_uses;   // nullopt: unlimited
  std::int64_t used_count = 0;
  std::optional<std::string> expires_at;  // nullopt: never expires
  std::string created_at;
  std::optional<std::string> note;
  std::optional<std::string> revoked_at;  // nullopt: not revoked
};

struct CreatedInvite {
  Invite invite;
  std::string code;  // shown this once
};

struct UsableInvite {
  std::optional<std::string> expires_at;
  std::optional<std::int64_t> uses_remaining;  // nullopt: unlimited
};

struct NewInvite {
  InviteSpec spec;
  std::string code;  // normalised; the store keeps its SHA-256
  std::optional<std::string> created_by;  // the admin's id; nullopt: the server's shell
  std::string request_id;
};

class InviteStore {
 public:
  virtual ~InviteStore() = default;
  // The invite of a normalised code if it may be used once more now; nullopt otherwise.
  virtual Result<std::optional<UsableInvite>> find_usable(std::string_view code) = 0;
  // Creates the invite and its audit record in one transaction.
  virtual Result<Invite> create(const NewInvite& invite) = 0;
  // The newest `limit`, newest first; revoked ones only when include_revoked.
  virtual Result<std::vector<Invite>> list(int limit, bool include_revoked) = 0;
  // Revokes (keeping the first revocation time) and audits in one transaction; nullopt: no
  // invite with that id. actor: the admin's id, or nullopt for the server's shell.
  virtual Result<std::optional<Invite>> revoke(std::string_view id,
                                               const std::optional<std::string>& actor,
                                               std::string_view request_id) = 0;
};

// The list answers at most the newest 1000 invites: enough for any admin panel, and a bound on
// the response and the query however many invites an instance has accumulated.
inline constexpr int kInviteListLimit = 1000;

// --- The invite check -------------------------------------------------------------------------

struct InviteCheckPolicy {
  RegistrationMode mode;
  RateLimit invite_limit;
  RateLimit invite_network_limit;
};

struct InviteCheckDeps {
  const InviteCheckPolicy& policy;
  InviteStore& invites;
  Limiter& limiter;
};

// Closed mode: answered like registration. Then the invite budget, the body, the lookup.
// Consumes nothing. An unusable code is Msg::kInviteInvalid.
Result<UsableInvite> check_invite(std::string_view body, std::string_view remote_addr,
                                  InviteCheckDeps& deps);

// --- The admin's operations (the caller has authorised the admin) ----------------------------

// Generates the code, creates the invite; the code is in the answer only.
Result<CreatedInvite> create_invite(const InviteSpec& spec, const std::optional<std::string>& admin,
                                    std::string_view request_id, InviteStore& invites,
                                    Random& random);

// Unknown ids, and ids that are not UUIDs, are kNotFound (Msg::kInviteNotFound).
Result<Invite> revoke_invite(std::string_view id, const std::optional<std::string>& admin,
                             std::string_view request_id, InviteStore& invites);

}  // namespace chatalot
