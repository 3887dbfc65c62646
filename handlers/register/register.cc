#include "register.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "codes.h"
#include "crypto.h"
#include "invite_limits.h"
#include "invites.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "password.h"
#include "pg.h"
#include "validation.h"

namespace chatalot {
namespace {

constexpr auto kHashQueueTimeout = std::chrono::seconds(5);

const char* const kInviteInvalid = "invalid, expired, or fully used invite code";

const std::vector<Statement> kStatements = {
    {"taken",
     "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1)),"
     "       EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2))"},
    {"invite_usable",
     "SELECT 1 FROM registration_invites WHERE code_hash = $1 AND " CHATALOT_INVITE_USABLE},
    {"insert_user",
     "INSERT INTO users (username, email, password_hash, display_name, recovery_code_hash)"
     " VALUES ($1, $2, $3, $4, $5) RETURNING id, " CHATALOT_RFC3339("created_at")},
    {"insert_keys",
     "WITH ik AS (INSERT INTO identity_keys (user_id, public_key) VALUES ($1, $2)),"
     " spk AS (INSERT INTO signed_prekeys (user_id, key_id, public_key, signature)"
     "         VALUES ($1, $3, $4, $5))"
     " INSERT INTO one_time_prekeys (user_id, key_id, public_key)"
     " SELECT $1, k, p FROM unnest($6::bigint[], $7::bytea[]) AS t (k, p)"},
    // One use, taken by a single conditional update: the row lock queues concurrent
    // registrants and each re-checks the condition, so used_count never passes max_uses.
    {"consume_invite",
     "WITH inv AS (UPDATE registration_invites SET used_count = used_count + 1"
     "             WHERE code_hash = $2 AND " CHATALOT_INVITE_USABLE " RETURNING id)"
     " UPDATE users SET invite_id = inv.id FROM inv WHERE users.id = $1 RETURNING inv.id"},
    // The first account ever: concurrent claimants queue on the singleton row.
    {"claim_owner",
     "WITH own AS (INSERT INTO instance_owner (user_id) VALUES ($1)"
     "             ON CONFLICT DO NOTHING RETURNING user_id)"
     " UPDATE users SET is_owner = true, is_admin = true FROM own"
     " WHERE users.id = own.user_id RETURNING true"},
    {"finish",
     "WITH rt AS (INSERT INTO refresh_tokens (user_id, token_hash, expires_at)"
     "            VALUES ($1, $2, now() + interval '30 days'))"
     " INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
     " VALUES ($1, 'user.register', $1,"
     "         jsonb_build_object('invite_id', $3::uuid, 'owner', $4::boolean), $5)"},
};

struct Context {
  Context(const Config& config, Ed25519Key signing_key, RedisTarget redis)
      : mode(config.registration_mode),
        admin_username(config.admin_username),
        database_url(config.database_url),
        argon2{static_cast<std::uint32_t>(config.argon2_memory_kib),
               static_cast<std::uint32_t>(config.argon2_iterations)},
        db(config.database_url, config.db_statement_timeout_ms, kStatements),
        key(std::move(signing_key)),
        gate(config.argon2_max_concurrent),
        limiter(std::move(redis), config.redis_timeout_ms, config.rate_limit_fail_open),
        register_limit(config.register_limit),
        invite_limits(limiter, config.invite_limit, config.invite_global_limit) {}

