// render_error() is the only place a Status becomes an HTTP answer, so these tests pin what a
// client sees: the status, the headers that go with it and the JSON body. The second half makes
// each real dependency (libpq, hiredis, OpenSSL, libsodium) fail and checks that the client gets
// the contract's fixed words while the library's own text stays in the log-only detail.
#include "http/render.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages.h"
#include "core/status.h"
#include "crypto/jwt.h"
#include "crypto/password.h"
#include "http/http.h"
#include "limits/gcra.h"
#include "limits/redis.h"
#include "store/pg.h"

namespace chatalot {
namespace {

// Every code a Status can carry as an error; each must have its own row in error_kinds().
constexpr Code kErrorCodes[] = {
    Code::kInvalidArgument,   Code::kUnauthenticated,      Code::kPermissionDenied,
    Code::kNotFound,          Code::kAlreadyExists,        Code::kResourceExhausted,
    Code::kUnsupportedOperation, Code::kTooLarge,          Code::kUnsupportedFormat,
    Code::kFailedPrecondition, Code::kUnavailable,         Code::kInternal,
};

// What a 503 from a dependency failure must look like, byte for byte (SPEC section 3).
constexpr std::string_view kUnavailableBody =
    R"({"error":{"code":"service_unavailable","message":"the service is temporarily unavailable"}})";
constexpr std::string_view kInternalBody =
    R"({"error":{"code":"internal_error","message":"an internal error occurred"}})";

struct ErrorBody {
  std::string code;
  std::string message;
};

// The body parsed as the contract's shape and nothing more: a client reads exactly
// error.code and error.message, so extra or missing members are failures too.
std::optional<ErrorBody> parse_error_body(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || doc.MemberCount() != 1) return std::nullopt;
  const auto error = doc.FindMember("error");
  if (error == doc.MemberEnd() || !error->value.IsObject() || error->value.MemberCount() != 2) {
    return std::nullopt;
  }
  const auto code = error->value.FindMember("code");
  const auto message = error->value.FindMember("message");
  if (code == error->value.MemberEnd() || !code->value.IsString() ||
      message == error->value.MemberEnd() || !message->value.IsString()) {
    return std::nullopt;
  }
  return ErrorBody{{code->value.GetString(), code->value.GetStringLength()},
                   {message->value.GetString(), message->value.GetStringLength()}};
}

// Every value of the header (HTTP clients see duplicates as a list, which is wrong here).
std::vector<std::string> header_values(const Response& r, std::string_view name) {
  std::vector<std::string> values;
  for (const auto& [k, v] : r.headers) {
    if (k == name) values.push_back(v);
  }
  return values;
}

std::optional<std::string> single_header(const Response& r, std::string_view name) {
  const std::vector<std::string> values = header_values(r, name);
  if (values.size() != 1) return std::nullopt;
  return values.front();
}

// The body holds none of the library's words: neither the whole detail nor any of the
// distinctive fragments a client could use to fingerprint the stack.
void expect_no_leak(const Response& r, const Status& s,
                    std::initializer_list<std::string_view> fragments) {
  ASSERT_FALSE(s.detail().empty()) << "the failure left nothing for the log";
  EXPECT_EQ(r.body.find(s.detail()), std::string::npos) << r.body;
  for (const std::string_view f : fragments) {
    EXPECT_NE(s.detail().find(f), std::string::npos)
        << "expected \"" << f << "\" in the detail: " << s.detail();
    EXPECT_EQ(r.body.find(f), std::string::npos) << "\"" << f << "\" leaked: " << r.body;
  }
}

TEST(RenderError, EveryCodeHasItsOwnKind) {
  // A code missing from the table would fall back to kInternal and answer a silent 500.
  for (const Code code : kErrorCodes) {
    EXPECT_EQ(error_kind(code).code, code) << static_cast<int>(code);
  }
  EXPECT_EQ(error_kinds().size(), std::size(kErrorCodes));
}

TEST(RenderError, EveryKindGivesItsStatusAndName) {
  ASSERT_FALSE(error_kinds().empty());
  for (const ErrorKind& kind : error_kinds()) {
    SCOPED_TRACE(std::string(kind.name));
    const Response r = render_error(Status(kind.code, Msg::kInvalidRequest, "log only"));
    EXPECT_EQ(r.status, kind.http_status);
    const std::optional<ErrorBody> body = parse_error_body(r.body);
    ASSERT_TRUE(body) << r.body;
    EXPECT_EQ(body->code, kind.name);
    // Below 500 the client reads the Status's own message; from 500 on, the fixed words.
    if (kind.http_status < 500) {
      EXPECT_EQ(body->message, Msg::kInvalidRequest.text());
    }
    // The reason phrase on the status line must match the status, not the 500 fallback.
    if (kind.http_status != 500) {
      EXPECT_NE(reason_phrase(kind.http_status), "Internal Server Error");
    }
  }
}

TEST(RenderError, DetailOnlyStatusShowsTheGenericMessage) {
  constexpr std::string_view kDetail = "libpq: syntax error at or near \"FROM\"";
  for (const ErrorKind& kind : error_kinds()) {
    SCOPED_TRACE(std::string(kind.name));
    const Status s(kind.code, std::string(kDetail));
    const Response r = render_error(s);
    EXPECT_EQ(r.body.find("libpq"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("syntax error"), std::string::npos) << r.body;
    const std::optional<ErrorBody> body = parse_error_body(r.body);
    ASSERT_TRUE(body) << r.body;
    const std::string_view expected = kind.http_status == 500
                                          ? Msg::kInternal.text()
                                          : Status::generic_message(kind.code).text();
    EXPECT_EQ(body->message, expected);
  }
}

TEST(RenderError, DetailOnlyInvalidArgumentIsTheGenericBadRequest) {
  const Status s(Code::kInvalidArgument, "libpq: syntax error at or near");
  const Response r = render_error(s);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":{"code":"validation_error","message":"invalid request"}})");
}

TEST(RenderError, OkIsNeverRenderedAsSuccess) {
  // A handler that passes an ok Status here has a bug; the client must not see a 200 error.
  const Response r = render_error(Status::ok());
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, kInternalBody);
}

