// Ring placement against committed vectors from pymemcache (rendezvous) and
// uhashring / a float32 libketama model (libketama). Regenerate them with
// /usr/bin/python3 tools/gen-routing-vectors.py.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

std::string ring_unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

std::vector<cachekit::ServerSpec> parse_list(const std::string& csv) {
  std::vector<cachekit::ServerSpec> out;
  std::size_t start = 0;
  while (start <= csv.size()) {
    const std::size_t comma = csv.find(',', start);
    const std::string one = csv.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto s = cachekit::ServerSpec::parse(one);
    REQUIRE_MESSAGE(s, one);
    out.push_back(s.value());
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Checks every "key" line against the ring built from the "servers" line
// before it; returns the number of keys checked.
std::size_t check_file(const char* name, cachekit::Distribution d) {
  std::ifstream in(std::string(CACHEKIT_SOURCE_DIR "/tests/data/") + name);
  REQUIRE_MESSAGE(in.good(), "missing tests/data/", name);
  std::string line;
  cachekit::Ring ring;
  std::size_t checked = 0, wrong = 0, lists = 0;
  std::vector<std::string> keys;
  std::vector<std::size_t> expect;
  auto flush = [&] {
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::size_t> batch(views.size());
    ring.server_for(views.data(), views.size(), batch.data());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::size_t got = ring.server_for(keys[i]);
      if (got != expect[i] || batch[i] != expect[i]) {
        if (++wrong < 10) FAIL_CHECK(name, ": key ", keys[i], " -> ", got, ", expected ", expect[i]);
      }
      ++checked;
    }
    keys.clear();
    expect.clear();
  };
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string kind, a, b;
    ls >> kind >> a >> b;
    if (kind == "servers") {
      flush();
      auto r = cachekit::Ring::build(parse_list(a), d);
      REQUIRE(r);
      ring = std::move(r).value();
      ++lists;
    } else if (kind == "key") {
      keys.push_back(ring_unhex(a));
      expect.push_back(std::stoul(b));
    }
  }
  flush();
  CHECK(wrong == 0);
  CHECK(lists >= 10);
  return checked;
}

}  // namespace

TEST_CASE("ring: rendezvous matches pymemcache HashClient (committed vectors)") {
  CHECK(check_file("rendezvous-vectors.txt", cachekit::Distribution::rendezvous) >= 4000);
}

TEST_CASE("ring: libketama matches uhashring (equal weights) and the weighted model") {
  CHECK(check_file("libketama-vectors.txt", cachekit::Distribution::libketama) >= 3500);
}

namespace {

bool python_has(const char* module) {
  const std::string cmd = std::string("/usr/bin/python3 -c 'import ") + module + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Random lists and keys placed by cachekit and, live, by the Python peer.
void check_live(const char* mode, cachekit::Distribution d, bool unicode_keys) {
  std::mt19937 rng(unicode_keys ? 77 : 78);
  char path[] = "/tmp/cachekit-place-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::vector<std::size_t> expect;
  {
    std::ofstream out(path);
    for (int list = 0; list < 12; ++list) {
      const int n = 1 + static_cast<int>(rng() % 40);
      std::vector<cachekit::ServerSpec> specs;
      std::string line = "servers ";
      for (int i = 0; i < n; ++i) {
        cachekit::ServerSpec s;
        switch (rng() % 3) {
          case 0: s.host = "10.1." + std::to_string(list) + "." + std::to_string(i + 1); break;
          case 1: s.host = "mc-" + std::to_string(list) + "-" + std::to_string(i) + ".example.org"; break;
          default: s.host = "fd00::" + std::to_string(list) + ":" + std::to_string(i + 1); break;
        }
        s.port = static_cast<std::uint16_t>(rng() % 2 ? 11211 : 11300 + i);
        if (i) line += ',';
        line += s.to_string();
        specs.push_back(s);
      }
      out << line << '\n';
      auto ring = cachekit::Ring::build(specs, d);
      REQUIRE(ring);
      static const char* const kWide[] = {"\xc3\xa9", "\xd0\x96", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xc3\xbf"};
      for (int k = 0; k < 500; ++k) {
        std::string key;
        const int len = 1 + static_cast<int>(rng() % 50);
        for (int c = 0; c < len; ++c) {
          if (unicode_keys && rng() % 8 == 0) {
            key += kWide[rng() % 5];
          } else {
            key += static_cast<char>(33 + rng() % 94);
          }
        }
        std::string hex;
        for (char ch : key) {
          const auto c = static_cast<unsigned char>(ch);
          static const char* const kHex = "0123456789abcdef";
          hex += kHex[c >> 4];
          hex += kHex[c & 15];
        }
        out << "key " << hex << '\n';
        expect.push_back(ring->server_for(key));
      }
    }
  }
  const std::string cmd = std::string("/usr/bin/python3 " CACHEKIT_SOURCE_DIR "/tests/scripts/peer-place.py ") +
                          mode + " " + path;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::vector<std::size_t> got;
  char buf[64];
  while (std::fgets(buf, sizeof buf, p) != nullptr) got.push_back(std::stoul(buf));
  CHECK(pclose(p) == 0);
  std::remove(path);
  REQUIRE(got.size() == expect.size());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < got.size(); ++i) wrong += got[i] != expect[i];
  CHECK(wrong == 0);
  MESSAGE(std::string(mode), ": ", got.size(), " keys checked live, ", wrong, " mismatches");
}

}  // namespace

TEST_CASE("ring: rendezvous matches pymemcache live (when importable)") {
  if (!python_has("pymemcache")) {
    MESSAGE("pymemcache not importable by /usr/bin/python3: live check skipped (committed vectors still ran)");
    return;
  }
  check_live("rendezvous", cachekit::Distribution::rendezvous, false);
  check_live("rendezvous", cachekit::Distribution::rendezvous, true);
}

TEST_CASE("ring: libketama matches uhashring live where both agree (equal weights, under 61 servers)") {
  if (!python_has("uhashring")) {
    MESSAGE("uhashring not importable by /usr/bin/python3: live check skipped");
    return;
  }
  check_live("libketama", cachekit::Distribution::libketama, false);
}
