// MemcachedBackend over TLS against the same backend over plaintext, in
// one run: get of a 100-byte value and get_many of 100 keys, each over
// every protocol, against two memcached processes started with the same
// options, one of them with -Z (certificates made with the openssl command
// in a temporary directory). The "handshakes" counter is the backend's TLS
// handshake count at the end of the benchmark: one per pooled connection.
// Built with CACHEKIT_OPENSSL only (CMake: -DCACHEKIT_WITH_OPENSSL=ON).
// BM_Tls_Side_* run both clients in one loop and report the ratio (see
// tls_side); the separate BM_Tls_Get_* / BM_Tls_GetMany100_* are there too.
//   cachekit_bench --benchmark_filter='BM_Tls_Side' --benchmark_min_time=0.5 --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#ifdef CACHEKIT_OPENSSL

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/memcached_server.hpp"

namespace {

// The test CA and a server certificate for 127.0.0.1 (P-256 keys).
struct BenchCerts {
  std::string dir;
  BenchCerts() {
    char tmpl[] = "/tmp/cachekit-bench-tls-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    ::chmod(dir.c_str(), 0755);
    const std::string d = dir + "/";
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    const std::string cmd =
        "( printf 'subjectAltName=IP:127.0.0.1\\n' >" + d + "san.ext && openssl req -x509" + key + " -keyout " + d +
        "ca.key -out " + d + "ca.crt -days 2 -subj /CN=cachekit-bench-ca && openssl req" + key + " -keyout " + d +
        "server.key -out " + d + "server.csr -subj /CN=localhost && openssl x509 -req -in " + d + "server.csr -CA " +
        d + "ca.crt -CAkey " + d + "ca.key -CAcreateserial -days 2 -extfile " + d + "san.ext -out " + d +
        "server.crt ) >/dev/null 2>&1 && chmod 0644 " + d + "*";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "bench-tls: making certificates with openssl failed (apt-get install openssl)\n");
      std::exit(2);
    }
  }
  ~BenchCerts() {
    const std::string cmd = "rm -rf " + dir;
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
  }
};

struct TlsBenchServers {
  BenchCerts certs;
  ckbench::MemcachedServer plain;
  ckbench::MemcachedServer tls;
  TlsBenchServers()
      : plain(),
        tls({"-Z", "-o",
             "ssl_chain_cert=" + certs.dir + "/server.crt,ssl_key=" + certs.dir + "/server.key"}) {}
};

TlsBenchServers& tls_bench_servers() {
  static TlsBenchServers s;
  return s;
}

std::unique_ptr<cachekit::MemcachedBackend> tls_bench_client(cachekit::Protocol p, bool tls) {
  auto& s = tls_bench_servers();
  // CACHEKIT_MEMCACHED_* variables apply (e.g. SPIN_WAIT_US=0), except the
  // servers, the protocol and the TLS settings, which are the benchmark's.
  auto env = cachekit::MemcachedBackendConfig::from_env();
  if (!env) {
    std::fprintf(stderr, "CACHEKIT_MEMCACHED_*: %s\n", env.error().message().c_str());
    std::exit(2);
  }
  cachekit::MemcachedBackendConfig cfg = *env;
  cfg.protocol = p;
  cfg.tls = false;
  cfg.tls_ca_file.clear();
  cfg.servers = {tls ? s.tls.spec() : s.plain.spec()};
  if (tls) {
    cfg.tls = true;
    cfg.tls_ca_file = s.certs.dir + "/ca.crt";
  }
  return std::make_unique<cachekit::MemcachedBackend>(cfg);
}

const std::string kTlsValue(100, 'v');

