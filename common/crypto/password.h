// Password hashing: Argon2id in PHC string form ($argon2id$v=19$m=...,t=...,p=1$salt$hash).
//
// Both libargon2 and libsodium implement it; bench/argon2_bench.cc measures them side by side at
// the same cost and the faster one (libsodium: Debian's libargon2 is built without SIMD) is used
// here. libsodium supports one lane only, so parallelism is fixed at 1 (as the Chatalot server
// uses). Each hash holds memory_kib of memory, so the number running at once is capped: they run
// on HashThreads (hash_threads.h), which also keeps them from starving cheap requests.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/ports.h"
#include "core/status.h"
#include "crypto/hash_threads.h"

namespace chatalot {

// The OWASP floor (m=19 MiB, t=2, p=1); config refuses anything lower.
inline constexpr std::uint32_t kMinArgon2MemoryKib = 19 * 1024;
inline constexpr std::uint32_t kMinArgon2Iterations = 2;

struct Argon2Params {
  std::uint32_t memory_kib = 64 * 1024;
  std::uint32_t iterations = 3;
};

// kUnavailable when memory cannot be had (logged), kInternal on other library failures.
Result<std::string> hash_password(std::string_view password, const Argon2Params& params);

// Whether password matches a PHC string made by hash_password (or any Argon2id PHC string).
bool verify_password(std::string_view phc, std::string_view password);

// Whether phc is not an Argon2id string of exactly these parameters.
bool password_needs_rehash(std::string_view phc, const Argon2Params& params);

// ARGON2_MEMORY_KIB and ARGON2_ITERATIONS (the configuration checked their ranges).
inline Argon2Params argon2_params(const Config& c) {
  return {static_cast<std::uint32_t>(c.argon2_memory_kib),
          static_cast<std::uint32_t>(c.argon2_iterations)};
}

// How long a request waits for a hashing slot before it is answered 503.
inline constexpr std::chrono::milliseconds kHashQueueTimeout{5000};

// The PasswordHasher port: Argon2id at the configured cost, at most `max_concurrent` hashes at
// once per process (each holds memory_kib), on low-priority threads of their own; a caller waits
// up to queue_timeout for one of them, then gets kUnavailable (503). Thread-safe: one instance
// serves every worker thread.
class Argon2Hasher final : public PasswordHasher {
 public:
  Argon2Hasher(Argon2Params params, int max_concurrent, std::chrono::milliseconds queue_timeout)
      : params_(params), threads_(max_concurrent, queue_timeout) {}
  Result<std::string> hash(std::string_view password) override;
  // Verification holds as much memory as hashing: it runs on the same threads.
  Result<bool> verify(const std::optional<std::string>& phc, std::string_view password) override;
  bool needs_rehash(std::string_view phc) const override;

 private:
  // A hash of a random password at the configured cost, made once, on first need.
  Result<std::string> dummy_hash();

  Argon2Params params_;
  HashThreads threads_;
  std::once_flag dummy_once_;
  std::string dummy_;  // empty if making it failed (then verify() answers kUnavailable)
};

}  // namespace chatalot
