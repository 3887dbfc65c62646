#include "crypto/crypto.h"
#include "core/text.h"
#include "crypto/openssl_ptr.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace chatalot {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "crypto_test.XXXXXX").string();
    path_ = ::mkdtemp(templ.data()) != nullptr ? templ : "";
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }
  [[nodiscard]] bool ok() const { return !path_.empty(); }

 private:
  std::string path_;
};

unsigned mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}


// Ed25519Key only loads from PEM, so a known raw key goes through a PEM file first.
void write_raw_private_key_pem(const std::string& raw, const std::string& path) {
  const PkeyPtr key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
  ASSERT_TRUE(key);
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  std::fclose(f);
}

std::string raw_public_key_in_pem(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return "";
  const PkeyPtr key(PEM_read_PUBKEY(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  std::string raw(32, '\0');
  std::size_t size = raw.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(raw.data()),
                                          &size) != 1) {
    return "";
  }
  raw.resize(size);
  return raw;
}

TEST(Sha256, MatchesFipsVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, RawDigestIs32BytesAndHashesEmbeddedNul) {
  const std::string digest = sha256("abc");
  EXPECT_EQ(digest.size(), 32U);
  EXPECT_EQ(to_hex(digest), sha256_hex("abc"));
  EXPECT_NE(sha256_hex(std::string("a\0b", 3)), sha256_hex("a"));
}

TEST(Hex, IsLowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(to_hex(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(to_hex(""), "");
}

TEST(RandomBytes, GivesTheRequestedLengthAndDiffers) {
  Result<std::string> a = random_bytes(32);
  Result<std::string> b = random_bytes(32);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->size(), 32U);
  EXPECT_NE(*a, *b);
  Result<std::string> none = random_bytes(0);
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
}

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  // The URL-safe alphabet: '-' and '_' where standard base64 has '+' and '/'.
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
}

TEST(Base64Url, RoundTripsEveryLengthAndByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::string bytes = all.substr(all.size() - n);
    Result<std::string> back = base64url_decode(base64url_encode(bytes));
    ASSERT_TRUE(back.is_ok()) << n;
    EXPECT_EQ(*back, bytes);
  }
}

TEST(Base64Url, RejectsPaddingForeignCharactersAndBadLengths) {
  const std::vector<std::string> bad_inputs = {
      "Zg==", "Zg=",   "Zm8=",    "Z",       "Zm9vY", "Zm9+",  "Zm9/",
      "Zm 9", "Zm9\n", "Zm9\xc3", "Zm9vYg=", "A",     "Zm9vA", std::string("Zm\0v", 4)};
  for (const std::string& bad : bad_inputs) {
    Result<std::string> r = base64url_decode(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  // "Zg" is the only spelling of "f"; "Zh" decodes to the same byte with stray low bits set.
  EXPECT_FALSE(base64url_decode("Zh").is_ok());
  EXPECT_FALSE(base64url_decode("Zm9").is_ok());
  EXPECT_TRUE(base64url_decode("Zm8").is_ok());
}

// RFC 8032 section 7.1, TEST 1.
constexpr std::string_view kRfcSecret =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublic =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfcSignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
    "b46bd25bf5f0595bbe24655141438e7a100b";

TEST(Ed25519Key, SignsRfc8032TestVector1) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  write_raw_private_key_pem(from_hex(kRfcSecret), dir.file("rfc.pem"));
  Result<Ed25519Key> key = Ed25519Key::load_private_pem(dir.file("rfc.pem"));
  ASSERT_TRUE(key.is_ok()) << key.status().describe();
  EXPECT_TRUE(key->has_private());

  Result<std::string> signature = key->sign("");
  ASSERT_TRUE(signature.is_ok()) << signature.status().describe();
  EXPECT_EQ(to_hex(*signature), kRfcSignature);
  EXPECT_TRUE(key->verify("", *signature));
  EXPECT_FALSE(key->verify("x", *signature));

  ASSERT_TRUE(key->write_public_pem(dir.file("rfc.pub")).is_ok());
  EXPECT_EQ(to_hex(raw_public_key_in_pem(dir.file("rfc.pub"))), kRfcPublic);
  Result<Ed25519Key> pub = Ed25519Key::load_public_pem(dir.file("rfc.pub"));
  ASSERT_TRUE(pub.is_ok()) << pub.status().describe();
  EXPECT_TRUE(pub->verify("", from_hex(kRfcSignature)));
}

TEST(Ed25519Key, VerifyRejectsAlteredSignaturesMessagesAndSizes) {
  Result<Ed25519Key> key = Ed25519Key::generate();
  ASSERT_TRUE(key.is_ok()) << key.status().describe();
  Result<std::string> signature = key->sign("hello");
  ASSERT_TRUE(signature.is_ok());
  EXPECT_EQ(signature->size(), 64U);
  EXPECT_TRUE(key->verify("hello", *signature));
  EXPECT_FALSE(key->verify("hellO", *signature));
  std::string flipped = *signature;
  flipped[10] = static_cast<char>(flipped[10] ^ 0x01);
  EXPECT_FALSE(key->verify("hello", flipped));
  EXPECT_FALSE(key->verify("hello", signature->substr(0, 63)));
  EXPECT_FALSE(key->verify("hello", *signature + "x"));
  EXPECT_FALSE(key->verify("hello", ""));

  Result<Ed25519Key> other = Ed25519Key::generate();
  ASSERT_TRUE(other.is_ok());
  EXPECT_FALSE(other->verify("hello", *signature));
}

TEST(Ed25519Key, PemRoundTripWithModesAndNoOverwrite) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Result<Ed25519Key> key = Ed25519Key::generate();
  ASSERT_TRUE(key.is_ok());
  const std::string priv = dir.file("jwt.key");
  const std::string pub = dir.file("jwt.pub");
  ASSERT_TRUE(key->write_private_pem(priv).is_ok());
  ASSERT_TRUE(key->write_public_pem(pub).is_ok());
  EXPECT_EQ(mode_of(priv), 0600U);
  EXPECT_EQ(mode_of(pub), 0644U);
  EXPECT_EQ(read_all(priv).rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0U);
  EXPECT_EQ(read_all(pub).rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0U);

  Result<Ed25519Key> loaded = Ed25519Key::load_private_pem(priv);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().describe();
  Result<Ed25519Key> verifier = Ed25519Key::load_public_pem(pub);
  ASSERT_TRUE(verifier.is_ok()) << verifier.status().describe();
  EXPECT_FALSE(verifier->has_private());
  Result<std::string> signature = loaded->sign("message");
  ASSERT_TRUE(signature.is_ok());
  EXPECT_TRUE(key->verify("message", *signature));
  EXPECT_TRUE(verifier->verify("message", *signature));
  EXPECT_FALSE(verifier->sign("message").is_ok());
  EXPECT_FALSE(verifier->write_private_pem(dir.file("none.key")).is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir.file("none.key")));

  const std::string before = read_all(priv);
  Result<Ed25519Key> another = Ed25519Key::generate();
  ASSERT_TRUE(another.is_ok());
  const Status again = another->write_private_pem(priv);
  EXPECT_EQ(again.code(), Code::kAlreadyExists);
  EXPECT_EQ(another->write_public_pem(pub).code(), Code::kAlreadyExists);
  EXPECT_EQ(read_all(priv), before);
  EXPECT_EQ(mode_of(priv), 0600U);
}

