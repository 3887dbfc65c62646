#include "store/pg_stores.h"

#include "crypto/crypto.h"

namespace chatalot {
namespace {

// A unique violation of the users table, as the contract's 409.
Status conflict_for(const Status& s) {
  if (s.code() != Code::kAlreadyExists) return s;
  if (s.detail() == "users_email_lower_key") return {Code::kAlreadyExists, Msg::kEmailTaken};
  if (s.detail() == "users_username_lower_key") return {Code::kAlreadyExists, Msg::kUsernameTaken};
  return internal_error("unexpected unique violation: " + s.detail());
}

PgParam optional_int4(const std::optional<std::int64_t>& v) {
  // The domain checked the range (check_invite_spec) before anything reaches here.
  return v ? PgParam::int4(static_cast<std::int32_t>(*v)) : PgParam::null(PgType::kInt4);
}

std::string bytes_of(const auto& array) {
  return {reinterpret_cast<const char*>(array.data()), array.size()};
}

}  // namespace

Result<PgResult> insert_keys(PgConnection& db, std::string_view user_id, const KeySet& in) {
  std::vector<std::int64_t> ids;
  std::vector<std::string> keys;
  for (const OneTimePrekey& k : in.one_time_prekeys) {
    ids.push_back(k.key_id);
    keys.push_back(bytes_of(k.public_key));
  }
  return db.exec(Sql::kInsertKeys,
                 {PgParam::uuid(user_id), PgParam::bytea(bytes_of(in.identity_key)),
                  PgParam::int8(in.signed_prekey_id), PgParam::bytea(bytes_of(in.signed_prekey)),
                  PgParam::bytea(bytes_of(in.signed_prekey_signature)), PgParam::int8_array(ids),
                  PgParam::bytea_array(keys)});
}

namespace {

// Every statement of a registration after the user row; the caller commits.
Status write_account(PgConnection& db, const NewAccount& a, int session_days,
                     CreatedAccount& created) {
  Result<PgResult> keys = insert_keys(db, created.id, a.input);
  if (!keys.is_ok()) return keys.status();
  if (a.invite_code) {
    Result<PgResult> used = db.exec(Sql::kConsumeInvite, {PgParam::uuid(created.id),
                                                          PgParam::text(sha256_hex(*a.invite_code))});
    if (!used.is_ok()) return used.status();
    if (used->rows() == 0) return invalid_argument(Msg::kInviteInvalid);  // used up meanwhile
    created.invite_id = used->text(0, 0);
  }
  Result<PgResult> owner = db.exec(Sql::kClaimOwner, {PgParam::uuid(created.id)});
  if (!owner.is_ok()) return owner.status();
  created.is_owner = owner->rows() == 1;
  Result<PgResult> finished = db.exec(
      Sql::kFinishRegistration,
      {PgParam::uuid(created.id), PgParam::text(sha256_hex(a.refresh_token)),
       PgParam::nullable_uuid(created.invite_id), PgParam::boolean(created.is_owner),
       text_or_null(a.request_id), PgParam::nullable_text(a.origin.device_name),
       PgParam::nullable_text(a.origin.ip_address), PgParam::int4(session_days)});
  if (!finished.is_ok()) return finished.status();
  created.session_id = finished->text(0, 0);
  return Status::ok();
}

Invite read_invite(const PgResult& r, int row) {
  Invite invite;
  invite.id = r.text(row, 0);
  invite.code_hint = r.text(row, 1);
  invite.created_by = r.optional_text(row, 2);
  invite.max_uses = r.int64(row, 3);
  invite.used_count = r.int64(row, 4).value_or(0);
  invite.expires_at = r.optional_text(row, 5);
  invite.created_at = r.text(row, 6);
  invite.note = r.optional_text(row, 7);
  invite.revoked_at = r.optional_text(row, 8);
  return invite;
}

}  // namespace

Result<AccountStore::Taken> PgAccountStore::taken(std::string_view username, std::string_view email) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r =
      (*db)->exec(Sql::kAccountTaken, {PgParam::text(username), PgParam::text(email)});
  if (!r.is_ok()) return r.status();
  return Taken{r->boolean(0, 0), r->boolean(0, 1)};
}

