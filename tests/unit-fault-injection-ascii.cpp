// Fault injection over the text and meta protocols, as
// unit-fault-injection.cpp does it for binary: a scripted server misbehaves
// on the first connection. Each call must end with the right error kind
// within the configured bound, the broken connection must be closed (not
// reused), and the next call, on a fresh connection, must succeed.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/call_bound.hpp"
#include "support/fake_memcached.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using cachekit::Protocol;
using cktest::FakeConnection;

namespace {

using AsciiClock = std::chrono::steady_clock;

// Scheduling slack on a loaded 2-core machine (sanitizer builds included).
constexpr auto kAsciiFaultMargin = 400ms;

MemcachedBackendConfig ascii_fault_config(const std::string& spec, Protocol protocol) {
  MemcachedBackendConfig cfg;
  cfg.servers = {spec};
  cfg.protocol = protocol;
  cfg.timeout = 300ms;
  cfg.connect_timeout = 300ms;
  cfg.retry_attempts = 0;          // show each fault, not the retry that hides it
  cfg.server_failure_limit = 100;  // keep the server in the ring for the next call
  return cfg;
}

enum class AsciiCall { get, get_many, set };
enum class AsciiOnly { both, text, meta };

struct AsciiScenario {
  const char* name;
  AsciiCall call;
  AsciiOnly only;
  // Runs on the first connection; meta tells which protocol the client speaks.
  std::function<void(FakeConnection&, bool meta)> misbehave;
  bool expect_ok;
  ErrorKind kind;  // when !expect_ok
};

// The hit for a single-key request line ("get k1" or "mg k1 v f ...").
std::string ascii_hit_for(bool meta, const std::string& line) {
  const auto words = cktest::line_words(line);
  const std::string key = words.size() > 1 ? words[1] : "";
  if (meta) return cktest::meta_hit(line, "value-" + key);
  return cktest::text_hit(key, "value-" + key) + "END\r\n";
}

// Reads one batch: the "get k1 k2 ..." line (text) or every mg line up to
// and including "mn" (meta).
bool read_ascii_batch(FakeConnection& c, bool meta, std::vector<std::string>& lines) {
  std::string line;
  while (cktest::next_command(c, line)) {
    lines.push_back(line);
    if (!meta || line == "mn") return true;
  }
  return false;
}

// Hits for the keys of a batch, the first `count` of them (all when -1),
// without the END/MN that closes it.
std::string ascii_batch_hits(bool meta, const std::vector<std::string>& lines, int count = -1) {
  std::string out;
  int done = 0;
  if (meta) {
    for (const auto& l : lines) {
      if (l == "mn" || (count >= 0 && done >= count)) continue;
      out += cktest::meta_hit(l, "value-" + cktest::line_words(l)[1]);
      ++done;
    }
    return out;
  }
  const auto words = cktest::line_words(lines.at(0));
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (count >= 0 && done >= count) break;
    out += cktest::text_hit(words[i], "value-" + words[i]);
    ++done;
  }
  return out;
}

// An opaque token that none of the batch's mg lines carries.
std::string unused_opaque(const std::vector<std::string>& lines) {
  std::set<std::string> used;
  for (const auto& l : lines) {
    const auto words = cktest::line_words(l);
    for (std::size_t i = 2; i < words.size(); ++i) {
      if (words[i][0] == 'O') used.insert(words[i].substr(1));
    }
  }
  long long n = 4242424;
  while (used.count(std::to_string(n)) != 0) ++n;
  return std::to_string(n);
}

// line with its O<token> flag replaced by O<opaque> (added when absent).
std::string with_opaque(const std::string& line, const std::string& opaque) {
  const auto words = cktest::line_words(line);
  std::string out;
  bool replaced = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (!out.empty()) out += ' ';
    if (i >= 2 && words[i][0] == 'O') {
      out += "O" + opaque;
      replaced = true;
    } else {
      out += words[i];
    }
  }
  if (!replaced) out += " O" + opaque;
  return out;
}

// The data line of a storage command is read too, when read_data.
bool read_set(FakeConnection& c, bool read_data) {
  std::string line, data;
  if (!cktest::next_command(c, line)) return false;
  const long long n = cktest::storage_data_length(cktest::line_words(line));
  if (n < 0) return false;  // not a storage command: the client then sees no reply and times out
  return !read_data || c.read_bytes(static_cast<std::size_t>(n) + 2, data);
}

