// Invite codes in the database, shared by the CLI and the admin API: the validated request to
// create one, creating it (the code is returned once and only its hash is stored), listing and
// revoking, and the JSON shape of an invite as the admin API shows it.
// Functions take the caller's connection; thread-safe as far as the connection is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"
#include "pg.h"
#include "status.h"

namespace chatalot {

struct InviteSpec {
  std::optional<std::int64_t> max_uses;          // >= 1; nullopt: unlimited
  std::optional<std::int64_t> expires_in_hours;  // 1..8760; nullopt: never expires
  std::optional<std::string> note;               // at most 200 characters, no control characters
};

// The contract's messages: "max_uses must be between 1 and 2147483647", "expires_in_hours must
// be between 1 and 8760", "note must be at most 200 characters without control characters".
Status check_invite_spec(const InviteSpec& spec);

struct CreatedInvite {
  std::string id;
  std::string code;  // shown this once
  std::string code_hint;
  std::optional<std::int64_t> max_uses;
  std::string expires_at;  // RFC 3339, "" when it never expires
  std::string created_at;
  std::optional<std::string> note;
  std::optional<std::string> created_by;
};

// Creates the invite and its audit record in one transaction. created_by: the admin's user id,
// or nullopt for the server's shell.
Result<CreatedInvite> create_invite(PgConnection& conn, const InviteSpec& spec,
                                    const std::optional<std::string>& created_by,
                                    const std::string& request_id);

// An invite as listed: everything but the code, which is never stored. Times in RFC 3339 UTC.
struct ListedInvite {
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

// A freshly created invite as it would be listed (unused, not revoked).
ListedInvite listed_invite(const CreatedInvite& created);

// The newest `limit` invites, newest first (created_at descending, then id).
Result<std::vector<ListedInvite>> list_invites(PgConnection& conn, int limit);

// Revokes the invite and writes its audit record (action invite.revoke) in one statement, so in
// one transaction. Revoking twice keeps the first revocation time. The accounts created with the
// invite stay and keep pointing to it. nullopt: no invite with that id (also when id is not a
// UUID). actor: the admin's user id, or nullopt for the server's shell.
Result<std::optional<ListedInvite>> revoke_invite(PgConnection& conn, const std::string& id,
                                                  const std::optional<std::string>& actor,
                                                  const std::string& request_id);

// The admin API's invite object: {"id", "code" (only when given), "code_hint", "created_by",
// "max_uses", "used_count", "expires_at", "created_at", "note", "revoked_at"}, nulls where absent.
void write_invite_json(JsonWriter& w, const ListedInvite& invite,
                       std::optional<std::string_view> code = std::nullopt);

// Whether text is a UUID in its canonical 8-4-4-4-12 hexadecimal form (either letter case).
bool is_uuid(std::string_view text);

// SQL condition on registration_invites: the code may be used once more now.
#define CHATALOT_INVITE_USABLE                                       \
  "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())" \
  " AND (max_uses IS NULL OR used_count < max_uses)"

// SQL text turning a timestamptz column into RFC 3339 UTC with microseconds, as the Chatalot
// server writes them: "2026-11-30T00:10:00.123456Z".
#define CHATALOT_RFC3339(col) \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

}  // namespace chatalot
