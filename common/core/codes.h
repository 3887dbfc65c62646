// Secrets handed to users: invite codes, recovery codes, refresh tokens, drawn from a Random
// (OpenSSL's CSPRNG in production); the stores keep only their SHA-256. Thread-safe as far as
// the Random is.
#pragma once

#include <string>
#include <string_view>

#include "core/ports.h"
#include "core/status.h"

namespace chatalot {

// 140 random bits as 28 Crockford base32 characters in dashed groups of four:
// "7K2M-Q9XA-..." (34 characters).
Result<std::string> generate_invite_code(Random& random);

// Upper case, blanks and dashes removed, Crockford's aliases mapped (I and L to 1, O to 0).
// Returns "" when anything else is not a Crockford base32 character, or nothing is left.
std::string normalize_invite_code(std::string_view input);

// 16 characters from ABCDEFGHJKLMNPQRSTUVWXYZ23456789 as XXXX-XXXX-XXXX-XXXX, uniform.
Result<std::string> generate_recovery_code(Random& random);

// A recovery code as a user may type it (any letter case, blanks and dashes anywhere) in its
// stored form XXXX-XXXX-XXXX-XXXX; "" when it cannot be one.
std::string normalize_recovery_code(std::string_view input);

// Whether text has the shape of a refresh token: 64 lower-case hex characters.
bool is_refresh_token(std::string_view text);

// 32 random bytes as 64 lower-case hex characters.
Result<std::string> generate_refresh_token(Random& random);

}  // namespace chatalot
