// The captured Chatalot client request of tests/fixtures/, found relative to the source tree
// (CHATALOT_FIXTURES_DIR is set by tests/CMakeLists.txt), never outside the repository.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace chatalot::testing {

inline std::string fixture_path(const std::string& name) {
  return std::string(CHATALOT_FIXTURES_DIR) + "/" + name;
}

// The body the real client sent to POST /api/auth/register; "" if the file is missing (the
// callers assert that it is not).
inline std::string client_register_request() {
  std::ifstream in(fixture_path("chatalot-client-register-request.json"), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace chatalot::testing
