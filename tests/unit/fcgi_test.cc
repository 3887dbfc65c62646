#include "http/fcgi.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <thread>

#include "../fcgi_client.h"

namespace chatalot {
namespace {

using Step = FcgiConnection::Step;
using std::chrono::milliseconds;
using testing::begin_request;
using testing::encode_params;
using testing::read_response;
using testing::record;
using testing::RecordReader;
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

// What the server loop does: read() again whenever the descriptor is readable, until it gives
// something other than kPending (or timeout_ms passes: kPending).
Step read_until(FcgiConnection& conn, std::size_t max_body = kMaxBodyBytes,
                int timeout_ms = 2000) {
  const auto until = FcgiConnection::Clock::now() + milliseconds(timeout_ms);
  for (;;) {
    const Step step = conn.read(max_body);
    if (step != Step::kPending || FcgiConnection::Clock::now() >= until) return step;
    pollfd pfd{conn.fd(), POLLIN, 0};
    ::poll(&pfd, 1, 20);
  }
}

const std::vector<std::pair<std::string, std::string>> kPostParams = {
    {"REQUEST_METHOD", "POST"},          {"DOCUMENT_URI", "/api/auth/register"},
    {"CONTENT_TYPE", "application/json"}, {"CONTENT_LENGTH", "11"},
    {"REQUEST_ID", "abc123"},            {"REMOTE_ADDR", "192.0.2.7"},
    {"HTTP_AUTHORIZATION", "Bearer t"},  {"QUERY_STRING", "x=1"}};
const std::vector<std::pair<std::string, std::string>> kGet = {{"REQUEST_METHOD", "GET"},
                                                               {"DOCUMENT_URI", "/x"}};

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

// REQUEST_ID goes into a response header and the log: an operator who maps it from a client
// header must not open a way to inject CR/LF.
TEST(FcgiParams, RequestIdIsKeptOnlyWhenItIsASafeToken) {
  const auto id_of = [](const std::string& value) {
    Request r;
    fill_request({{"REQUEST_ID", value}}, &r);
    return r.request_id;
  };
  EXPECT_EQ(id_of("0123456789abcdef0123456789abcdef"), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(id_of("A-z_0.9"), "A-z_0.9");
  EXPECT_EQ(id_of(std::string(64, 'a')), std::string(64, 'a'));
  EXPECT_EQ(id_of(std::string(65, 'a')), "");
  EXPECT_EQ(id_of("abc\r\nSet-Cookie: session=x"), "");
  EXPECT_EQ(id_of("abc\n"), "");
  EXPECT_EQ(id_of("a b"), "");
  EXPECT_EQ(id_of(""), "");
}

TEST(FcgiConnection, ReadsARequestAndWritesTheResponse) {
  Pair p;
  ASSERT_TRUE(write_all(p.client, whole_request(kPostParams, R"({"a":"b"} )")));
  FcgiConnection conn(p.server, 1000);
  ASSERT_EQ(conn.read(kMaxBodyBytes), Step::kHead);
  const Request& r = conn.request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/auth/register");
  EXPECT_EQ(r.content_length, 11U);
  EXPECT_EQ(r.request_id, "abc123");
  EXPECT_EQ(r.remote_addr, "192.0.2.7");
  EXPECT_EQ(r.authorization, "Bearer t");
  EXPECT_TRUE(r.body.empty());  // not read until asked
  ASSERT_EQ(conn.read(kMaxBodyBytes), Step::kRequest);
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
  ASSERT_EQ(conn.read(kMaxBodyBytes), Step::kHead);
  ASSERT_EQ(conn.read(kMaxBodyBytes), Step::kRequest);
  ASSERT_TRUE(conn.write_response(Response{200, {}, "{\"x\":1}"}, true, ""));
  bool ended = false;
  const std::string out = read_response(p.client, &ended);
  EXPECT_TRUE(ended);
  EXPECT_NE(out.find("Content-Length: 7\r\n"), std::string::npos);
  EXPECT_EQ(out.find("X-Request-Id"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(FcgiConnection, BodyOverTheLimitIs413) {
  Pair p;
  const std::string body(kMaxBodyBytes + 1, 'x');
  std::thread writer([&] { write_all(p.client, whole_request(kPostParams, body)); });
  FcgiConnection conn(p.server, 1000);
  ASSERT_EQ(read_until(conn), Step::kHead);
  EXPECT_EQ(read_until(conn), Step::kTooLarge);
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
  EXPECT_EQ(read_until(conn), Step::kBroken);
  ::shutdown(p.client, SHUT_RDWR);
  writer.join();
}

TEST(FcgiConnection, GarbageAndStallsBreakTheConnection) {
  {
    Pair p;
    write_all(p.client, "GET / HTTP/1.1\r\n\r\n");
    FcgiConnection conn(p.server, 200);
    EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kBroken);
  }
  {
    Pair p;  // BEGIN_REQUEST and half a PARAMS record, then silence: broken at the deadline
    write_all(p.client, begin_request() + record(FCGI_PARAMS, "abcdef").substr(0, 10));
    FcgiConnection conn(p.server, 200);
    EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kPending);
    EXPECT_FALSE(conn.idle());
    EXPECT_EQ(read_until(conn), Step::kBroken);
  }
  {
    Pair p;  // a closed connection before any request
    ::shutdown(p.client, SHUT_WR);
    FcgiConnection conn(p.server, 200);
    EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kClosed);
  }
}

TEST(FcgiConnection, RefusesOtherRoles) {
  Pair p;
  const char body[8] = {0, FCGI_AUTHORIZER, 0, 0, 0, 0, 0, 0};
  write_all(p.client, record(FCGI_BEGIN_REQUEST, std::string_view(body, 8)));
  FcgiConnection conn(p.server, 200);
  EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kBroken);
  RecordReader reader(p.client);
  const auto end = reader.next(1000);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->type, FCGI_END_REQUEST);
  EXPECT_EQ(static_cast<int>(end->content.at(4)), FCGI_UNKNOWN_ROLE);
}

// The review's slow peer: a byte now and then. Reading never waits for the rest, and the
// request's one deadline, from its first byte, ends it however regularly the bytes come.
TEST(FcgiConnection, ReadingNeverWaitsAndTheDeadlineRunsFromTheFirstByte) {
  Pair p;
  FcgiConnection conn(p.server, 300);
  EXPECT_TRUE(conn.idle());
  const std::string request = whole_request(kGet);
  const auto start = FcgiConnection::Clock::now();
  Step step = Step::kPending;
  for (std::size_t i = 0; i < request.size() - 1 && step == Step::kPending; ++i) {
    write_all(p.client, request.substr(i, 1));
    const auto before = FcgiConnection::Clock::now();
    step = conn.read(kMaxBodyBytes);
    EXPECT_LT(FcgiConnection::Clock::now() - before, milliseconds(50)) << "read() waited";
    std::this_thread::sleep_for(milliseconds(20));
  }
  const auto elapsed = FcgiConnection::Clock::now() - start;
  EXPECT_EQ(step, Step::kBroken);
  EXPECT_GE(elapsed, milliseconds(290));
  EXPECT_LT(elapsed, milliseconds(600));
}

// 1 byte of content and 255 of padding per record: the request is cut off at kMaxRequestBytes,
// and the connection never holds more than a record and a read of input.
TEST(FcgiConnection, PaddedRecordsAreBoundedInBytesAndMemory) {
  Pair p;
  std::string attack = begin_request();
  while (attack.size() < 4 * 1024 * 1024) attack += record(FCGI_PARAMS, "x", 1, 255);
  std::thread writer([&] { write_all(p.client, attack); });
  FcgiConnection conn(p.server, 5000);
  std::size_t most = 0;
  Step step = Step::kPending;
  while (step == Step::kPending) {
    step = read_until(conn, kMaxBodyBytes, 20);
    most = std::max(most, conn.buffer_capacity());
  }
  EXPECT_EQ(step, Step::kBroken);
  EXPECT_LE(most, 200U * 1024) << "input memory of one connection";
  ::shutdown(p.client, SHUT_RDWR);
  ::shutdown(p.server, SHUT_RDWR);
  writer.join();
}

// Valid parameters in 1-byte records: within the byte bounds, beyond the record bound.
TEST(FcgiConnection, RecordsOfOneRequestAreBounded) {
  const std::string params = encode_params({{"HTTP_X", std::string(kMaxRequestRecords, 'a')}});
  const auto request_in_records = [&](std::size_t records) {
    std::string data = begin_request();
    for (std::size_t i = 0; i + 1 < records; ++i) data += record(FCGI_PARAMS, params.substr(i, 1));
    data += record(FCGI_PARAMS, params.substr(records - 1));
    data += record(FCGI_PARAMS, "");
    return data;
  };
  {
    Pair p;
    std::thread writer([&] { write_all(p.client, request_in_records(kMaxRequestRecords - 3)); });
    FcgiConnection conn(p.server, 2000);
    EXPECT_EQ(read_until(conn), Step::kHead);
    writer.join();
  }
  {
    Pair p;
    std::thread writer([&] { write_all(p.client, request_in_records(kMaxRequestRecords)); });
    FcgiConnection conn(p.server, 2000);
    EXPECT_EQ(read_until(conn), Step::kBroken);
    ::shutdown(p.server, SHUT_RDWR);
    writer.join();
  }
}

TEST(FcgiConnection, APipelinedRequestIsKeptForTheNextTurn) {
  Pair p;
  ASSERT_TRUE(write_all(p.client, whole_request(kGet, {}, true) + whole_request(kGet, {}, true)));
  FcgiConnection conn(p.server, 1000);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(conn.read(kMaxBodyBytes), Step::kHead) << i;
    ASSERT_EQ(conn.read(kMaxBodyBytes), Step::kRequest) << i;
    ASSERT_TRUE(conn.write_response(Response{200, {}, "{}"}, false, ""));
    conn.next_request();
    EXPECT_EQ(conn.idle(), i == 1);
  }
  EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kPending);
}

