#include "cli.h"

#include <cstdio>

namespace chatalot::cli {

int fail(const std::string& message, int code) {
  std::fprintf(stderr, "chatalotctl: %s\n", message.c_str());
  return code;
}

bool load(unsigned needs, Config* config) {
  Result<Config> c = load_config(process_env(), needs);
  if (!c.is_ok()) {
    std::fprintf(stderr, "%s\n", c.status().describe().c_str());
    return false;
  }
  *config = *c;
  return true;
}

int open_database(std::unique_ptr<PgLink>* link) {
  Config config;
  if (!load(kNeedDatabase, &config)) return kExitConfig;
  // The operator waits for what they asked: no statement timeout.
  *link = std::make_unique<PgLink>(PgOptions{config.database_url, 0,
                                             config.database_transaction_pooling});
  if (Result<PgConnection*> conn = (*link)->connection(); !conn.is_ok()) {
    return fail(conn.status().describe());
  }
  return 0;
}

std::string short_time(const std::optional<std::string>& rfc3339, const char* absent) {
  if (!rfc3339) return absent;
  const std::size_t dot = rfc3339->find('.');
  return dot == std::string::npos ? *rfc3339 : rfc3339->substr(0, dot) + "Z";
}

}  // namespace chatalot::cli