void run_ascii_scenario(const AsciiScenario& s, Protocol protocol) {
  const bool meta = protocol == Protocol::meta;
  std::atomic<int> connections{0};
  cktest::FakeMemcached server([&](FakeConnection& c) {
    if (connections.fetch_add(1) == 0) {
      s.misbehave(c, meta);
      if (s.expect_ok) {
        cktest::serve_healthy_ascii(c, "healthy");  // slow but correct: the connection stays usable
      } else {
        c.hold();  // keep the socket open until the client gives up on it
      }
    } else {
      cktest::serve_healthy_ascii(c, "healthy");
    }
  });
  REQUIRE(server.port() != 0);
  const auto cfg = ascii_fault_config(server.spec(), protocol);
  MemcachedBackend backend(cfg);
  REQUIRE(backend.status());

  const auto t0 = AsciiClock::now();
  bool ok = false;
  ErrorKind kind = ErrorKind::unknown;
  std::string message;
  std::string value;
  if (s.call == AsciiCall::get) {
    auto r = backend.get("k1");
    ok = static_cast<bool>(r);
    if (ok && r->has_value()) value = **r;
    if (!ok) {
      kind = r.error().kind();
      message = r.error().to_string();
      CHECK(r.error().operation() == "get");
      CHECK(r.error().server() == server.spec());
    }
  } else if (s.call == AsciiCall::set) {
    auto r = backend.set("k1", "hello");
    ok = static_cast<bool>(r);
    if (!ok) {
      kind = r.error().kind();
      message = r.error().to_string();
      CHECK(r.error().operation() == "set");
      CHECK(r.error().server() == server.spec());
    }
  } else {
    auto r = backend.get_many(std::vector<std::string>{"k1", "k2", "k3", "k4"});
    ok = static_cast<bool>(r);
    if (ok) {
      REQUIRE(r->size() == 4);
      if ((*r)[0]) value = *(*r)[0];
      CHECK(((*r)[3] && *(*r)[3] == "value-k4"));
    } else {
      kind = r.error().kind();
      message = r.error().to_string();
    }
  }
  const auto took = AsciiClock::now() - t0;
  CAPTURE(message);
  CHECK(took <= cktest::call_bound(cfg) + kAsciiFaultMargin);
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
  REQUIRE_MESSAGE(next, next.error().to_string());
  REQUIRE(next->has_value());
  CHECK(**next == "healthy");
  CHECK(server.accepted() == (s.expect_ok ? 1 : 2));
}

