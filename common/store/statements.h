// Every SQL statement the project runs, in one registry addressed by an enum, so that a
// misspelled statement does not compile and nothing runs SQL text that is not listed here.
// Each entry declares its parameters' types; PgConnection::exec() refuses parameters of other
// types. The handlers, the CLI and the migrations runner all use it (migration files
// themselves are scripts, run by PgConnection::exec_script()).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace chatalot {

// PostgreSQL type OIDs of the parameters we send (pg_type.dat).
enum class PgType : unsigned {
  kBool = 16,
  kBytea = 17,
  kInt8 = 20,
  kInt4 = 23,
  kText = 25,
  kByteaArray = 1001,
  kInt8Array = 1016,
  kUuid = 2950,
};

enum class Sql : std::size_t {
  // Sessions and transactions.
  kBegin,
  kCommit,
  kRollback,
  kSetStatementTimeout,
  kStatementTimeout,
  // The schema version and the migrations runner.
  kSchemaVersion,
  kMigrationLock,
  kCreateSchemaVersion,
  kRecordMigration,
  // Registration.
  kAccountTaken,
  kInsertUser,
  kInsertKeys,
  kConsumeInvite,
  kClaimOwner,
  kFinishRegistration,
  kPromoteAdmin,
  // Users.
  kUserRoles,
  kUserByName,
  kUserById,
  kLockUser,
  // Sessions.
  kStartSession,
  kLockRefreshToken,
  kRotateRefreshToken,
  kEndSession,
  kEndSessionByToken,
  kEndSessions,
  kLiveSessions,
  kRecover,
  kChangePassword,
  kSetRecoveryCode,
  // Keys.
  kDeleteKeys,
  kAuditKeys,
  // Admin users.
  kListUsers,
  kSearchUsers,
  kSetAdmin,
  kSuspendUser,
  kUnsuspendUser,
  // Invites.
  kUsableInvite,
  kCreateInvite,
  kListInvites,
  kRevokeInvite,
  kCount,
};

struct Statement {
  Sql id;
  const char* name;  // for prepared statements and the log
  std::string text;
  std::vector<PgType> params;
  // Planned anew for each call's values, never prepared: for a statement whose best plan
  // depends on a value (a search term), where PostgreSQL's generic plan of a prepared statement
  // would serve every value with one plan.
  bool plan_each_call = false;
};

const Statement& statement(Sql id);

}  // namespace chatalot
