// The schema version: the one this build was made for, the check every connection of a
// handler runs, and the migrations runner of `chatalotctl migrate`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/pg.h"

namespace chatalot {

int expected_schema_version();

// An older or a newer database is kFailedPrecondition with a message saying what to do;
// kUnavailable when the server cannot be asked.
Status check_schema_version(PgConnection& conn);

// A handler's start-up look at PostgreSQL: a schema of another version is fatal
// (kFailedPrecondition); PostgreSQL away is not (logged, and the result holds no connection:
// requests answer 503 until it is back). Under transaction pooling, a role without a
// statement_timeout is logged: statements outside a transaction run with the role's.
Result<std::optional<PgConnection>> startup_probe(const PgOptions& options);

// Applies the migrations the database lacks, each in one transaction with its schema_version
// row, one runner at a time (advisory lock); returns the names applied.
Result<std::vector<std::string>> apply_migrations(PgConnection& conn);

}  // namespace chatalot
