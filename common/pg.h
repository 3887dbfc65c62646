// PostgreSQL over libpq: small move-only RAII holders (a result that clears itself, a connection
// that closes itself, a transaction that rolls back unless committed), statements kept together
// as data and prepared when the connection opens, and PostgreSQL error codes given names.
//
// Errors are values: a Status with kUnavailable when the server cannot be reached or the
// connection broke (the caller answers 503 and the next use reconnects), kAlreadyExists for a
// unique violation (message: the constraint's name), kInternal otherwise (message: libpq's text,
// for the log only). A PgConnection is used by one thread at a time; Database gives each
// thread its own.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

typedef struct pg_conn PGconn;      // NOLINT(modernize-use-using): libpq's own declarations
typedef struct pg_result PGresult;  // NOLINT(modernize-use-using)

namespace chatalot {

inline constexpr std::string_view kUniqueViolation = "23505";
inline constexpr std::string_view kCheckViolation = "23514";

struct Statement {
  const char* name;
  const char* sql;
};

// A parameter in text form; std::nullopt is SQL NULL. Bytes go as bytea_literal().
using PgParam = std::optional<std::string>;
std::string bytea_literal(std::string_view bytes);  // "\x0a1b..."

class PgResult {
 public:
  explicit PgResult(PGresult* result);
  int rows() const;
  bool is_null(int row, int col) const;
  std::string get(int row, int col) const;  // "" for NULL
  bool get_bool(int row, int col) const;    // "t"

 private:
  friend class PgConnection;
  struct Clear {
    void operator()(PGresult* r) const;
  };
  std::unique_ptr<PGresult, Clear> result_;
};

class PgConnection {
 public:
  // Connects (connect_timeout 3 s unless the URL sets one) and sets statement_timeout.
  static Result<PgConnection> open(const std::string& url, int statement_timeout_ms);
  // Prepares the statements, so exec() can name them.
  Status prepare(const std::vector<Statement>& statements);

  // A prepared statement by name, or plain SQL text when no statement has that name.
  Result<PgResult> exec(std::string_view name_or_sql, const std::vector<PgParam>& params = {});
  // Runs SQL text that may hold several statements (migrations); no parameters.
  Status exec_script(const std::string& sql);
  bool healthy() const;
  // healthy(), and not closed by the server meanwhile (checked without blocking).
  bool alive();

 private:
  struct Finish {
    void operator()(PGconn* c) const;
  };
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  std::unique_ptr<PGconn, Finish> conn_;
  std::vector<std::string> prepared_;
};

// BEGIN on construction (check begin_status()), ROLLBACK on destruction unless commit()ed.
class Transaction {
 public:
  explicit Transaction(PgConnection& conn);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  const Status& begin_status() const { return begin_; }
  Status commit();

 private:
  PgConnection& conn_;
  Status begin_;
  bool done_ = false;
};

// The schema version this build was made for, and the check the handlers run on each new
// connection: an older or a newer database is refused (kInvalidArgument) with a message saying
// what to do; kUnavailable when the server cannot be asked.
int expected_schema_version();
Status check_schema_version(PgConnection& conn);

// A handler's start-up look at PostgreSQL: a schema of another version is fatal
// (kInvalidArgument, with its message); PostgreSQL away is not (logged, and the result holds no
// connection: requests answer 503 until it is back).
Result<std::optional<PgConnection>> startup_probe(const std::string& url);

// One connection per thread, opened on first use and reopened after it broke. Thread-safe.
class Database {
 public:
  Database(std::string url, int statement_timeout_ms, std::vector<Statement> statements);
  // This thread's connection; kUnavailable when PostgreSQL cannot be reached or the schema
  // does not match (logged once per attempt).
  Result<PgConnection*> connection();

 private:
  std::string url_;
  int statement_timeout_ms_;
  std::vector<Statement> statements_;
};

}  // namespace chatalot
