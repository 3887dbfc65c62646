#include "crypto/crypto.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <vector>

#include "core/text.h"
#include "crypto/openssl_ptr.h"

namespace chatalot {
namespace {

// A PEM Ed25519 key is about 120 bytes; anything far larger is not one of our key files.
constexpr std::size_t kMaxPemFileSize = std::size_t{16} * 1024;

// Drains this thread's OpenSSL error queue into text for the log, so that a stale entry is
// never blamed on a later, unrelated call.
std::string openssl_errors() {
  std::string out;
  while (const unsigned long err = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(err, buf.data(), buf.size());
    if (!out.empty()) out += "; ";
    out += buf.data();
  }
  return out.empty() ? "no OpenSSL error reported" : out;
}

Status openssl_failure(const std::string& what) { return internal_error(what + ": " + openssl_errors()); }

Status errno_failure(const std::string& what, const std::string& path, int err) {
  const Code code = err == ENOENT   ? Code::kNotFound
                         : err == EEXIST ? Code::kAlreadyExists
                                         : Code::kInternal;
  // generic_category, unlike strerror, is safe to call from several threads.
  return {code, what + " " + path + ": " + std::generic_category().message(err)};
}

// A hash we cannot compute means the library is unusable (no provider, no memory). Returning
// an empty or partial digest would let distinct secrets collide in storage, so stop instead.
[[noreturn]] void digest_unavailable() {
  std::fprintf(stderr, "fatal: SHA-256 unavailable: %s\n", openssl_errors().c_str());
  std::abort();
}

constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Holds the text of a private key file; wiped when it goes, so no copy of the key lingers in
// freed memory.
class SecretBuffer {
 public:
  explicit SecretBuffer(std::size_t capacity) : data_(capacity) {}
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;
  ~SecretBuffer() { OPENSSL_cleanse(data_.data(), data_.size()); }
  char* data() { return data_.data(); }
  [[nodiscard]] std::size_t capacity() const { return data_.size(); }

 private:
  std::vector<char> data_;
};

// Reads a whole key file, which must be smaller than the buffer.
Result<std::size_t> read_file(const std::string& path, SecretBuffer& buffer) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_failure("cannot open", path, errno);
  std::size_t size = 0;
  while (size < buffer.capacity()) {
    const ssize_t n = ::read(fd, buffer.data() + size, buffer.capacity() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return errno_failure("cannot read", path, err);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (size == buffer.capacity()) {
    return Status(Code::kInvalidArgument, "key file " + path + " is too large");
  }
  return size;
}

// Never prompt on a terminal for a pass phrase: a service has none to give, so an encrypted
// key simply fails to load.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

Status write_new_file(const std::string& path, std::string_view data, mode_t mode) {
  // O_EXCL also refuses a symbolic link planted at path, so nothing is written through it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return errno_failure("cannot create", path, errno);
  Status status;
  // The umask may have removed bits the readers of a public key need.
  if (::fchmod(fd, mode) != 0) status = errno_failure("cannot set the mode of", path, errno);
  while (status.is_ok() && !data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = errno_failure("cannot write", path, errno);
    } else {
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // A key lost in a crash right after generation would surface much later as a login failure.
  if (status.is_ok() && ::fsync(fd) != 0) status = errno_failure("cannot sync", path, errno);
  if (::close(fd) != 0 && status.is_ok()) status = errno_failure("cannot close", path, errno);
  // A partial file would make every retry fail with kAlreadyExists.
  if (!status.is_ok()) ::unlink(path.c_str());
  return status;
}

Status write_pem(const std::string& path, mode_t mode, const char* what,
                 int (*pem_write)(BIO*, const EVP_PKEY*), const EVP_PKEY* key) {
  const BioPtr bio(BIO_new(BIO_s_mem()));  // freeing a memory BIO wipes its buffer
  if (!bio || pem_write(bio.get(), key) != 1) {
    return openssl_failure(std::string("cannot encode the ") + what);
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) {
    return openssl_failure(std::string("cannot encode the ") + what);
  }
  return write_new_file(path, std::string_view(data, static_cast<std::size_t>(size)), mode);
}

// An Ed25519 key from a PEM file: PKCS#8 (or any form OpenSSL reads) when private, else
// SubjectPublicKeyInfo.
Result<PkeyPtr> load_pem(const std::string& path, bool is_private) {
  SecretBuffer buffer(kMaxPemFileSize);
  Result<std::size_t> size = read_file(path, buffer);
  if (!size.is_ok()) return size.status();
  const BioPtr bio(BIO_new_mem_buf(buffer.data(), static_cast<int>(*size)));
  if (!bio) return openssl_failure("cannot read " + path);
  PkeyPtr key(is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)
                         : PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    return Status(Code::kInvalidArgument,
                  std::string(is_private ? "no unencrypted PEM private key" : "no PEM public key") +
                      " in " + path + ": " + openssl_errors());
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return Status(Code::kInvalidArgument, "the key in " + path + " is not an Ed25519 key");
  }
  return key;
}

int write_private(BIO* bio, const EVP_PKEY* key) {
  // PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted: the file mode is the protection.
  return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
}

int write_public(BIO* bio, const EVP_PKEY* key) { return PEM_write_bio_PUBKEY(bio, key); }

}  // namespace

Result<std::string> random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::size_t done = 0;
  while (done < n) {
    const int chunk = static_cast<int>(std::min<std::size_t>(n - done, INT_MAX));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), chunk) != 1) {
      return unavailable("random generator failed: " + openssl_errors());
    }
    done += static_cast<std::size_t>(chunk);
  }
  return out;
}

