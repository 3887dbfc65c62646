// The reference FastCGI loop for tests/bench/run: libfcgi's multi-threaded accept loop
// answering the mode query's body as a constant, as libfcgi's own threaded example does
// without its accept mutex (FIELD-NOTES pitfall 3). nginx keeps its connections
// (fastcgi_keep_conn), and a libfcgi thread stays bound to one connection until nginx closes it
// (pitfall 1): so there are more threads than nginx ever pools.
//
//   libfcgi_hello PATH [THREADS]   listen on the unix socket PATH (default 96 threads)
#include <fcgiapp.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: libfcgi_hello PATH [THREADS]\n");
    return 2;
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 96;
  if (FCGX_Init() != 0) return 1;
  const int sock = FCGX_OpenSocket(argv[1], 1024);
  if (sock < 0) return 1;
  chmod(argv[1], 0666);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([sock] {
      FCGX_Request request;
      FCGX_InitRequest(&request, sock, 0);
      while (FCGX_Accept_r(&request) >= 0) {
        FCGX_FPrintF(request.out,
                     "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
                     "{\"registration_mode\":\"open\",\"e2e_enabled\":true}");
        FCGX_Finish_r(&request);
      }
    });
  }
  for (std::thread& t : pool) t.join();
}