  RegistrationMode mode;
  std::string admin_username;
  std::string database_url;
  Argon2Params argon2;
  Database db;
  Ed25519Key key;
  HashGate gate;
  RateLimiter limiter;
  RateLimit register_limit;
  InviteLimits invite_limits;
  std::mutex startup_mu;
  std::atomic<bool> startup_done{false};  // the ADMIN_USERNAME promotion ran (deferred if PG was away)
};

Status promote_admin(PgConnection& db, const std::string& admin_username);

// The start-up work that needs PostgreSQL; run at start, or on the first request that reaches
// PostgreSQL when it was away at start.
void finish_startup(Context& ctx, PgConnection& db) {
  if (ctx.startup_done.load()) return;  // the hot path: no lock
  const std::lock_guard<std::mutex> lock(ctx.startup_mu);
  if (ctx.startup_done.load()) return;
  if (Status s = promote_admin(db, ctx.admin_username); !s.is_ok()) {
    log_error("ADMIN_USERNAME promotion: " + s.message());
    return;
  }
  ctx.startup_done.store(true);
}

Response conflict_for(const std::string& constraint) {
  return error_response(Status(ErrorCode::kAlreadyExists, constraint == "users_email_lower_key"
                                                              ? "email already registered"
                                                              : "username already taken"));
}

std::string bytes_of(const auto& array) {
  return {reinterpret_cast<const char*>(array.data()), array.size()};
}

// The one-time prekeys as PostgreSQL array literals: {1,2} and {"\\x..","\\x.."}.
std::pair<std::string, std::string> prekey_arrays(const RegistrationInput& in) {
  std::string ids = "{";
  std::string keys = "{";
  for (const OneTimePrekey& k : in.one_time_prekeys) {
    if (ids.size() > 1) ids += ',', keys += ',';
    ids += std::to_string(k.key_id);
    keys += "\"\\" + bytea_literal(bytes_of(k.public_key)) + "\"";
  }
  return {ids + "}", keys + "}"};
}

std::string uuid_v4(const std::string& random16) {
  std::string b = random16;
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  const std::string h = to_hex(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

struct Secrets {
  std::string password_hash;
  std::string refresh_token;
  std::string recovery_code;
  std::string jti;
};

Result<Secrets> make_secrets(Context& ctx, const std::string& password) {
  Result<std::string> hash = Status(ErrorCode::kUnavailable, "password hashing queue full");
  if (const HashGate::Slot slot = ctx.gate.enter(kHashQueueTimeout)) {
    hash = hash_password(password, ctx.argon2);
  }
  if (!hash.is_ok()) return hash.status();
  Result<std::string> refresh = generate_refresh_token();
  Result<std::string> recovery = generate_recovery_code();
  Result<std::string> jti = random_bytes(16);
  if (!refresh.is_ok() || !recovery.is_ok() || !jti.is_ok()) {
    return Status(ErrorCode::kUnavailable, "random generator failed");
  }
  return Secrets{*hash, *refresh, *recovery, uuid_v4(*jti)};
}

Response handle(Context& ctx, const Request& request) {
  // The per-address registration limit comes before anything else.
  Result<LimitDecision> attempt = ctx.limiter.apply(
      "chatalot:rl:register:" + client_key(request.remote_addr), ctx.register_limit,
      RateLimiter::Mode::kTake);
  if (!attempt.is_ok() || !attempt->allowed) return limit_failure(attempt);
  Result<rapidjson::Document> body = parse_json_object(request.body);
  if (!body.is_ok()) return error_response(body.status());
  Result<RegistrationInput> input = validate_registration(*body, ctx.mode);
  if (!input.is_ok()) return error_response(input.status());
  const RegistrationInput& in = *input;
  // A code that cannot normalise hashes to something no invite has: it fails the lookup below
  // and counts as a failed attempt like any other wrong code.
  const std::string invite_hash = invite_code_hash(normalize_invite_code(in.invite_code));
  const bool with_invite = ctx.mode == RegistrationMode::kInviteOnly;

  Result<PgConnection*> conn = ctx.db.connection();
  if (!conn.is_ok()) return dependency_failure(conn.status());
  PgConnection& db = **conn;
  finish_startup(ctx, db);
  // The read-only look, before the expensive hash.
  Result<PgResult> taken = db.exec("taken", {in.username, in.email});
  if (!taken.is_ok()) return dependency_failure(taken.status());
  if (taken->get_bool(0, 0)) return conflict_for("users_username_lower_key");
  if (taken->get_bool(0, 1)) return conflict_for("users_email_lower_key");
  if (with_invite) {
    // An invite attempt like the invite check's: the same budgets in Redis.
    if (std::optional<Response> refused = ctx.invite_limits.begin(request.remote_addr)) {
      return *refused;
    }
    Result<PgResult> usable = db.exec("invite_usable", {invite_hash});
    ctx.invite_limits.finish(request.remote_addr, !usable.is_ok() || usable->rows() == 1);
    if (!usable.is_ok()) return dependency_failure(usable.status());
    if (usable->rows() == 0) return error_response(invalid_argument(kInviteInvalid));
  }

  Result<Secrets> secrets = make_secrets(ctx, in.password);
  if (!secrets.is_ok()) return dependency_failure(secrets.status());

  Transaction tx(db);
  if (!tx.begin_status().is_ok()) return dependency_failure(tx.begin_status());
  Result<PgResult> user =
      db.exec("insert_user", {in.username, in.email, secrets->password_hash, in.display_name,
                              sha256_hex(secrets->recovery_code)});
  if (!user.is_ok()) {
    if (user.status().code() == ErrorCode::kAlreadyExists) return conflict_for(user.status().message());
    return dependency_failure(user.status());
  }
  const std::string user_id = user->get(0, 0);
  const std::string created_at = user->get(0, 1);
  const auto [ids, keys] = prekey_arrays(in);
  Result<PgResult> stored = db.exec(
      "insert_keys", {user_id, bytea_literal(bytes_of(in.identity_key)),
                      std::to_string(in.signed_prekey_id), bytea_literal(bytes_of(in.signed_prekey)),
                      bytea_literal(bytes_of(in.signed_prekey_signature)), ids, keys});
  if (!stored.is_ok()) return dependency_failure(stored.status());
  PgParam invite_id;
  if (with_invite) {
    Result<PgResult> used = db.exec("consume_invite", {user_id, invite_hash});
    if (!used.is_ok()) return dependency_failure(used.status());
    if (used->rows() == 0) return error_response(invalid_argument(kInviteInvalid));
    invite_id = used->get(0, 0);
  }
  Result<PgResult> owner = db.exec("claim_owner", {user_id});
  if (!owner.is_ok()) return dependency_failure(owner.status());
  const bool is_owner = owner->rows() == 1;
  Result<PgResult> finished =
      db.exec("finish", {user_id, sha256_hex(secrets->refresh_token), invite_id,
                         is_owner ? "true" : "false",
                         request.request_id.empty() ? std::nullopt : PgParam(request.request_id)});
  if (!finished.is_ok()) return dependency_failure(finished.status());
  // Signed before the commit: an account is never created without its answer.
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  AccessClaims claims{user_id, in.username, is_owner, is_owner, now,
                      now + kAccessTokenSeconds, secrets->jti};
  Result<std::string> token = sign_access_token(ctx.key, claims);
  if (!token.is_ok()) return dependency_failure(Status(ErrorCode::kInternal, token.status().message()));
  if (Status s = tx.commit(); !s.is_ok()) {
    if (s.code() == ErrorCode::kAlreadyExists) return conflict_for(s.message());
    return dependency_failure(s);
  }

  JsonWriter w;
  w.start_object();
  w.field("access_token", *token);
  w.field("refresh_token", secrets->refresh_token);
  w.key("user");
  w.start_object();
  w.field("id", user_id);
  w.field("username", in.username);
  w.field("display_name", in.display_name);
  w.key("avatar_url"), w.null();
  w.key("banner_url"), w.null();
  w.field("status", "offline");
  w.key("custom_status"), w.null();
  w.field("is_admin", is_owner);
  w.field("is_owner", is_owner);
  w.field("created_at", created_at);
  w.end_object();
  w.field("recovery_code", secrets->recovery_code);
  w.end_object();
  return json_response(w.take());
}

// ADMIN_USERNAME: promoted at start-up only, if the account exists and is not an admin yet.
Status promote_admin(PgConnection& db, const std::string& admin_username) {
  if (admin_username.empty()) return Status::ok();
  Result<PgResult> r = db.exec(
      "WITH p AS (UPDATE users SET is_admin = true"
      "           WHERE lower(username) = lower($1) AND NOT is_admin RETURNING id, username),"
      " a AS (INSERT INTO audit_log (action, target_id, details)"
      "       SELECT 'user.promote_admin', id, jsonb_build_object('source', 'ADMIN_USERNAME')"
      "       FROM p)"
      " SELECT id, username FROM p",
      {admin_username});
  if (!r.is_ok()) return r.status();
  if (r->rows() == 1) {
    log_info("ADMIN_USERNAME: promoted " + r->get(0, 1) + " (" + r->get(0, 0) + ") to admin");
  }
  return Status::ok();
}

}  // namespace

Result<Endpoint> register_endpoint(const Config& config) {
  Result<RedisTarget> redis = parse_redis_url(config.redis_url);
  if (!redis.is_ok()) return redis.status();
  Result<Ed25519Key> key = Ed25519Key::load_private_pem(config.jwt_private_key_path);
  if (!key.is_ok()) {
    return Status(ErrorCode::kInvalidArgument,
                  "JWT_PRIVATE_KEY_PATH: " + key.status().message());
  }
  auto ctx = std::make_shared<Context>(config, std::move(key).value(), std::move(redis).value());
  Endpoint endpoint;
  endpoint.rules = {{"POST"}, true};
  endpoint.handle = [ctx](const Request& request) { return handle(*ctx, request); };
  endpoint.on_start = [ctx]() -> Status {
    Result<std::optional<PgConnection>> probe = startup_probe(ctx->database_url);
    if (!probe.is_ok()) return probe.status();
    if (probe->has_value()) finish_startup(*ctx, **probe);  // else: on the first request
    return Status::ok();
  };
  return endpoint;
}

}  // namespace chatalot
