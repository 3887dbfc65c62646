// One line per event on stderr, key=value, written with a single write(2) so lines from many
// threads never interleave. Never pass a request body or a secret. Thread-safe.
#pragma once

#include <chrono>
#include <string_view>

namespace chatalot {

void log_line(std::string_view level, std::string_view message);
inline void log_info(std::string_view message) { log_line("info", message); }
inline void log_error(std::string_view message) { log_line("error", message); }

// The access line: method, path, status, duration and the nginx request id.
void log_request(std::string_view method, std::string_view path, int status,
                 std::chrono::microseconds duration, std::string_view request_id);

}  // namespace chatalot
