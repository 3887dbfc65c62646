// nginx answers some errors itself (a body too large, a flood, an upstream that is down, an
// unknown path) before any handler runs. Clients must not be able to tell those from the
// handlers' answers: nginx/chatalot.conf's error pages must give the same JSON shape, the same
// "code" as render_error for the same HTTP status, the catalogue's message and the same
// Retry-After. This test reads the real configuration file, so editing either side without
// the other fails here.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages.h"
#include "core/text.h"
#include "http/render.h"

#ifndef CHATALOT_SOURCE_DIR
#error "CHATALOT_SOURCE_DIR must name the project's source directory"
#endif

namespace chatalot {
namespace {

constexpr const char* kConfPath = CHATALOT_SOURCE_DIR "/nginx/chatalot.conf";

// The statuses nginx produces itself with this configuration: a malformed request line, an
// unknown path (location /), a method nginx refuses, client_max_body_size, limit_req_status,
// and the 5xx of an upstream that is down or slow. Each must have a JSON error page.
constexpr int kNginxStatuses[] = {400, 404, 405, 413, 429, 500, 502, 503, 504};
constexpr std::size_t kMinErrorLocations = 6;

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

// `location @name { ... }`, by name (with the '@').
std::map<std::string, const Directive*> named_locations(const std::vector<Directive>& conf) {
  std::map<std::string, const Directive*> out;
  for (const Directive* d : find_all(conf, "location")) {
    if (d->args.size() == 1 && d->args[0].starts_with('@')) {
      EXPECT_TRUE(out.emplace(d->args[0], d).second) << "location " << d->args[0] << " twice";
    }
  }
  return out;
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

// nginx's own 5xx (an upstream down, refusing or timing out) is shown as 503, so the client
// retries instead of reporting a server bug.
int shown_status(int nginx_status) { return nginx_status >= 500 ? 503 : nginx_status; }

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
    locations_ = named_locations(conf_);
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

    // nginx itself only ever shows 503 for the 500 family (see shown_status).
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
  }
  EXPECT_GE(checked, kMinErrorLocations) << "found too few error pages in " << kConfPath;
}

TEST_F(NginxErrors, EveryJsonReturnIsAnErrorPage) {
  // A JSON error returned from an ordinary location would bypass the checks above; the plain
  // `return 404;` of `location /` has no body and is answered by @not_found.
  for (const Directive* location : find_all(conf_, "location")) {
    if (!location->args.empty() && location->args[0].starts_with('@')) continue;
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
    const auto location = locations_.find(uri);
    ASSERT_TRUE(location != locations_.end()) << "no location " << uri;

    // The status the client gets: `=NNN`, the location's own with `=`, else the original.
    std::optional<int> returned;
    for (const Directive* ret : direct(*location->second, "return")) {
      returned = parse_integer<int>(ret->args.at(0));
    }
    for (const int code : codes) {
      EXPECT_TRUE(mapped.insert(code).second) << code << " mapped twice";
      const int shown = response ? *response : response_from_location && returned ? *returned : code;
      EXPECT_EQ(shown, shown_status(code)) << "nginx's " << code << " is answered as " << shown;
      // Without `=`, the page's own return status would be ignored: its body then has to fit.
      if (!response && !response_from_location) {
        EXPECT_EQ(returned, shown_status(code)) << uri << " returns another status than " << code;
      }
    }
  }
  for (const int status : kNginxStatuses) {
    EXPECT_TRUE(mapped.contains(status)) << "nginx's own " << status << " would be an HTML page";
  }
}

}  // namespace
}  // namespace chatalot