// FastCGI management records (request id 0), as the specification says.
TEST(FcgiConnection, ManagementRecordsAreAnswered) {
  Pair p;
  FcgiConnection conn(p.server, 1000, 77);
  RecordReader reader(p.client);
  write_all(p.client, record(FCGI_GET_VALUES,
                             encode_params({{"FCGI_MAX_CONNS", ""},
                                            {"FCGI_MAX_REQS", ""},
                                            {"FCGI_MPXS_CONNS", ""},
                                            {"FCGI_UNHEARD_OF", ""}}),
                             0));
  EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kPending);
  const auto values = reader.next(1000);
  ASSERT_TRUE(values);
  EXPECT_EQ(values->type, FCGI_GET_VALUES_RESULT);
  EXPECT_EQ(values->id, 0);
  std::vector<std::pair<std::string, std::string>> pairs;
  ASSERT_TRUE(decode_params(values->content, &pairs));
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"FCGI_MAX_CONNS", "77"}, {"FCGI_MAX_REQS", "77"}, {"FCGI_MPXS_CONNS", "0"}};
  EXPECT_EQ(pairs, expected);

  // An unknown management type, and a BEGIN_REQUEST with the management id: FCGI_UNKNOWN_TYPE.
  for (const std::uint8_t type : {std::uint8_t{99}, std::uint8_t{FCGI_BEGIN_REQUEST}}) {
    const char begin_body[8] = {0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0};
    write_all(p.client, record(type, std::string_view(begin_body, 8), 0));
    EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kPending);
    const auto unknown = reader.next(1000);
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->type, FCGI_UNKNOWN_TYPE);
    EXPECT_EQ(unknown->id, 0);
    ASSERT_EQ(unknown->content.size(), 8U);
    EXPECT_EQ(static_cast<std::uint8_t>(unknown->content[0]), type);
  }
  // The connection still carries a request.
  write_all(p.client, whole_request(kGet));
  EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kHead);
  EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kRequest);
}

// A refused request's body is drained, not left unread: the peer reads the answer and the end
// of the stream, not a reset.
TEST(FcgiConnection, ARefusalEndsTheOutputAndDrainsTheInput) {
  Pair p;
  ASSERT_TRUE(write_all(p.client, whole_request(kPostParams, std::string(60000, 'x'))));
  FcgiConnection conn(p.server, 1000);
  ASSERT_EQ(conn.read(kMaxBodyBytes), Step::kHead);
  ASSERT_TRUE(conn.write_response(Response{415, {}, "{}"}, false, ""));
  conn.refuse();
  bool ended = false;
  EXPECT_NE(read_response(p.client, &ended).find("Status: 415"), std::string::npos);
  char byte = 0;
  EXPECT_EQ(::read(p.client, &byte, 1), 0) << "the answer is followed by the end of the stream";
  EXPECT_EQ(conn.read(kMaxBodyBytes), Step::kPending);
  ::shutdown(p.client, SHUT_WR);
  EXPECT_EQ(read_until(conn), Step::kClosed);
}

}  // namespace
}  // namespace chatalot
