// TLS to memcached (memcached -Z), with certificates made by the test: the
// operations and get_many over TLS in the protocol under test, handshakes
// once per pooled connection, certificate verification, client
// certificates, plain/TLS mismatches, a server that hangs or closes during
// the handshake, a TLS server killed and restarted under load, and a login
// on top. Servers are shared by the cases of this file. Without
// CACHEKIT_OPENSSL the file checks that tls is a configuration error.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/call_bound.hpp"
#include "support/protocol_under_test.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;

#ifndef CACHEKIT_OPENSSL

TEST_CASE("tls: without CACHEKIT_OPENSSL, tls is a permanent configuration error naming the macro") {
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = {"127.0.0.1:1"};
  cfg.tls = true;
  auto ok = cfg.validate();
  REQUIRE_FALSE(ok);
  CHECK(ok.error().kind() == ErrorKind::permanent);
  CHECK(ok.error().message().find("CACHEKIT_OPENSSL") != std::string::npos);
  // Never a silent plaintext connection: every call fails with it.
  MemcachedBackend b(cfg);
  REQUIRE_FALSE(b.status());
  auto got = b.get("k");
  REQUIRE_FALSE(got);
  CHECK(got.error().kind() == ErrorKind::permanent);
  CHECK(got.error().message().find("CACHEKIT_OPENSSL") != std::string::npos);

  ::setenv("CACHEKIT_MEMCACHED_TLS", "true", 1);
  auto env = MemcachedBackendConfig::from_env();
  ::unsetenv("CACHEKIT_MEMCACHED_TLS");
  REQUIRE_FALSE(env);
  CHECK(env.error().kind() == ErrorKind::permanent);
  CHECK(env.error().message().find("CACHEKIT_MEMCACHED_TLS") != std::string::npos);
  CHECK(env.error().message().find("CACHEKIT_OPENSSL") != std::string::npos);
}

#else  // CACHEKIT_OPENSSL

#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "support/fake_memcached.hpp"
#include "support/memcached_process.hpp"
#include "support/sasl_db.hpp"
#include "support/tls_certs.hpp"

namespace {

using TlsClock = std::chrono::steady_clock;
constexpr auto kTlsMargin = 400ms;

// Servers shared by the cases of this file (started on first use, stopped
// at exit): two TLS servers, one that requires client certificates, one
// plaintext server.
struct TlsServers {
  cktest::TlsCerts certs;
  cktest::MemcachedCluster tls;
  cktest::MemcachedCluster mutual;
  cktest::MemcachedCluster plain;
  TlsServers() : tls(2, certs.server_args()), mutual(1, certs.server_args(2)), plain(1) {}
};

TlsServers& tls_servers() {
  static TlsServers servers;
  return servers;
}

MemcachedBackendConfig tls_config(const std::vector<std::string>& servers) {
  MemcachedBackendConfig cfg = cktest::backend_config();
  cfg.servers = servers;
  cfg.tls = true;
  cfg.tls_ca_file = tls_servers().certs.path("ca.crt");
  cfg.connect_timeout = 500ms;
  cfg.timeout = 500ms;
  return cfg;
}

// A config whose failures end quickly: no retries, short timeouts.
MemcachedBackendConfig tls_failing_config(const std::vector<std::string>& servers) {
  MemcachedBackendConfig cfg = tls_config(servers);
  cfg.retry_attempts = 0;
  cfg.connect_timeout = 300ms;
  cfg.timeout = 300ms;
  return cfg;
}

// A get that must fail within the configured bound; the error.
cachekit::Error tls_expect_failure(const MemcachedBackendConfig& cfg) {
  MemcachedBackend b(cfg);
  REQUIRE_MESSAGE(b.status(), b.status().error().to_string());
  const auto t0 = TlsClock::now();
  auto r = b.get("tls-fail");
  const auto took = TlsClock::now() - t0;
  CHECK(took <= cktest::call_bound(cfg) + kTlsMargin);
  REQUIRE_FALSE(r);
  CHECK(b.tls_handshakes() == 0);
  return r.error();
}

}  // namespace

