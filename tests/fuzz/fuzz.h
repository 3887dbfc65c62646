// Shared by the libFuzzer harnesses of tests/fuzz: invariant checks that abort (so libFuzzer
// keeps the input), splitting an input into parts, and a fixed Ed25519 key pair for tokens.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/text.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"

namespace chatalot::fuzz {

// A broken invariant is a bug like a crash: say which, and abort, so libFuzzer writes the input.
[[noreturn]] inline void invariant_failed(const char* what, const char* file, int line,
                                          std::string_view detail = {}) {
  std::fprintf(stderr, "\n*** invariant failed at %s:%d: %s\n", file, line, what);
  if (!detail.empty()) {
    std::fprintf(stderr, "*** %s\n", escape_for_terminal(detail.substr(0, 400)).c_str());
  }
  std::abort();
}

#define FUZZ_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) ::chatalot::fuzz::invariant_failed(#cond, __FILE__, __LINE__); \
  } while (false)

#define FUZZ_CHECK_MSG(cond, detail)                                                      \
  do {                                                                                    \
    if (!(cond)) ::chatalot::fuzz::invariant_failed(#cond, __FILE__, __LINE__, (detail)); \
  } while (false)

// CHATALOT_FUZZ_TRACE=1: one line per input on what became of it (for reading a regression or
// checking that the seeds reach the paths they are for); silent otherwise.
inline void trace(std::string_view what, std::string_view detail = {}) {
  static const bool on = std::getenv("CHATALOT_FUZZ_TRACE") != nullptr;
  if (!on) return;
  std::fprintf(stderr, "trace: %.*s%s%s\n", static_cast<int>(what.size()), what.data(),
               detail.empty() ? "" : ": ", escape_for_terminal(detail.substr(0, 200)).c_str());
}

// The invariants that known, reported and not yet fixed bugs break are checked only with
// CHATALOT_FUZZ_OPEN_BUGS=1 (tests/fuzz/run sets it for regressions/<harness>/open/, and for
// everything with FUZZ_OPEN_BUGS=1), so that routine runs do not stop at the same bug again.
inline bool open_bugs() {
  static const bool on = std::getenv("CHATALOT_FUZZ_OPEN_BUGS") != nullptr;
  return on;
}

// A body parse_json_object() accepted is JSON text as a whole: RapidJSON 1.1.0 alone would take
// a NUL byte for the end of the input ("{...}\0<anything>" parsed as "{...}") and skip each of
// the BOM's bytes EF, BB, BF at the start on its own ("\xBB{...}", not UTF-8); json.cc refuses
// both (found by register_json; regressions/*/nul-*, bom-*). Returns the body.
inline std::string_view accepted_json(std::string_view body) {
  if (body.find('\0') != std::string_view::npos) {
    invariant_failed("a body with a NUL byte was accepted as JSON", __FILE__, __LINE__, body);
  }
  if (!body.empty() && static_cast<unsigned char>(body[0]) >= 0x80) {
    invariant_failed("a body starting with a non-ASCII byte was accepted as JSON", __FILE__,
                     __LINE__, body);
  }
  return body;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input cut at each `separator`, into at most max_parts parts (the last keeps the rest,
// separators included).
inline std::vector<std::string_view> split(std::string_view text, char separator,
                                           std::size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const std::size_t at = text.find(separator);
    if (at == std::string_view::npos) break;
    parts.push_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  parts.push_back(text);
  return parts;
}

// Every failure of a client-facing check carries a message for the client.
inline bool is_refusal(const Status& status, Code code) {
  return !status.is_ok() && status.code() == code && !status.message().empty();
}

// The harnesses' "now" for tokens: 2026-01-01T00:00:00Z. Fixed, so that a seed token stays
// valid and a crash reproduces.
inline constexpr std::int64_t kFuzzNow = 1767225600;

// A fixed Ed25519 key pair (the seed is 32 bytes 0x01..0x20), loaded through the same PEM path
// as the production key files. Fuzzing only: never a real key.
struct FuzzKeys {
  Ed25519Key private_key;
  Ed25519Key public_key;
  JwtVerifier verifier;  // the TokenVerifier port over the public key
};

inline Ed25519Key load_fuzz_key(EVP_PKEY* pkey, bool is_private) {
  char path[] = "/tmp/chatalot-fuzz-key.XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) invariant_failed("mkstemp for the fuzz key", __FILE__, __LINE__);
  BIO* bio = BIO_new_fd(fd, BIO_CLOSE);
  const int ok = is_private ? PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr)
                            : PEM_write_bio_PUBKEY(bio, pkey);
  BIO_free_all(bio);
  Result<Ed25519Key> key =
      is_private ? Ed25519Key::load_private_pem(path) : Ed25519Key::load_public_pem(path);
  ::unlink(path);
  if (ok != 1 || !key.is_ok()) invariant_failed("loading the fuzz key", __FILE__, __LINE__);
  return std::move(key).value();
}

inline const FuzzKeys& fuzz_keys() {
  static const FuzzKeys* keys = [] {
    unsigned char seed[32];
    for (int i = 0; i < 32; ++i) seed[i] = static_cast<unsigned char>(i + 1);
    EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, sizeof seed);
    if (pkey == nullptr) invariant_failed("the fixed Ed25519 key", __FILE__, __LINE__);
    auto* k = new FuzzKeys{load_fuzz_key(pkey, true), load_fuzz_key(pkey, false),
                           JwtVerifier(load_fuzz_key(pkey, false), kAccessTokenSeconds)};
    EVP_PKEY_free(pkey);
    return k;
  }();
  return *keys;
}

}  // namespace chatalot::fuzz
