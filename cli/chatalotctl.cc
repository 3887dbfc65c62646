// chatalotctl: the operator's command line on the server (SPEC section 4). Exit status 0 on
// success; otherwise one line on stderr and 1 (usage: 2, configuration: 78). The user and
// session commands are in users.cc.
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "config/config.h"
#include "core/invites.h"
#include "core/text.h"
#include "crypto/crypto.h"
#include "store/pg.h"
#include "store/pg_stores.h"
#include "store/schema.h"
#include "users.h"

namespace chatalot::cli {

const char* const kUsage =
    "usage: chatalotctl COMMAND\n"
    "  migrate                      apply the schema migrations (DATABASE_URL)\n"
    "  keygen                       create the Ed25519 key pair for access tokens at\n"
    "                               JWT_PRIVATE_KEY_PATH (mode 0600) and JWT_PUBLIC_KEY_PATH\n"
    "  invite create [--max-uses N] [--expires-in-hours H] [--note TEXT]\n"
    "                               create an invite; prints the code alone on stdout\n"
    "  invite list                  list the newest invites (never their codes), newest first\n"
    "  invite revoke ID             revoke an invite; accounts created with it stay\n"
    "  user list [--search TEXT]    list the newest accounts (100 at most); TEXT matches the\n"
    "                               username, display name or e-mail, ignoring case\n"
    "  user set-admin NAME on|off   promote or demote an admin (the owner always stays one)\n"
    "  user suspend NAME [--reason TEXT]\n"
    "                               suspend an account (never the owner) and end its sessions\n"
    "  user unsuspend NAME          lift a suspension\n"
    "  session list NAME            list the live sessions of an account, newest first\n"
    "  session revoke-all NAME      end every session of an account; prints how many\n"
    "  config check                 validate the environment, print it with secrets redacted\n";

namespace {

constexpr unsigned kAllNeeds = kNeedDatabase | kNeedRedis | kNeedJwtSign | kNeedJwtVerify;

// No statement timeout for the operator; statements unprepared (each runs once).
Result<PgConnection> connect(const Config& config) {
  return PgConnection::open_once(config.database_url);
}

int cmd_migrate() {
  Config config;
  if (!load(kNeedDatabase, &config)) return kExitConfig;
  Result<PgConnection> conn = connect(config);
  if (!conn.is_ok()) return fail(conn.status().describe());
  Result<std::vector<std::string>> applied = apply_migrations(*conn);
  if (!applied.is_ok()) return fail("migrate: " + applied.status().describe());
  for (const std::string& name : *applied) std::fprintf(stderr, "applied %s\n", name.c_str());
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
  if (!key.is_ok()) return fail(key.status().describe());
  if (Status s = key->write_private_pem(config.jwt_private_key_path); !s.is_ok()) {
    return fail(s.describe());
  }
  if (Status s = key->write_public_pem(config.jwt_public_key_path); !s.is_ok()) {
    return fail(s.describe());
  }
  std::printf("wrote %s and %s\n", config.jwt_private_key_path.c_str(),
              config.jwt_public_key_path.c_str());
  return 0;
}

int cmd_invite_create(const std::vector<std::string>& args) {
  InviteSpec spec;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (i + 1 >= args.size()) return fail("missing value for " + flag, kExitUsage);
    const std::string& value = args[++i];
    if (flag == "--max-uses" || flag == "--expires-in-hours") {
      const std::optional<std::int64_t> n = parse_integer<std::int64_t>(value);
      if (!n) return fail(flag + " wants an integer, got " + value, kExitUsage);
      (flag == "--max-uses" ? spec.max_uses : spec.expires_in_hours) = *n;
    } else if (flag == "--note") {
      spec.note = value;
    } else {
      return fail("unknown option " + flag + "\n" + kUsage, kExitUsage);
    }
  }
  if (Status s = check_invite_spec(spec); !s.is_ok()) return fail(s.message(), kExitUsage);
  std::unique_ptr<PgLink> link;
  if (const int rc = open_database(&link); rc != 0) return rc;
  PgInviteStore invites(*link);
  OpenSslRandom random;
  Result<CreatedInvite> created = create_invite(spec, std::nullopt, "", invites, random);
  if (!created.is_ok()) return fail("invite create: " + created.status().describe());
  const Invite& invite = created->invite;
  std::printf("%s\n", created->code.c_str());
  std::fprintf(stderr, "invite %s created; max uses %s, expires %s\n", invite.id.c_str(),
               invite.max_uses ? std::to_string(*invite.max_uses).c_str() : "unlimited",
               invite.expires_at.value_or("never").c_str());
  return 0;
}

int cmd_invite_list() {
  // The same bound as the admin API; one more row is read to know whether there are more.
  constexpr int kLimit = 1000;
  std::unique_ptr<PgLink> link;
  if (const int rc = open_database(&link); rc != 0) return rc;
  Result<std::vector<Invite>> invites = PgInviteStore(*link).list(kLimit + 1, true);
  if (!invites.is_ok()) return fail("invite list: " + invites.status().describe());
  std::printf("%-36s  %-4s  %-16s  %-20s  %-20s  %-20s  %s\n", "ID", "HINT", "USES", "EXPIRES",
              "CREATED", "REVOKED", "NOTE");
  int shown = 0;
  for (const Invite& i : *invites) {
    if (shown++ == kLimit) break;
    const std::string uses = std::to_string(i.used_count) + "/" +
                             (i.max_uses ? std::to_string(*i.max_uses) : "unlimited");
    std::printf("%-36s  %-4s  %-16s  %-20s  %-20s  %-20s  %s\n", i.id.c_str(), i.code_hint.c_str(),
                uses.c_str(), short_time(i.expires_at, "never").c_str(),
                short_time(i.created_at, "").c_str(), short_time(i.revoked_at, "-").c_str(),
                escape_for_terminal(i.note.value_or("")).c_str());
  }
  if (invites->size() > static_cast<std::size_t>(kLimit)) {
    std::fprintf(stderr, "only the newest %d invites are shown\n", kLimit);
  }
  return 0;
}

int cmd_invite_revoke(const std::string& id) {
  std::unique_ptr<PgLink> link;
  if (const int rc = open_database(&link); rc != 0) return rc;
  PgInviteStore invites(*link);
  Result<Invite> revoked = revoke_invite(id, std::nullopt, "", invites);
  if (!revoked.is_ok() && revoked.status().code() == Code::kNotFound) {
    return fail("invite not found: " + id);
  }
  if (!revoked.is_ok()) return fail("invite revoke: " + revoked.status().describe());
  std::printf("revoked %s\n", revoked->id.c_str());
  return 0;
}

int cmd_config_check() {
  Result<Config> c = load_config(process_env(), kAllNeeds);
  if (!c.is_ok()) {
    std::fprintf(stderr, "%s\n", c.status().describe().c_str());
    return kExitConfig;
  }
  std::printf("%s", describe_config(*c).c_str());
  return 0;
}

}  // namespace
}  // namespace chatalot::cli

int main(int argc, char** argv) {
  using namespace chatalot::cli;  // NOLINT(google-build-using-namespace)
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
  if (is({"user", "list"})) return cmd_user_list({args.begin() + 2, args.end()});
  if (is({"user", "set-admin"}) && args.size() == 4) return cmd_user_set_admin(args[2], args[3]);
  if (is({"user", "suspend"}) && args.size() >= 3) {
    return cmd_user_suspend(args[2], {args.begin() + 3, args.end()});
  }
  if (is({"user", "unsuspend"}) && args.size() == 3) return cmd_user_unsuspend(args[2]);
  if (is({"session", "list"}) && args.size() == 3) return cmd_session_list(args[2]);
  if (is({"session", "revoke-all"}) && args.size() == 3) return cmd_session_revoke_all(args[2]);
  if (is({"config", "check"}) && args.size() == 2) return cmd_config_check();
  if (is({"help"}) || is({"--help"}) || is({"-h"})) {
    std::printf("%s", kUsage);
    return 0;
  }
  std::fprintf(stderr, "%s", kUsage);
  return kExitUsage;
}