TEST(Ed25519Key, FileModesDoNotDependOnTheUmask) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Result<Ed25519Key> key = Ed25519Key::generate();
  ASSERT_TRUE(key.is_ok());
  // Services that only verify tokens may run as other users: the public key stays readable.
  const mode_t saved = ::umask(077);
  const Status pub = key->write_public_pem(dir.file("strict.pub"));
  ::umask(0);
  const Status priv = key->write_private_pem(dir.file("loose.key"));
  ::umask(saved);
  ASSERT_TRUE(pub.is_ok() && priv.is_ok());
  EXPECT_EQ(mode_of(dir.file("strict.pub")), 0644U);
  EXPECT_EQ(mode_of(dir.file("loose.key")), 0600U);
}

TEST(Ed25519Key, RefusesToWriteThroughASymlink) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::filesystem::create_symlink(dir.file("target"), dir.file("link"));
  Result<Ed25519Key> key = Ed25519Key::generate();
  ASSERT_TRUE(key.is_ok());
  EXPECT_EQ(key->write_private_pem(dir.file("link")).code(), Code::kAlreadyExists);
  EXPECT_FALSE(std::filesystem::exists(dir.file("target")));
}

TEST(Ed25519Key, LoadFailsCleanlyOnMissingWrongOrForeignFiles) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(Ed25519Key::load_private_pem(dir.file("missing")).status().code(),
            Code::kNotFound);
  EXPECT_EQ(Ed25519Key::load_public_pem(dir.file("missing")).status().code(), Code::kNotFound);

  std::ofstream(dir.file("garbage")) << "not a key\n";
  EXPECT_FALSE(Ed25519Key::load_private_pem(dir.file("garbage")).is_ok());
  EXPECT_FALSE(Ed25519Key::load_public_pem(dir.file("garbage")).is_ok());

  Result<Ed25519Key> key = Ed25519Key::generate();
  ASSERT_TRUE(key.is_ok());
  ASSERT_TRUE(key->write_private_pem(dir.file("ed.key")).is_ok());
  ASSERT_TRUE(key->write_public_pem(dir.file("ed.pub")).is_ok());
  // Each loader wants its own kind of file.
  EXPECT_FALSE(Ed25519Key::load_public_pem(dir.file("ed.key")).is_ok());
  EXPECT_FALSE(Ed25519Key::load_private_pem(dir.file("ed.pub")).is_ok());

  // An encrypted key fails to load instead of waiting for a pass phrase on a terminal.
  FILE* enc = std::fopen(dir.file("encrypted.key").c_str(), "w");
  ASSERT_NE(enc, nullptr);
  const PkeyPtr plain(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(plain);
  char passphrase[] = "secret";
  EXPECT_EQ(PEM_write_PKCS8PrivateKey(enc, plain.get(), EVP_aes_256_cbc(), passphrase, 6, nullptr,
                                      nullptr),
            1);
  std::fclose(enc);
  EXPECT_FALSE(Ed25519Key::load_private_pem(dir.file("encrypted.key")).is_ok());

  // A valid PEM key of another type is refused, with a message for the operator.
  const PkeyPtr x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_TRUE(x25519);
  FILE* f = std::fopen(dir.file("x25519.key").c_str(), "w");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(PEM_write_PrivateKey(f, x25519.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  std::fclose(f);
  Result<Ed25519Key> wrong = Ed25519Key::load_private_pem(dir.file("x25519.key"));
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().describe().find("not an Ed25519 key"), std::string::npos);
}

}  // namespace
}  // namespace chatalot
