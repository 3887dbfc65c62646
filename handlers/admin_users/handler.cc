#include "handler.h"

#include <memory>
#include <optional>

#include "core/auth.h"
#include "core/json.h"
#include "core/users.h"
#include "crypto/jwt.h"
#include "http/render.h"
#include "store/pg_sessions.h"
#include "store/pg_stores.h"
#include "store/schema.h"

namespace chatalot {
namespace {

constexpr std::string_view kCollectionPath = "/api/admin/users";
constexpr std::string_view kItemPrefix = "/api/admin/users/";

enum class Action { kList, kSetAdmin, kSuspend, kUnsuspend };

struct Target {
  Action action;
  std::string_view method;
  std::string_view id;
};

// "/api/admin/users" or "/api/admin/users/{id}/{admin|suspend|unsuspend}"; nullopt: 404.
std::optional<Target> target_of(std::string_view path) {
  if (path == kCollectionPath) return Target{Action::kList, "GET", {}};
  if (!path.starts_with(kItemPrefix)) return std::nullopt;
  const std::string_view rest = path.substr(kItemPrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view id = rest.substr(0, slash);
  const std::string_view verb = rest.substr(slash + 1);
  if (verb == "admin") return Target{Action::kSetAdmin, "PUT", id};
  if (verb == "suspend") return Target{Action::kSuspend, "POST", id};
  if (verb == "unsuspend") return Target{Action::kUnsuspend, "POST", id};
  return std::nullopt;
}

struct Shared {
  const Config config;
  const JwtVerifier verifier;
  const SystemClock clock;
};

std::string users_json(const std::vector<Account>& users) {
  JsonWriter w;
  w.start_array();
  for (const Account& user : users) write_admin_user_json(w, user);
  w.end_array();
  return w.take();
}

// {"is_admin": bool}.
Result<bool> is_admin_from(std::string_view body) {
  Result<rapidjson::Document> doc = parse_json_object(body);
  if (!doc.is_ok()) return doc.status();
  const auto it = doc->FindMember("is_admin");
  if (it == doc->MemberEnd() || !it->value.IsBool()) return invalid_argument(Msg::kIsAdminType);
  return it->value.GetBool();
}

class AdminUsersWorker final : public Worker {
 public:
  explicit AdminUsersWorker(const Shared& shared)
      : shared_(shared), pg_(pg_options(shared.config)) {}

  Response handle(const Request& request) override {
    const std::optional<Target> target = target_of(request.path);
    if (!target) return render_error({Code::kNotFound, Msg::kNotFound});
    if (request.method != target->method) {
      return render_error(method_not_allowed(request.method, std::string(target->method)));
    }
    AuthDeps auth{shared_.verifier, shared_.clock, directory_};
    Result<Caller> admin = authorize_admin(request.authorization, auth);
    if (!admin.is_ok()) return render_error(admin.status(), request.request_id);
    const Actor actor{admin->user_id, admin->roles.is_owner};
    return act(*target, actor, request);
  }

 private:
  Response act(const Target& target, const Actor& actor, const Request& request) {
    const std::string_view rid = request.request_id;
    switch (target.action) {
      case Action::kList: {
        Result<UserQuery> query = user_query_from(request.query);
        if (!query.is_ok()) return render_error(query.status());
        return render(users_.list(*query), rid, users_json);
      }
      case Action::kSetAdmin: {
        Result<bool> is_admin = is_admin_from(request.body);
        if (!is_admin.is_ok()) return render_error(is_admin.status());
        return render(set_admin(actor, target.id, *is_admin, rid, users_), rid);
      }
      case Action::kSuspend: {
        Result<std::optional<std::string>> reason = suspension_reason(request.body);
        if (!reason.is_ok()) return render_error(reason.status());
        return render(suspend_user(actor, target.id, *reason, rid, users_), rid);
      }
      case Action::kUnsuspend:
        return render(unsuspend_user(actor, target.id, rid, users_), rid);
    }
    return render_error(internal_error("unknown admin users action"), rid);
  }

  const Shared& shared_;
  PgLink pg_;
  PgUserAdminStore users_{pg_};
  PgUserDirectory directory_{pg_};
};

}  // namespace

void write_admin_user_json(JsonWriter& w, const Account& user) {
  w.start_object();
  w.field("id", user.id);
  w.field("username", user.username);
  w.field("display_name", user.display_name);
  w.field("email", user.email);
  w.nullable_field("avatar_url", user.avatar_url);
  w.field("is_admin", user.is_admin || user.is_owner);
  w.field("is_owner", user.is_owner);
  w.nullable_field("suspended_at", user.suspended_at);
  w.nullable_field("suspended_reason", user.suspended_reason);
  w.field("created_at", user.created_at);
  // This service keeps no groups or communities; the panel expects the arrays.
  w.key("groups");
  w.start_array();
  w.end_array();
  w.key("communities");
  w.start_array();
  w.end_array();
  w.nullable_field("invite_id", user.invite_id);
  w.end_object();
}

Result<Endpoint> admin_users_endpoint(const Config& config) {
  Result<JwtVerifier> verifier = JwtVerifier::load(config.jwt_public_key_path, config.access_token_seconds);
  if (!verifier.is_ok()) return verifier.status();
  auto shared = std::make_shared<Shared>(config, std::move(verifier).value(), SystemClock{});
  Endpoint endpoint;
  // Every method reaches the handler, which answers 405 with the Allow of the path asked for.
  endpoint.rules = {{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<AdminUsersWorker>(*shared); };
  endpoint.on_start = [shared] { return startup_probe(pg_options(shared->config)).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
