// chatalotctl's user and session commands (SPEC section 4): the user list, the admin flag,
// suspension, and the sessions of an account. Each change is the admin API's domain function
// (core/users.h) acting as the shell (Actor::shell(): the owner's powers, audited with no actor
// and source "cli"). Accounts are named by username, ignoring case. Each returns the exit
// status, after one line on stderr on failure; stored text is printed escaped.
#pragma once

#include <string>
#include <vector>

namespace chatalot::cli {

// user list [--search TEXT]: the newest 100 accounts, matching TEXT when given.
int cmd_user_list(const std::vector<std::string>& options);

// user set-admin NAME on|off.
int cmd_user_set_admin(const std::string& name, const std::string& on_off);

// user suspend NAME [--reason TEXT] (the reason under the admin API's rules), user unsuspend NAME.
int cmd_user_suspend(const std::string& name, const std::vector<std::string>& options);
int cmd_user_unsuspend(const std::string& name);

// session list NAME: the live sessions; session revoke-all NAME: ends them all, prints how many.
int cmd_session_list(const std::string& name);
int cmd_session_revoke_all(const std::string& name);

}  // namespace chatalot::cli
