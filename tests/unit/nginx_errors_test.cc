// nginx answers some errors itself (a malformed request, a body too large, a flood, an
// upstream that is down, an unknown path, TRACE) before any handler runs. Clients must not be
// able to tell those from the handlers' answers: nginx/chatalot.conf's error pages must give the
// same JSON shape, the same "code" as render_error for the same HTTP status, the catalogue's
// message and the same Retry-After, and a 405 must carry Allow. This test reads the real
// configuration file, so editing either side without the other fails here.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/messages.h"
#include "core/text.h"
#include "http/http.h"
#include "http/render.h"

#ifndef CHATALOT_SOURCE_DIR
#error "CHATALOT_SOURCE_DIR must name the project's source directory"
#endif

namespace chatalot {
namespace {

constexpr const char* kConfPath = CHATALOT_SOURCE_DIR "/nginx/chatalot.conf";

// Every status nginx can answer itself with this configuration (and TLS, which an operator
// adds to the server block), and the one of the contract the client is shown instead:
// - a malformed request: bad syntax or %00 in the path (400), a request line over the header
//   buffers (414), a header over them (494), a client certificate problem or plain HTTP on a
//   TLS port (495-497), an unknown transfer coding (501), another HTTP version (505): all 400;
// - an unknown path (location /, an internal URI): 404;
// - TRACE, which nginx refuses before any location runs: 405;
// - client_max_body_size: 413; limit_req and limit_conn: 429;
// - the 5xx of an upstream that is down, refusing or timing out (and nginx's own 500): 503, so
//   the client retries instead of reporting a server bug.
// (A request timeout, 408, and 499 close the connection without an answer.)
const std::map<int, int> kNginxStatuses = {
    {400, 400}, {404, 404}, {405, 405}, {413, 413}, {414, 400}, {429, 429}, {494, 400},
    {495, 400}, {496, 400}, {497, 400}, {500, 503}, {501, 400}, {502, 503}, {503, 503},
    {504, 503}, {505, 400}};
constexpr std::size_t kMinErrorLocations = 6;

// An error_page whose page is chosen by a map may answer with another status of this list:
// TRACE on an unknown path stays a 404; a body over a bodiless location's small limit but
// under the contract's 64 KiB gets what the handler would answer (405 or 400).
const std::map<int, std::set<int>> kAlternatives = {{405, {404}}, {413, {400, 405}}};

// Statuses nginx may answer before it has parsed the request line: a request then has no URI,
// and nginx cannot send it to a named location (it logs "empty URI in redirect to named
// location" and answers its own HTML 500). Their pages must be internal URIs.
const std::set<int> kBeforeTheUri = {400, 414, 494, 500, 505};

// One directive of the configuration: its name, its arguments (quotes removed, escapes
// applied) and, for a block directive, the directives inside it.
struct Directive {
  std::string name;
  std::vector<std::string> args;
  bool has_block = false;
  std::vector<Directive> block;
};

// nginx's own tokenising rules (ngx_conf_file.c): '#' starts a comment outside quotes,
// whitespace separates words, ';' '{' '}' end them, and inside '...' or "..." the escapes
// \" \' \\ \t \r \n are applied.
class ConfParser {
 public:
  explicit ConfParser(std::string text) : text_(std::move(text)) {}

  // The top-level directives; parse errors are reported through gtest and end the parse.
  std::vector<Directive> parse() {
    std::vector<Directive> out = parse_block(/*nested=*/false);
    EXPECT_TRUE(error_.empty()) << error_;
    return out;
  }

 private:
  enum class Kind { kWord, kSemicolon, kOpen, kClose, kEnd };
  struct Token {
    Kind kind;
    std::string text;
  };

