// What the subcommands of chatalotctl share: the exit statuses, the one line on failure, the
// configuration and the database link, and the short times of the tables. Not thread-safe (the
// CLI runs one command on one thread).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "store/pg.h"

namespace chatalot::cli {

// 0 on success, 1 for any other failure, 78 (kExitConfig) for a configuration error.
inline constexpr int kExitUsage = 2;

// The usage text (chatalotctl.cc, beside the dispatch).
extern const char* const kUsage;

// Writes "chatalotctl: MESSAGE" on stderr and returns code.
int fail(const std::string& message, int code = 1);

// Loads the configuration with the given needs; false after printing every problem.
bool load(unsigned needs, Config* config);

// The worker-style link the stores take: connects on first use and checks the schema version.
// 0, or the exit status after saying why.
int open_database(std::unique_ptr<PgLink>* link);

// RFC 3339 to the second (the microseconds only widen a table); `absent` when there is none.
std::string short_time(const std::optional<std::string>& rfc3339, const char* absent);

}  // namespace chatalot::cli
