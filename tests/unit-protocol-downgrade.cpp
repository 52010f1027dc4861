// A meta backend meets a server too old for meta: scripted fakes play a
// memcached 1.5.22 (no meta: ERROR), a 1.6.6 (the older meta dialect) and
// a 1.6.18 that refuses the first mg. The backend switches to the text
// protocol once for its whole life, says so once through the log hook, and
// every operation then works over text.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <cachekit/cachekit.hpp>

#include "support/fake_memcached.hpp"

using namespace std::chrono_literals;
using cachekit::ErrorKind;
using cachekit::MemcachedBackend;
using cachekit::MemcachedBackendConfig;
using cachekit::Protocol;
using cktest::FakeConnection;

namespace {

enum class MetaSupport {
  none,              // 1.5.22: every meta command is ERROR
  old_dialect,       // 1.6.6: OK for HD, ms wants S<size>, mn answers EN
  refuse_first_mg,   // 1.6.18 that answers ERROR to the first mg only
};

// One scripted server: an in-memory text store shared by its connections,
// and counts of what the client sent.
struct OldServer {
  std::string version;
  MetaSupport meta;
  std::mutex mu;
  struct Entry {
    std::uint32_t flags = 0;
    std::string data;
    std::uint64_t cas = 0;
  };
  std::map<std::string, Entry> items;
  std::uint64_t next_cas = 1;
  std::atomic<int> meta_commands{0};       // m* lines received
  std::atomic<int> text_commands{0};       // text lines received (version not counted)
  std::atomic<bool> refused_mg{false};
  std::atomic<int> meta_after_refusal{0};  // m* lines after the refused mg

