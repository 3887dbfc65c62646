// Argon2id, p=1, 16-byte salt, 32-byte hash, the same password: libargon2's
// argon2id_hash_encoded against libsodium's crypto_pwhash_str_alg, at the OWASP floor
// (m=19 MiB, t=2) and at our default (m=64 MiB, t=3). Both produce the same PHC string form.
//
// Each runs on one thread and on two at once: Argon2 is bound by memory bandwidth, so two
// concurrent hashes (as in a worker with two cores busy) do not scale like one. Iteration
// counts are fixed so the run stays short; each benchmark is repeated and scripts/bench
// compares the medians.
#include <argon2.h>
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view kPassword = "Correct-Horse-Battery-9";
constexpr std::size_t kSaltBytes = 16;  // crypto_pwhash_SALTBYTES, what libsodium uses
constexpr std::size_t kHashBytes = 32;  // what crypto_pwhash_str_alg produces

static_assert(kSaltBytes == crypto_pwhash_SALTBYTES);

std::uint32_t memory_kib(const benchmark::State& state) {
  return static_cast<std::uint32_t>(state.range(0));
}
std::uint32_t iterations(const benchmark::State& state) {
  return static_cast<std::uint32_t>(state.range(1));
}

void hash_with_libargon2(benchmark::State& state) {
  // A fresh salt per hash, as in production, so neither library gets an advantage from it.
  std::array<unsigned char, kSaltBytes> salt{};
  // argon2_encodedlen counts the terminating NUL.
  std::vector<char> encoded(argon2_encodedlen(iterations(state), memory_kib(state), 1, kSaltBytes,
                                              kHashBytes, Argon2_id));
  for (auto _ : state) {
    randombytes_buf(salt.data(), salt.size());
    const int rc = argon2id_hash_encoded(iterations(state), memory_kib(state), 1, kPassword.data(),
                                         kPassword.size(), salt.data(), salt.size(), kHashBytes,
                                         encoded.data(), encoded.size());
    if (rc != ARGON2_OK) {
      state.SkipWithError(argon2_error_message(rc));
      break;
    }
    benchmark::DoNotOptimize(encoded.data());
  }
}

void hash_with_libsodium(benchmark::State& state) {
  char out[crypto_pwhash_STRBYTES];
  const auto memlimit = static_cast<std::size_t>(memory_kib(state)) * 1024;
  for (auto _ : state) {
    if (crypto_pwhash_str_alg(out, kPassword.data(), kPassword.size(), iterations(state), memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
      state.SkipWithError("crypto_pwhash_str_alg failed");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
}

// Iterations per repetition: about 0.5-1 s each with libargon2 on one thread, so the whole run
// (2 costs x 2 libraries x 2 thread counts x 3 repetitions) takes about 20-30 s on an idle
// 2-core machine (a minute when other work competes for the cores).
constexpr struct {
  std::int64_t memory_kib;
  std::int64_t iterations;
  benchmark::IterationCount runs;
} kCosts[] = {{std::int64_t{19} * 1024, 2, 20}, {std::int64_t{64} * 1024, 3, 5}};
constexpr int kRepetitions = 3;

constexpr struct {
  const char* name;  // scripts/bench pairs the two libraries' results by this first name part
  void (*run)(benchmark::State&);
} kLibraries[] = {{"libargon2", &hash_with_libargon2}, {"libsodium", &hash_with_libsodium}};

void register_all() {
  for (const auto& cost : kCosts) {
    for (const auto& library : kLibraries) {
      for (int threads : {1, 2}) {
        benchmark::RegisterBenchmark(library.name, library.run)
            ->Args({cost.memory_kib, cost.iterations})
            ->ArgNames({"m_kib", "t"})
            ->Iterations(cost.runs)
            ->Repetitions(kRepetitions)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Threads(threads);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Lets libsodium pick its SIMD Argon2 core, as common/crypto/password.cc does.
  if (sodium_init() < 0) return EXIT_FAILURE;
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return EXIT_FAILURE;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return EXIT_SUCCESS;
}
