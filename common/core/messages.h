// The catalogue of every message a client may be shown: the contract's strings (SPEC section 3),
// in one place. A Message can be made only here (its constructor is private and compile-time),
// so text from a library or from a runtime string cannot become a client-facing message; a
// Status carries anything else as its log-only detail.
#pragma once

#include <string>
#include <string_view>

namespace chatalot {

class Message {
 public:
  constexpr std::string_view text() const { return text_; }

 private:
  friend struct Msg;
  consteval explicit Message(const char* text) : text_(text) {}
  std::string_view text_;
};

// A message with one slot between a fixed prefix and suffix.
class MessageWithArgument {
 public:
  std::string fill(std::string_view argument) const {
    return std::string(prefix_) + std::string(argument) + std::string(suffix_);
  }

 private:
  friend struct Msg;
  consteval MessageWithArgument(const char* prefix, const char* suffix)
      : prefix_(prefix), suffix_(suffix) {}
  std::string_view prefix_;
  std::string_view suffix_;
};

struct Msg {
  // Generic messages, one per code (Status::generic_message).
  static constexpr Message kInvalidRequest{"invalid request"};
  static constexpr Message kUnauthenticated{"missing or invalid access token"};
  static constexpr Message kPermissionDenied{"permission denied"};
  static constexpr Message kNotFound{"not found"};
  static constexpr Message kAlreadyExists{"already exists"};
  static constexpr Message kRateLimited{"too many requests, try again later"};
  static constexpr Message kUnsupportedOperation{"operation not supported"};
  static constexpr Message kUnavailable{"the service is temporarily unavailable"};
  static constexpr Message kInternal{"an internal error occurred"};

  // The request's shape (SPEC section 3, common rules).
  static constexpr MessageWithArgument kMethodNotAllowed{"method ", " is not allowed"};
  static constexpr Message kBodyTooLarge{"request body must be at most 65536 bytes"};
  static constexpr Message kBodyNotJson{"Content-Type must be application/json"};
  static constexpr Message kBadContentLength{"invalid Content-Length"};
  static constexpr Message kBodyInvalidJson{"request body must be valid JSON"};
  static constexpr Message kBodyInvalidUtf8{"request body must be valid UTF-8"};
  static constexpr Message kBodyNotObject{"request body must be a JSON object"};
  // A string that decodes to text that is not Unicode (a lone surrogate escape), named by the
  // top-level field it is in.
  static constexpr MessageWithArgument kFieldNotUnicode{"", " must be valid Unicode text"};

  // What nginx answers itself (nginx/chatalot.conf; tests/unit/nginx_errors_test.cc compares).
  static constexpr Message kMalformedRequest{"malformed request"};
  static constexpr Message kMethodNotAllowedHere{"method not allowed"};
  static constexpr Message kFloodGuard{"too many requests, slow down"};

  // Registration: mode and invite (steps 1, 2 and 7).
  static constexpr Message kRegistrationClosed{"registration is currently disabled"};
  static constexpr Message kInviteRequired{"an invite code is required to register"};
  static constexpr Message kInviteCodeNotString{"invite_code must be a string"};
  static constexpr Message kInviteCodeNul{"invite code must not contain NUL characters"};
  static constexpr Message kInviteInvalid{"invalid, expired, or fully used invite code"};

  // Registration: username (step 3).
  static constexpr Message kUsernameNotString{"username must be a string"};
  static constexpr Message kUsernameNul{"username must not contain NUL characters"};
  static constexpr Message kUsernameLength{"username must be between 3 and 32 characters"};
  static constexpr Message kUsernameCharacters{
      "username may only contain letters, numbers, underscores, hyphens, and dots"};
  static constexpr Message kUsernameStart{"username must start with a letter or number"};
  static constexpr Message kUsernameEndsWithDot{"username must not end with a dot"};
  static constexpr Message kUsernameDoubleDot{"username must not contain consecutive dots"};

  // Registration: e-mail (step 4).
  static constexpr Message kEmailNotString{"email must be a string"};
  static constexpr Message kEmailNul{"email must not contain NUL characters"};
  static constexpr Message kEmailTooLong{"email too long"};
  static constexpr Message kEmailInvalid{"invalid email format"};

  // Registration: password (step 5).
  static constexpr Message kPasswordNotString{"password must be a string"};
  static constexpr Message kPasswordNul{"password must not contain NUL characters"};
  static constexpr Message kPasswordTooShort{"password must be at least 8 characters"};
  static constexpr Message kPasswordTooLong{"password must be at most 128 characters"};
  static constexpr Message kPasswordUpper{"password must contain at least one uppercase letter"};
  static constexpr Message kPasswordLower{"password must contain at least one lowercase letter"};
  static constexpr Message kPasswordDigit{"password must contain at least one digit"};
  static constexpr Message kPasswordSpecial{"password must contain at least one special character"};

