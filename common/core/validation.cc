#include "core/validation.h"

#include <algorithm>
#include <span>
#include <unordered_set>

#include "core/text.h"

namespace chatalot {
namespace {

using rapidjson::SizeType;
using rapidjson::Value;

constexpr std::size_t kMaxEmailBytes = 254;
constexpr std::size_t kMaxDisplayNameCodePoints = 64;

// ---- Text helpers ---------------------------------------------------------------------------

bool is_ascii_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_ascii_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool has_no_nul(std::string_view s) { return s.find('\0') == std::string_view::npos; }

// The whole Unicode White_Space property (25 code points), as Rust's str::trim uses.
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::string_view trim_white_space(std::string_view s) {
  while (!s.empty()) {
    const CodePoint first = decode_utf8_at(s, 0);
    if (!is_white_space(first.value)) break;
    s.remove_prefix(first.size);
  }
  while (!s.empty()) {
    std::size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 &&
           (static_cast<unsigned char>(s[start]) & 0xC0U) == 0x80U) {
      --start;
    }
    const CodePoint last = decode_utf8_at(s, start);
    if (start + last.size != s.size() || !is_white_space(last.value)) break;
    s.remove_suffix(last.size);
  }
  return s;
}

bool has_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const CodePoint c = decode_utf8_at(s, i);
    if (is_control(c.value)) return true;
    i += c.size;
  }
  return false;
}

// ---- E-mail ----------------------------------------------------------------------------------
// The WHATWG "valid e-mail address" grammar, matched by hand: std::regex recurses per character
// and can exhaust the stack on long input.

bool is_email_local_char(char c) {
  constexpr std::string_view kSpecials = ".!#$%&'*+/=?^_`{|}~-";
  return is_ascii_alnum(c) || kSpecials.find(c) != std::string_view::npos;
}

bool is_domain_label(std::string_view label) {
  return !label.empty() && label.size() <= 63 && is_ascii_alnum(label.front()) &&
         is_ascii_alnum(label.back()) && std::all_of(label.begin(), label.end(), [](char c) {
           return is_ascii_alnum(c) || c == '-';
         });
}

