// Fault injection: a scripted server misbehaves on the first connection in
// every way a real memcached will not. Each call must end with the right
// error kind within the configured bound, the broken connection must be
// discarded, and the next call (on a fresh connection) must succeed.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/fake_memcached.hpp"
#include "support/call_bound.hpp"
#include "support/memcached_process.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using cktest::FakeConnection;
using cktest::FakeRequest;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTimeout = 300ms;
constexpr auto kConnectTimeout = 300ms;
// Scheduling slack on a loaded 2-core machine (sanitizer builds included).
constexpr auto kFaultMargin = 400ms;

MemcachedBackendConfig fault_config_for(const std::string& spec) {
  MemcachedBackendConfig cfg;
  cfg.servers = {spec};
  cfg.protocol = cachekit::Protocol::binary;  // the scripted server speaks binary
  cfg.timeout = kTimeout;
  cfg.connect_timeout = kConnectTimeout;
  cfg.retry_attempts = 0;          // show each fault, not the retry that hides it
  cfg.server_failure_limit = 100;  // keep the server in the ring for the next call
  return cfg;
}

using cktest::call_bound;

enum class Call { get, get_many };

struct Scenario {
  const char* name;
  Call call;
  std::function<void(FakeConnection&)> misbehave;
  bool expect_ok;
  ErrorKind kind;  // when !expect_ok
};

// Reads one request (and, for multi-gets, everything up to the NOOP).
bool read_until_noop(FakeConnection& c, std::vector<FakeRequest>& out) {
  FakeRequest r;
  while (c.read_request(r)) {
    out.push_back(r);
    if (r.opcode == 0x0a) return true;
  }
  return false;
}

std::string hit_for(const FakeRequest& req) { return cktest::make_get_hit(req, "value-" + req.key); }

void run(const Scenario& s) {
  const std::string name = s.name;
  CAPTURE(name);
  std::atomic<int> connections{0};
  cktest::FakeMemcached server([&](FakeConnection& c) {
    if (connections.fetch_add(1) == 0) {
      s.misbehave(c);
      if (s.expect_ok) {
        cktest::serve_healthy(c, "healthy");  // slow but correct: the connection stays usable
      } else {
        c.hold();  // keep the socket open until the client gives up on it
      }
    } else {
      cktest::serve_healthy(c, "healthy");
    }
  });
  REQUIRE(server.port() != 0);
  const auto cfg = fault_config_for(server.spec());
  MemcachedBackend backend(cfg);

  const auto t0 = Clock::now();
  bool ok = false;
  ErrorKind kind = ErrorKind::unknown;
  std::string value;
  if (s.call == Call::get) {
    auto r = backend.get("k1");
    ok = static_cast<bool>(r);
    if (ok && r->has_value()) value = **r;
    if (!ok) {
      kind = r.error().kind();
      CHECK(r.error().operation() == "get");
      CHECK(r.error().server() == server.spec());
    }
  } else {
    auto r = backend.get_many(std::vector<std::string>{"k1", "k2", "k3", "k4"});
    ok = static_cast<bool>(r);
    if (ok) {
      REQUIRE(r->size() == 4);
      if ((*r)[0]) value = *(*r)[0];
    } else {
      kind = r.error().kind();
    }
  }
  const auto took = Clock::now() - t0;
  CHECK(took <= call_bound(cfg) + kFaultMargin);
  if (s.expect_ok) {
    CHECK(ok);
    CHECK(value == "value-k1");
  } else {
    REQUIRE_FALSE(ok);
    CHECK(kind == s.kind);
    // The broken connection is not kept for reuse.
    CHECK(backend.open_connections(0) == 0);
  }

  // The next call goes over a fresh connection and succeeds.
  auto next = backend.get("k1");
  REQUIRE(next);
  REQUIRE(next->has_value());
  CHECK(**next == "healthy");
  CHECK(server.accepted() == (s.expect_ok ? 1 : 2));
}

}  // namespace

