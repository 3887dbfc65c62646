// chatalotctl: the operator's command line on the server (SPEC section 4). Exit status 0 on
// success; otherwise one line on stderr and 1 (usage: 2, configuration: 78).
#include <sys/stat.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "config.h"
#include "crypto.h"
#include "invites.h"
#include "migrations.h"
#include "pg.h"

namespace chatalot {
namespace {

constexpr const char* kUsage =
    "usage: chatalotctl COMMAND\n"
    "  migrate                      apply the schema migrations (DATABASE_URL)\n"
    "  keygen                       create the Ed25519 key pair for access tokens at\n"
    "                               JWT_PRIVATE_KEY_PATH (mode 0600) and JWT_PUBLIC_KEY_PATH\n"
    "  invite create [--max-uses N] [--expires-in-hours H] [--note TEXT]\n"
    "                               create an invite; prints the code alone on stdout\n"
    "  invite list                  list the newest invites (never their codes), newest first\n"
    "  invite revoke ID             revoke an invite; accounts created with it stay\n"
    "  config check                 validate the environment, print it with secrets redacted\n";

constexpr unsigned kAllNeeds = kNeedDatabase | kNeedRedis | kNeedJwtSign | kNeedJwtVerify;
constexpr int kExitUsage = 2;

int fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "chatalotctl: %s\n", message.c_str());
  return code;
}

// Loads the configuration with the given needs, printing every problem.
bool load(unsigned needs, Config* config) {
  Result<Config> c = load_config(process_env(), needs);
  if (!c.is_ok()) {
    std::fprintf(stderr, "%s\n", c.status().message().c_str());
    return false;
  }
  *config = *c;
  return true;
}

Result<PgConnection> connect(const Config& config) {
  return PgConnection::open(config.database_url, 0);  // no statement timeout for the operator
}