const std::vector<AsciiScenario>& ascii_scenarios() {
  static const std::vector<AsciiScenario> all = {
      {"answer nothing after the request", AsciiCall::get, AsciiOnly::both,
       [](FakeConnection& c, bool) {
         std::string line;
         cktest::next_command(c, line);
       },
       false, ErrorKind::timeout},
      {"one byte at a time, within the timeout", AsciiCall::get, AsciiOnly::both,
       [](FakeConnection& c, bool meta) {
         std::string line;
         if (cktest::next_command(c, line)) c.send_slowly(ascii_hit_for(meta, line), 2ms);
       },
       true, ErrorKind::unknown},
      {"one byte at a time, slower than the timeout", AsciiCall::get, AsciiOnly::both,
       [](FakeConnection& c, bool meta) {
         std::string line;
         if (cktest::next_command(c, line)) c.send_slowly(ascii_hit_for(meta, line), 40ms);
       },
       false, ErrorKind::timeout},
      {"value length of 4 GiB", AsciiCall::get, AsciiOnly::both,
       [](FakeConnection& c, bool meta) {
         std::string line;
         if (cktest::next_command(c, line)) {
           c.send(meta ? "VA 4294967296 f0\r\nabcdef" : "VALUE k1 0 4294967296\r\nabcdef");
         }
       },
       false, ErrorKind::unknown},
      {"a reply the request did not expect", AsciiCall::get, AsciiOnly::both,
       [](FakeConnection& c, bool meta) {
         std::string line;
         // STORED answers a storage command, HD an mg that asked for no value.
         if (cktest::next_command(c, line)) c.send(meta ? "HD\r\n" : "STORED\r\n");
       },
       false, ErrorKind::unknown},
      {"a line of garbage", AsciiCall::get, AsciiOnly::both,
       [](FakeConnection& c, bool) {
         std::string line;
         if (cktest::next_command(c, line)) c.send("GARBAGE 1 2 3\r\n");
       },
       false, ErrorKind::unknown},
      {"close mid-line", AsciiCall::get, AsciiOnly::both,
       [](FakeConnection& c, bool meta) {
         std::string line;
         if (cktest::next_command(c, line)) c.send(meta ? "VA 8" : "VALUE k1 0");
         c.close();
       },
       false, ErrorKind::transient},
      {"close mid-value", AsciiCall::get, AsciiOnly::both,
       [](FakeConnection& c, bool meta) {
         std::string line;
         if (cktest::next_command(c, line)) {
           const std::string hit = ascii_hit_for(meta, line);
           c.send(hit.substr(0, hit.find("value-") + 3));
         }
         c.close();
       },
       false, ErrorKind::transient},
      {"ERROR to a get", AsciiCall::get, AsciiOnly::text,
       [](FakeConnection& c, bool) {
         std::string line;
         if (cktest::next_command(c, line)) c.send("ERROR\r\n");
       },
       false, ErrorKind::permanent},
      {"CLIENT_ERROR to a set, its data line unread", AsciiCall::set, AsciiOnly::both,
       [](FakeConnection& c, bool) {
         // As memcached does: the data line stays unread and would be
         // parsed as a command, so the connection must not be reused.
         if (read_set(c, false)) c.send("CLIENT_ERROR bad data chunk\r\n");
       },
       false, ErrorKind::permanent},
      {"SERVER_ERROR out of memory to a set", AsciiCall::set, AsciiOnly::both,
       [](FakeConnection& c, bool) {
         if (read_set(c, true)) c.send("SERVER_ERROR out of memory storing object\r\n");
       },
       false, ErrorKind::transient},
      {"SERVER_ERROR object too large to a set", AsciiCall::set, AsciiOnly::both,
       [](FakeConnection& c, bool) {
         if (read_set(c, true)) c.send("SERVER_ERROR object too large for cache\r\n");
       },
       false, ErrorKind::permanent},
      {"multi-get answered in one byte steps within the timeout", AsciiCall::get_many, AsciiOnly::both,
       [](FakeConnection& c, bool meta) {
         std::vector<std::string> lines;
         if (!read_ascii_batch(c, meta, lines)) return;
         c.send_slowly(ascii_batch_hits(meta, lines) + (meta ? "MN\r\n" : "END\r\n"), 0ms);
       },
       true, ErrorKind::unknown},
      {"stall after half a multi-get", AsciiCall::get_many, AsciiOnly::both,
       [](FakeConnection& c, bool meta) {
         std::vector<std::string> lines;
         if (read_ascii_batch(c, meta, lines)) c.send(ascii_batch_hits(meta, lines, 2));
       },
       false, ErrorKind::timeout},
      {"close after half a multi-get", AsciiCall::get_many, AsciiOnly::both,
       [](FakeConnection& c, bool meta) {
         std::vector<std::string> lines;
         if (read_ascii_batch(c, meta, lines)) c.send(ascii_batch_hits(meta, lines, 2));
         c.close();
       },
       false, ErrorKind::transient},
      {"multi-get hit with an opaque that matches no request", AsciiCall::get_many, AsciiOnly::meta,
       [](FakeConnection& c, bool) {
         std::vector<std::string> lines;
         if (!read_ascii_batch(c, true, lines)) return;
         const std::string first = with_opaque(lines.at(0), unused_opaque(lines));
         c.send(cktest::meta_hit(first, "value-k1") + "MN\r\n");
       },
       false, ErrorKind::unknown},
      {"quiet hit for a key that was not asked", AsciiCall::get_many, AsciiOnly::meta,
       [](FakeConnection& c, bool) {
         std::vector<std::string> lines;
         if (!read_ascii_batch(c, true, lines)) return;
         const std::string stranger = "mg not-asked v f k q O" + unused_opaque(lines);
         c.send(cktest::meta_hit(stranger, "surprise") + ascii_batch_hits(true, lines) + "MN\r\n");
       },
       false, ErrorKind::unknown},
  };
  return all;
}

void run_ascii_scenarios(Protocol protocol) {
  for (const auto& s : ascii_scenarios()) {
    if ((s.only == AsciiOnly::text && protocol != Protocol::text) || (s.only == AsciiOnly::meta && protocol != Protocol::meta)) {
      continue;
    }
    SUBCASE(s.name) {
      const std::string scenario = std::string(cachekit::to_string(protocol)) + ": " + s.name;
      CAPTURE(scenario);
      run_ascii_scenario(s, protocol);
    }
  }
}

}  // namespace

