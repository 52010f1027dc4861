// Ring placement against committed vectors from pymemcache (rendezvous) and
// uhashring / a float32 libketama model (libketama). Regenerate them with
// /usr/bin/python3 tools/gen-routing-vectors.py.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string unhex(const std::string& h) {
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
      keys.push_back(unhex(a));
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