  Token next() {
    for (;;) {
      while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        continue;
      }
      break;
    }
    if (pos_ >= text_.size()) return {Kind::kEnd, {}};
    const char c = text_[pos_];
    if (c == ';') return ++pos_, Token{Kind::kSemicolon, ";"};
    if (c == '{') return ++pos_, Token{Kind::kOpen, "{"};
    if (c == '}') return ++pos_, Token{Kind::kClose, "}"};
    std::string word;
    if (c == '\'' || c == '"') {
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] != c) {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
          const char e = text_[pos_ + 1];
          switch (e) {
            case '"': case '\'': case '\\': word += e; break;
            case 't': word += '\t'; break;
            case 'r': word += '\r'; break;
            case 'n': word += '\n'; break;
            default: word += '\\'; word += e; break;
          }
          pos_ += 2;
        } else {
          word += text_[pos_++];
        }
      }
      if (pos_ >= text_.size()) {
        error_ = "unterminated quoted string";
        return {Kind::kEnd, {}};
      }
      ++pos_;
      return {Kind::kWord, word};
    }
    while (pos_ < text_.size() && !is_space(text_[pos_]) && text_[pos_] != ';' &&
           text_[pos_] != '{' && text_[pos_] != '}') {
      word += text_[pos_++];
    }
    return {Kind::kWord, word};
  }

  std::vector<Directive> parse_block(bool nested) {
    std::vector<Directive> out;
    while (error_.empty()) {
      Token t = next();
      if (t.kind == Kind::kEnd) {
        if (nested) error_ = "unexpected end of file inside a block";
        return out;
      }
      if (t.kind == Kind::kClose) {
        if (!nested) error_ = "unexpected '}'";
        return out;
      }
      if (t.kind != Kind::kWord) {
        error_ = "a directive must start with a name, got '" + t.text + "'";
        return out;
      }
      Directive d;
      d.name = t.text;
      for (;;) {
        t = next();
        if (t.kind == Kind::kWord) {
          d.args.push_back(t.text);
        } else if (t.kind == Kind::kSemicolon) {
          break;
        } else if (t.kind == Kind::kOpen) {
          d.has_block = true;
          d.block = parse_block(/*nested=*/true);
          break;
        } else {
          error_ = "directive " + d.name + " is not terminated";
          return out;
        }
      }
      out.push_back(std::move(d));
    }
    return out;
  }

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  std::string text_;
  std::size_t pos_ = 0;
  std::string error_;
};

std::vector<Directive> read_conf() {
  std::ifstream file(kConfPath);
  EXPECT_TRUE(file) << "cannot read " << kConfPath;
  std::stringstream text;
  text << file.rdbuf();
  return ConfParser(text.str()).parse();
}

// Every directive named `name`, at any depth.
void collect(const std::vector<Directive>& in, std::string_view name,
             std::vector<const Directive*>& out) {
  for (const Directive& d : in) {
    if (d.name == name) out.push_back(&d);
    collect(d.block, name, out);
  }
}

std::vector<const Directive*> find_all(const std::vector<Directive>& in, std::string_view name) {
  std::vector<const Directive*> out;
  collect(in, name, out);
  return out;
}

// The directives named `name` directly inside a block (nginx does not inherit these from
// nested blocks, and add_header in a location replaces the server's ones).
std::vector<const Directive*> direct(const Directive& block, std::string_view name) {
  std::vector<const Directive*> out;
  for (const Directive& d : block.block) {
    if (d.name == name) out.push_back(&d);
  }
  return out;
}

// The error pages: `location @name { ... }` (by "@name") and the internal exact locations,
// `location = /uri { internal; ... }` (by "/uri").
std::map<std::string, const Directive*> error_locations(const std::vector<Directive>& conf) {
  std::map<std::string, const Directive*> out;
  for (const Directive* d : find_all(conf, "location")) {
    std::string name;
    if (d->args.size() == 1 && d->args[0].starts_with('@')) name = d->args[0];
    if (d->args.size() == 2 && d->args[0] == "=" && !direct(*d, "internal").empty()) name = d->args[1];
    if (!name.empty()) {
      EXPECT_TRUE(out.emplace(name, d).second) << "location " << name << " twice";
    }
  }
  return out;
}

bool is_error_location(const Directive& location) {
  return (location.args.size() == 1 && location.args[0].starts_with('@')) ||
         !direct(location, "internal").empty();
}

// The entries of `map SOURCE $variable { KEY VALUE; ... }`: key -> value.
std::optional<std::map<std::string, std::string>> map_entries(const std::vector<Directive>& conf,
                                                              std::string_view variable) {
  for (const Directive* m : find_all(conf, "map")) {
    if (m->args.size() != 2 || m->args[1] != variable) continue;
    std::map<std::string, std::string> out;
    for (const Directive& entry : m->block) {
      EXPECT_EQ(entry.args.size(), 1U) << "map " << variable << ": " << entry.name;
      if (entry.args.size() == 1) out[entry.name] = entry.args[0];
    }
    return out;
  }
  return std::nullopt;
}

// The status an error page returns.
std::optional<int> returned_status(const Directive& location) {
  std::optional<int> returned;
  for (const Directive* ret : direct(location, "return")) {
    returned = parse_integer<int>(ret->args.at(0));
  }
  return returned;
}

