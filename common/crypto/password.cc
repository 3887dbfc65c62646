#include "crypto/password.h"

#include <sodium.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "core/log.h"

namespace chatalot {
namespace {

constexpr std::string_view kArgon2idPrefix = crypto_pwhash_argon2id_STRPREFIX;
constexpr const char* kUnavailableMessage = "password hashing is temporarily unavailable";
constexpr const char* kMisconfiguredMessage = "password hashing is misconfigured";

// sodium_init() picks the fastest Argon2 core for this CPU; until it has run, libsodium uses
// the portable one. It is idempotent and thread-safe, but call_once keeps the check off the
// hot path and leaves one place to see whether it failed.
bool sodium_ready() {
  static std::once_flag once;
  static bool ready = false;
  std::call_once(once, [] {
    ready = sodium_init() >= 0;
    if (!ready) log_error("event=password_init_failed library=libsodium");
  });
  return ready;
}

}  // namespace

Result<std::string> hash_password(std::string_view password, const Argon2Params& params) {
  if (params.memory_kib < kMinArgon2MemoryKib || params.iterations < kMinArgon2Iterations) {
    // Config refuses such values, so this is a programming error, not a client's.
    log_error("event=password_hash_failed reason=cost_below_floor");
    return internal_error(kMisconfiguredMessage);
  }
  if (!sodium_ready()) return internal_error(kMisconfiguredMessage);

  char out[crypto_pwhash_STRBYTES];
  const auto memlimit = static_cast<std::size_t>(params.memory_kib) * 1024;
  errno = 0;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.iterations, memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    const int err = errno;
    // libsodium sets EINVAL/EFBIG only for arguments out of its range; anything else is the
    // allocation of memory_kib failing, which frees up when other hashes finish.
    const bool bad_argument = err == EINVAL || err == EFBIG;
    log_error(std::string("event=password_hash_failed library=libsodium errno=") +
              std::to_string(err) + " error=\"" + std::strerror(err) + "\"");
    if (bad_argument) return internal_error(kMisconfiguredMessage);
    return unavailable(kUnavailableMessage);
  }
  return std::string(out);
}

bool verify_password(std::string_view phc, std::string_view password) {
  // crypto_pwhash_str_verify would also accept argon2i and scrypt strings; only Argon2id is
  // ours. A NUL inside phc would let the C string end early and verify a mere prefix.
  if (!phc.starts_with(kArgon2idPrefix) || phc.find('\0') != std::string_view::npos) return false;
  if (!sodium_ready()) return false;
  // The cost is read from phc itself, which comes from our own database: a forged string with
  // a huge m or t would only cost time or fail to allocate, and then verification fails.
  const std::string terminated(phc);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

namespace {

Status queue_full() { return unavailable("password hashing queue full"); }

}  // namespace

Result<std::string> Argon2Hasher::hash(std::string_view password) {
  Result<std::string> hashed = queue_full();
  if (!threads_.run([&] { hashed = hash_password(password, params_); })) return queue_full();
  return hashed;
}


bool password_needs_rehash(std::string_view phc, const Argon2Params& params) {
  if (!phc.starts_with(kArgon2idPrefix) || phc.find('\0') != std::string_view::npos) return true;
  const std::string terminated(phc);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), params.iterations,
                                        static_cast<std::size_t>(params.memory_kib) * 1024) != 0;
}

Result<std::string> Argon2Hasher::dummy_hash() {
  std::call_once(dummy_once_, [this] {
    unsigned char random[32];
    randombytes_buf(random, sizeof random);
    Result<std::string> made =
        hash_password(std::string_view(reinterpret_cast<const char*>(random), sizeof random), params_);
    if (made.is_ok()) dummy_ = std::move(made).value();
  });
  if (dummy_.empty()) return unavailable("the dummy password hash could not be made");
  return dummy_;
}

Result<bool> Argon2Hasher::verify(const std::optional<std::string>& phc, std::string_view password) {
  Result<bool> verified = queue_full();
  const bool ran = threads_.run([&] {
    if (phc) {
      verified = verify_password(*phc, password);
      return;
    }
    // An unknown account costs the same work as a known one.
    Result<std::string> dummy = dummy_hash();
    if (!dummy.is_ok()) {
      verified = dummy.status();
      return;
    }
    (void)verify_password(*dummy, password);
    verified = false;
  });
  return ran ? verified : queue_full();
}

bool Argon2Hasher::needs_rehash(std::string_view phc) const {
  return password_needs_rehash(phc, params_);
}

}  // namespace chatalot
