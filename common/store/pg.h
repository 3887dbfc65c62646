// PostgreSQL over libpq: small move-only RAII holders (a result that clears itself, a connection
// that closes itself, a transaction that rolls back unless committed), typed parameters, and
// statements run only from the registry (statements.h).
//
// Errors are values: kUnavailable when the server cannot be reached or the connection broke
// (the caller answers 503 and the next use reconnects), kAlreadyExists for a unique violation
// (detail: the constraint's name), kInternal otherwise. libpq's text is only ever a detail.
// A PgConnection is used by one thread at a time; a PgLink is one worker thread's connection.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/pg_options.h"
#include "store/statements.h"

typedef struct pg_conn PGconn;      // NOLINT(modernize-use-using): libpq's own declarations
typedef struct pg_result PGresult;  // NOLINT(modernize-use-using)

namespace chatalot {

// PostgreSQL's error codes that the stores tell apart.
inline constexpr std::string_view kUniqueViolation = "23505";

// One parameter, with its type; bytea and arrays travel in binary form, the rest as text.
class PgParam {
 public:
  static PgParam null(PgType type) { return PgParam(type, {}, false, true); }
  static PgParam text(std::string_view v) { return PgParam(PgType::kText, std::string(v)); }
  static PgParam uuid(std::string_view v) { return PgParam(PgType::kUuid, std::string(v)); }
  static PgParam int4(std::int32_t v) { return PgParam(PgType::kInt4, std::to_string(v)); }
  static PgParam int8(std::int64_t v) { return PgParam(PgType::kInt8, std::to_string(v)); }
  static PgParam boolean(bool v) { return PgParam(PgType::kBool, v ? "t" : "f"); }
  static PgParam bytea(std::string_view bytes) {
    return PgParam(PgType::kBytea, std::string(bytes), true);
  }
  static PgParam int8_array(std::span<const std::int64_t> values);
  static PgParam bytea_array(std::span<const std::string> values);
  // Absent values are SQL NULL of the same type.
  static PgParam nullable_text(const std::optional<std::string>& v) {
    return v ? text(*v) : null(PgType::kText);
  }
  static PgParam nullable_uuid(const std::optional<std::string>& v) {
    return v ? uuid(*v) : null(PgType::kUuid);
  }

  PgType type() const { return type_; }
  bool is_null() const { return null_; }
  bool binary() const { return binary_; }
  const std::string& value() const { return value_; }

 private:
  PgParam(PgType type, std::string value, bool binary = false, bool null = false)
      : type_(type), value_(std::move(value)), binary_(binary), null_(null) {}
  PgType type_;
  std::string value_;
  bool binary_;
  bool null_;
};

class PgResult {
 public:
  explicit PgResult(PGresult* result);
  int rows() const;
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;  // "" for NULL
  std::optional<std::string> optional_text(int row, int col) const;
  bool boolean(int row, int col) const;
  std::optional<std::int64_t> int64(int row, int col) const;  // nullopt for NULL

 private:
  friend class PgConnection;
  struct Clear {
    void operator()(PGresult* r) const;
  };
  std::unique_ptr<PGresult, Clear> result_;
};

class PgConnection {
 public:
  // Connects (connect_timeout 3 s unless the URL sets one). Without transaction pooling, each
  // statement runs as a named prepared statement of this connection (prepared on first use, but
  // those marked plan_each_call in the registry) and statement_timeout is set for the session
  // (0: none); with it, see PgOptions.
  static Result<PgConnection> open(const PgOptions& options);
  // For a statement or script that runs once (the operator's CLI): unnamed statements, no
  // statement_timeout, no session state.
  static Result<PgConnection> open_once(const std::string& url);

  // A statement of the registry with parameters of exactly its declared types.
  Result<PgResult> exec(Sql id, std::span<const PgParam> params = {});
  Result<PgResult> exec(Sql id, std::initializer_list<PgParam> params) {
    return exec(id, std::span<const PgParam>(params.begin(), params.size()));
  }
  // SQL text that may hold several statements, without parameters: migration files only.
  Status exec_script(const std::string& sql);
  // BEGIN, with SET LOCAL statement_timeout in the same round trip under transaction pooling.
  Status begin();
  bool healthy() const;
  // healthy(), and not closed by the server meanwhile (checked without blocking).
  bool alive();

 private:
  struct Finish {
    void operator()(PGconn* c) const;
  };
  PgConnection(PGconn* conn, bool prepare, std::string begin_sql)
      : conn_(conn), prepare_(prepare), begin_sql_(std::move(begin_sql)) {}
  static Result<PgConnection> connect(const std::string& url, bool prepare, std::string begin_sql);
  Status failure(const PGresult* result, const char* what) const;
  std::unique_ptr<PGconn, Finish> conn_;
  bool prepare_;
  std::string begin_sql_;  // "" for the registry's BEGIN
  std::bitset<static_cast<std::size_t>(Sql::kCount)> prepared_;
};

// Empty text (no request id, say) as SQL NULL.
inline PgParam text_or_null(std::string_view text) {
  return text.empty() ? PgParam::null(PgType::kText) : PgParam::text(text);
}
inline PgParam uuid_or_null(std::string_view id) {
  return id.empty() ? PgParam::null(PgType::kUuid) : PgParam::uuid(id);
}

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

// One worker thread's connection: opened on first use, its schema version checked, and
// replaced when it broke. Owned by that thread (not thread-safe).
class PgLink {
 public:
  explicit PgLink(PgOptions options) : options_(std::move(options)) {}
  // kUnavailable when PostgreSQL cannot be reached or its schema does not match.
  Result<PgConnection*> connection();

 private:
  PgOptions options_;
  std::optional<PgConnection> conn_;
};

}  // namespace chatalot
