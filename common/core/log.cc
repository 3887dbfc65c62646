#include "core/log.h"

#include <unistd.h>

#include <string>

#include "core/text.h"

namespace chatalot {
namespace {

// Values are quoted when they hold anything but a safe set, with quotes and controls escaped, so
// a hostile path cannot forge a log line.
void append_value(std::string& out, std::string_view v) {
  bool plain = !v.empty();
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '\\' || c >= 0x7f) plain = false;
  }
  if (plain) {
    out += v;
    return;
  }
  out += '"';
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < ' ' || c == 0x7f) {
      out += "\\x";
      out += to_hex(std::string_view(reinterpret_cast<const char*>(&c), 1));
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

constexpr std::size_t kRequestLogBuffer = 16 * 1024;

// This thread's access lines not written yet.
std::string& request_lines() {
  thread_local std::string lines;
  return lines;
}

void write_all(const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;  // nowhere to report a failing stderr
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

// A line of its own goes after this thread's earlier access lines, in one write with them.
void emit(std::string& line) {
  line += '\n';
  std::string& pending = request_lines();
  if (pending.empty()) {
    write_all(line);
    return;
  }
  pending += line;
  flush_request_log();
}

}  // namespace

void log_line(std::string_view level, std::string_view message) {
  std::string line = "level=";
  line += level;
  line += " msg=";
  append_value(line, message);
  emit(line);
}

void log_request(std::string_view method, std::string_view path, int status,
                 std::chrono::microseconds duration, std::string_view request_id) {
  std::string line = "level=info method=";
  append_value(line, method);
  line += " path=";
  append_value(line, path);
  line += " status=" + std::to_string(status);
  line += " duration_us=" + std::to_string(duration.count());
  line += " request_id=";
  append_value(line, request_id.empty() ? "-" : request_id);
  line += '\n';
  std::string& pending = request_lines();
  pending += line;
  if (pending.size() >= kRequestLogBuffer) flush_request_log();
}

void flush_request_log() {
  std::string& pending = request_lines();
  if (pending.empty()) return;
  write_all(pending);
  pending.clear();
}

}  // namespace chatalot
