#include "core/registration.h"

#include "core/codes.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/text.h"

namespace chatalot {
namespace {

struct Secrets {
  std::string password_hash;
  std::string refresh_token;
  std::string recovery_code;
  std::string jti;
};

// Steps 1-6 of the contract: the body's checks, in order, without I/O.
Result<RegistrationInput> read_input(std::string_view body, RegistrationDeps& deps) {
  Result<rapidjson::Document> doc = parse_json_object(body);
  if (!doc.is_ok()) return doc.status();
  return validate_registration(*doc, deps.policy.mode, deps.keys);
}

// In invite_only mode the invite (an attempt counted like an invite check's), read-only, before
// the read-only look at uniqueness (steps 7 and 8): nobody without a usable invite learns which
// usernames or e-mail addresses exist.
Status check_invite_code(const std::string& invite_code, std::string_view remote_addr,
                         RegistrationDeps& deps) {
  InviteBudget budget(deps.limiter, deps.policy.invite_limit, deps.policy.invite_network_limit);
  CHATALOT_RETURN_IF_ERROR(budget.begin(remote_addr));
  // A code that cannot normalise is looked up as "", which no invite has: the same work.
  Result<std::optional<UsableInvite>> usable = deps.invites.find_usable(invite_code);
  budget.finish(remote_addr, !usable.is_ok() || usable->has_value());
  if (!usable.is_ok()) return usable.status();
  if (!usable->has_value()) return invalid_argument(Msg::kInviteInvalid);
  return Status::ok();
}

Status check_unique(const RegistrationInput& in, RegistrationDeps& deps) {
  Result<AccountStore::Taken> taken = deps.accounts.taken(in.username, in.email);
  if (!taken.is_ok()) return taken.status();
  if (taken->username) return {Code::kAlreadyExists, Msg::kUsernameTaken};
  if (taken->email) return {Code::kAlreadyExists, Msg::kEmailTaken};
  return Status::ok();
}

// The random secrets first: a failing generator then costs no hashing slot.
Result<Secrets> make_secrets(const std::string& password, RegistrationDeps& deps) {
  Result<std::string> refresh = generate_refresh_token(deps.random);
  if (!refresh.is_ok()) return refresh.status();
  Result<std::string> recovery = generate_recovery_code(deps.random);
  if (!recovery.is_ok()) return recovery.status();
  Result<std::string> jti = deps.random.bytes(16);
  if (!jti.is_ok()) return jti.status();
  Result<std::string> hash = deps.hasher.hash(password);
  if (!hash.is_ok()) return hash.status();
  return Secrets{*hash, *refresh, *recovery, uuid_v4(*jti)};
}

}  // namespace

Result<Registered> register_account(const RegistrationRequest& request, RegistrationDeps& deps) {
  // The per-address registration limit comes before anything else.
  CHATALOT_RETURN_IF_ERROR(
      deps.limiter.apply(registration_key(request.remote_addr), deps.policy.register_limit,
                         LimitMode::kTake));
  Result<RegistrationInput> input = read_input(request.body, deps);
  if (!input.is_ok()) return input.status();
  const RegistrationInput& in = *input;
  const bool with_invite = deps.policy.mode == RegistrationMode::kInviteOnly;
  const std::string invite_code = with_invite ? normalize_invite_code(in.invite_code) : "";
  if (with_invite) CHATALOT_RETURN_IF_ERROR(check_invite_code(invite_code, request.remote_addr, deps));
  CHATALOT_RETURN_IF_ERROR(check_unique(in, deps));
  Result<Secrets> secrets = make_secrets(in.password, deps);
  if (!secrets.is_ok()) return secrets.status();

  NewAccount account{in,
                     secrets->password_hash,
                     secrets->recovery_code,
                     secrets->refresh_token,
                     with_invite ? std::optional(invite_code) : std::nullopt,
                     std::string(request.request_id),
                     {device_name(request.user_agent), std::string(request.remote_addr)}};
  std::string access_token;
  const auto sign = [&](const CreatedAccount& created) -> Status {
    // A new account is an admin only as the owner.
    const TokenSubject subject{created.id, in.username, created.is_owner, created.is_owner,
                               created.session_id};
    Result<std::string> token =
        deps.signer.sign(
            claims_for(subject, secrets->jti, deps.clock.now_seconds(), deps.signer.lifetime_seconds()));
    if (!token.is_ok()) return token.status();
    access_token = std::move(token).value();
    return Status::ok();
  };
  Result<CreatedAccount> created = deps.accounts.create(account, sign);
  if (!created.is_ok()) return created.status();
  return Registered{access_token, secrets->refresh_token, secrets->recovery_code, created->id,
                    in.username, in.display_name, created->is_owner, created->created_at};
}

}  // namespace chatalot
