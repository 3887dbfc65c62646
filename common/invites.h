// Invite codes in the database, shared by the CLI and the admin API: the validated request to
// create one, and creating it (the code is returned once and only its hash is stored).
// Functions take the caller's connection; thread-safe as far as the connection is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pg.h"
#include "status.h"

namespace chatalot {

struct InviteSpec {
  std::optional<std::int64_t> max_uses;          // >= 1; nullopt: unlimited
  std::optional<std::int64_t> expires_in_hours;  // 1..8760; nullopt: never expires
  std::optional<std::string> note;               // at most 200 characters, no control characters
};

// The contract's messages: "max_uses must be at least 1", "expires_in_hours must be between 1
// and 8760", "note must be at most 200 characters without control characters".
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

// SQL text turning a timestamptz column into RFC 3339 UTC with microseconds, as the Chatalot
// server writes them: "2026-11-30T00:10:00.123456Z".
#define CHATALOT_RFC3339(col) \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

}  // namespace chatalot
