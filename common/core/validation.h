// Validation of POST /api/auth/register, table-driven, with exactly the messages and the order
// of SPEC section 3 (steps 1-6; uniqueness and the invite are the database's, steps 7-8).
// Every failure is a kInvalidArgument Status whose message is shown to the user verbatim.
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "core/mode.h"
#include "core/ports.h"
#include "core/status.h"

namespace chatalot {

inline constexpr std::size_t kMaxOneTimePrekeys = 200;

struct OneTimePrekey {
  std::uint32_t key_id = 0;
  std::array<std::uint8_t, 32> public_key{};
};

// The E2E public keys an account publishes (registration, POST /api/keys/register).
struct KeySet {
  std::array<std::uint8_t, 32> identity_key{};
  std::uint32_t signed_prekey_id = 0;
  std::array<std::uint8_t, 32> signed_prekey{};
  std::array<std::uint8_t, 64> signed_prekey_signature{};
  std::vector<OneTimePrekey> one_time_prekeys;
};

struct RegistrationInput : KeySet {
  std::string username;
  std::string email;
  std::string password;
  std::string display_name;  // trimmed; the username when absent or blank
  std::string invite_code;   // as sent; "" when absent or when the mode is open
};

// Runs checks 1-6 of SPEC section 3 in order on a parsed JSON object and returns the first
// failure, or the validated input.
Result<RegistrationInput> validate_registration(const rapidjson::Value& body,
                                                RegistrationMode mode, const KeyChecks& keys);

// The key checks of registration (step 6 without the display name), in the same order and
// with the same messages, on a parsed JSON object: POST /api/keys/register.
Result<KeySet> validate_key_set(const rapidjson::Value& body, const KeyChecks& keys);

// The single checks, exposed for unit tests and for other endpoints. Each returns ok or the
// contract's message.
Status check_username(std::string_view username);
Status check_email(std::string_view email);
Status check_password(std::string_view password);

}  // namespace chatalot
