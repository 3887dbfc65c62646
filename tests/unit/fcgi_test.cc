#include "http/fcgi.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <thread>

#include "../fcgi_client.h"

namespace chatalot {
namespace {

using testing::begin_request;
using testing::encode_params;
using testing::read_response;
using testing::record;
using testing::whole_request;
using testing::write_all;

struct Pair {
  int client = -1;
  int server = -1;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    client = fds[0];
    server = fds[1];
  }
  ~Pair() { ::close(client); }
};

const std::vector<std::pair<std::string, std::string>> kPostParams = {
    {"REQUEST_METHOD", "POST"},          {"DOCUMENT_URI", "/api/auth/register"},
    {"CONTENT_TYPE", "application/json"}, {"CONTENT_LENGTH", "11"},
    {"REQUEST_ID", "abc123"},            {"REMOTE_ADDR", "192.0.2.7"},
    {"HTTP_AUTHORIZATION", "Bearer t"},  {"QUERY_STRING", "x=1"}};

TEST(FcgiParams, DecodesShortAndLongLengths) {
  const std::string long_value(300, 'v');
  std::vector<std::pair<std::string, std::string>> out;
  ASSERT_TRUE(decode_params(encode_params({{"A", "1"}, {"LONG", long_value}, {"E", ""}}), &out));
  ASSERT_EQ(out.size(), 3U);
  EXPECT_EQ(out[1].second, long_value);
  EXPECT_EQ(out[2].second, "");
}

TEST(FcgiParams, RejectsTruncatedPairs) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string good = encode_params({{"NAME", "value"}});
  for (std::size_t cut = 1; cut < good.size(); ++cut) {
    EXPECT_FALSE(decode_params(good.substr(0, cut), &out)) << cut;
  }
  // A 4-byte length claiming 2 GiB.
  EXPECT_FALSE(decode_params(std::string("\x01\xff\xff\xff\xff" "A", 6), &out));
}

TEST(FcgiConnection, ReadsARequestAndWritesTheResponse) {
  Pair p;
  ASSERT_TRUE(write_all(p.client, whole_request(kPostParams, R"({"a":"b"} )")));
  FcgiConnection conn(p.server, 1000);
  Request r;
  ASSERT_EQ(conn.read_head(&r), FcgiConnection::Next::kRequest);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/auth/register");
  EXPECT_EQ(r.content_length, 11U);
  EXPECT_EQ(r.request_id, "abc123");
  EXPECT_EQ(r.remote_addr, "192.0.2.7");
  EXPECT_EQ(r.authorization, "Bearer t");
  EXPECT_TRUE(r.body.empty());  // not read until asked
  ASSERT_TRUE(conn.read_body(&r, kMaxBodyBytes).is_ok());
  EXPECT_EQ(r.body, R"({"a":"b"} )");
  Response resp{409, {{"Retry-After", "3"}}, "{}"};
  ASSERT_TRUE(conn.write_response(resp, false, r.request_id));
  bool ended = false;
  const std::string out = read_response(p.client, &ended);
  EXPECT_TRUE(ended);
  EXPECT_EQ(out,
            "Status: 409 Conflict\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nCache-Control: no-store\r\nX-Request-Id: abc123\r\n"
            "Retry-After: 3\r\n\r\n{}");
}

TEST(FcgiConnection, HeadSendsHeadersWithoutBody) {
  Pair p;
  FcgiConnection conn(p.server, 1000);
  ASSERT_TRUE(write_all(p.client, whole_request({{"REQUEST_METHOD", "HEAD"}})));
  Request r;
  ASSERT_EQ(conn.read_head(&r), FcgiConnection::Next::kRequest);
  ASSERT_TRUE(conn.write_response(Response{200, {}, "{\"x\":1}"}, true, ""));
  bool ended = false;
  const std::string out = read_response(p.client, &ended);
  EXPECT_TRUE(ended);
  EXPECT_NE(out.find("Content-Length: 7\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(FcgiConnection, BodyOverTheLimitIs413) {
  Pair p;
  const std::string body(kMaxBodyBytes + 1, 'x');
  std::thread writer([&] { write_all(p.client, whole_request(kPostParams, body)); });
  FcgiConnection conn(p.server, 1000);
  Request r;
  ASSERT_EQ(conn.read_head(&r), FcgiConnection::Next::kRequest);
  EXPECT_EQ(conn.read_body(&r, kMaxBodyBytes).code(), Code::kTooLarge);
  ::shutdown(p.client, SHUT_RDWR);
  writer.join();
}

TEST(FcgiConnection, OversizedParamsBreakTheConnection) {
  Pair p;
  std::string data = begin_request();
  const std::string chunk = encode_params({{"HTTP_X", std::string(60000, 'a')}});
  data += record(FCGI_PARAMS, chunk);
  data += record(FCGI_PARAMS, chunk);
  data += record(FCGI_PARAMS, "");
  std::thread writer([&] { write_all(p.client, data); });
  FcgiConnection conn(p.server, 1000);
  Request r;
  EXPECT_EQ(conn.read_head(&r), FcgiConnection::Next::kBroken);
  ::shutdown(p.client, SHUT_RDWR);
  writer.join();
}

TEST(FcgiConnection, GarbageAndStallsBreakTheConnection) {
  {
    Pair p;
    write_all(p.client, "GET / HTTP/1.1\r\n\r\n");
    FcgiConnection conn(p.server, 200);
    Request r;
    EXPECT_EQ(conn.read_head(&r), FcgiConnection::Next::kBroken);
  }
  {
    Pair p;  // BEGIN_REQUEST and half a PARAMS record, then silence
    write_all(p.client, begin_request() + record(FCGI_PARAMS, "abcdef").substr(0, 10));
    FcgiConnection conn(p.server, 200);
    Request r;
    EXPECT_EQ(conn.read_head(&r), FcgiConnection::Next::kBroken);
  }
  {
    Pair p;  // a closed connection before any request
    ::shutdown(p.client, SHUT_WR);
    FcgiConnection conn(p.server, 200);
    Request r;
    EXPECT_EQ(conn.read_head(&r), FcgiConnection::Next::kClosed);
  }
}

TEST(FcgiConnection, RefusesOtherRoles) {
  Pair p;
  const char body[8] = {0, FCGI_AUTHORIZER, 0, 0, 0, 0, 0, 0};
  write_all(p.client, record(FCGI_BEGIN_REQUEST, std::string_view(body, 8)));
  FcgiConnection conn(p.server, 200);
  Request r;
  EXPECT_EQ(conn.read_head(&r), FcgiConnection::Next::kBroken);
}

}  // namespace
}  // namespace chatalot