// What a client must read for each status nginx answers (messages.h, "What nginx answers").
std::optional<Message> expected_message(int status) {
  switch (status) {
    case 400: return Msg::kMalformedRequest;
    case 404: return Msg::kNotFound;
    case 405: return Msg::kMethodNotAllowedHere;
    case 413: return Msg::kBodyTooLarge;
    case 429: return Msg::kFloodGuard;
    case 503: return Msg::kUnavailable;
    default: return std::nullopt;
  }
}

// render_error's "code" for an HTTP status (the first kind with it).
std::optional<std::string_view> render_name(int status) {
  for (const ErrorKind& k : error_kinds()) {
    if (k.http_status == status) return k.name;
  }
  return std::nullopt;
}

// The status the client is shown for one nginx answers (kNginxStatuses); a status of the
// contract is shown as itself.
int shown_status(int nginx_status) {
  const auto it = kNginxStatuses.find(nginx_status);
  return it == kNginxStatuses.end() ? nginx_status : it->second;
}

struct ErrorPage {
  int status = 0;
  std::string code;
  std::string message;
};

// A `return NNN 'body';` whose body is the contract's JSON error, parsed; failures reported.
std::optional<ErrorPage> parse_error_return(const Directive& ret) {
  if (ret.args.size() != 2) return std::nullopt;
  const std::optional<int> status = parse_integer<int>(ret.args[0]);
  EXPECT_TRUE(status) << "return " << ret.args[0];
  if (!status) return std::nullopt;
  std::string_view body = ret.args[1];
  if (body.ends_with('\n')) body.remove_suffix(1);  // a trailing newline is for curl users
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << body;
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  // Exactly {"error":{"code":"...","message":"..."}}, as render_error writes it.
  EXPECT_EQ(doc.MemberCount(), 1U) << body;
  const auto error = doc.FindMember("error");
  EXPECT_TRUE(error != doc.MemberEnd() && error->value.IsObject()) << body;
  if (error == doc.MemberEnd() || !error->value.IsObject()) return std::nullopt;
  EXPECT_EQ(error->value.MemberCount(), 2U) << body;
  const auto code = error->value.FindMember("code");
  const auto message = error->value.FindMember("message");
  const bool shaped = code != error->value.MemberEnd() && code->value.IsString() &&
                      message != error->value.MemberEnd() && message->value.IsString();
  EXPECT_TRUE(shaped) << body;
  if (!shaped) return std::nullopt;
  return ErrorPage{*status, code->value.GetString(), message->value.GetString()};
}

// The value of `add_header Retry-After N always;` in the block, if set so that nginx sends it.
std::optional<std::string> retry_after(const Directive& location) {
  for (const Directive* h : direct(location, "add_header")) {
    if (h->args.size() >= 2 && ascii_lower(h->args[0]) == "retry-after") {
      // Without `always` nginx adds headers to 2xx and 3xx answers only: never to a 429/503.
      EXPECT_TRUE(h->args.size() == 3 && h->args[2] == "always")
          << location.args[0] << ": add_header Retry-After needs `always`";
      return h->args[1];
    }
  }
  return std::nullopt;
}

class NginxErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    conf_ = read_conf();
    ASSERT_FALSE(conf_.empty()) << kConfPath;
    locations_ = error_locations(conf_);
  }

  std::vector<Directive> conf_;
  std::map<std::string, const Directive*> locations_;
};