TEST_CASE("fault injection: every misbehaviour ends in the right error within the bound") {
  const std::vector<Scenario> scenarios = {
      {"accept and never answer", Call::get, [](FakeConnection&) {}, false, ErrorKind::timeout},
      {"one byte at a time, within the timeout", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) c.send_slowly(hit_for(r), 2ms);
       },
       true, ErrorKind::unknown},
      {"one byte at a time, slower than the timeout", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) c.send_slowly(hit_for(r), 40ms);
       },
       false, ErrorKind::timeout},
      {"close mid-header", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) c.send(hit_for(r).substr(0, 10));
         c.close();
       },
       false, ErrorKind::transient},
      {"close mid-body", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) {
           const std::string reply = hit_for(r);
           c.send(reply.substr(0, reply.size() - 3));
         }
         c.close();
       },
       false, ErrorKind::transient},
      {"wrong magic", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) c.send(cktest::make_response(r.opcode, 0, r.opaque, "\0\0\0\0", {}, "v", 0, 0x42));
       },
       false, ErrorKind::unknown},
      {"unknown status", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) c.send(cktest::make_response(r.opcode, 0x7777, r.opaque, {}, {}, "??"));
       },
       false, ErrorKind::unknown},
      {"opaque that matches no request", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) {
           FakeRequest other = r;
           other.opaque = r.opaque + 7777;
           c.send(hit_for(other));
         }
       },
       false, ErrorKind::unknown},
      {"extras length larger than the body", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) {
           c.send(cktest::make_header(0x81, r.opcode, 0, 200, 0, 8, r.opaque) + "12345678");
         }
       },
       false, ErrorKind::unknown},
      {"body length of 4 GiB", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) {
           c.send(cktest::make_header(0x81, r.opcode, 0, 4, 0, 0xffffffffu, r.opaque) + "\0\0\0\0abcdef");
         }
       },
       false, ErrorKind::unknown},
      {"a reply to a request never sent", Call::get,
       [](FakeConnection& c) {
         FakeRequest r;
         if (c.read_request(r)) {
           // A complete, well-formed SET reply nobody asked for, then the real one.
           c.send(cktest::make_response(0x01, 0, r.opaque ^ 0x5a5a5a5au, {}, {}, {}, 9) + hit_for(r));
         }
       },
       false, ErrorKind::unknown},
      {"multi-get answered in one byte steps within the timeout", Call::get_many,
       [](FakeConnection& c) {
         std::vector<FakeRequest> reqs;
         if (!read_until_noop(c, reqs)) return;
         std::string all;
         for (const auto& r : reqs) {
           all += r.opcode == 0x0a ? cktest::make_response(0x0a, 0, r.opaque) : hit_for(r);
         }
         c.send_slowly(all, std::chrono::milliseconds(0));
       },
       true, ErrorKind::unknown},
      {"stall after half a multi-get", Call::get_many,
       [](FakeConnection& c) {
         std::vector<FakeRequest> reqs;
         if (!read_until_noop(c, reqs)) return;
         c.send(hit_for(reqs[0]) + hit_for(reqs[1]));
       },
       false, ErrorKind::timeout},
      {"close after half a multi-get", Call::get_many,
       [](FakeConnection& c) {
         std::vector<FakeRequest> reqs;
         if (!read_until_noop(c, reqs)) return;
         c.send(hit_for(reqs[0]) + hit_for(reqs[1]));
         c.close();
       },
       false, ErrorKind::transient},
  };
  for (const auto& s : scenarios) {
    SUBCASE(s.name) { run(s); }
  }
}

TEST_CASE("fault injection: a refused connection is a fast transient error") {
  const std::uint16_t port = cktest::free_port();  // nothing listens there
  const auto cfg = fault_config_for("127.0.0.1:" + std::to_string(port));
  MemcachedBackend backend(cfg);
  const auto t0 = Clock::now();
  auto r = backend.get("k1");
  CHECK(Clock::now() - t0 <= call_bound(cfg) + kFaultMargin);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::transient);
  CHECK(backend.open_connections(0) == 0);
}

