// Password hashing: Argon2id in PHC string form ($argon2id$v=19$m=...,t=...,p=1$salt$hash).
//
// Both libargon2 and libsodium implement it; bench/argon2_bench.cc measures them side by side at
// the same cost and the faster one (libsodium: Debian's libargon2 is built without SIMD) is used
// here. libsodium supports one lane only, so parallelism is fixed at 1 (as the Chatalot server
// uses). Each hash holds memory_kib of memory, so the number running at once is capped by a
// HashGate. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <condition_variable>
#include <string>
#include <string_view>
#include <utility>

#include "config/config.h"
#include "core/ports.h"
#include "core/status.h"

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

// A counting gate: at most `limit` holders at once. acquire() waits up to `timeout` and
// returns false if no slot came free (the caller answers 503).
class HashGate {
 public:
  // A held slot, released when it goes out of scope (also on an early return or a throw);
  // empty if enter() timed out. Must not outlive its gate. Move-only.
  class [[nodiscard]] Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Slot& operator=(Slot other) noexcept {
      std::swap(gate_, other.gate_);
      return *this;
    }
    ~Slot() {
      if (gate_ != nullptr) gate_->release();
    }
    explicit operator bool() const { return gate_ != nullptr; }

   private:
    friend class HashGate;
    explicit Slot(HashGate* gate) : gate_(gate) {}
    HashGate* gate_ = nullptr;
  };

  explicit HashGate(int limit) : free_(limit) {}
  bool acquire(std::chrono::milliseconds timeout);
  void release();
  Slot enter(std::chrono::milliseconds timeout) { return Slot(acquire(timeout) ? this : nullptr); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
};

// ARGON2_MEMORY_KIB and ARGON2_ITERATIONS (the configuration checked their ranges).
inline Argon2Params argon2_params(const Config& c) {
  return {static_cast<std::uint32_t>(c.argon2_memory_kib),
          static_cast<std::uint32_t>(c.argon2_iterations)};
}

// How long a request waits for a hashing slot before it is answered 503.
inline constexpr std::chrono::milliseconds kHashQueueTimeout{5000};

// The PasswordHasher port: Argon2id at the configured cost, at most `max_concurrent` hashes at
// once per process (each holds memory_kib); a caller waits up to queue_timeout for a slot, then
// gets kUnavailable (503). Thread-safe: one instance serves every worker thread.
class Argon2Hasher final : public PasswordHasher {
 public:
  Argon2Hasher(Argon2Params params, int max_concurrent, std::chrono::milliseconds queue_timeout)
      : params_(params), gate_(max_concurrent), queue_timeout_(queue_timeout) {}
  Result<std::string> hash(std::string_view password) override;
  // Verification holds as much memory as hashing: it takes a slot of the same gate.
  Result<bool> verify(const std::optional<std::string>& phc, std::string_view password) override;
  bool needs_rehash(std::string_view phc) const override;

 private:
  // A hash of a random password at the configured cost, made once, on first need.
  Result<std::string> dummy_hash();

  Argon2Params params_;
  HashGate gate_;
  std::chrono::milliseconds queue_timeout_;
  std::once_flag dummy_once_;
  std::string dummy_;  // empty if making it failed (then verify() answers kUnavailable)
};

}  // namespace chatalot
