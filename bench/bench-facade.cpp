// The typed facade: a memoized call that hits, and what it adds over the
// backend it sits on.
#include <benchmark/benchmark.h>

#include <cachekit/cachekit.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace {

cachekit::CacheOptions bench_options() {
  cachekit::CacheOptions o;
  o.ns = "bench";
  o.operation = "square";
  o.ttl = std::chrono::seconds(0);
  return o;
}

// A memoized call with one integer argument that hits the in-process
// backend: interop key (canonical MessagePack + BLAKE2b-256), lookup, decode.
void BM_FacadeHitMemory(benchmark::State& state) {
  auto backend = std::make_shared<cachekit::MemoryBackend>();
  auto square = cachekit::cache(backend, bench_options(), [](std::int64_t x) { return x * x; });
  for (std::int64_t i = 0; i < 100; ++i) benchmark::DoNotOptimize(square(i));
  std::int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(square(i));
    i = (i + 1) % 100;
  }
  if (square.stats().calls != 100) state.SkipWithError("unexpected misses");
}
BENCHMARK(BM_FacadeHitMemory);

// Its parts: the key alone, and a raw backend get of the encoded value.
void BM_FacadeKeyOneInt(benchmark::State& state) {
  std::int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cachekit::interop_key("bench", "square", i));
    i = (i + 1) % 100;
  }
}
BENCHMARK(BM_FacadeKeyOneInt);

void BM_MemoryBackendGet(benchmark::State& state) {
  cachekit::MemoryBackend backend;
  const std::string key = cachekit::interop_key("bench", "square", 7).value();
  (void)backend.set(key, cachekit::to_msgpack(std::int64_t{49}), std::chrono::seconds(0));
  for (auto _ : state) benchmark::DoNotOptimize(backend.get(key));
}
BENCHMARK(BM_MemoryBackendGet);

// A memcached the benchmark starts on a free loopback port and stops by PID.
class LocalMemcached {
 public:
  LocalMemcached() {
    port_ = free_port();
    if (port_ == 0) return;
    const std::string port = std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::geteuid() == 0) {
        ::execlp("memcached", "memcached", "-l", "127.0.0.1", "-p", port.c_str(), "-U", "0", "-u", "nobody",
                 static_cast<char*>(nullptr));
      } else {
        ::execlp("memcached", "memcached", "-l", "127.0.0.1", "-p", port.c_str(), "-U", "0",
                 static_cast<char*>(nullptr));
      }
      ::_exit(127);
    }
    // Up to 2 s for the server to accept, before a client marks it dead.
    bool up = false;
    for (int i = 0; i < 200 && !up; ++i) {
      up = accepts(port_);
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!up) return;
    cachekit::MemcachedBackendConfig cfg;
    cfg.servers = {"127.0.0.1:" + port};
    backend_ = std::make_shared<cachekit::MemcachedBackend>(cfg);
    if (!backend_->set("bench-ready", "1", std::chrono::seconds(10))) backend_.reset();
  }
  ~LocalMemcached() {
    backend_.reset();
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  /// Null when memcached could not be started.
  std::shared_ptr<cachekit::MemcachedBackend> backend() const { return backend_; }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
  }
  static bool accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a = loopback(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }
  static std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    std::uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port == 11211 ? 0 : port;
  }
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::shared_ptr<cachekit::MemcachedBackend> backend_;
};

LocalMemcached& local_memcached() {
  static LocalMemcached server;
  return server;
}

// A raw backend get of the value a memoized call reads (same key, same bytes).
void BM_MemcachedRawGet(benchmark::State& state) {
  auto backend = local_memcached().backend();
  if (!backend) return state.SkipWithError("memcached could not be started");
  const std::string key = cachekit::interop_key("bench", "square", 7).value();
  (void)backend->set(key, cachekit::to_msgpack(std::int64_t{49}), std::chrono::seconds(0));
  for (auto _ : state) {
    auto r = backend->get(key);
    if (!r || !r->has_value()) return state.SkipWithError("raw get missed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_MemcachedRawGet)->UseRealTime();

// The same read through a memoized call: key derivation + get + decode.
void BM_FacadeHitMemcached(benchmark::State& state) {
  auto backend = local_memcached().backend();
  if (!backend) return state.SkipWithError("memcached could not be started");
  auto square = cachekit::cache(backend, bench_options(), [](std::int64_t x) { return x * x; });
  benchmark::DoNotOptimize(square(7));
  for (auto _ : state) benchmark::DoNotOptimize(square(7));
  if (square.stats().calls > 1 || square.stats().errors != 0) state.SkipWithError("unexpected misses");
}
BENCHMARK(BM_FacadeHitMemcached)->UseRealTime();

// Both, alternating in one loop so that load from other processes hits them
// alike; reports each one's mean and the facade's overhead in percent.
void BM_FacadeVsRawMemcached(benchmark::State& state) {
  auto backend = local_memcached().backend();
  if (!backend) return state.SkipWithError("memcached could not be started");
  auto square = cachekit::cache(backend, bench_options(), [](std::int64_t x) { return x * x; });
  const std::string key = square.key(std::int64_t{7}).value();
  benchmark::DoNotOptimize(square(7));
  using clock = std::chrono::steady_clock;
  clock::duration raw{}, facade{};
  for (auto _ : state) {
    const auto t0 = clock::now();
    auto r = backend->get(key);
    const auto t1 = clock::now();
    benchmark::DoNotOptimize(square(7));
    const auto t2 = clock::now();
    benchmark::DoNotOptimize(r);
    raw += t1 - t0;
    facade += t2 - t1;
  }
  const double n = static_cast<double>(state.iterations());
  const double raw_ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(raw).count()) / n;
  const double facade_ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(facade).count()) / n;
  state.counters["raw_ns"] = raw_ns;
  state.counters["facade_ns"] = facade_ns;
  state.counters["overhead_pct"] = 100.0 * (facade_ns - raw_ns) / raw_ns;
}
BENCHMARK(BM_FacadeVsRawMemcached)->UseRealTime();

}  // namespace