  // Registration: display name and keys (step 6).
  static constexpr Message kDisplayNameNotString{"display name must be a string"};
  static constexpr Message kDisplayNameNul{"display name must not contain NUL characters"};
  static constexpr Message kDisplayNameLength{"display name must be 1-64 characters"};
  static constexpr Message kIdentityKeySize{"identity key must be 32 bytes"};
  static constexpr Message kIdentityKeyBytes{"identity key bytes must be integers between 0 and 255"};
  static constexpr Message kSignedPrekeyNotObject{"signed prekey must be an object"};
  static constexpr Message kSignedPrekeyId{
      "signed prekey id must be an integer between 0 and 4294967295"};
  static constexpr Message kSignedPrekeySize{"signed prekey must be 32 bytes"};
  static constexpr Message kSignedPrekeyBytes{
      "signed prekey bytes must be integers between 0 and 255"};
  static constexpr Message kSignatureSize{"signed prekey signature must be 64 bytes"};
  static constexpr Message kSignatureBytes{
      "signed prekey signature bytes must be integers between 0 and 255"};
  static constexpr Message kIdentityKeyInvalid{"invalid identity key"};
  static constexpr Message kSignatureInvalid{"signed prekey signature verification failed"};
  static constexpr Message kPrekeysNotArray{"one-time prekeys must be an array"};
  static constexpr Message kPrekeysTooMany{"too many one-time prekeys (at most 200)"};
  static constexpr Message kPrekeyNotObject{"one-time prekey must be an object"};
  static constexpr Message kPrekeyId{"one-time prekey id must be an integer between 0 and 4294967295"};
  static constexpr Message kPrekeySize{"one-time prekey must be 32 bytes"};
  static constexpr Message kPrekeyBytes{"one-time prekey bytes must be integers between 0 and 255"};
  static constexpr Message kPrekeyDuplicate{"duplicate one-time prekey id"};

  // Registration: uniqueness (step 8).
  static constexpr Message kUsernameTaken{"username already taken"};
  static constexpr Message kEmailTaken{"email already registered"};

  // Bearer tokens.
  static constexpr Message kTokenMissing{"missing or invalid access token"};
  static constexpr Message kTokenInvalid{"invalid token"};
  static constexpr Message kTokenExpired{"token expired"};
  static constexpr Message kAdminRequired{"admin access required"};

  // Admin invites.
  static constexpr Message kMaxUsesType{"max_uses must be an integer or null"};
  static constexpr Message kExpiresType{"expires_in_hours must be an integer or null"};
  static constexpr Message kNoteType{"note must be a string or null"};
  static constexpr Message kMaxUsesRange{"max_uses must be between 1 and 2147483647"};
  static constexpr Message kExpiresRange{"expires_in_hours must be between 1 and 8760"};
  static constexpr Message kNoteRange{
      "note must be at most 200 characters without control characters"};
  static constexpr Message kInviteNotFound{"invite not found"};
  static constexpr Message kIncludeRevokedParam{"include_revoked must be true or false"};

  // Sessions: login, refresh, recovery, logout.
  static constexpr Message kInvalidCredentials{"invalid username or password"};
  static constexpr Message kAccountSuspended{"account is suspended"};
  static constexpr Message kRefreshTokenNotString{"refresh_token must be a string"};
  static constexpr Message kRefreshTokenInvalid{"invalid refresh token"};
  static constexpr Message kRecoveryCodeNotString{"recovery_code must be a string"};
  static constexpr Message kNewPasswordNotString{"new_password must be a string"};
  static constexpr Message kRecoveryInvalid{"invalid username or recovery code"};

  // The account's own endpoints (bearer).
  static constexpr Message kCurrentPasswordNotString{"current_password must be a string"};
  static constexpr Message kPasswordInvalid{"invalid password"};
  static constexpr Message kSessionNotFound{"session not found"};

  // Admin users.
  static constexpr Message kUserNotFound{"user not found"};
  static constexpr Message kOwnerOnlyChangesAdmins{"only the owner can change admin status"};
  static constexpr Message kOwnerAlwaysAdmin{"the owner is always an admin"};
  static constexpr Message kOwnerNotSuspendable{"the owner cannot be suspended"};
  static constexpr Message kOwnerOnlySuspendsAdmins{
      "only the owner can suspend or unsuspend an admin"};
  static constexpr Message kIsAdminType{"is_admin must be a boolean"};
  static constexpr Message kReasonType{"reason must be a string or null"};
  static constexpr Message kReasonRange{
      "reason must be at most 500 characters without control characters"};
  static constexpr Message kSearchParam{"search must be at most 100 characters of UTF-8 text"};
  static constexpr Message kLimitParam{"limit must be an integer between 1 and 100"};
  static constexpr Message kOffsetParam{"offset must be an integer between 0 and 1000000000"};
};

}  // namespace chatalot
