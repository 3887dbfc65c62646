// The fixed world the session_json harness starts every input in: its accounts, passwords,
// recovery code, sessions and refresh tokens. Shared with make_seeds, so that the seeds name
// what exists here and reach the success paths (a login that starts a session, a refresh that
// rotates, a recovery that matches).
#pragma once

#include <string_view>

namespace chatalot::fuzz::session_world {

inline constexpr std::string_view kRemoteAddr = "203.0.113.7";
inline constexpr std::string_view kRequestId = "fuzz-request";
inline constexpr int kGraceSeconds = 10;

// Accounts (tests/unit/fakes.h's FakeSessionStore keeps a password in FakeHasher's form): alice
// calls the account endpoints; mallory is suspended (403 on login and recovery); old.hash_user's
// hash has other parameters than the configured ones (rehashed on login).
inline constexpr std::string_view kAlice = "alice";
inline constexpr std::string_view kSuspended = "mallory";
inline constexpr std::string_view kOldHash = "old.hash_user";
inline constexpr std::string_view kPassword = "Correct-horse-9";
inline constexpr std::string_view kNewPassword = "Battery-staple-7";
inline constexpr std::string_view kRecoveryCode = "WXYZ-WXYZ-2345-2345";

// Alice's ids (FakeSessionStore numbers its accounts and sessions in the order they are made).
inline constexpr std::string_view kAliceId = "11111111-0000-4000-8000-000000000001";
inline constexpr std::string_view kAliceSessionId = "22222222-0000-4000-8000-000000000002";

// Refresh tokens: spent a minute ago (presented again, it ends its session), live (alice's
// session above), spent just now (within the grace window), and live in the suspended
// account's session.
inline constexpr std::string_view kReusedToken =
    "0f1e2d3c4b5a69780f1e2d3c4b5a69780f1e2d3c4b5a69780f1e2d3c4b5a6978";
inline constexpr std::string_view kLiveToken =
    "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592";
inline constexpr std::string_view kLateToken =
    "a3f1c0de9b8e7d6c5b4a39281706f5e4a3f1c0de9b8e7d6c5b4a39281706f5e4";
inline constexpr std::string_view kSuspendedToken =
    "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

}  // namespace chatalot::fuzz::session_world
