#include "handler.h"

#include <gtest/gtest.h>

namespace chatalot {
namespace {

TEST(AuthConfig, BodyNamesTheMode) {
  Config c;
  c.registration_mode = RegistrationMode::kClosed;
  EXPECT_EQ(auth_config_body(c), R"({"registration_mode":"closed","e2e_enabled":true})");
  c.registration_mode = RegistrationMode::kOpen;
  c.public_url = "https://chat.example";
  EXPECT_EQ(auth_config_body(c),
            R"({"registration_mode":"open","e2e_enabled":true,"public_url":"https://chat.example"})");
}

TEST(AuthConfig, EndpointAnswersGetAndHeadOnly) {
  Config c;
  const Endpoint e = auth_config_endpoint(c);
  EXPECT_EQ(e.rules.methods, (std::vector<std::string>{"GET", "HEAD"}));
  const Response r = dispatch(*e.new_worker(), Request{});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"registration_mode":"invite_only","e2e_enabled":true})");
}

TEST(Dispatch, AnExceptionBecomesA500WithTheFixedMessage) {
  FunctionWorker worker([](const Request&) -> Response { throw std::runtime_error("x"); });
  const Response r = dispatch(worker, Request{});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":{"code":"internal_error","message":"an internal error occurred"}})");
}

}  // namespace
}  // namespace chatalot