void tls_get(benchmark::State& state, cachekit::Protocol p, bool tls) {
  auto b = tls_bench_client(p, tls);
  if (!b->set("bench:tls:get", kTlsValue)) state.SkipWithError("set failed");
  for (auto _ : state) {
    auto r = b->get("bench:tls:get");
    if (!r || !r->has_value()) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["handshakes"] = static_cast<double>(b->tls_handshakes());
}

void tls_get_many(benchmark::State& state, cachekit::Protocol p, bool tls) {
  auto b = tls_bench_client(p, tls);
  std::vector<std::string> keys;
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 100; ++i) {
    keys.push_back("bench:tls:gm:" + std::to_string(i));
    items.emplace_back(keys.back(), kTlsValue);
  }
  auto f = b->set_many(items);
  if (!f || !f->empty()) state.SkipWithError("set_many failed");
  for (auto _ : state) {
    auto r = b->get_many(keys);
    if (!r || !(*r)[99]) state.SkipWithError("get_many failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 100);
  state.counters["handshakes"] = static_cast<double>(b->tls_handshakes());
}

// Side by side: the plaintext and the TLS client take turns, one operation
// each (the first of the pair alternates), each operation timed on its own;
// a client's rate is taken from its median operation time, which an
// operation preempted by another job on the machine does not move. Counters:
// plain and tls (operations, or keys for get_many, per second), ratio
// (tls / plain) and handshakes (of the TLS client, at the end).
void tls_side(benchmark::State& state, cachekit::Protocol p, bool many) {
  auto plain = tls_bench_client(p, false);
  auto tls = tls_bench_client(p, true);
  std::vector<std::string> keys;
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < (many ? 100 : 1); ++i) {
    keys.push_back("bench:tls:side:" + std::to_string(i));
    items.emplace_back(keys.back(), kTlsValue);
  }
  for (auto* b : {plain.get(), tls.get()}) {
    auto f = b->set_many(items);
    if (!f || !f->empty()) state.SkipWithError("set_many failed");
  }
  auto one = [&](cachekit::MemcachedBackend& b) {
    const auto t0 = std::chrono::steady_clock::now();
    bool ok;
    if (many) {
      auto r = b.get_many(keys);
      ok = r && (*r)[99].has_value();
    } else {
      auto r = b.get(keys[0]);
      ok = r && r->has_value();
    }
    if (!ok) state.SkipWithError("get failed");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<double> t_plain, t_tls;
  bool tls_first = false;
  for (auto _ : state) {
    if (tls_first) {
      t_tls.push_back(one(*tls));
      t_plain.push_back(one(*plain));
    } else {
      t_plain.push_back(one(*plain));
      t_tls.push_back(one(*tls));
    }
    tls_first = !tls_first;
  }
  auto median = [](std::vector<double>& v) {
    if (v.empty()) return 1.0;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  const double per = many ? 100.0 : 1.0;
  const double mp = median(t_plain), mt = median(t_tls);
  state.counters["plain"] = per / mp;
  state.counters["tls"] = per / mt;
  state.counters["ratio"] = mp / mt;
  state.counters["handshakes"] = static_cast<double>(tls->tls_handshakes());
}

[[maybe_unused]] const int kRegisteredTls = [] {
  for (const cachekit::Protocol p : {cachekit::Protocol::meta, cachekit::Protocol::text, cachekit::Protocol::binary}) {
    const std::string suffix = std::string("_") + cachekit::to_string(p);
    // A warm-up run first: the first benchmark of the process otherwise
    // starts on servers just started and clients just connected.
    benchmark::RegisterBenchmark(("BM_Tls_Side_Get" + suffix).c_str(), tls_side, p, false)
        ->UseRealTime()
        ->MinWarmUpTime(0.2);
    benchmark::RegisterBenchmark(("BM_Tls_Side_GetMany100" + suffix).c_str(), tls_side, p, true)
        ->UseRealTime()
        ->MinWarmUpTime(0.2);
    for (const bool tls : {false, true}) {
      const std::string mode = tls ? "_tls" : "_plain";
      benchmark::RegisterBenchmark(("BM_Tls_Get" + suffix + mode).c_str(), tls_get, p, tls)->UseRealTime();
      benchmark::RegisterBenchmark(("BM_Tls_GetMany100" + suffix + mode).c_str(), tls_get_many, p, tls)
          ->UseRealTime();
    }
  }
  return 0;
}();

}  // namespace

#endif  // CACHEKIT_OPENSSL