int cmd_migrate() {
  Config config;
  if (!load(kNeedDatabase, &config)) return kExitConfig;
  Result<PgConnection> conn = connect(config);
  if (!conn.is_ok()) return fail(conn.status().message());
  // Several hosts may run migrate at once (systemd's migration unit on each): one at a time.
  Status s = conn->exec_script(
      "SELECT pg_advisory_lock(7211000001);"
      "CREATE TABLE IF NOT EXISTS schema_version ("
      "  version integer PRIMARY KEY, name text NOT NULL,"
      "  applied_at timestamptz NOT NULL DEFAULT now())");
  if (!s.is_ok()) return fail("migrate: " + s.message());
  Result<PgResult> current = conn->exec("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!current.is_ok()) return fail("migrate: " + current.status().message());
  const int found = std::stoi(current->get(0, 0));
  if (found > expected_schema_version()) {
    return fail("database schema is at version " + std::to_string(found) +
                ", newer than this build (" + std::to_string(expected_schema_version()) + ")");
  }
  for (const Migration& m : migrations()) {
    if (m.version <= found) continue;
    Transaction tx(*conn);
    if (!tx.begin_status().is_ok()) return fail("migrate: " + tx.begin_status().message());
    if (Status applied = conn->exec_script(m.sql); !applied.is_ok()) {
      return fail(std::string("migration ") + m.name + " failed: " + applied.message());
    }
    Result<PgResult> row = conn->exec("INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                                      {std::to_string(m.version), m.name});
    if (!row.is_ok()) return fail("migrate: " + row.status().message());
    if (Status c = tx.commit(); !c.is_ok()) return fail("migrate: " + c.message());
    std::fprintf(stderr, "applied %s\n", m.name);
  }
  std::printf("schema at version %d\n", expected_schema_version());
  return 0;
}

int cmd_keygen() {
  Config config;
  if (!load(kNeedJwtSign | kNeedJwtVerify, &config)) return kExitConfig;
  struct stat st {};
  for (const std::string& path : {config.jwt_private_key_path, config.jwt_public_key_path}) {
    if (::stat(path.c_str(), &st) == 0) return fail("refusing to overwrite " + path);
  }
  Result<Ed25519Key> key = Ed25519Key::generate();
  if (!key.is_ok()) return fail(key.status().message());
  if (Status s = key->write_private_pem(config.jwt_private_key_path); !s.is_ok()) {
    return fail(s.message());
  }
  if (Status s = key->write_public_pem(config.jwt_public_key_path); !s.is_ok()) {
    return fail(s.message());
  }
  std::printf("wrote %s and %s\n", config.jwt_private_key_path.c_str(),
              config.jwt_public_key_path.c_str());
  return 0;
}

bool parse_int64(const std::string& text, std::int64_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// Connects and checks the schema version: 0, or the exit status after saying why.
int open_database(Result<PgConnection>* conn) {
  Config config;
  if (!load(kNeedDatabase, &config)) return kExitConfig;
  *conn = connect(config);
  if (!conn->is_ok()) return fail(conn->status().message());
  if (Status s = check_schema_version(**conn); !s.is_ok()) return fail(s.message());
  return 0;
}

int cmd_invite_create(const std::vector<std::string>& args) {
  InviteSpec spec;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (i + 1 >= args.size()) return fail("missing value for " + flag, kExitUsage);
    const std::string& value = args[++i];
    std::int64_t n = 0;
    if (flag == "--max-uses" || flag == "--expires-in-hours") {
      if (!parse_int64(value, &n)) {
        return fail(flag + " wants an integer, got " + value, kExitUsage);
      }
      (flag == "--max-uses" ? spec.max_uses : spec.expires_in_hours) = n;
    } else if (flag == "--note") {
      spec.note = value;
    } else {
      return fail("unknown option " + flag + "\n" + kUsage, kExitUsage);
    }
  }
  if (Status s = check_invite_spec(spec); !s.is_ok()) return fail(s.message(), kExitUsage);
  Result<PgConnection> conn = Status(ErrorCode::kUnavailable, "not connected");
  if (const int rc = open_database(&conn); rc != 0) return rc;
  Result<CreatedInvite> invite = create_invite(*conn, spec, std::nullopt, "");
  if (!invite.is_ok()) return fail("invite create: " + invite.status().message());
  std::printf("%s\n", invite->code.c_str());
  std::fprintf(stderr, "invite %s created; max uses %s, expires %s\n", invite->id.c_str(),
               invite->max_uses ? std::to_string(*invite->max_uses).c_str() : "unlimited",
               invite->expires_at.empty() ? "never" : invite->expires_at.c_str());
  return 0;
}

// RFC 3339 to the second: the microseconds only widen the table.
std::string short_time(const std::optional<std::string>& rfc3339, const char* absent) {
  if (!rfc3339) return absent;
  const std::size_t dot = rfc3339->find('.');
  return dot == std::string::npos ? *rfc3339 : rfc3339->substr(0, dot) + "Z";
}

int cmd_invite_list() {
  // The same bound as the admin API; one more row is read to know whether there are more.
  constexpr int kLimit = 1000;
  Result<PgConnection> conn = Status(ErrorCode::kUnavailable, "not connected");
  if (const int rc = open_database(&conn); rc != 0) return rc;
  Result<std::vector<ListedInvite>> invites = list_invites(*conn, kLimit + 1);
  if (!invites.is_ok()) return fail("invite list: " + invites.status().message());
  std::printf("%-36s  %-4s  %-16s  %-20s  %-20s  %-20s  %s\n", "ID", "HINT", "USES", "EXPIRES",
              "CREATED", "REVOKED", "NOTE");
  int shown = 0;
  for (const ListedInvite& i : *invites) {
    if (shown++ == kLimit) break;
    const std::string uses = std::to_string(i.used_count) + "/" +
                             (i.max_uses ? std::to_string(*i.max_uses) : "unlimited");
    std::printf("%-36s  %-4s  %-16s  %-20s  %-20s  %-20s  %s\n", i.id.c_str(), i.code_hint.c_str(),
                uses.c_str(), short_time(i.expires_at, "never").c_str(),
                short_time(i.created_at, "").c_str(), short_time(i.revoked_at, "-").c_str(),
                i.note.value_or("").c_str());
  }
  if (invites->size() > static_cast<std::size_t>(kLimit)) {
    std::fprintf(stderr, "only the newest %d invites are shown\n", kLimit);
  }
  return 0;
}

int cmd_invite_revoke(const std::string& id) {
  Result<PgConnection> conn = Status(ErrorCode::kUnavailable, "not connected");
  if (const int rc = open_database(&conn); rc != 0) return rc;
  Result<std::optional<ListedInvite>> revoked = revoke_invite(*conn, id, std::nullopt, "");
  if (!revoked.is_ok()) return fail("invite revoke: " + revoked.status().message());
  if (!*revoked) return fail("invite not found: " + id);
  std::printf("revoked %s\n", (*revoked)->id.c_str());
  return 0;
}

int cmd_config_check() {
  Result<Config> c = load_config(process_env(), kAllNeeds);
  if (!c.is_ok()) {
    std::fprintf(stderr, "%s\n", c.status().message().c_str());
    return kExitConfig;
  }
  std::printf("%s", describe_config(*c).c_str());
  return 0;
}

}  // namespace
}  // namespace chatalot

int main(int argc, char** argv) {
  using namespace chatalot;  // NOLINT(google-build-using-namespace)
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto is = [&](std::initializer_list<const char*> words) {
    if (args.size() < words.size()) return false;
    std::size_t i = 0;
    for (const char* w : words) {
      if (args[i++] != w) return false;
    }
    return true;
  };
  if (is({"migrate"}) && args.size() == 1) return cmd_migrate();
  if (is({"keygen"}) && args.size() == 1) return cmd_keygen();
  if (is({"invite", "create"})) return cmd_invite_create({args.begin() + 2, args.end()});
  if (is({"invite", "list"}) && args.size() == 2) return cmd_invite_list();
  if (is({"invite", "revoke"}) && args.size() == 3) return cmd_invite_revoke(args[2]);
  if (is({"config", "check"}) && args.size() == 2) return cmd_config_check();
  if (is({"help"}) || is({"--help"}) || is({"-h"})) {
    std::printf("%s", kUsage);
    return 0;
  }
  std::fprintf(stderr, "%s", kUsage);
  return kExitUsage;
}