TEST_CASE("tls: operations and get_many over TLS; one handshake per pooled connection") {
  TlsServers& s = tls_servers();
  MemcachedBackend b(tls_config({s.tls.spec(0)}));
  REQUIRE(b.status());
  const std::string name = cachekit::to_string(b.protocol());
  CAPTURE(name);

  auto stored = b.set("tls-k", "tls-value", 0s, 7);
  REQUIRE_MESSAGE(stored, stored.error().to_string());
  CHECK(b.tls_handshakes() == 1);
  auto got = b.gets("tls-k");
  REQUIRE_MESSAGE(got, got.error().to_string());
  REQUIRE(got->has_value());
  CHECK((*got)->value == "tls-value");
  CHECK((*got)->flags == 7);
  auto swapped = b.cas("tls-k", "tls-value-2", (*got)->cas);
  REQUIRE_MESSAGE(swapped, swapped.error().to_string());
  CHECK(*swapped == cachekit::CasOutcome::stored);
  auto added = b.add("tls-k", "other", 0s);
  REQUIRE(added);
  CHECK_FALSE(*added);
  REQUIRE(b.set("tls-n", "41"));
  auto n = b.incr("tls-n", 1);
  REQUIRE_MESSAGE(n, n.error().to_string());
  REQUIRE(n->has_value());
  CHECK(**n == 42u);
  auto removed = b.remove("tls-k");
  REQUIRE(removed);
  CHECK(*removed);
  auto miss = b.get("tls-k");
  REQUIRE(miss);
  CHECK_FALSE(miss->has_value());

  // A value of several TLS records each way (16 KiB per record).
  std::string big(300000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  REQUIRE(b.set("tls-big", big));
  auto big_back = b.get("tls-big");
  REQUIRE_MESSAGE(big_back, big_back.error().to_string());
  REQUIRE(big_back->has_value());
  CHECK((**big_back == big));

  // get_many of 100 keys, some absent.
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    keys.push_back("tls-many-" + std::to_string(i));
    if (i % 10 != 3) REQUIRE(b.set(keys.back(), "v" + std::to_string(i)));
  }
  auto many = b.get_many(keys);
  REQUIRE_MESSAGE(many, many.error().to_string());
  REQUIRE(many->size() == keys.size());
  for (int i = 0; i < 100; ++i) {
    const auto& v = (*many)[static_cast<std::size_t>(i)];
    if (i % 10 == 3) {
      CHECK_FALSE(v.has_value());
    } else {
      CHECK((v && *v == "v" + std::to_string(i)));
    }
  }
  // Every call so far reused the one pooled connection.
  CHECK(b.tls_handshakes() == 1);

  // A connection idle past the freshness window is checked before reuse
  // (TLS records without data, such as session tickets, do not count as
  // stray bytes) and reused. The transport is the same for every protocol:
  // checked once, over meta (a second of waiting per run).
  if (cktest::protocol_under_test() != cachekit::Protocol::meta) return;
  const auto idle_from = TlsClock::now();
  CHECK(cktest::wait_until([&] { return TlsClock::now() - idle_from > 1100ms; }, 2s));
  auto after_idle = b.get("tls-n");
  REQUIRE_MESSAGE(after_idle, after_idle.error().to_string());
  CHECK(b.tls_handshakes() == 1);
}

TEST_CASE("tls: get_many over two TLS servers with large values (bytes buffered inside TLS)") {
  TlsServers& s = tls_servers();
  MemcachedBackend b(tls_config(s.tls.specs()));
  REQUIRE(b.status());
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (int i = 0; i < 100; ++i) {
    keys.push_back("tls-two-" + std::to_string(i));
    values.push_back(std::string(static_cast<std::size_t>(1000 + 211 * i), static_cast<char>('A' + i % 26)));
    REQUIRE(b.set(keys.back(), values.back()));
  }
  for (int round = 0; round < 3; ++round) {
    auto many = b.get_many(keys);
    REQUIRE_MESSAGE(many, many.error().to_string());
    REQUIRE(many->size() == keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) CHECK(((*many)[i] && *(*many)[i] == values[i]));
  }
  CHECK(b.tls_handshakes() == 2);  // one pooled connection per server

  // Four threads share the pools: never more handshakes than connections.
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::size_t k = static_cast<std::size_t>((t * 50 + i) % 100);
        auto g = b.get(keys[k]);
        if (!g || !g->has_value() || **g != values[k]) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures.load() == 0);
  CHECK(b.tls_handshakes() <= 2 * 4);
}

