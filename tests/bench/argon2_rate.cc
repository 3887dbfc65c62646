// The bound of registration and login for tests/bench/run: Argon2id hashes per second through
// the project's own hash_password (libsodium), at the cost given, on as many threads as the
// handlers hash at once (ARGON2_MAX_CONCURRENT), for a given time.
//
//   argon2_rate MEMORY_KIB ITERATIONS THREADS SECONDS   prints {"hashes_per_second": N}
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "crypto/password.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: argon2_rate MEMORY_KIB ITERATIONS THREADS SECONDS\n");
    return 2;
  }
  const chatalot::Argon2Params params{static_cast<std::uint32_t>(std::atoi(argv[1])),
                                      static_cast<std::uint32_t>(std::atoi(argv[2]))};
  const int threads = std::atoi(argv[3]);
  const auto duration = std::chrono::duration<double>(std::atof(argv[4]));
  std::atomic<long> hashes{0};
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + duration;
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      while (std::chrono::steady_clock::now() < end) {
        if (chatalot::hash_password("Correct-Horse-9", params).is_ok()) ++hashes;
      }
    });
  }
  for (std::thread& t : pool) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"hashes_per_second\": %.2f}\n", static_cast<double>(hashes) / seconds);
}
