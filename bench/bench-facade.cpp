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

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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


// ---- leases ----

// A median of per-operation times, in nanoseconds.
double median_ns(std::vector<std::chrono::steady_clock::duration>& v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(v[v.size() / 2]).count());
}

// A facade hit with stampede protection (one lease read, meta) against the
// same hit without it (one plain get), alternating in one loop; per-call
// medians and their ratio (target: stampede_ratio <= 1.1).
void BM_FacadeHitStampedeVsPlain(benchmark::State& state) {
  auto backend = local_memcached().backend();
  if (!backend) return state.SkipWithError("memcached could not be started");
  cachekit::CacheOptions plain_o = bench_options();
  plain_o.operation = "hit-plain";
  cachekit::CacheOptions lease_o = bench_options();
  lease_o.operation = "hit-lease";
  lease_o.stampede.enabled = true;
  auto plain = cachekit::cache(backend, plain_o, [](std::int64_t x) { return x * x; });
  auto leased = cachekit::cache(backend, lease_o, [](std::int64_t x) { return x * x; });
  benchmark::DoNotOptimize(plain(7));
  benchmark::DoNotOptimize(leased(7));
  using clock = std::chrono::steady_clock;
  std::vector<clock::duration> plain_t, lease_t;
  bool lease_first = false;
  for (auto _ : state) {
    for (int turn = 0; turn < 2; ++turn) {
      const bool lease_now = (turn == 0) == lease_first;
      const auto t0 = clock::now();
      benchmark::DoNotOptimize(lease_now ? leased(7) : plain(7));
      (lease_now ? lease_t : plain_t).push_back(clock::now() - t0);
    }
    lease_first = !lease_first;
  }
  if (plain.stats().calls > 1 || leased.stats().calls > 1 || leased.stats().errors != 0) {
    const std::string why = "unexpected misses or errors: plain calls " + std::to_string(plain.stats().calls) +
                            ", lease calls " + std::to_string(leased.stats().calls) + ", errors " +
                            std::to_string(leased.stats().errors);
    return state.SkipWithError(why.c_str());
  }
  const double p = median_ns(plain_t), l = median_ns(lease_t);
  state.counters["plain_ns"] = p;
  state.counters["stampede_ns"] = l;
  state.counters["stampede_ratio"] = p > 0 ? l / p : 0;
}
BENCHMARK(BM_FacadeHitStampedeVsPlain)->UseRealTime();

// Counts the requests a facade sends to the backend it wraps.
class CountingBackend final : public cachekit::Backend {
 public:
  explicit CountingBackend(std::shared_ptr<cachekit::Backend> inner) : inner_(std::move(inner)) {}
  cachekit::Result<std::optional<std::string>> get(std::string_view k) override { return ++n, inner_->get(k); }
  cachekit::Result<void> set(std::string_view k, std::string_view v, std::chrono::seconds t) override {
    return ++n, inner_->set(k, v, t);
  }
  cachekit::Result<bool> add(std::string_view k, std::string_view v, std::chrono::seconds t) override {
    return ++n, inner_->add(k, v, t);
  }
  cachekit::Result<bool> remove(std::string_view k) override { return ++n, inner_->remove(k); }
  cachekit::Result<bool> exists(std::string_view k) override { return ++n, inner_->exists(k); }
  cachekit::Result<bool> touch(std::string_view k, std::chrono::seconds t) override { return ++n, inner_->touch(k, t); }
  bool has_leases() const noexcept override { return inner_->has_leases(); }
  cachekit::Result<cachekit::LeaseRead> lease_get(std::string_view k, const cachekit::LeaseOptions& o) override {
    return ++n, inner_->lease_get(k, o);
  }
  cachekit::Result<bool> lease_set(std::string_view k, std::string_view v, std::chrono::seconds t,
                                   std::uint64_t token) override {
    return ++n, inner_->lease_set(k, v, t, token);
  }
  std::atomic<long> n{0};

 private:
  std::shared_ptr<cachekit::Backend> inner_;
};

// A stampede of 16 threads on one missing key (the function takes 20 ms),
// over the lease path (meta: one lease read per caller and poll) and the
// lock-and-poll path (text: add of "<key>:lock", gets, delete), taking turns
// in one loop: milliseconds per stampede and requests sent per stampede.
void BM_StampedeLeaseVsLock(benchmark::State& state) {
  auto meta = local_memcached().backend();
  if (!meta) return state.SkipWithError("memcached could not be started");
  cachekit::MemcachedBackendConfig text_cfg;
  text_cfg.servers = {meta->server_names().at(0)};
  text_cfg.protocol = cachekit::Protocol::text;
  auto lease_backend = std::make_shared<CountingBackend>(meta);
  auto lock_backend = std::make_shared<CountingBackend>(std::make_shared<cachekit::MemcachedBackend>(text_cfg));
  auto make = [](std::shared_ptr<CountingBackend> b, const char* op) {
    cachekit::CacheOptions o = bench_options();
    o.operation = op;
    o.stampede.enabled = true;
    o.stampede.max_wait = std::chrono::milliseconds(2000);
    o.stampede.poll_interval = std::chrono::milliseconds(2);
    return cachekit::cache(std::move(b), o, [](std::int64_t x) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return x * 3;
    });
  };
  auto by_lease = make(lease_backend, "stampede-lease");
  auto by_lock = make(lock_backend, "stampede-lock");
  using clock = std::chrono::steady_clock;
  std::vector<clock::duration> lease_t, lock_t;
  long lease_requests = 0, lock_requests = 0;
  bool wrong = false;
  auto run = [&](auto& f, CountingBackend& b, std::vector<clock::duration>& times, long& requests) {
    (void)f.invalidate(std::int64_t{5});
    const long before = b.n.load();
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        if (f(std::int64_t{5}) != 15) wrong = true;
      });
    }
    const auto t0 = clock::now();
    go = true;
    for (auto& th : threads) th.join();
    times.push_back(clock::now() - t0);
    requests += b.n.load() - before - 1;  // the invalidation is not the stampede's
  };
  bool lease_first = true;
  for (auto _ : state) {
    if (lease_first) {
      run(by_lease, *lease_backend, lease_t, lease_requests);
      run(by_lock, *lock_backend, lock_t, lock_requests);
    } else {
      run(by_lock, *lock_backend, lock_t, lock_requests);
      run(by_lease, *lease_backend, lease_t, lease_requests);
    }
    lease_first = !lease_first;
  }
  if (wrong) return state.SkipWithError("a caller got a wrong value");
  const double n = static_cast<double>(state.iterations());
  state.counters["lease_ms"] = median_ns(lease_t) / 1e6;
  state.counters["lock_ms"] = median_ns(lock_t) / 1e6;
  state.counters["lease_requests"] = static_cast<double>(lease_requests) / n;
  state.counters["lock_requests"] = static_cast<double>(lock_requests) / n;
  state.counters["lease_computations"] = static_cast<double>(by_lease.stats().calls) / n;
  state.counters["lock_computations"] = static_cast<double>(by_lock.stats().calls) / n;
}
BENCHMARK(BM_StampedeLeaseVsLock)->UseRealTime()->Iterations(20);

}  // namespace