TEST_CASE("tls: more connections to a server resume its session instead of a full handshake") {
  TlsServers& s = tls_servers();
  auto cfg = tls_config({s.tls.spec(0)});
  cfg.pipeline_chunk_keys = 10;  // get_many of 100 keys: jobs over several pooled connections
  MemcachedBackend b(cfg);
  REQUIRE(b.set("tls-resume", "v"));  // the first connection: a full handshake, then a session ticket
  CHECK(b.tls_handshakes() == 1);
  CHECK(b.tls_resumed_handshakes() == 0);
  std::vector<std::string> keys(100, "tls-resume");
  for (int i = 0; i < 100; ++i) keys[static_cast<std::size_t>(i)] += std::to_string(i);
  auto many = b.get_many(keys);
  REQUIRE_MESSAGE(many, many.error().to_string());
  // The new connections are opened before any of them reads its tickets:
  // the first connection's tickets (one each) resume some, the rest fall
  // back to a full handshake.
  const auto opened = b.tls_handshakes();
  const auto resumed = b.tls_resumed_handshakes();
  CHECK(opened > 2);
  CHECK(resumed >= 1);
  CHECK(resumed < opened - 1);
  // Pooled connections are reused: no handshake at all the second time.
  REQUIRE(b.get_many(keys));
  CHECK(b.tls_handshakes() == opened);
  // Another backend keeps its own sessions: its first handshake is full.
  MemcachedBackend other(cfg);
  REQUIRE(other.get("tls-resume"));
  CHECK(other.tls_resumed_handshakes() == 0);
}

TEST_CASE("tls: certificate verification: trusted CA and name pass; unknown CA and wrong name are authentication errors") {
  TlsServers& s = tls_servers();
  const std::string server = s.tls.spec(0);
  SUBCASE("the name from tls_server_name (a DNS name in the certificate)") {
    auto cfg = tls_config({server});
    cfg.tls_server_name = "localhost";
    MemcachedBackend b(cfg);
    auto r = b.set("tls-name", "v");
    REQUIRE_MESSAGE(r, r.error().to_string());
    CHECK(b.tls_handshakes() == 1);
  }
  SUBCASE("an unknown CA") {
    auto cfg = tls_failing_config({server});
    cfg.tls_ca_file = s.certs.path("other-ca.crt");
    const auto e = tls_expect_failure(cfg);
    const std::string m = e.to_string();
    CAPTURE(m);
    CHECK(e.kind() == ErrorKind::authentication);
    CHECK(m.find("certificate verification failed for " + server) != std::string::npos);
    CHECK(m.find("tls_ca_file") != std::string::npos);
  }
  SUBCASE("a name the certificate does not carry") {
    auto cfg = tls_failing_config({server});
    cfg.tls_server_name = "cache.example.org";
    const auto e = tls_expect_failure(cfg);
    const std::string m = e.to_string();
    CAPTURE(m);
    CHECK(e.kind() == ErrorKind::authentication);
    CHECK(m.find("certificate verification failed for " + server) != std::string::npos);
    CHECK(m.find("'cache.example.org'") != std::string::npos);
  }
  SUBCASE("tls_verify=false (unsafe) accepts an unknown CA") {
    auto cfg = tls_config({server});
    cfg.tls_ca_file = s.certs.path("other-ca.crt");
    cfg.tls_verify = false;
    MemcachedBackend b(cfg);
    auto r = b.set("tls-noverify", "v");
    REQUIRE_MESSAGE(r, r.error().to_string());
  }
}

TEST_CASE("tls: a server that requires client certificates (ssl_verify_mode=2)") {
  TlsServers& s = tls_servers();
  const std::string server = s.mutual.spec(0);
  SUBCASE("present: works") {
    auto cfg = tls_config({server});
    cfg.tls_cert_file = s.certs.path("client.crt");
    cfg.tls_key_file = s.certs.path("client.key");
    MemcachedBackend b(cfg);
    auto r = b.set("tls-mutual", "v");
    REQUIRE_MESSAGE(r, r.error().to_string());
    auto g = b.get("tls-mutual");
    REQUIRE(g);
    CHECK((g->has_value() && **g == "v"));
    CHECK(b.tls_handshakes() == 1);
  }
  for (const bool stranger : {false, true}) {
    CAPTURE(stranger);
    auto cfg = tls_failing_config({server});
    if (stranger) {  // a certificate from a CA the server does not trust
      cfg.tls_cert_file = s.certs.path("stranger.crt");
      cfg.tls_key_file = s.certs.path("stranger.key");
    }
    MemcachedBackend b(cfg);
    const auto t0 = TlsClock::now();
    auto r = b.get("tls-mutual");
    CHECK(TlsClock::now() - t0 <= cktest::call_bound(cfg) + kTlsMargin);
    REQUIRE_FALSE(r);
    const std::string m = r.error().to_string();
    CAPTURE(m);
    CHECK(r.error().kind() == ErrorKind::authentication);
    CHECK(m.find("client certificate") != std::string::npos);
    CHECK(m.find(server) != std::string::npos);
    CHECK_FALSE(b.server_marked_dead(0));
  }
}