TEST_F(NginxErrors, EveryErrorPageAnswersTheContract) {
  std::size_t checked = 0;
  for (const auto& [name, location] : locations_) {
    SCOPED_TRACE("location " + name);
    const std::vector<const Directive*> returns = direct(*location, "return");
    ASSERT_EQ(returns.size(), 1U) << "an error page answers with exactly one return";
    const std::optional<ErrorPage> page = parse_error_return(*returns.front());
    ASSERT_TRUE(page) << "return without a JSON error body";
    ++checked;

    // A page answers with a status of the contract (see kNginxStatuses).
    EXPECT_EQ(page->status, shown_status(page->status));
    const std::optional<std::string_view> code = render_name(page->status);
    ASSERT_TRUE(code) << "render_error has no kind for " << page->status;
    EXPECT_EQ(page->code, *code);
    const std::optional<Message> message = expected_message(page->status);
    ASSERT_TRUE(message) << "no catalogue message for nginx's " << page->status;
    EXPECT_EQ(page->message, message->text());

    // The body is JSON whatever the URI's extension: an emptied types map and a JSON default.
    const std::vector<const Directive*> types = direct(*location, "types");
    EXPECT_TRUE(types.size() == 1 && types.front()->has_block && types.front()->block.empty())
        << "without `types { }` nginx picks the Content-Type from the URI's extension";
    const std::vector<const Directive*> default_type = direct(*location, "default_type");
    EXPECT_TRUE(default_type.size() == 1 && default_type.front()->args ==
                                                std::vector<std::string>{"application/json"});

    // A client told to slow down or to come back must be told when, as render_error does.
    const std::optional<std::string> retry = retry_after(*location);
    if (page->status == 429 || page->status == 503) {
      ASSERT_TRUE(retry) << page->status << " without Retry-After";
      const std::optional<int> seconds = parse_integer<int>(*retry);
      ASSERT_TRUE(seconds) << "Retry-After " << *retry;
      EXPECT_GT(*seconds, 0);
      if (page->status == 503) {
        EXPECT_EQ(*seconds, kDefaultRetryAfterSeconds);
      }
    } else {
      EXPECT_FALSE(retry) << "Retry-After on a " << page->status;
    }

    // HTTP requires Allow on a 405 (the handlers' own 405 has it too).
    bool allow = false;
    for (const Directive* h : direct(*location, "add_header")) {
      if (!h->args.empty() && ascii_lower(h->args[0]) == "allow") {
        allow = true;
        EXPECT_TRUE(h->args.size() == 3 && h->args[2] == "always")
            << "add_header Allow needs `always`";
      }
    }
    EXPECT_EQ(allow, page->status == 405) << "Allow on a " << page->status;
  }
  EXPECT_GE(checked, kMinErrorLocations) << "found too few error pages in " << kConfPath;
}

TEST_F(NginxErrors, EveryJsonReturnIsAnErrorPage) {
  // A JSON error returned from an ordinary location would bypass the checks above; the plain
  // `return 404;` of `location /` has no body and is answered by @not_found.
  for (const Directive* location : find_all(conf_, "location")) {
    if (is_error_location(*location)) continue;
    for (const Directive* ret : direct(*location, "return")) {
      const bool json_error =
          ret->args.size() == 2 && ret->args[1].find("\"error\"") != std::string::npos;
      EXPECT_FALSE(json_error) << "location " << location->args.back()
                               << " returns a JSON error; use an error_page location";
    }
  }
}

TEST_F(NginxErrors, EveryErrorPageCodeMapsToAnExistingPage) {
  const std::vector<const Directive*> pages = find_all(conf_, "error_page");
  ASSERT_FALSE(pages.empty()) << "no error_page in " << kConfPath;
  std::set<int> mapped;
  for (const Directive* page : pages) {
    ASSERT_GE(page->args.size(), 2U);
    const std::string& uri = page->args.back();
    SCOPED_TRACE("error_page -> " + uri);
    // error_page CODE... [=[RESPONSE]] URI
    std::vector<int> codes;
    std::optional<int> response;
    bool response_from_location = false;
    for (std::size_t i = 0; i + 1 < page->args.size(); ++i) {
      const std::string& a = page->args[i];
      if (a.starts_with('=')) {
        if (a.size() == 1) {
          response_from_location = true;
        } else {
          response = parse_integer<int>(a.substr(1));
          ASSERT_TRUE(response) << a;
        }
        continue;
      }
      const std::optional<int> code = parse_integer<int>(a);
      ASSERT_TRUE(code) << "error_page code " << a;
      codes.push_back(*code);
    }
    ASSERT_FALSE(codes.empty());

    // The page, or (for a variable) every page its map may choose.
    std::vector<std::string> targets = {uri};
    if (uri.starts_with('$')) {
      ASSERT_TRUE(response_from_location) << "a chosen page must answer with its own status (=)";
      const std::optional<std::map<std::string, std::string>> entries = map_entries(conf_, uri);
      ASSERT_TRUE(entries) << "no map sets " << uri;
      EXPECT_TRUE(entries->contains("default")) << "map " << uri << " without a default";
      targets.clear();
      for (const auto& [key, value] : *entries) targets.push_back(value);
    }
    for (const std::string& target : targets) {
      const auto location = locations_.find(target);
      ASSERT_TRUE(location != locations_.end()) << "no error page " << target;
      for (const int code : codes) {
        EXPECT_FALSE(kBeforeTheUri.contains(code) && !target.starts_with('/'))
            << "nginx's " << code << " may come before the URI is known: " << target
            << " must be an internal URI, not a named location";
      }
      // The status the client gets: `=NNN`, the location's own with `=`, else the original.
      const std::optional<int> returned = returned_status(*location->second);
      for (const int code : codes) {
        const int shown = response ? *response : response_from_location && returned ? *returned : code;
        const auto alternatives = kAlternatives.find(code);
        const bool alternative = uri.starts_with('$') && alternatives != kAlternatives.end() &&
                                 alternatives->second.contains(shown);
        EXPECT_TRUE(shown == shown_status(code) || alternative)
            << "nginx's " << code << " is answered as " << shown << " by " << target;
        // Without `=`, the page's own return status would be ignored: its body then has to fit.
        if (!response && !response_from_location) {
          EXPECT_EQ(returned, shown_status(code)) << target << " returns another status than " << code;
        }
      }
    }
    for (const int code : codes) EXPECT_TRUE(mapped.insert(code).second) << code << " mapped twice";
  }
  for (const auto& [status, shown] : kNginxStatuses) {
    EXPECT_TRUE(mapped.contains(status)) << "nginx's own " << status << " would be an HTML page";
  }
}

