#include "store/pg.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>

#include "core/log.h"
#include "core/text.h"
#include "store/schema.h"

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

void append_int32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

// PostgreSQL's binary array format (array_send): dimensions, then each element's length and
// bytes. One dimension, no NULLs.
template <typename Element, typename Write>
std::string binary_array(PgType element_type, std::span<const Element> values, Write write) {
  std::string out;
  append_int32(out, values.empty() ? 0 : 1);  // dimensions
  append_int32(out, 0);                       // no NULL elements
  append_int32(out, static_cast<std::uint32_t>(element_type));
  if (!values.empty()) {
    append_int32(out, static_cast<std::uint32_t>(values.size()));
    append_int32(out, 1);  // lower bound
  }
  for (const Element& v : values) write(out, v);
  return out;
}

}  // namespace

PgParam PgParam::int8_array(std::span<const std::int64_t> values) {
  return PgParam(PgType::kInt8Array,
                 binary_array(PgType::kInt8, values,
                              [](std::string& out, std::int64_t v) {
                                append_int32(out, 8);
                                const auto u = static_cast<std::uint64_t>(v);
                                append_int32(out, static_cast<std::uint32_t>(u >> 32));
                                append_int32(out, static_cast<std::uint32_t>(u));
                              }),
                 true);
}

PgParam PgParam::bytea_array(std::span<const std::string> values) {
  return PgParam(PgType::kByteaArray,
                 binary_array(PgType::kBytea, values,
                              [](std::string& out, const std::string& v) {
                                append_int32(out, static_cast<std::uint32_t>(v.size()));
                                out += v;
                              }),
                 true);
}

void PgResult::Clear::operator()(PGresult* r) const { PQclear(r); }
PgResult::PgResult(PGresult* result) : result_(result) {}
int PgResult::rows() const { return PQntuples(result_.get()); }
bool PgResult::is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
std::string PgResult::text(int row, int col) const {
  return {PQgetvalue(result_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}
std::optional<std::string> PgResult::optional_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}
bool PgResult::boolean(int row, int col) const { return text(row, col) == "t"; }
std::optional<std::int64_t> PgResult::int64(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return parse_integer<std::int64_t>(text(row, col));
}

void PgConnection::Finish::operator()(PGconn* c) const { PQfinish(c); }

Result<PgConnection> PgConnection::connect(const std::string& url, bool prepare,
                                           std::string begin_sql) {
  // Keywords before the expanded URL are defaults the URL may override.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"3", "chatalot", url.c_str(), nullptr};
  PgConnection conn(PQconnectdbParams(keys, values, 1), prepare, std::move(begin_sql));
  if (conn.conn_ == nullptr || PQstatus(conn.conn_.get()) != CONNECTION_OK) {
    return unavailable("cannot connect to PostgreSQL: " + one_line(PQerrorMessage(conn.conn_.get())));
  }
  PQsetNoticeProcessor(
      conn.conn_.get(),
      [](void*, const char* message) { log_info("PostgreSQL: " + one_line(message)); }, nullptr);
  return conn;
}

Result<PgConnection> PgConnection::open(const PgOptions& options) {
  if (options.transaction_pooling) {
    // The timeout is ours (an integer from the configuration), not a client's text.
    return connect(options.url, false,
                   options.statement_timeout_ms > 0
                       ? "BEGIN; SET LOCAL statement_timeout = " +
                             std::to_string(options.statement_timeout_ms)
                       : "");
  }
  Result<PgConnection> conn = connect(options.url, true, "");
  if (!conn.is_ok()) return conn;
  Result<PgResult> set = conn->exec(Sql::kSetStatementTimeout,
                                    {PgParam::text(std::to_string(options.statement_timeout_ms))});
  if (!set.is_ok()) return set.status();
  return conn;
}

Result<PgConnection> PgConnection::open_once(const std::string& url) {
  return connect(url, false, "");
}

Status PgConnection::failure(const PGresult* result, const char* what) const {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  if (sqlstate == kUniqueViolation) {
    const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    return {Code::kAlreadyExists, constraint != nullptr ? constraint : ""};
  }
  const std::string detail = std::string(what) + ": " + one_line(PQerrorMessage(conn_.get()));
  if (!healthy() || is_unavailable_state(sqlstate)) {
    return unavailable("PostgreSQL unavailable: " + detail);
  }
  return internal_error("PostgreSQL error " + sqlstate + " in " + detail);
}

Result<PgResult> PgConnection::exec(Sql id, std::span<const PgParam> params) {
  const Statement& s = statement(id);
  std::vector<Oid> types;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const PgParam& p : params) {
    types.push_back(static_cast<Oid>(p.type()));
    values.push_back(p.is_null() ? nullptr : p.value().data());
    lengths.push_back(static_cast<int>(p.value().size()));
    formats.push_back(p.binary() ? 1 : 0);
  }
  if (!std::equal(s.params.begin(), s.params.end(), params.begin(), params.end(),
                  [](PgType want, const PgParam& p) { return p.type() == want; })) {
    return internal_error(std::string("statement ") + s.name + ": parameters of other types");
  }
  const int n = static_cast<int>(params.size());
  const std::size_t index = static_cast<std::size_t>(id);
  // An unnamed statement is planned for the values it is sent with.
  const bool prepare = prepare_ && !s.plan_each_call;
  if (prepare && !prepared_[index]) {
    PgResult r(PQprepare(conn_.get(), s.name, s.text.c_str(), n, types.data()));
    if (PQresultStatus(r.result_.get()) != PGRES_COMMAND_OK) return failure(r.result_.get(), s.name);
    prepared_[index] = true;
  }
  PgResult result(prepare ? PQexecPrepared(conn_.get(), s.name, n, values.data(), lengths.data(),
                                           formats.data(), 0)
                          : PQexecParams(conn_.get(), s.text.c_str(), n, types.data(),
                                         values.data(), lengths.data(), formats.data(), 0));
  const ExecStatusType status = PQresultStatus(result.result_.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  return failure(result.result_.get(), s.name);
}

Status PgConnection::exec_script(const std::string& sql) {
  PgResult result(PQexec(conn_.get(), sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.result_.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::ok();
  return failure(result.result_.get(), "script");
}

Status PgConnection::begin() {
  if (begin_sql_.empty()) return exec(Sql::kBegin).status_or_ok();
  Status s = exec_script(begin_sql_);
  // BEGIN may have run and the SET failed: end the failed transaction.
  if (!s.is_ok() && healthy()) (void)exec(Sql::kRollback).is_ok();
  return s;
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

Transaction::Transaction(PgConnection& conn) : conn_(conn) {
  begin_ = conn_.begin();
  done_ = !begin_.is_ok();
}

Transaction::~Transaction() {
  if (!done_ && conn_.healthy()) (void)conn_.exec(Sql::kRollback).is_ok();
}

Status Transaction::commit() {
  done_ = true;
  Result<PgResult> r = conn_.exec(Sql::kCommit);
  return r.is_ok() ? Status::ok() : r.status();
}

Result<PgConnection*> PgLink::connection() {
  if (conn_ && conn_->alive()) return &*conn_;
  conn_.reset();
  Result<PgConnection> opened = PgConnection::open(options_);
  Status s = opened.is_ok() ? check_schema_version(*opened) : opened.status();
  if (!s.is_ok()) return unavailable(s.describe());
  conn_.emplace(std::move(opened).value());
  return &*conn_;
}

}  // namespace chatalot