std::string sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != 32) {
    digest_unavailable();
  }
  return {reinterpret_cast<const char*>(md.data()), size};
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64UrlAlphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kBase64UrlAlphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

Result<std::string> base64url_decode(std::string_view text) {
  const Status invalid(Code::kInvalidArgument, "invalid base64url");
  // One leftover character carries 6 bits, not enough for a byte: no encoder produces it.
  if (text.size() % 4 == 1) return invalid;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = base64url_value(c);
    if (v < 0) return invalid;
    acc = ((acc << 6) | static_cast<std::uint32_t>(v)) & 0xFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Bits left over must be zero, so that each byte string has exactly one encoding (a token
  // with a different spelling of the same signature must not pass as a different token).
  if ((acc & ((1U << bits) - 1)) != 0) return invalid;
  return out;
}

void Ed25519Key::Free::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

Ed25519Key::~Ed25519Key() {
  if (!secret_.empty()) sodium_memzero(secret_.data(), secret_.size());
}

Result<Ed25519Key> Ed25519Key::from(EVP_PKEY* pkey, bool has_private) {
  Ed25519Key key(pkey, has_private);
  if (sodium_init() < 0) return Status(Code::kInternal, "libsodium could not be initialised");
  std::size_t size = crypto_sign_PUBLICKEYBYTES;
  key.public_.assign(size, '\0');
  if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(key.public_.data()), &size) != 1 ||
      size != crypto_sign_PUBLICKEYBYTES) {
    return openssl_failure("cannot read the Ed25519 public key");
  }
  if (!has_private) return key;
  std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
  size = seed.size();
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> derived{};
  key.secret_.assign(crypto_sign_SECRETKEYBYTES, '\0');
  const bool ok = EVP_PKEY_get_raw_private_key(pkey, seed.data(), &size) == 1 && size == seed.size() &&
                  crypto_sign_seed_keypair(derived.data(), reinterpret_cast<unsigned char*>(key.secret_.data()),
                                           seed.data()) == 0;
  sodium_memzero(seed.data(), seed.size());
  if (!ok) return openssl_failure("cannot read the Ed25519 private key");
  return key;
}

Result<Ed25519Key> Ed25519Key::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return openssl_failure("cannot generate an Ed25519 key");
  return from(key, true);
}

Result<Ed25519Key> Ed25519Key::load_private_pem(const std::string& path) {
  Result<PkeyPtr> key = load_pem(path, true);
  if (!key.is_ok()) return key.status();
  return from(key->release(), true);
}

Result<Ed25519Key> Ed25519Key::load_public_pem(const std::string& path) {
  Result<PkeyPtr> key = load_pem(path, false);
  if (!key.is_ok()) return key.status();
  return from(key->release(), false);
}

Status Ed25519Key::write_private_pem(const std::string& path) const {
  if (!has_private_) return {Code::kFailedPrecondition, "no private key to write"};
  return write_pem(path, 0600, "private key", write_private, key_.get());
}

Status Ed25519Key::write_public_pem(const std::string& path) const {
  return write_pem(path, 0644, "public key", write_public, key_.get());
}

Result<std::string> Ed25519Key::sign(std::string_view message) const {
  if (!has_private_) return Status(Code::kFailedPrecondition, "signing needs a private key");
  std::string signature(crypto_sign_BYTES, '\0');
  if (crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                           reinterpret_cast<const unsigned char*>(secret_.data())) != 0) {
    return Status(Code::kInternal, "Ed25519 signing failed");
  }
  return signature;
}

bool Ed25519Key::verify(std::string_view message, std::string_view signature) const {
  return signature.size() == crypto_sign_BYTES &&
         crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(),
                                     reinterpret_cast<const unsigned char*>(public_.data())) == 0;
}

}  // namespace chatalot