TEST_CASE("fault injection (text): every misbehaviour ends in the right error within the bound") {
  run_ascii_scenarios(Protocol::text);
}

TEST_CASE("fault injection (meta): every misbehaviour ends in the right error within the bound") {
  run_ascii_scenarios(Protocol::meta);
}

// The scripted server itself, checked byte for byte over a raw socket (runs
// whatever protocol the backend speaks).
TEST_CASE("fault injection (ascii): the line-protocol fake server answers as scripted") {
  std::vector<std::string> seen;
  std::mutex seen_mu;
  cktest::FakeMemcached server([&](FakeConnection& c) {
    std::string line;
    if (!cktest::next_command(c, line)) return;
    {
      std::lock_guard<std::mutex> lock(seen_mu);
      seen.push_back(line);
    }
    std::string data;
    if (!c.read_bytes(7, data)) return;  // "abc\r\nxy" read as raw bytes
    c.send("DATA " + data.substr(0, 3) + "\r\n");
    cktest::serve_healthy_ascii(c, "v\r\n1", [&](const std::string& l) {
      std::lock_guard<std::mutex> lock(seen_mu);
      seen.push_back(l);
    });
  });
  REQUIRE(server.port() != 0);
  const std::string request =
      "version\r\nping 1\r\nabc\r\nxyversion\r\nget a bb\r\ngets a\r\nmg a v f k O17 q\r\nmg b s t c\r\n"
      "ms a 3 T0 F5\r\nxyz\r\nms a 2 q\r\nxy\r\nset a 1 0 1\r\nz\r\ndelete a\r\nmn\r\nbogus\r\n";
  const std::string expected =
      "VERSION 1.6.18\r\nDATA abc\r\nVERSION 1.6.18\r\n"
      "VALUE a 0 4\r\nv\r\n1\r\nVALUE bb 0 4\r\nv\r\n1\r\nEND\r\n"
      "VALUE a 0 4 1\r\nv\r\n1\r\nEND\r\n"
      "VA 4 f0 ka O17\r\nv\r\n1\r\n"
      "HD s4 t-1 c1\r\n"
      "HD\r\nSTORED\r\nDELETED\r\nMN\r\nERROR\r\n";
  CHECK(cktest::exchange_bytes(server.port(), request, expected.size()) == expected);
  std::lock_guard<std::mutex> lock(seen_mu);
  const std::vector<std::string> want{"ping 1",   "version", "get a bb", "gets a", "mg a v f k O17 q",
                                      "mg b s t c", "ms a 3 T0 F5", "ms a 2 q", "set a 1 0 1",
                                      "delete a", "mn",         "bogus"};
  CHECK(seen == want);
}

TEST_CASE("fault injection (ascii): scenario helpers build the replies they name") {
  CHECK(cktest::line_words("  mg  k1 v f ") == std::vector<std::string>{"mg", "k1", "v", "f"});
  CHECK(cktest::storage_data_length(cktest::line_words("set k 1 2 345")) == 345);
  CHECK(cktest::storage_data_length(cktest::line_words("cas k 1 2 3 99")) == 3);
  CHECK(cktest::storage_data_length(cktest::line_words("ms k 12 T0 q")) == 12);
  CHECK(cktest::storage_data_length(cktest::line_words("get k")) == -1);
  CHECK(cktest::storage_data_length(cktest::line_words("set k 1 2 x")) == -1);
  CHECK(ascii_hit_for(false, "get k1") == "VALUE k1 0 8\r\nvalue-k1\r\nEND\r\n");
  CHECK(ascii_hit_for(true, "mg k1 v f") == "VA 8 f0\r\nvalue-k1\r\n");
  const std::vector<std::string> batch{"mg k1 v f k q O1", "mg k2 v f k q O2", "mn"};
  CHECK(ascii_batch_hits(true, batch, 1) == "VA 8 f0 kk1 O1\r\nvalue-k1\r\n");
  CHECK(ascii_batch_hits(false, {"get k1 k2 k3"}, 2) == "VALUE k1 0 8\r\nvalue-k1\r\nVALUE k2 0 8\r\nvalue-k2\r\n");
  const std::string unused = unused_opaque({"mg a v O4242424", "mg b v O4242425"});
  CHECK(unused == "4242426");
  CHECK(with_opaque("mg k1 v f k q O1", "77") == "mg k1 v f k q O77");
  CHECK(with_opaque("mg k1 v", "77") == "mg k1 v O77");
}

