// The schema migrations of sql/, compiled into every executable so that the CLI applies exactly
// what the handlers expect. Generated at configure time from sql/NNN_name.sql.
#pragma once

#include <span>
#include <string>

namespace chatalot {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

std::span<const Migration> migrations();  // ascending versions, 1, 2, ...

}  // namespace chatalot
