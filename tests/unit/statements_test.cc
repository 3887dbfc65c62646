// The SQL registry (store/statements.cc) is the only SQL the service runs. PgConnection::exec()
// checks the parameters a caller passes against each entry's declared list, so that list must
// match the SQL text: a $k the list lacks fails every request with a PostgreSQL error, and a
// declared parameter the text never uses is a value silently dropped. Both are checked here for
// every statement, without a database.
#include "store/statements.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>

namespace chatalot {
namespace {

constexpr std::size_t kStatementCount = static_cast<std::size_t>(Sql::kCount);

bool is_identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
}

// The numbers k of the $k placeholders in the SQL text. Text inside '...' literals, "..."
// identifiers and -- comments is skipped, as PostgreSQL does ('$1' is a string, not a
// parameter), and so is a '$' inside an identifier (PostgreSQL allows a$1 as a name).
std::multiset<std::size_t> placeholders(std::string_view sql) {
  std::multiset<std::size_t> out;
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      // A doubled quote inside is an escaped one; the scan resumes after the closing quote.
      for (++i; i < sql.size(); ++i) {
        if (sql[i] == c) {
          if (i + 1 < sql.size() && sql[i + 1] == c) {
            ++i;
          } else {
            break;
          }
        }
      }
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (c == '$' && i + 1 < sql.size() &&
               std::isdigit(static_cast<unsigned char>(sql[i + 1])) != 0 &&
               (i == 0 || !is_identifier_char(sql[i - 1]))) {
      std::size_t k = 0;
      for (++i; i < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i])) != 0; ++i) {
        k = k * 10 + static_cast<std::size_t>(sql[i] - '0');
      }
      out.insert(k);
    } else {
      ++i;
    }
  }
  return out;
}

TEST(Placeholders, ScannerSeesOnlyRealParameters) {
  // The registry check below is only as good as this scanner: it must neither miss a
  // parameter nor count one inside a literal.
  EXPECT_EQ(placeholders("SELECT $2, $1, $10 FROM t WHERE a = $1"),
            (std::multiset<std::size_t>{1, 1, 2, 10}));
  EXPECT_EQ(placeholders("SELECT '$3', 'it''s $4', \"col$5\", a$6 -- $7\n, $1"),
            (std::multiset<std::size_t>{1}));
  EXPECT_TRUE(placeholders("SELECT to_char(now(), 'YYYY\"T\"HH24')").empty());
}

TEST(Statements, EveryEnumValueHasItsEntry) {
  ASSERT_GT(kStatementCount, 0U);
  for (std::size_t i = 0; i < kStatementCount; ++i) {
    const Sql id = static_cast<Sql>(i);
    EXPECT_EQ(statement(id).id, id) << "entry " << i << " is listed out of the enum's order";
  }
}

TEST(Statements, NamesAreNonEmptyAndUnique) {
  // The name is the prepared statement's on each connection: two entries with one name would
  // run each other's SQL.
  std::set<std::string> names;
  for (std::size_t i = 0; i < kStatementCount; ++i) {
    const Statement& s = statement(static_cast<Sql>(i));
    ASSERT_NE(s.name, nullptr) << "entry " << i;
    const std::string name = s.name;
    EXPECT_FALSE(name.empty()) << "entry " << i;
    EXPECT_TRUE(names.insert(name).second) << "name " << name << " used twice";
    EXPECT_FALSE(s.text.empty()) << name;
  }
  EXPECT_EQ(names.size(), kStatementCount);
}

TEST(Statements, PlaceholdersMatchTheDeclaredParameters) {
  std::size_t declared_total = 0;
  for (std::size_t i = 0; i < kStatementCount; ++i) {
    const Statement& s = statement(static_cast<Sql>(i));
    SCOPED_TRACE(s.name);
    const std::size_t n = s.params.size();
    declared_total += n;
    const std::multiset<std::size_t> used = placeholders(s.text);
    // Each declared parameter appears at least once...
    for (std::size_t k = 1; k <= n; ++k) {
      EXPECT_GT(used.count(k), 0U) << "$" << k << " is declared but unused in: " << s.text;
    }
    // ...and nothing beyond them (nor $0, which PostgreSQL rejects).
    for (const std::size_t k : used) {
      EXPECT_TRUE(k >= 1 && k <= n)
          << "$" << k << " is used but only " << n << " parameters are declared: " << s.text;
    }
  }
  // Guard against a scanner or registry that makes the loop above check nothing.
  EXPECT_GT(declared_total, 0U);
}

// A generic plan (what PostgreSQL may switch a prepared statement to after five calls) serves
// every term with one plan: the index for a rare term walks the index for a common one too, or
// the other way round, a second instead of a millisecond at a million accounts.
TEST(Statements, TheUserSearchIsPlannedForEachTerm) {
  EXPECT_TRUE(statement(Sql::kSearchUsers).plan_each_call);
  EXPECT_FALSE(statement(Sql::kListUsers).plan_each_call);
}

}  // namespace
}  // namespace chatalot
