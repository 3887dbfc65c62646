#include "http.h"

#include <gtest/gtest.h>

#include "json.h"

namespace chatalot {
namespace {

TEST(Http, ErrorBodyAndStatusForEveryCode) {
  const struct {
    ErrorCode code;
    int status;
    const char* name;
  } cases[] = {
      {ErrorCode::kInvalidArgument, 400, "validation_error"},
      {ErrorCode::kUnauthorized, 401, "unauthorized"},
      {ErrorCode::kForbidden, 403, "forbidden"},
      {ErrorCode::kNotFound, 404, "not_found"},
      {ErrorCode::kMethodNotAllowed, 405, "method_not_allowed"},
      {ErrorCode::kAlreadyExists, 409, "conflict"},
      {ErrorCode::kPayloadTooLarge, 413, "payload_too_large"},
      {ErrorCode::kUnsupportedMediaType, 415, "unsupported_media_type"},
      {ErrorCode::kRateLimited, 429, "rate_limited"},
      {ErrorCode::kUnavailable, 503, "service_unavailable"},
  };
  for (const auto& c : cases) {
    const Response r = error_response(Status(c.code, "a \"quoted\" message"));
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.body, std::string("{\"error\":{\"code\":\"") + c.name +
                          "\",\"message\":\"a \\\"quoted\\\" message\"}}");
  }
}

TEST(Http, InternalErrorHidesTheDetail) {
  const Response r = error_response(Status(ErrorCode::kInternal, "PQexec: relation users missing"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"internal_error","message":"an internal error occurred"}})");
}

TEST(Http, UnavailableCarriesRetryAfter) {
  const Response r = error_response(Status(ErrorCode::kUnavailable, "try later"));
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
  std::string allow;
  const Status s = check_request(r, kGet, &allow);
  EXPECT_EQ(s.code(), ErrorCode::kMethodNotAllowed);
  EXPECT_EQ(allow, "GET, HEAD");
  const Response resp = rejection(s, allow);
  EXPECT_EQ(resp.status, 405);
  ASSERT_EQ(resp.headers.size(), 1U);
  EXPECT_EQ(resp.headers[0], (std::pair<std::string, std::string>("Allow", "GET, HEAD")));
}

TEST(Http, JsonMediaTypeWithParametersIsAccepted) {
  std::string allow;
  EXPECT_TRUE(check_request(post("application/json", 10), kPost, &allow).is_ok());
  EXPECT_TRUE(check_request(post("Application/JSON; charset=utf-8", 10), kPost, &allow).is_ok());
  EXPECT_EQ(check_request(post("text/plain", 10), kPost, &allow).code(),
            ErrorCode::kUnsupportedMediaType);
  EXPECT_EQ(check_request(post("", 10), kPost, &allow).code(), ErrorCode::kUnsupportedMediaType);
  EXPECT_EQ(check_request(post("application/jsonp", 10), kPost, &allow).code(),
            ErrorCode::kUnsupportedMediaType);
}

TEST(Http, OnlyPostBodiesNeedTheJsonMediaType) {
  const EndpointRules rules{{"GET", "POST", "DELETE"}, true};
  Request get;
  get.method = "GET";
  std::string allow;
  EXPECT_TRUE(check_request(get, rules, &allow).is_ok());
  get.method = "DELETE";
  EXPECT_TRUE(check_request(get, rules, &allow).is_ok());
  get.method = "POST";
  EXPECT_EQ(check_request(get, rules, &allow).code(), ErrorCode::kUnsupportedMediaType);
}

TEST(Http, BodyLimitIsCheckedFromContentLength) {
  std::string allow;
  EXPECT_TRUE(check_request(post("application/json", kMaxBodyBytes), kPost, &allow).is_ok());
  EXPECT_EQ(check_request(post("application/json", kMaxBodyBytes + 1), kPost, &allow).code(),
            ErrorCode::kPayloadTooLarge);
  Request bad = post("application/json", std::nullopt);
  bad.content_length_invalid = true;
  EXPECT_EQ(check_request(bad, kPost, &allow).code(), ErrorCode::kInvalidArgument);
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
            ErrorCode::kInvalidArgument);
}

TEST(Json, DeepNestingDoesNotExhaustTheStack) {
  const std::string deep = "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  EXPECT_TRUE(parse_json_object(deep).is_ok());
}

}  // namespace
}  // namespace chatalot