TEST(RenderError, FiveHundredAlwaysSaysTheFixedMessage) {
  // Whatever message a 500-family Status was built with, the client sees the fixed words.
  const Status cases[] = {
      Status(Code::kInternal, Msg::kUsernameTaken, "unexpected state"),
      Status(Code::kInternal, "std::bad_alloc in the handler"),
      Status(Code::kFailedPrecondition, Msg::kInviteInvalid, "schema version 3, expected 4"),
      Status(Code::kFailedPrecondition, "JWT_PRIVATE_KEY_PATH: cannot open /etc/key.pem"),
      internal_error("PQexec: relation \"users\" does not exist"),
  };
  for (const Status& s : cases) {
    SCOPED_TRACE(s.describe());
    const Response r = render_error(s, "req-1");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.body, kInternalBody);
    EXPECT_TRUE(r.headers.empty()) << r.headers.front().first;
  }
}

TEST(RenderError, MethodNotAllowedCarriesAllow) {
  const Response r = render_error(method_not_allowed("PUT", "GET, POST"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(single_header(r, "Allow"), "GET, POST");
  EXPECT_EQ(r.body,
            R"({"error":{"code":"method_not_allowed","message":"method PUT is not allowed"}})");
}

TEST(RenderError, UnauthenticatedCarriesBearerChallenge) {
  const Response r = render_error(Status(Code::kUnauthenticated, Msg::kTokenExpired));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(single_header(r, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(r.body, R"({"error":{"code":"unauthorized","message":"token expired"}})");
}

TEST(RenderError, RateLimitedCarriesItsRetryAfter) {
  const Response r =
      render_error(Status(Code::kResourceExhausted, Msg::kRateLimited).with_retry_after(17));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(single_header(r, "Retry-After"), "17");
  EXPECT_EQ(r.body,
            R"({"error":{"code":"rate_limited","message":"too many requests, try again later"}})");
  // Without an estimate a 429 still tells the client when to come back.
  const Response unestimated = render_error(Status(Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_EQ(single_header(unestimated, "Retry-After"), std::to_string(kDefaultRetryAfterSeconds));
}

TEST(RenderError, UnavailableRetriesAfterFiveSecondsByDefault) {
  EXPECT_EQ(kDefaultRetryAfterSeconds, 5);  // the contract's number, also nginx's (chatalot.conf)
  const Response r = render_error(unavailable("redis down"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(single_header(r, "Retry-After"), "5");
  EXPECT_EQ(r.body, kUnavailableBody);
  const Response estimated = render_error(unavailable("redis down").with_retry_after(30));
  EXPECT_EQ(single_header(estimated, "Retry-After"), "30");
}

TEST(RenderError, OtherAnswersCarryNoProtocolHeaders) {
  // Allow, WWW-Authenticate and Retry-After each mean something to clients and caches; a
  // stray one (a 400 that says Retry-After) would change how they behave.
  const Status cases[] = {
      invalid_argument(Msg::kUsernameLength),
      Status(Code::kPermissionDenied, Msg::kAdminRequired),
      Status(Code::kNotFound, Msg::kInviteNotFound),
      Status(Code::kAlreadyExists, Msg::kUsernameTaken),
      Status(Code::kTooLarge, Msg::kBodyTooLarge),
      Status(Code::kUnsupportedFormat, Msg::kBodyNotJson),
  };
  for (const Status& s : cases) {
    SCOPED_TRACE(s.message());
    const Response r = render_error(s);
    EXPECT_TRUE(r.headers.empty()) << r.headers.front().first;
    const std::optional<ErrorBody> body = parse_error_body(r.body);
    ASSERT_TRUE(body) << r.body;
    EXPECT_EQ(body->message, s.message());
  }
}

TEST(RenderError, EscapesQuotesInTheMessage) {
  const Response r = render_error(
      Status(Code::kUnsupportedOperation, Msg::kMethodNotAllowed, "a \"quoted\"").with_allow("GET"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"method_not_allowed","message":"method a \"quoted\" is not allowed"}})");
  const std::optional<ErrorBody> body = parse_error_body(r.body);
  ASSERT_TRUE(body) << r.body;
  EXPECT_EQ(body->message, "method a \"quoted\" is not allowed");
}

TEST(RenderError, EscapesControlCharactersAndBackslashes) {
  // The method slot is the one place request text reaches a message; it must stay one string.
  const Response r = render_error(
      Status(Code::kUnsupportedOperation, Msg::kMethodNotAllowed, "X\\\n\"}}").with_allow("GET"));
  const std::optional<ErrorBody> body = parse_error_body(r.body);
  ASSERT_TRUE(body) << r.body;
  EXPECT_EQ(body->code, "method_not_allowed");
  EXPECT_EQ(body->message, "method X\\\n\"}} is not allowed");
  EXPECT_EQ(r.body.find('\n'), std::string::npos) << "a raw newline in the body: " << r.body;
}

// Dependency failures never leak library text.

TEST(DependencyFailure, PostgresUnreachableIsTheContract503) {
  PgLink link(PgOptions{"postgresql:///none?host=/nonexistent-dir", 1000});
  const Result<PgConnection*> conn = link.connection();
  ASSERT_FALSE(conn.is_ok());
  const Status& s = conn.status();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  const Response r = render_error(s, "req-pg");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, kUnavailableBody);
  EXPECT_EQ(single_header(r, "Retry-After"), std::to_string(kDefaultRetryAfterSeconds));
  // libpq names the socket it tried; that stays in the log.
  expect_no_leak(r, s, {"PostgreSQL", "/nonexistent-dir"});
}

TEST(DependencyFailure, RedisUnreachableIsTheContract503) {
  RedisTarget target;
  target.unix_path = "/nonexistent/redis.sock";
  RedisLimiter limiter(target, 50, /*fail_open=*/false);
  const Status s = limiter.apply("chatalot:render_test", RateLimit{1.0, 1.0}, LimitMode::kTake);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  const Response r = render_error(s, "req-redis");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, kUnavailableBody);
  EXPECT_EQ(single_header(r, "Retry-After"), std::to_string(kDefaultRetryAfterSeconds));
  expect_no_leak(r, s, {"Redis", "cannot connect"});
}

TEST(DependencyFailure, MissingSigningKeyIsTheFixed500) {
  const Result<JwtSigner> signer = JwtSigner::load("/nonexistent/key.pem", kAccessTokenSeconds);
  ASSERT_FALSE(signer.is_ok());
  const Status& s = signer.status();
  const Response r = render_error(s, "req-key");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, kInternalBody);
  // errno's words and the path are for the operator, who needs them to fix the deployment.
  expect_no_leak(r, s, {"JWT_PRIVATE_KEY_PATH", "/nonexistent/key.pem", "No such file"});
}

// A file in a fresh temporary directory, removed with it.
class TempFile {
 public:
  explicit TempFile(std::string_view contents) {
    std::string pattern = ::testing::TempDir() + "render_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return;
    dir_ = pattern;
    path_ = dir_ + "/key.pem";
    std::ofstream(path_) << contents;
  }
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

TEST(DependencyFailure, NonPemSigningKeyIsTheFixed500) {
  const TempFile file("this is not a PEM key\n");
  ASSERT_FALSE(file.path().empty());
  const Result<JwtSigner> signer = JwtSigner::load(file.path(), kAccessTokenSeconds);
  ASSERT_FALSE(signer.is_ok());
  const Status& s = signer.status();
  const Response r = render_error(s, "req-pem");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, kInternalBody);
  // OpenSSL's error queue text ("error:...:PEM routines::...") stays in the detail.
  expect_no_leak(r, s, {"JWT_PRIVATE_KEY_PATH", "PEM", "routines", file.path()});
}

TEST(DependencyFailure, NonPemVerifyingKeyIsTheFixed500) {
  const TempFile file("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n");
  ASSERT_FALSE(file.path().empty());
  const Result<JwtVerifier> verifier = JwtVerifier::load(file.path(), kAccessTokenSeconds);
  ASSERT_FALSE(verifier.is_ok());
  const Status& s = verifier.status();
  const Response r = render_error(s, "req-pub");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, kInternalBody);
  expect_no_leak(r, s, {"JWT_PUBLIC_KEY_PATH", "PEM", "routines", file.path()});
}

TEST(DependencyFailure, PasswordHashingQueueFullIsTheContract503) {
  // No slot ever frees up: the caller must get the 503 it can retry, not a hang or a 500.
  Argon2Hasher hasher(Argon2Params{}, /*max_concurrent=*/0, std::chrono::milliseconds(1));
  const Result<std::string> hash = hasher.hash("Correct-Horse-1");
  ASSERT_FALSE(hash.is_ok());
  const Response r = render_error(hash.status(), "req-hash");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, kUnavailableBody);
  expect_no_leak(r, hash.status(), {"password hashing"});
}

TEST(DependencyFailure, MisconfiguredPasswordHashingIsTheFixed500) {
  Argon2Hasher hasher(Argon2Params{1024, 1}, 1, std::chrono::milliseconds(100));
  const Result<std::string> hash = hasher.hash("Correct-Horse-1");
  ASSERT_FALSE(hash.is_ok());
  const Response r = render_error(hash.status(), "req-hash");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, kInternalBody);
  expect_no_leak(r, hash.status(), {"misconfigured"});
}

}  // namespace
}  // namespace chatalot