namespace {
// "split-N": every third key misses; values of many lengths.
bool split_hit(const std::string& key) { return std::stoi(key.substr(6)) % 3 != 2; }
std::string split_value(const std::string& key) {
  return std::string(static_cast<std::size_t>(std::stoi(key.substr(6))) * 5, 'x') + key;
}
}  // namespace

TEST_CASE("fault injection: multi-get replies cut at any size read the same") {
  // Replies arrive in pieces of every size from 1 to 64 bytes: whole
  // replies are decoded in place, split ones through the incremental
  // parser, and the two take turns within one call.
  std::atomic<std::size_t> piece{1};
  cktest::FakeMemcached server([&](FakeConnection& c) {
    for (;;) {
      std::vector<FakeRequest> reqs;
      if (!read_until_noop(c, reqs)) return;
      std::string all;
      for (const auto& r : reqs) {
        if (r.opcode == 0x0a) {
          all += cktest::make_response(0x0a, 0, r.opaque);
        } else if (split_hit(r.key)) {
          all += cktest::make_get_hit(r, split_value(r.key));
        }
      }
      const std::size_t step = piece.load();
      for (std::size_t at = 0; at < all.size(); at += step) {
        if (!c.send(std::string_view(all).substr(at, step))) return;
        std::this_thread::sleep_for(std::chrono::microseconds(50));  // pacing, so pieces tend to arrive apart
      }
    }
  });
  REQUIRE(server.port() != 0);
  auto cfg = fault_config_for(server.spec());
  cfg.timeout = 5000ms;
  MemcachedBackend backend(cfg);
  std::vector<std::string> keys;
  for (int i = 0; i < 12; ++i) keys.push_back("split-" + std::to_string(i));
  std::vector<std::optional<std::string>> got;
  for (std::size_t step = 1; step <= 64; ++step) {
    CAPTURE(step);
    piece.store(step);
    if (step % 2 == 0) {  // both forms of get_many
      auto r = backend.get_many(keys);
      REQUIRE(r);
      got = std::move(*r);
    } else {
      REQUIRE(backend.get_many(keys, got));
    }
    REQUIRE(got.size() == keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (split_hit(keys[i])) {
        REQUIRE(got[i].has_value());
        CHECK(*got[i] == split_value(keys[i]));
      } else {
        CHECK_FALSE(got[i].has_value());
      }
    }
  }
  CHECK(server.accepted() == 1);  // never a broken connection
}

TEST_CASE("fault injection: a retried multi-get keeps only the retry's answers") {
  // The first connection answers two keys, then drops; the retry, on a new
  // connection, finds every key missing. Nothing from the failed attempt
  // may show through, in either form of get_many.
  std::atomic<int> connections{0};
  cktest::FakeMemcached server([&](FakeConnection& c) {
    const bool first = connections.fetch_add(1) % 2 == 0;
    for (;;) {
      std::vector<FakeRequest> reqs;
      if (!read_until_noop(c, reqs)) return;
      if (first) {
        c.send(hit_for(reqs[0]) + hit_for(reqs[1]));
        c.close();
        return;
      }
      c.send(cktest::make_response(0x0a, 0, reqs.back().opaque));  // all missing
    }
  });
  REQUIRE(server.port() != 0);
  auto cfg = fault_config_for(server.spec());
  cfg.retry_attempts = 1;
  const std::vector<std::string> keys{"r1", "r2", "r3", "r4"};
  for (int form = 0; form < 2; ++form) {
    CAPTURE(form);
    MemcachedBackend backend(cfg);
    std::vector<std::optional<std::string>> got(4, std::optional<std::string>("stale"));
    if (form == 0) {
      auto r = backend.get_many(keys);
      REQUIRE(r);
      got = std::move(*r);
    } else {
      REQUIRE(backend.get_many(keys, got));
    }
    REQUIRE(got.size() == 4);
    for (const auto& v : got) CHECK_FALSE(v.has_value());
  }
  CHECK(connections.load() == 4);
}