bool is_valid_email(std::string_view s) {
  const std::size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  const std::string_view local = s.substr(0, at);
  if (!std::all_of(local.begin(), local.end(), is_email_local_char)) return false;
  std::string_view domain = s.substr(at + 1);
  for (;;) {
    const std::size_t dot = domain.find('.');
    if (!is_domain_label(domain.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    domain.remove_prefix(dot + 1);
  }
}

// ---- Single-field rule tables: each field's checks in the contract's order ------------------

struct Rule {
  bool (*passes)(std::string_view value);
  Message message;
};

Status first_failure(std::span<const Rule> rules, std::string_view value) {
  for (const Rule& rule : rules) {
    if (!rule.passes(value)) return invalid_argument(rule.message);
  }
  return Status::ok();
}

template <bool (*predicate)(char)>
bool contains_any(std::string_view s) {
  return std::any_of(s.begin(), s.end(), predicate);
}

bool is_not_ascii_alnum(char c) { return !is_ascii_alnum(c); }

const Rule kUsernameRules[] = {
    {has_no_nul, Msg::kUsernameNul},
    {[](std::string_view s) {
       const std::size_t n = count_code_points(s);
       return n >= 3 && n <= 32;
     },
     Msg::kUsernameLength},
    {[](std::string_view s) {
       return std::all_of(s.begin(), s.end(), [](char c) {
         return is_ascii_alnum(c) || c == '_' || c == '-' || c == '.';
       });
     },
     Msg::kUsernameCharacters},
    {[](std::string_view s) { return !s.empty() && is_ascii_alnum(s.front()); },
     Msg::kUsernameStart},
    {[](std::string_view s) { return s.empty() || s.back() != '.'; },
     Msg::kUsernameEndsWithDot},
    {[](std::string_view s) { return s.find("..") == std::string_view::npos; },
     Msg::kUsernameDoubleDot},
};

const Rule kEmailRules[] = {
    {has_no_nul, Msg::kEmailNul},
    {[](std::string_view s) { return s.size() <= kMaxEmailBytes; }, Msg::kEmailTooLong},
    {is_valid_email, Msg::kEmailInvalid},
};

const Rule kPasswordRules[] = {
    {has_no_nul, Msg::kPasswordNul},
    {[](std::string_view s) { return count_code_points(s) >= 8; },
     Msg::kPasswordTooShort},
    {[](std::string_view s) { return count_code_points(s) <= 128; },
     Msg::kPasswordTooLong},
    {contains_any<is_ascii_upper>, Msg::kPasswordUpper},
    {contains_any<is_ascii_lower>, Msg::kPasswordLower},
    {contains_any<is_ascii_digit>, Msg::kPasswordDigit},
    // Any byte outside ASCII letters and digits belongs to a code point outside them.
    {contains_any<is_not_ascii_alnum>, Msg::kPasswordSpecial},
};

// ---- JSON access ----------------------------------------------------------------------------

const Value* find(const Value& object, const char* key) {
  const auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// Length-aware: a JSON string may hold "\u0000".
std::string_view view(const Value& string) {
  return {string.GetString(), string.GetStringLength()};
}

template <std::size_t N>
std::string_view view(const std::array<std::uint8_t, N>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), N};
}

struct ByteArrayField {
  const char* key;
  Message size_message;  // also for a value that is not an array
  Message bytes_message;  // an element that is not an integer 0-255
};

template <std::size_t N>
Status read_bytes(const Value& object, const ByteArrayField& field,
                  std::array<std::uint8_t, N>& out) {
  const Value* array = find(object, field.key);
  if (array == nullptr || !array->IsArray() || array->Size() != N) {
    return invalid_argument(field.size_message);
  }
  for (SizeType i = 0; i < N; ++i) {
    const Value& element = (*array)[i];
    // IsUint() is false for 1.5, 1.0, negatives and non-numbers alike.
    if (!element.IsUint() || element.GetUint() > 255) return invalid_argument(field.bytes_message);
    out[i] = static_cast<std::uint8_t>(element.GetUint());
  }
  return Status::ok();
}

// key_id: an integer that fits an unsigned 32-bit value (IsUint() says exactly that).
bool read_key_id(const Value& object, std::uint32_t& out) {
  const Value* id = find(object, "key_id");
  if (id == nullptr || !id->IsUint()) return false;
  out = id->GetUint();
  return true;
}

const ByteArrayField kIdentityKey{"identity_key", Msg::kIdentityKeySize,
                                  Msg::kIdentityKeyBytes};
const ByteArrayField kSignedPrekey{"public_key", Msg::kSignedPrekeySize,
                                   Msg::kSignedPrekeyBytes};
const ByteArrayField kSignedPrekeySignature{
    "signature", Msg::kSignatureSize,
    Msg::kSignatureBytes};
const ByteArrayField kOneTimePrekey{"public_key", Msg::kPrekeySize,
                                    Msg::kPrekeyBytes};

// ---- The steps of SPEC section 3, in order --------------------------------------------------

// What a step may consult beside the body.
struct Checks {
  RegistrationMode mode;
  const KeyChecks& keys;
};

using Step = Status (*)(const Value& body, const Checks& checks, RegistrationInput& in);

struct StringField {
  const char* key;
  Message type_message;
  Status (*check)(std::string_view value);
  std::string RegistrationInput::*target;
};

Status read_string(const Value& body, const StringField& field, RegistrationInput& in) {
  const Value* value = find(body, field.key);
  if (value == nullptr || !value->IsString()) return invalid_argument(field.type_message);
  if (Status status = field.check(view(*value)); !status.is_ok()) return status;
  in.*field.target = std::string(view(*value));
  return Status::ok();
}

const StringField kUsername{"username", Msg::kUsernameNotString, check_username,
                            &RegistrationInput::username};
const StringField kEmail{"email", Msg::kEmailNotString, check_email, &RegistrationInput::email};
const StringField kPassword{"password", Msg::kPasswordNotString, check_password,
                            &RegistrationInput::password};

Status check_mode(const Value&, const Checks& checks, RegistrationInput&) {
  if (checks.mode == RegistrationMode::kClosed) {
    return invalid_argument(Msg::kRegistrationClosed);
  }
  return Status::ok();
}

Status check_object(const Value& body, const Checks&, RegistrationInput&) {
  if (!body.IsObject()) return invalid_argument(Msg::kBodyNotObject);
  return Status::ok();
}

Status read_invite_code(const Value& body, const Checks& checks, RegistrationInput& in) {
  if (checks.mode != RegistrationMode::kInviteOnly) return Status::ok();  // open mode ignores it
  constexpr Message kRequired = Msg::kInviteRequired;
  const Value* code = find(body, "invite_code");
  if (code == nullptr || code->IsNull()) return invalid_argument(kRequired);
  if (!code->IsString()) return invalid_argument(Msg::kInviteCodeNotString);
  const std::string_view text = view(*code);
  if (!has_no_nul(text)) return invalid_argument(Msg::kInviteCodeNul);
  if (trim_white_space(text).empty()) return invalid_argument(kRequired);
  in.invite_code = std::string(text);
  return Status::ok();
}

Status read_display_name(const Value& body, const Checks&, RegistrationInput& in) {
  const Value* name = find(body, "display_name");
  if (name == nullptr || name->IsNull()) {
    in.display_name = in.username;
    return Status::ok();
  }
  if (!name->IsString()) return invalid_argument(Msg::kDisplayNameNotString);
  if (!has_no_nul(view(*name))) {
    return invalid_argument(Msg::kDisplayNameNul);
  }
  const std::string_view trimmed = trim_white_space(view(*name));
  if (trimmed.empty()) {
    in.display_name = in.username;
    return Status::ok();
  }
  if (count_code_points(trimmed) > kMaxDisplayNameCodePoints || has_control(trimmed)) {
    return invalid_argument(Msg::kDisplayNameLength);
  }
  in.display_name = std::string(trimmed);
  return Status::ok();
}

Status read_keys(const Value& body, const Checks&, RegistrationInput& in) {
  if (Status s = read_bytes(body, kIdentityKey, in.identity_key); !s.is_ok()) return s;
  const Value* prekey = find(body, "signed_prekey");
  if (prekey == nullptr || !prekey->IsObject()) {
    return invalid_argument(Msg::kSignedPrekeyNotObject);
  }
  if (!read_key_id(*prekey, in.signed_prekey_id)) {
    return invalid_argument(Msg::kSignedPrekeyId);
  }
  if (Status s = read_bytes(*prekey, kSignedPrekey, in.signed_prekey); !s.is_ok()) return s;
  return read_bytes(*prekey, kSignedPrekeySignature, in.signed_prekey_signature);
}

Status check_identity_key(const Value&, const Checks& checks, RegistrationInput& in) {
  if (!checks.keys.is_identity_key(view(in.identity_key))) {
    return invalid_argument(Msg::kIdentityKeyInvalid);
  }
  return Status::ok();
}

Status check_signed_prekey_signature(const Value&, const Checks& checks, RegistrationInput& in) {
  if (!checks.keys.verify(view(in.identity_key), view(in.signed_prekey),
                      view(in.signed_prekey_signature))) {
    return invalid_argument(Msg::kSignatureInvalid);
  }
  return Status::ok();
}

Status read_one_time_prekeys(const Value& body, const Checks&, RegistrationInput& in) {
  const Value* list = find(body, "one_time_prekeys");
  if (list == nullptr || list->IsNull()) return Status::ok();
  if (!list->IsArray()) return invalid_argument(Msg::kPrekeysNotArray);
  if (list->Size() > kMaxOneTimePrekeys) {
    return invalid_argument(Msg::kPrekeysTooMany);
  }
  std::unordered_set<std::uint32_t> seen;
  in.one_time_prekeys.reserve(list->Size());
  for (const Value& entry : list->GetArray()) {
    if (!entry.IsObject()) return invalid_argument(Msg::kPrekeyNotObject);
    OneTimePrekey key;
    if (!read_key_id(entry, key.key_id)) {
      return invalid_argument(Msg::kPrekeyId);
    }
    if (Status s = read_bytes(entry, kOneTimePrekey, key.public_key); !s.is_ok()) return s;
    if (!seen.insert(key.key_id).second) return invalid_argument(Msg::kPrekeyDuplicate);
    in.one_time_prekeys.push_back(key);
  }
  return Status::ok();
}

// The order is the contract: the first failing step is the one the client shows.
const Step kSteps[] = {
    check_mode,
    check_object,
    read_invite_code,
    [](const Value& body, const Checks&, RegistrationInput& in) {
      return read_string(body, kUsername, in);
    },
    [](const Value& body, const Checks&, RegistrationInput& in) {
      return read_string(body, kEmail, in);
    },
    [](const Value& body, const Checks&, RegistrationInput& in) {
      return read_string(body, kPassword, in);
    },
    read_display_name,
    read_keys,
    check_identity_key,
    check_signed_prekey_signature,
    read_one_time_prekeys,
};

}  // namespace

Result<RegistrationInput> validate_registration(const Value& body, RegistrationMode mode,
                                                const KeyChecks& keys) {
  const Checks checks{mode, keys};
  RegistrationInput in;
  for (const Step step : kSteps) {
    if (Status status = step(body, checks, in); !status.is_ok()) return status;
  }
  return in;
}

Result<KeySet> validate_key_set(const Value& body, const KeyChecks& keys) {
  const Checks checks{RegistrationMode::kOpen, keys};
  RegistrationInput in;
  for (const Step step : {read_keys, check_identity_key, check_signed_prekey_signature,
                          read_one_time_prekeys}) {
    if (Status status = step(body, checks, in); !status.is_ok()) return status;
  }
  return static_cast<KeySet&&>(std::move(in));
}

Status check_username(std::string_view username) { return first_failure(kUsernameRules, username); }

Status check_email(std::string_view email) { return first_failure(kEmailRules, email); }

Status check_password(std::string_view password) { return first_failure(kPasswordRules, password); }

}  // namespace chatalot
