#include "store/schema.h"

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

Result<std::optional<PgConnection>> startup_probe(const std::string& url) {
  Result<PgConnection> probe = PgConnection::open(url, 0);
  const Status s = probe.is_ok() ? check_schema_version(*probe) : probe.status();
  if (s.code() == Code::kFailedPrecondition) return s;
  if (!s.is_ok()) {
    log_error("PostgreSQL is away at start-up; requests answer 503 until it is back: " +
              s.describe());
    return std::optional<PgConnection>();
  }
  return std::optional<PgConnection>(std::move(probe).value());
}

Result<std::vector<std::string>> apply_migrations(PgConnection& conn) {
  for (const Sql step : {Sql::kMigrationLock, Sql::kCreateSchemaVersion}) {
    if (Result<PgResult> r = conn.exec(step); !r.is_ok()) return r.status();
  }
  Result<int> found = current_version(conn);
  if (!found.is_ok()) return found.status();
  if (*found > expected_schema_version()) return version_mismatch(*found, expected_schema_version());
  std::vector<std::string> applied;
  for (const Migration& m : migrations()) {
    if (m.version <= *found) continue;
    Transaction tx(conn);
    CHATALOT_RETURN_IF_ERROR(tx.begin_status());
    if (Status s = conn.exec_script(m.sql); !s.is_ok()) {
      return Status(s.code(), std::string("migration ") + m.name + " failed: " + s.describe());
    }
    Result<PgResult> row =
        conn.exec(Sql::kRecordMigration, {PgParam::int4(m.version), PgParam::text(m.name)});
    if (!row.is_ok()) return row.status();
    CHATALOT_RETURN_IF_ERROR(tx.commit());
    applied.emplace_back(m.name);
  }
  return applied;
}

}  // namespace chatalot
