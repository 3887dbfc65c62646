#include "store/schema.h"

#include <algorithm>

#include "core/log.h"
#include "store/migrations.h"

namespace chatalot {
namespace {

// The version recorded in the database: 0 when the table does not exist yet.
Result<int> current_version(PgConnection& conn) {
  Result<PgResult> r = conn.exec(Sql::kSchemaVersion);
  if (!r.is_ok()) {
    if (r.status().code() == Code::kUnavailable) return r.status();
    return 0;  // undefined table: nothing was ever migrated
  }
  return static_cast<int>(r->int64(0, 0).value_or(0));
}

Status version_mismatch(int found, int want) {
  if (found < want) {
    return {Code::kFailedPrecondition, "database schema is at version " + std::to_string(found) +
                                           ", this build needs " + std::to_string(want) +
                                           ": run `chatalotctl migrate`"};
  }
  return {Code::kFailedPrecondition, "database schema is at version " + std::to_string(found) +
                                         ", newer than this build (" + std::to_string(want) +
                                         "): install the matching executables"};
}

}  // namespace

int expected_schema_version() { return migrations().back().version; }

Status check_schema_version(PgConnection& conn) {
  Result<int> found = current_version(conn);
  if (!found.is_ok()) return found.status();
  if (*found != expected_schema_version()) return version_mismatch(*found, expected_schema_version());
  return Status::ok();
}

Result<std::optional<PgConnection>> startup_probe(const PgOptions& options) {
  Result<PgConnection> probe = PgConnection::open(options);
  const Status s = probe.is_ok() ? check_schema_version(*probe) : probe.status();
  if (s.code() == Code::kFailedPrecondition) return s;
  if (!s.is_ok()) {
    log_error("PostgreSQL is away at start-up; requests answer 503 until it is back: " +
              s.describe());
    return std::optional<PgConnection>();
  }
  if (options.transaction_pooling) {
    Result<PgResult> timeout = probe->exec(Sql::kStatementTimeout);
    if (timeout.is_ok() && timeout->text(0, 0) == "0") {
      log_error("DATABASE_POOLING=transaction: the role has no statement_timeout, so statements "
                "outside a transaction have none; set it: ALTER ROLE <role> SET "
                "statement_timeout = '" + std::to_string(options.statement_timeout_ms) + "ms'");
    }
  }
  return std::optional<PgConnection>(std::move(probe).value());
}

Result<std::vector<std::string>> apply_migrations(PgConnection& conn) {
  std::vector<std::string> applied;
  for (;;) {
    // Each migration in its own transaction, under a lock that the transaction holds: one runner
    // at a time, also through a pooler in transaction mode (where a session's lock would stay
    // on the server connection after the runner left).
    Transaction tx(conn);
    CHATALOT_RETURN_IF_ERROR(tx.begin_status());
    for (const Sql step : {Sql::kMigrationLock, Sql::kCreateSchemaVersion}) {
      if (Result<PgResult> r = conn.exec(step); !r.is_ok()) return r.status();
    }
    Result<int> found = current_version(conn);
    if (!found.is_ok()) return found.status();
    if (*found > expected_schema_version()) {
      return version_mismatch(*found, expected_schema_version());
    }
    const auto& all = migrations();
    const auto next =
        std::find_if(all.begin(), all.end(), [&](const Migration& m) { return m.version > *found; });
    if (next == all.end()) {
      CHATALOT_RETURN_IF_ERROR(tx.commit());
      return applied;
    }
    if (Status s = conn.exec_script(next->sql); !s.is_ok()) {
      return Status(s.code(), std::string("migration ") + next->name + " failed: " + s.describe());
    }
    Result<PgResult> row =
        conn.exec(Sql::kRecordMigration, {PgParam::int4(next->version), PgParam::text(next->name)});
    if (!row.is_ok()) return row.status();
    CHATALOT_RETURN_IF_ERROR(tx.commit());
    applied.emplace_back(next->name);
  }
}

}  // namespace chatalot
