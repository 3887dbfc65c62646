// How the handlers talk to PostgreSQL (DATABASE_URL, DB_STATEMENT_TIMEOUT_MS, DATABASE_POOLING):
// a plain value, kept apart from libpq so that the configuration can build it.
#pragma once

#include <string>

namespace chatalot {

struct PgOptions {
  std::string url;
  int statement_timeout_ms = 0;  // 0: none
  // Behind a pooler in transaction mode (pgbouncer's pool_mode = transaction), where consecutive
  // transactions of one client run on different server connections: no state outside a
  // transaction. Statements go unnamed (parsed each time) instead of prepared once per
  // connection, and statement_timeout is set in each transaction (SET LOCAL, sent with BEGIN);
  // a statement outside a transaction has the role's (ALTER ROLE ... SET statement_timeout).
  bool transaction_pooling = false;
};

}  // namespace chatalot