namespace {
const AsciiScenario& ascii_scenario_named(const std::string& name) {
  for (const auto& s : ascii_scenarios()) {
    if (name == s.name) return s;
  }
  FAIL("no scenario named ", name);
  return ascii_scenarios().front();
}
}  // namespace

// Scenario scripts played to a raw socket sending what the backend sends:
// the bytes each one answers, up to the close that follows it here.
TEST_CASE("fault injection (ascii): scenario scripts send the bytes they name") {
  struct Played {
    const char* scenario;
    bool meta;
    std::string request;
    std::string reply;
  };
  const std::string mg_batch = "version\r\nmg k1 v f k q O1\r\nmg k2 v f k q O2\r\nmn\r\n";
  const std::vector<Played> played = {
      {"value length of 4 GiB", false, "get k1\r\n", "VALUE k1 0 4294967296\r\nabcdef"},
      {"value length of 4 GiB", true, "version\r\nmg k1 v f\r\n", "VERSION 1.6.18\r\nVA 4294967296 f0\r\nabcdef"},
      {"a reply the request did not expect", false, "get k1\r\n", "STORED\r\n"},
      {"a reply the request did not expect", true, "mg k1 v f\r\n", "HD\r\n"},
      {"a line of garbage", true, "mg k1 v f\r\n", "GARBAGE 1 2 3\r\n"},
      {"close mid-line", true, "mg k1 v f\r\n", "VA 8"},
      {"close mid-value", false, "get k1\r\n", "VALUE k1 0 8\r\nval"},
      {"close mid-value", true, "mg k1 v f O5\r\n", "VA 8 f0 O5\r\nval"},
      {"one byte at a time, within the timeout", false, "get k1\r\n", "VALUE k1 0 8\r\nvalue-k1\r\nEND\r\n"},
      {"ERROR to a get", false, "get k1\r\n", "ERROR\r\n"},
      {"CLIENT_ERROR to a set, its data line unread", false, "set k1 0 0 5\r\nhello\r\n",
       "CLIENT_ERROR bad data chunk\r\n"},
      {"CLIENT_ERROR to a set, its data line unread", true, "ms k1 5 T0\r\nhello\r\n",
       "CLIENT_ERROR bad data chunk\r\n"},
      {"SERVER_ERROR out of memory to a set", true, "ms k1 5 F0\r\nhello\r\n",
       "SERVER_ERROR out of memory storing object\r\n"},
      {"stall after half a multi-get", false, "get k1 k2 k3\r\n",
       "VALUE k1 0 8\r\nvalue-k1\r\nVALUE k2 0 8\r\nvalue-k2\r\n"},
      {"multi-get answered in one byte steps within the timeout", true, mg_batch,
       "VERSION 1.6.18\r\nVA 8 f0 kk1 O1\r\nvalue-k1\r\nVA 8 f0 kk2 O2\r\nvalue-k2\r\nMN\r\n"},
      {"multi-get hit with an opaque that matches no request", true, mg_batch,
       "VERSION 1.6.18\r\nVA 8 f0 kk1 O4242424\r\nvalue-k1\r\nMN\r\n"},
      {"quiet hit for a key that was not asked", true, mg_batch,
       "VERSION 1.6.18\r\nVA 8 f0 knot-asked O4242424\r\nsurprise\r\nVA 8 f0 kk1 O1\r\nvalue-k1\r\n"
       "VA 8 f0 kk2 O2\r\nvalue-k2\r\nMN\r\n"},
  };
  for (const auto& p : played) {
    const std::string what = std::string(p.meta ? "meta: " : "text: ") + p.scenario;
    CAPTURE(what);
    const AsciiScenario& s = ascii_scenario_named(p.scenario);
    const bool meta = p.meta;
    cktest::FakeMemcached server([&](FakeConnection& c) {
      s.misbehave(c, meta);
      c.close();
    });
    REQUIRE(server.port() != 0);
    // Asks for more than the script sends: the close ends the read.
    CHECK(cktest::exchange_bytes(server.port(), p.request, p.reply.size() + 64) == p.reply);
  }
}