TEST_CASE("tls: a plaintext client against a TLS port, a TLS client against a plaintext port: bounded errors") {
  TlsServers& s = tls_servers();
  SUBCASE("TLS client, plaintext server") {
    auto cfg = tls_failing_config({s.plain.spec(0)});
    const auto e = tls_expect_failure(cfg);
    const std::string m = e.to_string();
    CAPTURE(m);
    CHECK((e.kind() == ErrorKind::transient || e.kind() == ErrorKind::timeout));
    CHECK(m.find("TLS handshake with " + s.plain.spec(0)) != std::string::npos);
  }
  SUBCASE("plaintext client, TLS server") {
    auto cfg = tls_failing_config({s.tls.spec(1)});
    cfg.tls = false;
    cfg.tls_ca_file.clear();
    MemcachedBackend b(cfg);
    REQUIRE(b.status());
    const auto t0 = TlsClock::now();
    auto r = b.get("tls-plain");
    CHECK(TlsClock::now() - t0 <= cktest::call_bound(cfg) + kTlsMargin);
    REQUIRE_FALSE(r);
    const std::string m = r.error().to_string();
    CAPTURE(m);
    CHECK(r.error().kind() != ErrorKind::permanent);
    CHECK(m.find(s.tls.spec(1)) != std::string::npos);
  }
}

TEST_CASE("tls: a server that hangs or closes during the handshake: bounded errors naming the server") {
  SUBCASE("hangs") {
    cktest::FakeMemcached fake([](cktest::FakeConnection& c) { c.hold(); });
    auto cfg = tls_failing_config({fake.spec()});
    const auto t0 = TlsClock::now();
    const auto e = tls_expect_failure(cfg);
    CHECK(TlsClock::now() - t0 >= cfg.connect_timeout - 50ms);
    const std::string m = e.to_string();
    CAPTURE(m);
    CHECK(e.kind() == ErrorKind::timeout);
    CHECK(m.find("TLS handshake with " + fake.spec() + " timed out") != std::string::npos);
  }
  SUBCASE("closes after the client hello") {
    cktest::FakeMemcached fake([](cktest::FakeConnection& c) {
      std::string hello;
      (void)c.read_bytes(5, hello);  // the record header of the client hello
      c.close();
    });
    auto cfg = tls_failing_config({fake.spec()});
    const auto e = tls_expect_failure(cfg);
    const std::string m = e.to_string();
    CAPTURE(m);
    CHECK(e.kind() == ErrorKind::transient);
    CHECK(m.find("TLS handshake with " + fake.spec() + " failed: the server closed the connection") != std::string::npos);
  }
  SUBCASE("answers the client hello with garbage") {
    cktest::FakeMemcached fake([](cktest::FakeConnection& c) {
      std::string hello;
      (void)c.read_bytes(5, hello);
      (void)c.send("SERVER_ERROR not tls\r\n");
      c.hold();
    });
    auto cfg = tls_failing_config({fake.spec()});
    const auto e = tls_expect_failure(cfg);
    const std::string m = e.to_string();
    CAPTURE(m);
    CHECK(e.kind() == ErrorKind::transient);
    CHECK(m.find("TLS handshake with " + fake.spec() + " failed") != std::string::npos);
  }
}

