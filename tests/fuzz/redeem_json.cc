// POST /api/auth/invites/redeem (and the invite of a registration): the body parsed as the
// invite check does, its invite_code field, normalize_invite_code(); and the client address the
// budgets are kept under. Input: the REMOTE_ADDR, a newline, the body.
//
// Invariants: a normalised code holds Crockford base32 characters only, at most what the input
// had, and normalising it again changes nothing; what it drops are blanks and dashes; the budget
// keys are short and the network key is a prefix grouping of the address key.
#include <string>

#include "core/codes.h"
#include "core/json.h"
#include "core/limits.h"
#include "fuzz.h"

namespace chatalot {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

bool ignorable(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '-'; }

void check_normalised(std::string_view input) {
  const std::string code = normalize_invite_code(input);
  fuzz::trace("code", code.empty() ? "refused" : code);
  for (const char c : code) FUZZ_CHECK_MSG(kCrockford.find(c) != std::string_view::npos, code);
  FUZZ_CHECK(code.size() <= input.size() && code.size() <= 256);
  FUZZ_CHECK_MSG(normalize_invite_code(code) == code, code);
  if (code.empty()) return;
  // Accepted: every input byte is ignorable or one code character, in order.
  std::size_t at = 0;
  for (const char c : input) {
    if (ignorable(c)) continue;
    FUZZ_CHECK(at < code.size());
    const std::string one = normalize_invite_code(std::string_view(&c, 1));
    FUZZ_CHECK(one.size() == 1 && one[0] == code[at]);
    ++at;
  }
  FUZZ_CHECK(at == code.size());
  // Letter case, blanks and dashes never change which invite a code names.
  std::string lower = code;
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (code.size() <= 120) {
    FUZZ_CHECK(normalize_invite_code(" " + lower.substr(0, lower.size() / 2) + "-" +
                                     lower.substr(lower.size() / 2) + "\n") == code);
  }
}

void check_keys(std::string_view remote_addr) {
  const std::string client = client_key(remote_addr);
  const std::string network = network_key(remote_addr);
  FUZZ_CHECK(!client.empty() && !network.empty());
  FUZZ_CHECK(client.size() <= 80 && network.size() <= 80);  // "other:" and 64 bytes at most
  FUZZ_CHECK(client == client_key(remote_addr));            // deterministic
  FUZZ_CHECK(registration_key(remote_addr).ends_with(client));
  if (client.starts_with("ip4:")) {
    FUZZ_CHECK_MSG(network.starts_with("ip4:") && network.ends_with("/24"), network);
    FUZZ_CHECK(network_key(client.substr(4)) == network);  // the address key's own network
  } else if (client.starts_with("ip6:")) {
    FUZZ_CHECK_MSG(client.ends_with("/64") && network.ends_with("/48"), client + " " + network);
  } else {
    FUZZ_CHECK(client.starts_with("other:") && network == client);
  }
}

}  // namespace
}  // namespace chatalot

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chatalot;
  const std::vector<std::string_view> parts = fuzz::split(fuzz::as_text(data, size), '\n', 2);
  const std::string_view remote_addr = parts.size() == 2 ? parts[0] : std::string_view();
  const std::string_view body = parts.back();
  check_keys(remote_addr);
  fuzz::trace("keys", client_key(remote_addr) + " " + network_key(remote_addr));

  Result<rapidjson::Document> doc = parse_json_object(body);
  if (!doc.is_ok()) {
    FUZZ_CHECK(fuzz::is_refusal(doc.status(), Code::kInvalidArgument));
    // The raw bytes as a code, as a client that skipped the JSON would send them.
    check_normalised(body);
    return 0;
  }
  FUZZ_CHECK(is_valid_utf8(fuzz::accepted_json(body)));
  const auto field = doc->FindMember("invite_code");
  if (field == doc->MemberEnd() || !field->value.IsString()) return 0;  // kInviteCodeNotString
  check_normalised({field->value.GetString(), field->value.GetStringLength()});
  return 0;
}
