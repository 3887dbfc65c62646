#include "http/http.h"
#include "http/render.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "http/json_writer.h"

namespace chatalot {
namespace {

TEST(Http, ErrorBodyAndStatusForEveryCode) {
  const struct {
    Code code;
    int status;
    const char* name;
  } cases[] = {
      {Code::kInvalidArgument, 400, "validation_error"},
      {Code::kUnauthenticated, 401, "unauthorized"},
      {Code::kPermissionDenied, 403, "forbidden"},
      {Code::kNotFound, 404, "not_found"},
      {Code::kUnsupportedOperation, 405, "method_not_allowed"},
      {Code::kAlreadyExists, 409, "conflict"},
      {Code::kTooLarge, 413, "payload_too_large"},
      {Code::kUnsupportedFormat, 415, "unsupported_media_type"},
      {Code::kResourceExhausted, 429, "rate_limited"},
      {Code::kUnavailable, 503, "service_unavailable"},
  };
  for (const auto& c : cases) {
    // A message with one slot filled with client text: it is escaped in the body.
    const Response r = render_error(Status(c.code, Msg::kMethodNotAllowed, "a \"quoted\""));
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.body, std::string("{\"error\":{\"code\":\"") + c.name +
                          "\",\"message\":\"method a \\\"quoted\\\" is not allowed\"}}");
  }
}

TEST(Http, InternalErrorHidesTheDetail) {
  const Response r = render_error(internal_error("PQexec: relation users missing"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"internal_error","message":"an internal error occurred"}})");
}

TEST(Http, UnavailableCarriesRetryAfter) {
  const Response r = render_error(unavailable("try later"));
  ASSERT_EQ(r.headers.size(), 1U);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
}

const EndpointRules kGet{{"GET", "HEAD"}, false};
const EndpointRules kPost{{"POST"}, true};

Request post(std::string content_type, std::optional<std::size_t> length) {
  Request r;
  r.method = "POST";
  r.content_type = std::move(content_type);
  r.content_length = length;
  return r;
}

TEST(Http, WrongMethodIs405WithAllow) {
  Request r;
  r.method = "POST";
  const Status s = check_request(r, kGet);
  EXPECT_EQ(s.code(), Code::kUnsupportedOperation);
  EXPECT_EQ(s.allow(), "GET, HEAD");
  const Response resp = render_error(s);
  EXPECT_EQ(resp.status, 405);
  ASSERT_EQ(resp.headers.size(), 1U);
  EXPECT_EQ(resp.headers[0], (std::pair<std::string, std::string>("Allow", "GET, HEAD")));
}

TEST(Http, JsonMediaTypeWithParametersIsAccepted) {
  EXPECT_TRUE(check_request(post("application/json", 10), kPost).is_ok());
  EXPECT_TRUE(check_request(post("Application/JSON; charset=utf-8", 10), kPost).is_ok());
  EXPECT_EQ(check_request(post("text/plain", 10), kPost).code(),
            Code::kUnsupportedFormat);
  EXPECT_EQ(check_request(post("", 10), kPost).code(), Code::kUnsupportedFormat);
  EXPECT_EQ(check_request(post("application/jsonp", 10), kPost).code(),
            Code::kUnsupportedFormat);
}

TEST(Http, OnlyPostBodiesNeedTheJsonMediaType) {
  const EndpointRules rules{{"GET", "POST", "DELETE"}, true};
  Request get;
  get.method = "GET";
  EXPECT_TRUE(check_request(get, rules).is_ok());
  get.method = "DELETE";
  EXPECT_TRUE(check_request(get, rules).is_ok());
  get.method = "POST";
  EXPECT_EQ(check_request(get, rules).code(), Code::kUnsupportedFormat);
}

TEST(Http, BodyLimitIsCheckedFromContentLength) {
  EXPECT_TRUE(check_request(post("application/json", kMaxBodyBytes), kPost).is_ok());
  EXPECT_EQ(check_request(post("application/json", kMaxBodyBytes + 1), kPost).code(),
            Code::kTooLarge);
  Request bad = post("application/json", std::nullopt);
  bad.content_length_invalid = true;
  EXPECT_EQ(check_request(bad, kPost).code(), Code::kInvalidArgument);
}

// A direct FastCGI peer may send any bytes as the method: the 405 names only a real token, so
// its body stays valid UTF-8 (found by fuzzing).
TEST(Http, A405NamesTheMethodOnlyWhenItIsAToken) {
  Request r;
  r.method = std::string("G\xff\x01T");
  const Response resp = render_error(check_request(r, kGet));
  EXPECT_EQ(resp.status, 405);
  EXPECT_EQ(resp.body, R"({"error":{"code":"method_not_allowed","message":"method not allowed"}})");
  r.method = "BREW";
  EXPECT_EQ(render_error(check_request(r, kGet)).body,
            R"({"error":{"code":"method_not_allowed","message":"method BREW is not allowed"}})");
}

// check_request's refusals as the client receives them, through the renderer.
TEST(CheckRequest, PostToGetEndpointIs405WithAllow) {
  const Response r = render_error(check_request(post("application/json", 2), kGet));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"method_not_allowed","message":"method POST is not allowed"}})");
}

TEST(CheckRequest, TextPlainIs415) {
  const Response r = render_error(check_request(post("text/plain", 2), kPost));
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.body, R"({"error":{"code":"unsupported_media_type","message":"Content-Type must be application/json"}})");
}

TEST(CheckRequest, BodyOverTheLimitIs413) {
  const Response r = render_error(check_request(post("application/json", 65537), kPost));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, R"({"error":{"code":"payload_too_large","message":"request body must be at most 65536 bytes"}})");
}

TEST(Json, MalformedBodiesAreValidationErrors) {
  EXPECT_TRUE(parse_json_object(R"({"a":1})").is_ok());
  EXPECT_EQ(parse_json_object("{").status().message(), "request body must be valid JSON");
  EXPECT_EQ(parse_json_object("{} {}").status().message(), "request body must be valid JSON");
  EXPECT_EQ(parse_json_object("[1]").status().message(), "request body must be a JSON object");
  EXPECT_EQ(parse_json_object("").status().message(), "request body must be valid JSON");
  EXPECT_EQ(parse_json_object("{\"a\":\"\xff\"}").status().message(),
            "request body must be valid UTF-8");
  EXPECT_EQ(parse_json_object(std::string("{\"a\":\"\0\"}", 8)).status().code(),
            Code::kInvalidArgument);
}

TEST(Json, DeepNestingDoesNotExhaustTheStack) {
  const std::string deep = "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  EXPECT_TRUE(parse_json_object(deep).is_ok());
}

}  // namespace
}  // namespace chatalot