TEST_F(NginxErrors, ErrorPagesAreSetOnceForTheWholeServer) {
  // An error_page in a location replaces every error_page of the server there: that
  // location's other errors would be HTML again.
  for (const Directive* location : find_all(conf_, "location")) {
    EXPECT_TRUE(direct(*location, "error_page").empty())
        << "location " << location->args.back() << " has its own error_page";
  }
}

TEST_F(NginxErrors, TheMethodPageNamesEveryLocationsMethods) {
  // nginx's own 405 (TRACE) must say what the location allows: every location that reaches a
  // handler has an entry in the map behind the page's Allow. A prefix location (the ids) has
  // one for its whole prefix, or one per action under it when the actions take different
  // methods (then any other path under it is unknown: no entry, a 404).
  const std::optional<std::map<std::string, std::string>> allow = map_entries(conf_, "$chatalot_allow");
  ASSERT_TRUE(allow) << "no map sets $chatalot_allow";
  std::size_t handlers = 0;
  for (const Directive* location : find_all(conf_, "location")) {
    if (direct(*location, "fastcgi_pass").empty()) continue;
    ++handlers;
    ASSERT_EQ(location->args.size(), 2U);
    const std::string& kind = location->args[0];
    const std::string& path = location->args[1];
    ASSERT_TRUE(kind == "=" || kind == "^~") << "location " << path << ": exact or prefix only";
    if (kind == "=") {
      const auto entry = allow->find("~^" + path + "$");
      ASSERT_TRUE(entry != allow->end()) << "no Allow for location " << path;
      EXPECT_FALSE(entry->second.empty()) << path;
      continue;
    }
    std::size_t entries = 0;
    for (const auto& [key, methods] : *allow) {
      if (!key.starts_with("~^" + path)) continue;
      ++entries;
      EXPECT_FALSE(methods.empty()) << key;
    }
    EXPECT_GE(entries, 1U) << "no Allow for location " << path << " nor for a path under it";
  }
  EXPECT_GE(handlers, 18U);
}

// A limit_req_zone's rate in requests per second ("20r/s", "600r/m").
std::optional<double> zone_rate(const Directive& zone) {
  for (const std::string& a : zone.args) {
    if (!a.starts_with("rate=")) continue;
    const std::string_view r = std::string_view(a).substr(5);
    const bool per_minute = r.ends_with("r/m");
    const std::optional<int> n = parse_integer<int>(r.substr(0, r.size() - 3));
    if (!n || !(per_minute || r.ends_with("r/s"))) return std::nullopt;
    return per_minute ? *n / 60.0 : *n;
  }
  return std::nullopt;
}

