// Mutation fuzzing of every parser and validator that client bytes reach, from the real client's
// request: whatever the bytes, an answer comes back (never a crash or a hang), and a refusal is
// a validation error. Deterministic seeds, so a failure reproduces.
#include <gtest/gtest.h>

#include <random>

#include "core/codes.h"
#include "http/fcgi.h"
#include "core/json.h"
#include "http/json_writer.h"
#include "core/validation.h"
#include "core/text.h"
#include "crypto/ed25519.h"
#include "../fixture.h"

namespace chatalot {
namespace {

const OpenSslKeyChecks kKeys;

std::string fixture() { return testing::client_register_request(); }

std::string mutate(std::string s, std::mt19937& rng) {
  static const std::string kTokens[] = {"\"", "{", "}", "[", "]", ",", ":", "null", "true", "-1",
                                        "1e999", "256", "1.5", "\\u0000", "\xff", "\xc3",
                                        "\"\\ud800\"", "[[[[", "0", "\"x\""};
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    const std::size_t at = rng() % s.size();
    switch (rng() % 4) {
      case 0: s[at] = static_cast<char>(rng() % 256); break;
      case 1: s.erase(at, 1 + rng() % 16); break;
      case 2: s.insert(at, kTokens[rng() % std::size(kTokens)]); break;
      default: s.resize(at); break;
    }
  }
  return s;
}

TEST(Fuzz, RegistrationBodiesNeverCrashAndFailAsValidationErrors) {
  const std::string base = fixture();
  ASSERT_FALSE(base.empty());
  std::mt19937 rng(20261130);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string body = mutate(base, rng);
    Result<rapidjson::Document> doc = parse_json_object(body);
    if (!doc.is_ok()) {
      ASSERT_EQ(doc.status().code(), Code::kInvalidArgument);
      continue;
    }
    for (RegistrationMode mode : {RegistrationMode::kOpen, RegistrationMode::kInviteOnly}) {
      Result<RegistrationInput> in = validate_registration(*doc, mode, kKeys);
      if (in.is_ok()) {
        ++accepted;
        EXPECT_LE(in->one_time_prekeys.size(), kMaxOneTimePrekeys);
      } else {
        ASSERT_EQ(in.status().code(), Code::kInvalidArgument);
        ASSERT_FALSE(in.status().message().empty());
      }
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations land in ignorable places: the run reached validation
}

TEST(Fuzz, InviteCodesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 80, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    const std::string n = normalize_invite_code(s);
    for (char c : n) ASSERT_NE(std::string("0123456789ABCDEFGHJKMNPQRSTVWXYZ").find(c), std::string::npos);
  }
}

TEST(Fuzz, FastCgiParamsNeverCrash) {
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    std::vector<std::pair<std::string, std::string>> out;
    if (decode_params(s, &out)) {
      Request r;
      fill_request(out, &r);
    }
  }
}

}  // namespace
}  // namespace chatalot