Result<CreatedAccount> PgAccountStore::create(
    const NewAccount& a, const std::function<Status(const CreatedAccount&)>& before_commit) {
  Result<PgConnection*> conn = link_.connection();
  if (!conn.is_ok()) return conn.status();
  PgConnection& db = **conn;
  Transaction tx(db);
  CHATALOT_RETURN_IF_ERROR(tx.begin_status());
  Result<PgResult> user = db.exec(
      Sql::kInsertUser,
      {PgParam::text(a.input.username), PgParam::text(a.input.email), PgParam::text(a.password_hash),
       PgParam::text(a.input.display_name), PgParam::text(sha256_hex(a.recovery_code))});
  if (!user.is_ok()) return conflict_for(user.status());
  CreatedAccount created{user->text(0, 0), user->text(0, 1), false, std::nullopt, ""};
  CHATALOT_RETURN_IF_ERROR(write_account(db, a, session_days_, created));
  CHATALOT_RETURN_IF_ERROR(before_commit(created));
  if (Status s = tx.commit(); !s.is_ok()) return conflict_for(s);
  return created;
}

Result<std::optional<std::string>> PgAccountStore::promote_admin(std::string_view username) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r = (*db)->exec(Sql::kPromoteAdmin, {PgParam::text(username)});
  if (!r.is_ok()) return r.status();
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r->text(0, 1) + " (" + r->text(0, 0) + ")");
}

Result<std::optional<UsableInvite>> PgInviteStore::find_usable(std::string_view code) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r = (*db)->exec(Sql::kUsableInvite, {PgParam::text(sha256_hex(code))});
  if (!r.is_ok()) return r.status();
  if (r->rows() == 0) return std::optional<UsableInvite>();
  return std::optional<UsableInvite>(UsableInvite{r->optional_text(0, 0), r->int64(0, 1)});
}

Result<Invite> PgInviteStore::create(const NewInvite& n) {
  Result<PgConnection*> conn = link_.connection();
  if (!conn.is_ok()) return conn.status();
  PgConnection& db = **conn;
  Transaction tx(db);
  CHATALOT_RETURN_IF_ERROR(tx.begin_status());
  Result<PgResult> row = db.exec(
      Sql::kCreateInvite,
      {PgParam::text(sha256_hex(n.code)), PgParam::text(n.code.substr(0, 4)),
       optional_int4(n.spec.max_uses), optional_int4(n.spec.expires_in_hours),
       PgParam::nullable_text(n.spec.note), PgParam::nullable_uuid(n.created_by), text_or_null(n.request_id)});
  if (!row.is_ok()) return row.status();
  CHATALOT_RETURN_IF_ERROR(tx.commit());
  return read_invite(*row, 0);
}

Result<std::vector<Invite>> PgInviteStore::list(int limit, bool include_revoked) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r = (*db)->exec(Sql::kListInvites, {PgParam::int4(limit), PgParam::boolean(include_revoked)});
  if (!r.is_ok()) return r.status();
  std::vector<Invite> invites;
  invites.reserve(static_cast<std::size_t>(r->rows()));
  for (int row = 0; row < r->rows(); ++row) invites.push_back(read_invite(*r, row));
  return invites;
}

Result<std::optional<Invite>> PgInviteStore::revoke(std::string_view id,
                                                    const std::optional<std::string>& actor,
                                                    std::string_view request_id) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r = (*db)->exec(
      Sql::kRevokeInvite, {PgParam::uuid(id), PgParam::nullable_uuid(actor), text_or_null(request_id)});
  if (!r.is_ok()) return r.status();
  if (r->rows() == 0) return std::optional<Invite>();
  return std::optional<Invite>(read_invite(*r, 0));
}

Result<std::optional<Roles>> PgUserDirectory::roles(std::string_view user_id) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r = (*db)->exec(Sql::kUserRoles, {PgParam::uuid(user_id)});
  if (!r.is_ok()) return r.status();
  if (r->rows() == 0) return std::optional<Roles>();
  return std::optional<Roles>(Roles{r->boolean(0, 0), r->boolean(0, 1), r->boolean(0, 2)});
}

}  // namespace chatalot
