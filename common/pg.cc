#include "pg.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <unordered_map>

#include "log.h"
#include "migrations.h"

namespace chatalot {
namespace {

// Connection-level failures: the caller answers 503 and the connection is reopened.
bool is_unavailable_state(std::string_view sqlstate) {
  return sqlstate.empty() || sqlstate.substr(0, 2) == "08" || sqlstate.substr(0, 2) == "57" ||
         sqlstate.substr(0, 2) == "53" || sqlstate == "40001" || sqlstate == "40P01";
}

std::string one_line(const char* text) {
  std::string s = text != nullptr ? text : "";
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

std::string bytea_literal(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

void PgResult::Clear::operator()(PGresult* r) const { PQclear(r); }
PgResult::PgResult(PGresult* result) : result_(result) {}
int PgResult::rows() const { return PQntuples(result_.get()); }
bool PgResult::is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
std::string PgResult::get(int row, int col) const {
  return {PQgetvalue(result_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}
bool PgResult::get_bool(int row, int col) const { return get(row, col) == "t"; }

void PgConnection::Finish::operator()(PGconn* c) const { PQfinish(c); }

Result<PgConnection> PgConnection::open(const std::string& url, int statement_timeout_ms) {
  // Keywords before the expanded URL are defaults the URL may override.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"3", "chatalot", url.c_str(), nullptr};
  PgConnection conn(PQconnectdbParams(keys, values, 1));
  if (conn.conn_ == nullptr || PQstatus(conn.conn_.get()) != CONNECTION_OK) {
    return Status(ErrorCode::kUnavailable,
                  "cannot connect to PostgreSQL: " + one_line(PQerrorMessage(conn.conn_.get())));
  }
  PQsetNoticeProcessor(
      conn.conn_.get(),
      [](void*, const char* message) { log_info("PostgreSQL: " + one_line(message)); }, nullptr);
  Result<PgResult> set =
      conn.exec("SET statement_timeout = " + std::to_string(statement_timeout_ms));
  if (!set.is_ok()) return set.status();
  return conn;
}

Status PgConnection::prepare(const std::vector<Statement>& statements) {
  for (const Statement& s : statements) {
    PgResult r(PQprepare(conn_.get(), s.name, s.sql, 0, nullptr));
    if (PQresultStatus(r.result_.get()) != PGRES_COMMAND_OK) {
      return {healthy() ? ErrorCode::kInternal : ErrorCode::kUnavailable,
              std::string("cannot prepare ") + s.name + ": " + one_line(PQerrorMessage(conn_.get()))};
    }
    prepared_.emplace_back(s.name);
  }
  return Status::ok();
}

bool PgConnection::healthy() const { return PQstatus(conn_.get()) == CONNECTION_OK; }

// An idle connection has nothing to read unless the server is saying goodbye (a notice, then
// the end of the stream, when it shuts down): read it without blocking, so a connection the
// server closed is noticed here rather than by the next request failing on it.
bool PgConnection::alive() {
  for (int i = 0; i < 4 && healthy(); ++i) {
    pollfd pfd{PQsocket(conn_.get()), POLLIN, 0};
    if (::poll(&pfd, 1, 0) <= 0) return true;
    if (PQconsumeInput(conn_.get()) == 0) return false;
  }
  return healthy();
}

Result<PgResult> PgConnection::exec(std::string_view name_or_sql,
                                    const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) values.push_back(p ? p->c_str() : nullptr);
  const std::string text(name_or_sql);
  const bool prepared = std::find(prepared_.begin(), prepared_.end(), text) != prepared_.end();
  PgResult result(prepared ? PQexecPrepared(conn_.get(), text.c_str(),
                                            static_cast<int>(values.size()), values.data(),
                                            nullptr, nullptr, 0)
                           : PQexecParams(conn_.get(), text.c_str(),
                                          static_cast<int>(values.size()), nullptr,
                                          values.data(), nullptr, nullptr, 0));
  const PGresult* raw = result.result_.get();
  const ExecStatusType status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  const char* state = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  if (sqlstate == kUniqueViolation) {
    const char* constraint = PQresultErrorField(raw, PG_DIAG_CONSTRAINT_NAME);
    return Status(ErrorCode::kAlreadyExists, constraint != nullptr ? constraint : "");
  }
  const std::string detail = text.substr(0, 40) + ": " + one_line(PQerrorMessage(conn_.get()));
  if (!healthy() || is_unavailable_state(sqlstate)) {
    return Status(ErrorCode::kUnavailable, "PostgreSQL unavailable: " + detail);
  }
  return Status(ErrorCode::kInternal, "PostgreSQL error " + sqlstate + " in " + detail);
}

Status PgConnection::exec_script(const std::string& sql) {
  PgResult result(PQexec(conn_.get(), sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.result_.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::ok();
  return {healthy() ? ErrorCode::kInternal : ErrorCode::kUnavailable,
          one_line(PQerrorMessage(conn_.get()))};
}

Transaction::Transaction(PgConnection& conn) : conn_(conn) {
  Result<PgResult> r = conn_.exec("BEGIN");
  if (!r.is_ok()) {
    begin_ = r.status();
    done_ = true;
  }
}

Transaction::~Transaction() {
  if (!done_ && conn_.healthy()) (void)conn_.exec("ROLLBACK").is_ok();
}

Status Transaction::commit() {
  done_ = true;
  Result<PgResult> r = conn_.exec("COMMIT");
  return r.is_ok() ? Status::ok() : r.status();
}

int expected_schema_version() { return migrations().back().version; }

Status check_schema_version(PgConnection& conn) {
  Result<PgResult> r = conn.exec(
      "SELECT coalesce(max(version), 0) FROM schema_version WHERE to_regclass('schema_version') "
      "IS NOT NULL");
  int found = 0;
  if (r.is_ok()) {
    found = std::stoi(r->get(0, 0));
  } else if (r.status().code() == ErrorCode::kUnavailable) {
    return r.status();
  }  // otherwise the table does not exist: version 0
  const int want = expected_schema_version();
  // kInvalidArgument: a deployment problem that no retry fixes.
  if (found < want) {
    return {ErrorCode::kInvalidArgument, "database schema is at version " + std::to_string(found) +
                                         ", this build needs " + std::to_string(want) +
                                         ": run `chatalotctl migrate`"};
  }
  if (found > want) {
    return {ErrorCode::kInvalidArgument, "database schema is at version " + std::to_string(found) +
                                         ", newer than this build (" + std::to_string(want) +
                                         "): install the matching executables"};
  }
  return Status::ok();
}

Result<std::optional<PgConnection>> startup_probe(const std::string& url) {
  Result<PgConnection> probe = PgConnection::open(url, 0);
  const Status s = probe.is_ok() ? check_schema_version(*probe) : probe.status();
  if (s.code() == ErrorCode::kInvalidArgument) return s;
  if (!s.is_ok()) {
    log_error("PostgreSQL is away at start-up; requests answer 503 until it is back: " +
              s.message());
    return std::optional<PgConnection>();
  }
  return std::optional<PgConnection>(std::move(probe).value());
}

Database::Database(std::string url, int statement_timeout_ms, std::vector<Statement> statements)
    : url_(std::move(url)),
      statement_timeout_ms_(statement_timeout_ms),
      statements_(std::move(statements)) {}

Result<PgConnection*> Database::connection() {
  thread_local std::unordered_map<const Database*, std::unique_ptr<PgConnection>> connections;
  std::unique_ptr<PgConnection>& conn = connections[this];
  if (conn != nullptr && conn->alive()) return conn.get();
  conn.reset();
  Result<PgConnection> opened = PgConnection::open(url_, statement_timeout_ms_);
  // The schema first: statements would not prepare against an older one.
  Status s = opened.is_ok() ? check_schema_version(*opened) : opened.status();
  if (s.is_ok()) s = opened->prepare(statements_);
  if (!s.is_ok()) {
    log_error(s.message());
    return Status(ErrorCode::kUnavailable, "the service is temporarily unavailable");
  }
  conn = std::make_unique<PgConnection>(std::move(opened).value());
  return conn.get();
}

}  // namespace chatalot
