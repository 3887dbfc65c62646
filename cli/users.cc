#include "users.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "cli.h"
#include "core/text.h"
#include "core/users.h"
#include "core/validation.h"
#include "store/pg_sessions.h"

namespace chatalot::cli {
namespace {

// The admin API's largest page; one more row is read to know whether there are more.
constexpr int kUserListLimit = 100;

// Rows on stdout, the first being the header: every column but the last padded to its widest
// cell, counted in code points (cells are plain ASCII or escape_for_terminal()'s output, so
// valid UTF-8).
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const std::vector<std::string>& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], count_code_points(row[c]));
    }
  }
  for (const std::vector<std::string>& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line.append(widths[c] - count_code_points(row[c]) + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    std::printf("%s\n", line.c_str());
  }
}

std::string escaped(std::string_view text) { return escape_for_terminal(text); }

// The database and the account named on the command line: 0, or the exit status after saying
// why. A name that registration would refuse names no account (and is not sent to PostgreSQL,
// which refuses text that is not UTF-8).
int open_user(const std::string& name, std::unique_ptr<PgLink>* link, Account* user) {
  if (const int rc = open_database(link); rc != 0) return rc;
  Result<std::optional<Account>> found = std::optional<Account>();
  if (check_username(name).is_ok()) found = PgUserAdminStore(**link).find_by_username(name);
  if (!found.is_ok()) return fail(found.status().describe());
  if (!found->has_value()) return fail("user not found: " + escaped(name));
  *user = std::move(**found);
  return 0;
}

std::string role_of(const Account& user) {
  if (user.is_owner) return "owner";  // always an admin too
  return user.is_admin ? "admin" : "-";
}

}  // namespace

int cmd_user_list(const std::vector<std::string>& options) {
  UserQuery query;
  if (!options.empty()) {
    if (options[0] != "--search") {
      return fail("unknown option " + options[0] + "\n" + kUsage, kExitUsage);
    }
    if (options.size() < 2) return fail("missing value for --search", kExitUsage);
    if (options.size() > 2) return fail("unexpected argument " + options[2], kExitUsage);
    Result<std::string> search = checked_search(options[1]);
    if (!search.is_ok()) return fail("--" + search.status().message(), kExitUsage);
    query.search = std::move(search).value();
  }
  query.limit = kUserListLimit + 1;
  std::unique_ptr<PgLink> link;
  if (const int rc = open_database(&link); rc != 0) return rc;
  Result<std::vector<Account>> users = PgUserAdminStore(*link).list(query);
  if (!users.is_ok()) return fail("user list: " + users.status().describe());
  std::vector<std::vector<std::string>> rows = {
      {"ID", "USERNAME", "DISPLAY NAME", "EMAIL", "ROLE", "SUSPENDED", "CREATED", "REASON"}};
  for (const Account& u : *users) {
    if (rows.size() > static_cast<std::size_t>(kUserListLimit)) break;
    rows.push_back({u.id, escaped(u.username), escaped(u.display_name), escaped(u.email),
                    role_of(u), short_time(u.suspended_at, "-"), short_time(u.created_at, ""),
                    escaped(u.suspended_reason.value_or(""))});
  }
  print_table(rows);
  if (users->size() > static_cast<std::size_t>(kUserListLimit)) {
    std::fprintf(stderr, "only the newest %d accounts are shown; --search narrows the list\n",
                 kUserListLimit);
  }
  return 0;
}

int cmd_user_set_admin(const std::string& name, const std::string& on_off) {
  if (on_off != "on" && on_off != "off") {
    return fail("set-admin wants on or off, got " + escaped(on_off), kExitUsage);
  }
  const bool is_admin = on_off == "on";
  std::unique_ptr<PgLink> link;
  Account user;
  if (const int rc = open_user(name, &link, &user); rc != 0) return rc;
  PgUserAdminStore users(*link);
  if (Status s = set_admin(Actor::shell(), user.id, is_admin, "", users); !s.is_ok()) {
    return fail("user set-admin: " + s.describe());
  }
  std::printf("%s is %s\n", escaped(user.username).c_str(),
              is_admin ? "an admin" : "no longer an admin");
  return 0;
}

int cmd_user_suspend(const std::string& name, const std::vector<std::string>& options) {
  if (name.starts_with('-')) {
    return fail("user suspend wants the account's NAME before --reason", kExitUsage);
  }
  std::optional<std::string> reason;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const std::string& flag = options[i];
    if (flag != "--reason") return fail("unknown option " + flag + "\n" + kUsage, kExitUsage);
    if (i + 1 >= options.size()) return fail("missing value for " + flag, kExitUsage);
    reason = options[++i];
  }
  if (reason) {
    if (Status s = check_suspension_reason(*reason); !s.is_ok()) return fail(s.message(), kExitUsage);
  }
  std::unique_ptr<PgLink> link;
  Account user;
  if (const int rc = open_user(name, &link, &user); rc != 0) return rc;
  PgUserAdminStore users(*link);
  if (Status s = suspend_user(Actor::shell(), user.id, reason, "", users); !s.is_ok()) {
    return fail("user suspend: " + s.describe());
  }
  std::printf("suspended %s; every session of the account ended\n", escaped(user.username).c_str());
  return 0;
}

int cmd_user_unsuspend(const std::string& name) {
  std::unique_ptr<PgLink> link;
  Account user;
  if (const int rc = open_user(name, &link, &user); rc != 0) return rc;
  PgUserAdminStore users(*link);
  if (Status s = unsuspend_user(Actor::shell(), user.id, "", users); !s.is_ok()) {
    return fail("user unsuspend: " + s.describe());
  }
  std::printf("unsuspended %s\n", escaped(user.username).c_str());
  return 0;
}

int cmd_session_list(const std::string& name) {
  std::unique_ptr<PgLink> link;
  Account user;
  if (const int rc = open_user(name, &link, &user); rc != 0) return rc;
  Result<std::vector<SessionInfo>> sessions = PgSessionStore(*link, kSessionDays).live_sessions(user.id);
  if (!sessions.is_ok()) return fail("session list: " + sessions.status().describe());
  std::vector<std::vector<std::string>> rows = {{"ID", "DEVICE", "ADDRESS", "CREATED", "EXPIRES"}};
  for (const SessionInfo& s : *sessions) {
    rows.push_back({s.id, escaped(s.device_name.value_or("-")), escaped(s.ip_address.value_or("-")),
                    short_time(s.created_at, ""), short_time(s.expires_at, "")});
  }
  print_table(rows);
  if (sessions->size() >= static_cast<std::size_t>(kSessionListLimit)) {
    std::fprintf(stderr, "only the newest %d sessions are shown\n", kSessionListLimit);
  }
  return 0;
}

int cmd_session_revoke_all(const std::string& name) {
  std::unique_ptr<PgLink> link;
  Account user;
  if (const int rc = open_user(name, &link, &user); rc != 0) return rc;
  Result<std::int64_t> ended =
      PgSessionStore(*link, kSessionDays).end_sessions(user.id, "", "cli_revoke_all", std::nullopt, "");
  if (!ended.is_ok()) return fail("session revoke-all: " + ended.status().describe());
  std::printf("ended %lld session%s of %s\n", static_cast<long long>(*ended),
              *ended == 1 ? "" : "s", escaped(user.username).c_str());
  return 0;
}

}  // namespace chatalot::cli