TEST_CASE("tls: a TLS server killed (-9) and restarted under load rejoins") {
  TlsServers& s = tls_servers();
  cktest::MemcachedCluster cluster(2, s.certs.server_args());
  auto cfg = tls_config(cluster.specs());
  cfg.timeout = 300ms;
  cfg.connect_timeout = 300ms;
  cfg.dead_timeout = 300ms;
  MemcachedBackend b(cfg);
  REQUIRE(b.status());
  std::string key_of_1;
  for (int n = 0; key_of_1.empty(); ++n) {
    const std::string k = "tls-kill-" + std::to_string(n);
    if (b.server_for(k).value() == 1) key_of_1 = k;
  }
  std::atomic<bool> stop{false};
  std::atomic<long> ok_calls{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t) {
    load.emplace_back([&, t] {
      for (long i = 0; !stop.load(); ++i) {
        const std::string k = "tls-load-" + std::to_string(t) + "-" + std::to_string(i % 50);
        if (b.set(k, "v") && b.get(k)) ok_calls.fetch_add(1);
      }
    });
  }
  CHECK(cktest::wait_until([&] { return ok_calls.load() > 50; }, 5s));
  cluster.kill(1, 9);
  CHECK(cktest::wait_until([&] { return b.server_marked_dead(1); }, 5s));
  const long before_restart = ok_calls.load();
  CHECK(cktest::wait_until([&] { return ok_calls.load() > before_restart + 50; }, 5s));  // server 0 carries on
  cluster.restart(1);
  CHECK(cktest::wait_until([&] {
    const auto routed = b.server_for(key_of_1);  // fails while every server is out: not yet
    return routed && *routed == 1;
  }, 5s));
  stop.store(true);
  for (auto& t : load) t.join();
  auto r = b.set(key_of_1, "after-restart");
  REQUIRE_MESSAGE(r, r.error().to_string());
  auto g = b.get(key_of_1);
  REQUIRE_MESSAGE(g, g.error().to_string());
  CHECK((g->has_value() && **g == "after-restart"));
  CHECK(b.tls_handshakes() >= 3);  // new connections to the restarted server
}

TEST_CASE("tls: the login runs over TLS (SASL for binary, authfile for text and meta)") {
  TlsServers& s = tls_servers();
  const auto protocol = cktest::protocol_under_test();
  std::vector<std::string> args = s.certs.server_args();
  std::vector<std::string> env;
  std::unique_ptr<cktest::SaslDb> db;
  if (protocol == cachekit::Protocol::binary) {
    db = std::make_unique<cktest::SaslDb>();
    args.push_back("-S");
    env.push_back("SASL_CONF_PATH=" + db->dir);
  } else {
    const std::string path = s.certs.path("authfile");
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("alice:secret-pw\n", f);
    std::fclose(f);
    ::chmod(path.c_str(), 0644);
    args.push_back("-Y");
    args.push_back(path);
  }
  cktest::MemcachedCluster cluster(1, args, env);
  auto cfg = tls_config(cluster.specs());
  cfg.username = "alice";
  cfg.password = "secret-pw";
  {
    MemcachedBackend b(cfg);
    auto r = b.set("tls-auth", "v");
    REQUIRE_MESSAGE(r, r.error().to_string());
    auto g = b.get("tls-auth");
    REQUIRE_MESSAGE(g, g.error().to_string());
    CHECK((g->has_value() && **g == "v"));
    CHECK(b.tls_handshakes() == 1);
  }
  cfg.password = "wrong-pw";
  cfg.retry_attempts = 0;
  MemcachedBackend bad(cfg);
  auto r = bad.get("tls-auth");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::authentication);
  CHECK(r.error().to_string().find("wrong-pw") == std::string::npos);
  CHECK(bad.tls_handshakes() == 1);  // the handshake passed; the login failed
}

TEST_CASE("tls: configuration errors: unreadable CA, certificate or key files, unix sockets") {
  TlsServers& s = tls_servers();
  auto status_of = [](const MemcachedBackendConfig& cfg) -> cachekit::Error {
    MemcachedBackend b(cfg);
    auto st = b.status();
    REQUIRE_FALSE(st);
    return st.error();
  };
  auto cfg = tls_config({s.tls.spec(0)});
  cfg.tls_ca_file = s.certs.path("no-such-ca.crt");
  auto e = status_of(cfg);
  CHECK(e.kind() == ErrorKind::permanent);
  CHECK(e.message().find("tls_ca_file") != std::string::npos);
  CHECK(e.message().find("no-such-ca.crt") != std::string::npos);

  cfg = tls_config({s.tls.spec(0)});
  cfg.tls_cert_file = s.certs.path("server.ext");  // not a certificate
  cfg.tls_key_file = s.certs.path("client.key");
  e = status_of(cfg);
  CHECK(e.kind() == ErrorKind::permanent);
  CHECK(e.message().find("tls_cert_file") != std::string::npos);

  cfg.tls_cert_file = s.certs.path("client.crt");
  cfg.tls_key_file = s.certs.path("stranger.key");  // not client.crt's key
  e = status_of(cfg);
  CHECK(e.kind() == ErrorKind::permanent);
  CHECK(e.message().find("tls_key_file") != std::string::npos);

  cfg = tls_config({"/tmp/cachekit-no.sock"});
  e = status_of(cfg);
  CHECK(e.kind() == ErrorKind::permanent);
  CHECK(e.message().find("unix socket") != std::string::npos);
}

#endif  // CACHEKIT_OPENSSL
