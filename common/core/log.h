// One line per event on stderr, key=value, written with a single write(2) so lines from many
// threads never interleave. Never pass a request body or a secret. Thread-safe.
#pragma once

#include <chrono>
#include <string_view>

namespace chatalot {

void log_line(std::string_view level, std::string_view message);
inline void log_info(std::string_view message) { log_line("info", message); }
inline void log_error(std::string_view message) { log_line("error", message); }

// The access line: method, path, status, duration and the nginx request id. Kept in a buffer
// of the calling thread until flush_request_log(), any other line of that thread, or 16 KB of
// them: a worker under load writes the lines of all the requests it served since it last
// waited in one write(2), not one each (tests/bench/run: a write per request was a quarter
// of the mode query's system calls). A crash loses the lines of the batch it interrupts.
void log_request(std::string_view method, std::string_view path, int status,
                 std::chrono::microseconds duration, std::string_view request_id);

// Writes this thread's buffered access lines; the server calls it before a worker waits.
void flush_request_log();

}  // namespace chatalot