TEST_F(NginxErrors, EveryLocationIsFloodGuardedAndLooserThanTheHandlers) {
  // SPEC: nginx's limit_req is an outer flood guard only. Each guard stays above the handlers'
  // own budgets (their defaults), so a client within those never meets nginx's 429.
  double handler_rate = 0;
  double handler_burst = 0;
  for (const VariableInfo& v : config_variables()) {
    const bool rate = v.name.ends_with("_PER_SECOND");
    if (!v.name.starts_with("RATE_LIMIT_") || !(rate || v.name.ends_with("_BURST"))) continue;
    ASSERT_TRUE(v.default_text) << v.name;
    const double value = std::stod(std::string(*v.default_text));
    (rate ? handler_rate : handler_burst) = std::max(rate ? handler_rate : handler_burst, value);
  }
  ASSERT_GT(handler_rate, 0);
  std::map<std::string, double> rates;
  for (const Directive* zone : find_all(conf_, "limit_req_zone")) {
    ASSERT_GE(zone->args.size(), 3U);
    std::string name;
    for (const std::string& a : zone->args) {
      if (a.starts_with("zone=")) name = a.substr(5, a.find(':') - 5);
    }
    const std::optional<double> rate = zone_rate(*zone);
    ASSERT_TRUE(rate) << "limit_req_zone " << name;
    EXPECT_GT(*rate, handler_rate) << name;
    rates[name] = *rate;
  }
  for (const Directive* location : find_all(conf_, "location")) {
    if (is_error_location(*location)) continue;
    SCOPED_TRACE("location " + location->args.back());
    const std::vector<const Directive*> guards = direct(*location, "limit_req");
    if (direct(*location, "fastcgi_pass").empty()) {
      // A location that only returns is answered in the rewrite phase: a guard there would
      // never run (limit_req is in the later preaccess phase), and costs what the answer does.
      EXPECT_FALSE(direct(*location, "return").empty()) << "neither a handler nor a return";
      EXPECT_TRUE(guards.empty()) << "a limit_req that never runs";
      continue;
    }
    ASSERT_EQ(guards.size(), 1U) << "every location needs its flood guard";
    std::optional<double> burst;
    for (const std::string& a : guards.front()->args) {
      if (a.starts_with("zone=")) {
        EXPECT_TRUE(rates.contains(a.substr(5))) << a;
      } else if (a.starts_with("burst=")) {
        burst = parse_integer<int>(a.substr(6));
      }
    }
    ASSERT_TRUE(burst) << "limit_req without burst= refuses a second request at once";
    EXPECT_GE(*burst, handler_burst);
  }

  // Requests in progress per address (a slow body holds one), answered like a flood.
  std::vector<const Directive*> servers = find_all(conf_, "server");
  servers.erase(std::remove_if(servers.begin(), servers.end(),
                               [](const Directive* d) { return !d->has_block; }),
                servers.end());
  ASSERT_EQ(servers.size(), 1U);
  const std::vector<const Directive*> conn = direct(*servers.front(), "limit_conn");
  ASSERT_EQ(conn.size(), 1U) << "no limit_conn for the server";
  const std::optional<int> most = parse_integer<int>(conn.front()->args.at(1));
  ASSERT_TRUE(most);
  EXPECT_GE(*most, 16) << "generous: many clients may share an address";
  EXPECT_LE(*most, 1024) << "bounded: one address must not take every worker connection";
  for (const char* status : {"limit_conn_status", "limit_req_status"}) {
    const std::vector<const Directive*> s = direct(*servers.front(), status);
    ASSERT_EQ(s.size(), 1U) << status;
    EXPECT_EQ(s.front()->args, std::vector<std::string>{"429"}) << status;
  }
}

TEST_F(NginxErrors, ABodilessLocationsSmallLimitIsAnsweredAsTheHandlerWould) {
  // A location with a smaller client_max_body_size than the contract's 64 KiB must be known to
  // the map that picks its 413 page, or its 413 would claim "at most 65536 bytes".
  const std::optional<std::map<std::string, std::string>> pages =
      map_entries(conf_, "$chatalot_413_page");
  ASSERT_TRUE(pages) << "no map sets $chatalot_413_page";
  std::size_t small = 0;
  for (const Directive* location : find_all(conf_, "location")) {
    for (const Directive* size : direct(*location, "client_max_body_size")) {
      const std::string& v = size->args.at(0);
      const std::optional<int> k = parse_integer<int>(std::string_view(v).substr(0, v.size() - 1));
      ASSERT_TRUE(v.ends_with('k') && k) << v;
      if (static_cast<std::size_t>(*k) * 1024 >= kMaxBodyBytes) continue;
      ++small;
      const std::string& path = location->args.back();
      bool known = false;
      for (const auto& [key, page] : *pages) known = known || key.find(path) != std::string::npos;
      EXPECT_TRUE(known) << "location " << path << " is not in $chatalot_413_page";
    }
  }
  EXPECT_GE(small, 1U) << "the mode query takes no body: its limit is small";
}

}  // namespace
}  // namespace chatalot
