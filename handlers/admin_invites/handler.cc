#include "handler.h"

#include <memory>

#include "core/auth.h"
#include "core/json.h"
#include "core/query.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "http/render.h"
#include "store/pg_stores.h"
#include "store/schema.h"

namespace chatalot {
namespace {

constexpr std::string_view kCollectionPath = "/api/admin/invites";
constexpr std::string_view kItemPrefix = "/api/admin/invites/";

struct Shared {
  const Config config;
  const JwtVerifier verifier;
  const SystemClock clock;
};

// Which resource a path names: the collection, one item (its id), or nothing we serve.
struct Target {
  bool collection = false;
  std::optional<std::string_view> item;
};

Target target_of(std::string_view path) {
  if (path == kCollectionPath) return {true, std::nullopt};
  if (!path.starts_with(kItemPrefix)) return {};
  const std::string_view id = path.substr(kItemPrefix.size());
  if (id.empty() || id.find('/') != std::string_view::npos) return {};
  return {false, id};
}

std::string invite_json(const Invite& invite) {
  JsonWriter w;
  write_invite_json(w, invite);
  return w.take();
}

std::string created_json(const CreatedInvite& created) {
  JsonWriter w;
  write_invite_json(w, created.invite, created.code);
  return w.take();
}

std::string list_json(const std::vector<Invite>& invites) {
  JsonWriter w;
  w.start_array();
  for (const Invite& invite : invites) write_invite_json(w, invite);
  w.end_array();
  return w.take();
}

class AdminInvitesWorker final : public Worker {
 public:
  explicit AdminInvitesWorker(const Shared& shared)
      : shared_(shared), pg_(pg_options(shared.config)) {}

  // Path (404), method (405), token and roles (401/403), then the body (400).
  Response handle(const Request& request) override {
    const Target target = target_of(request.path);
    if (!target.collection && !target.item) return render_error({Code::kNotFound, Msg::kNotFound});
    const std::string& method = request.method;
    if (target.collection ? method != "GET" && method != "POST" : method != "DELETE") {
      return render_error(method_not_allowed(method, target.collection ? "GET, POST" : "DELETE"));
    }
    AuthDeps auth{shared_.verifier, shared_.clock, users_};
    Result<Caller> admin = authorize_admin(request.authorization, auth);
    if (!admin.is_ok()) return render_error(admin.status(), request.request_id);
    if (target.item) return revoke(request, admin->user_id, *target.item);
    if (method == "POST") return create(request, admin->user_id);
    // The panel expects a revoked invite to disappear; its record stays, and can be asked for.
    Result<std::optional<std::string>> include_revoked =
        query_parameter(request.query, "include_revoked", Msg::kIncludeRevokedParam);
    if (!include_revoked.is_ok()) return render_error(include_revoked.status());
    const std::string flag = include_revoked->value_or("false");
    if (flag != "true" && flag != "false") return render_error(invalid_argument(Msg::kIncludeRevokedParam));
    return render(invites_.list(kInviteListLimit, flag == "true"), request.request_id, list_json);
  }

 private:
  Response create(const Request& request, const std::string& admin) {
    Result<rapidjson::Document> body = parse_json_object(request.body);
    if (!body.is_ok()) return render_error(body.status());
    Result<InviteSpec> spec = invite_spec_from_json(*body);
    if (!spec.is_ok()) return render_error(spec.status());
    Result<CreatedInvite> created = create_invite(*spec, admin, request.request_id, invites_, random_);
    if (created.is_ok()) {
      log_info("invite " + created->invite.id + " created by " + admin +
               " request_id=" + request.request_id);
    }
    return render(created, request.request_id, created_json);
  }

  Response revoke(const Request& request, const std::string& admin, std::string_view id) {
    Result<Invite> revoked = revoke_invite(id, admin, request.request_id, invites_);
    if (revoked.is_ok()) {
      log_info("invite " + std::string(id) + " revoked by " + admin +
               " request_id=" + request.request_id);
    }
    return render(revoked, request.request_id, invite_json);
  }

  const Shared& shared_;
  PgLink pg_;
  PgInviteStore invites_{pg_};
  PgUserDirectory users_{pg_};
  OpenSslRandom random_;
};

}  // namespace

void write_invite_json(JsonWriter& w, const Invite& invite, std::optional<std::string_view> code) {
  w.start_object();
  w.field("id", invite.id);
  // The full code is in the answer that creates the invite only; it is not stored. The panel
  // shows "code": the hint followed by an ellipsis stands in for it.
  w.field("code", code ? std::string(*code) : invite.code_hint + "\u2026");
  w.field("code_hint", invite.code_hint);
  w.nullable_field("created_by", invite.created_by);
  w.nullable_field("max_uses", invite.max_uses);
  w.field("used_count", invite.used_count);
  w.nullable_field("expires_at", invite.expires_at);
  w.field("created_at", invite.created_at);
  w.nullable_field("note", invite.note);
  w.nullable_field("revoked_at", invite.revoked_at);
  w.end_object();
}

Result<Endpoint> admin_invites_endpoint(const Config& config) {
  Result<JwtVerifier> verifier = JwtVerifier::load(config.jwt_public_key_path, config.access_token_seconds);
  if (!verifier.is_ok()) return verifier.status();
  auto shared = std::make_shared<Shared>(config, std::move(verifier).value(), SystemClock{});
  Endpoint endpoint;
  // Every method reaches the handler, which answers 405 with the Allow of the path asked for.
  // Only POST carries a body; the media type and size checks apply to it alone.
  endpoint.rules = {{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<AdminInvitesWorker>(*shared); };
  endpoint.on_start = [shared] { return startup_probe(pg_options(shared->config)).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