  OldServer(std::string v, MetaSupport m) : version(std::move(v)), meta(m) {}
};

bool downgrade_has_flag(const std::vector<std::string>& words, char flag) {
  for (std::size_t i = 2; i < words.size(); ++i) {
    if (words[i][0] == flag) return true;
  }
  return false;
}

// A text command; false when the connection ended.
bool serve_text_command(FakeConnection& c, OldServer& s, const std::vector<std::string>& w) {
  const std::string& cmd = w[0];
  ++s.text_commands;
  std::string reply;
  const long long n = cktest::storage_data_length(w);
  if (n >= 0 && cmd != "ms") {
    std::string data;
    if (!c.read_bytes(static_cast<std::size_t>(n) + 2, data)) return false;
    if (data.compare(data.size() - 2, 2, "\r\n") != 0) return c.send("CLIENT_ERROR bad data chunk\r\n");
    data.resize(data.size() - 2);
    const auto flags = static_cast<std::uint32_t>(std::stoul(w[2]));
    std::lock_guard<std::mutex> lock(s.mu);
    const bool present = s.items.count(w[1]) != 0;
    if ((cmd == "add" && present) || (cmd == "replace" && !present)) {
      reply = "NOT_STORED\r\n";
    } else if (cmd == "set" || cmd == "add" || cmd == "replace") {
      s.items[w[1]] = OldServer::Entry{flags, data, s.next_cas++};
      reply = "STORED\r\n";
    } else {
      reply = "SERVER_ERROR this fake stores with set, add and replace only\r\n";
    }
  } else if ((cmd == "get" || cmd == "gets") && w.size() >= 2) {
    std::lock_guard<std::mutex> lock(s.mu);
    for (std::size_t i = 1; i < w.size(); ++i) {
      const auto it = s.items.find(w[i]);
      if (it == s.items.end()) continue;
      reply += "VALUE " + w[i] + " " + std::to_string(it->second.flags) + " " + std::to_string(it->second.data.size());
      if (cmd == "gets") reply += " " + std::to_string(it->second.cas);
      reply += "\r\n" + it->second.data + "\r\n";
    }
    reply += "END\r\n";
  } else if (cmd == "delete" && w.size() >= 2) {
    std::lock_guard<std::mutex> lock(s.mu);
    reply = s.items.erase(w[1]) != 0 ? "DELETED\r\n" : "NOT_FOUND\r\n";
  } else if (cmd == "touch" && w.size() >= 3) {
    std::lock_guard<std::mutex> lock(s.mu);
    reply = s.items.count(w[1]) != 0 ? "TOUCHED\r\n" : "NOT_FOUND\r\n";
  } else {
    reply = "ERROR\r\n";
  }
  return c.send(reply);
}

// A meta command as the server's version would answer it.
bool serve_meta_command(FakeConnection& c, OldServer& s, const std::string& line, const std::vector<std::string>& w) {
  ++s.meta_commands;
  if (s.refused_mg.load()) ++s.meta_after_refusal;
  const std::string& cmd = w[0];
  if (s.meta == MetaSupport::none) return c.send("ERROR\r\n");
  if (s.meta == MetaSupport::refuse_first_mg && cmd == "mg" && !s.refused_mg.exchange(true)) {
    return c.send("ERROR\r\n");
  }
  const bool old = s.meta == MetaSupport::old_dialect;
  const bool quiet = downgrade_has_flag(w, 'q');
  if (cmd == "mn") return c.send(old ? "EN\r\n" : "MN\r\n");
  if (w.size() < 2) return c.send("CLIENT_ERROR bad command line format\r\n");
  if (cmd == "mg") {
    std::lock_guard<std::mutex> lock(s.mu);
    const auto it = s.items.find(w[1]);
    if (it == s.items.end()) return quiet ? true : c.send("EN\r\n");
    if (old) {  // the old dialect: VA <size> <flags>*, flags only as asked
      std::string head = "VA " + std::to_string(it->second.data.size());
      if (downgrade_has_flag(w, 'f')) head += " f" + std::to_string(it->second.flags);
      return c.send(head + "\r\n" + it->second.data + "\r\n");
    }
    return c.send(cktest::meta_hit(line, it->second.data, it->second.flags));
  }
  if (cmd == "ms") {
    // The old dialect takes the size as an S<n> flag: "ms <key> <n>" is a
    // bad command line, and the data line is then read as a command.
    if (old) return c.send("CLIENT_ERROR bad command line format\r\n");
    const long long n = cktest::storage_data_length(w);
    std::string data;
    if (n < 0 || !c.read_bytes(static_cast<std::size_t>(n) + 2, data)) return false;
    std::uint32_t flags = 0;
    for (std::size_t i = 3; i < w.size(); ++i) {
      if (w[i][0] == 'F') flags = static_cast<std::uint32_t>(std::stoul(w[i].substr(1)));
    }
    std::lock_guard<std::mutex> lock(s.mu);
    s.items[w[1]] = OldServer::Entry{flags, data.substr(0, data.size() - 2), s.next_cas++};
    return quiet ? true : c.send("HD\r\n");
  }
  if (cmd == "md") {
    std::lock_guard<std::mutex> lock(s.mu);
    const bool gone = s.items.erase(w[1]) != 0;
    if (gone && quiet) return true;
    return c.send(gone ? (old ? "OK\r\n" : "HD\r\n") : "NF\r\n");
  }
  return c.send("ERROR\r\n");
}

void serve_old_server(FakeConnection& c, OldServer& s) {
  std::string line;
  while (c.read_line(line)) {
    const auto w = cktest::line_words(line);
    bool alive = true;
    if (w.empty()) {
      alive = c.send("ERROR\r\n");
    } else if (w[0] == "version") {
      alive = c.send("VERSION " + s.version + "\r\n");
    } else if (w[0].size() == 2 && w[0][0] == 'm') {
      alive = serve_meta_command(c, s, line, w);
    } else {
      alive = serve_text_command(c, s, w);
    }
    if (!alive) return;
  }
}

// Captures the library log for one test and restores the default hook.
class LogCapture {
 public:
  LogCapture() {
    cachekit::set_logger([this](const cachekit::LogRecord& r) {
      std::lock_guard<std::mutex> lock(mu_);
      records_.emplace_back(r.level, std::string(r.message));
    });
  }
  ~LogCapture() { cachekit::set_logger(cachekit::log_to_stderr); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::pair<cachekit::LogLevel, std::string>> records() {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<cachekit::LogLevel, std::string>> records_;
};

MemcachedBackendConfig downgrade_config(const std::string& spec) {
  MemcachedBackendConfig cfg;
  cfg.servers = {spec};
  cfg.protocol = Protocol::meta;
  cfg.timeout = 1000ms;
  cfg.connect_timeout = 1000ms;
  cfg.server_failure_limit = 100;
  return cfg;
}

// One warning naming the server, "text" and (when given) the version.
void check_one_downgrade_record(LogCapture& log, const std::string& spec, const std::string& version) {
  const auto records = log.records();
  REQUIRE(records.size() == 1);
  CAPTURE(records[0].second);
  CHECK(records[0].first == cachekit::LogLevel::warning);
  CHECK(records[0].second.find(spec) != std::string::npos);
  CHECK(records[0].second.find("text") != std::string::npos);
  if (!version.empty()) CHECK(records[0].second.find(version) != std::string::npos);
}

// More calls of every kind, over text now: no second log record.
void more_calls_over_text(MemcachedBackend& backend) {
  REQUIRE(backend.set("second", "two", 0s, 9));
  auto it = backend.gets("second");
  REQUIRE(it);
  REQUIRE(it->has_value());
  CHECK((*it)->value == "two");
  CHECK((*it)->flags == 9);
  auto many = backend.get_many(std::vector<std::string>{"greeting", "absent", "second"});
  REQUIRE(many);
  REQUIRE(many->size() == 3);
  CHECK(((*many)[0] && *(*many)[0] == "hello"));
  CHECK_FALSE((*many)[1].has_value());
  CHECK(((*many)[2] && *(*many)[2] == "two"));
  auto added = backend.add("greeting", "again", 0s);
  REQUIRE(added);
  CHECK_FALSE(*added);
  auto gone = backend.remove("second");
  REQUIRE(gone);
  CHECK(*gone);
  auto miss = backend.get("second");
  REQUIRE(miss);
  CHECK_FALSE(miss->has_value());
}

void check_downgrade_from(const std::string& version, MetaSupport meta) {
  LogCapture log;
  OldServer state(version, meta);
  cktest::FakeMemcached server([&](FakeConnection& c) { serve_old_server(c, state); });
  REQUIRE(server.port() != 0);
  MemcachedBackend backend(downgrade_config(server.spec()));
  REQUIRE(backend.status());

  auto stored = backend.set("greeting", "hello");
  REQUIRE_MESSAGE(stored, stored.error().to_string());
  auto got = backend.get("greeting");
  REQUIRE_MESSAGE(got, got.error().to_string());
  REQUIRE(got->has_value());
  CHECK(**got == "hello");
  check_one_downgrade_record(log, server.spec(), version);

  more_calls_over_text(backend);
  CHECK(log.records().size() == 1);
  // The version came first: not one meta command reached the old server.
  CHECK(state.meta_commands.load() == 0);
  CHECK(state.text_commands.load() >= 8);
}

}  // namespace

TEST_CASE("protocol downgrade: a memcached 1.5 (no meta) is served over text, logged once") {
  check_downgrade_from("1.5.22", MetaSupport::none);
}

TEST_CASE("protocol downgrade: a memcached 1.6.6 (the older meta dialect) is served over text, logged once") {
  check_downgrade_from("1.6.6", MetaSupport::old_dialect);
}

TEST_CASE("protocol downgrade: ERROR to a meta command switches to text once") {
  // The call that met the ERROR runs again over text (nothing was stored:
  // a miss), the switch is logged once, and every later call goes over text.
  LogCapture log;
  OldServer state("1.6.18", MetaSupport::refuse_first_mg);
  cktest::FakeMemcached server([&](FakeConnection& c) { serve_old_server(c, state); });
  REQUIRE(server.port() != 0);
  MemcachedBackend backend(downgrade_config(server.spec()));
  REQUIRE(backend.status());

  auto first = backend.get("greeting");  // the first mg: refused, then a text get
  CHECK(state.refused_mg.load());
  REQUIRE_MESSAGE(first, first.error().to_string());
  CHECK_FALSE(first->has_value());
  CHECK(backend.protocol() == cachekit::Protocol::text);
  check_one_downgrade_record(log, server.spec(), "");

  auto stored = backend.set("greeting", "hello");
  REQUIRE_MESSAGE(stored, stored.error().to_string());
  auto got = backend.get("greeting");
  REQUIRE_MESSAGE(got, got.error().to_string());
  REQUIRE(got->has_value());
  CHECK(**got == "hello");
  more_calls_over_text(backend);
  CHECK(log.records().size() == 1);
  CHECK(state.meta_after_refusal.load() == 0);
  CHECK(state.text_commands.load() >= 8);
}

// The scripted servers themselves, byte for byte over a raw socket.
TEST_CASE("protocol downgrade: the scripted old servers answer like their versions") {
  {
    OldServer s("1.5.22", MetaSupport::none);
    cktest::FakeMemcached server([&](FakeConnection& c) { serve_old_server(c, s); });
    REQUIRE(server.port() != 0);
    const std::string want =
        "VERSION 1.5.22\r\nERROR\r\nERROR\r\nERROR\r\nSTORED\r\nVALUE k 3 2\r\nhi\r\nEND\r\n"
        "VALUE k 3 2 1\r\nhi\r\nEND\r\nDELETED\r\nNOT_FOUND\r\nEND\r\n";
    CHECK(cktest::exchange_bytes(server.port(),
                                 "version\r\nmg k v\r\nms k 2\r\nhi\r\nset k 3 0 2\r\nhi\r\nget k\r\ngets k\r\n"
                                 "delete k\r\ndelete k\r\nget k\r\n",
                                 want.size()) == want);
    CHECK(s.meta_commands.load() == 2);
  }
  {
    OldServer s("1.6.6", MetaSupport::old_dialect);
    cktest::FakeMemcached server([&](FakeConnection& c) { serve_old_server(c, s); });
    REQUIRE(server.port() != 0);
    const std::string want =
        "VERSION 1.6.6\r\nEN\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nSTORED\r\n"
        "VA 2 f3\r\nhi\r\nVA 2\r\nhi\r\nOK\r\nNF\r\nEN\r\nEND\r\n";
    CHECK(cktest::exchange_bytes(server.port(),
                                 "version\r\nmg k v f\r\nms k 2\r\nhi\r\nset k 3 0 2\r\nhi\r\nmg k v f\r\nmg k v\r\n"
                                 "md k\r\nmd k\r\nmn\r\nget k\r\n",
                                 want.size()) == want);
  }
  {
    OldServer s("1.6.18", MetaSupport::refuse_first_mg);
    cktest::FakeMemcached server([&](FakeConnection& c) { serve_old_server(c, s); });
    REQUIRE(server.port() != 0);
    const std::string want =
        "VERSION 1.6.18\r\nERROR\r\nHD\r\nVA 2 f4 kk\r\nhi\r\nEN\r\nMN\r\nVALUE k 4 2\r\nhi\r\nEND\r\n";
    CHECK(cktest::exchange_bytes(server.port(),
                                 "version\r\nmg k v f\r\nms k 2 F4\r\nhi\r\nmg k v f k\r\nmg x v\r\nmg y v q\r\nmn\r\n"
                                 "get k\r\n",
                                 want.size()) == want);
    CHECK(s.meta_after_refusal.load() == 5);
  }
}
