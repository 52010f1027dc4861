// BLAKE2b against RFC 7693 and Python's hashlib.
#include <doctest/doctest.h>

#include <cachekit/cachekit.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "support/python.hpp"
#include "support/tagged_json.hpp"

namespace {
std::string input_of_length(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + n) & 0xff);
  return s;
}
}  // namespace

TEST_CASE("BLAKE2b-512 of \"abc\" (RFC 7693, Appendix A)") {
  CHECK(cachekit::blake2b_hex("abc", 64) ==
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
        "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

TEST_CASE("BLAKE2b-256 of the empty string") {
  CHECK(cachekit::blake2b_hex("") == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST_CASE("BLAKE2b matches hashlib for every length 0..300 (committed vectors)") {
  std::ifstream f(std::string(CACHEKIT_SOURCE_DIR) + "/tests/data/blake2b-vectors.txt");
  REQUIRE(f.good());
  std::string line;
  int checked = 0;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::size_t n = 0, size = 0;
    std::string hex;
    ls >> n >> size >> hex;
    CAPTURE(n);
    CAPTURE(size);
    CHECK(cachekit::blake2b_hex(input_of_length(n), size) == hex);
    ++checked;
  }
  CHECK(checked > 600);
}

TEST_CASE("BLAKE2b: incremental updates in any split give the one-shot digest") {
  const std::string data = input_of_length(1000);
  for (std::size_t size : {1u, 32u, 64u}) {
    std::uint8_t one[64];
    cachekit::blake2b(data.data(), data.size(), one, size);
    for (std::size_t step : {1u, 7u, 127u, 128u, 129u, 256u, 999u}) {
      cachekit::Blake2b h(size);
      for (std::size_t i = 0; i < data.size(); i += step) h.update(std::string_view(data).substr(i, step));
      std::uint8_t inc[64];
      h.finish(inc);
      CHECK(std::string(reinterpret_cast<char*>(one), size) == std::string(reinterpret_cast<char*>(inc), size));
    }
  }
}

TEST_CASE("BLAKE2b matches live hashlib on larger inputs") {
  std::string input;
  std::string expected;
  for (std::size_t n : {1000u, 4096u, 65537u}) {
    const std::string data = input_of_length(n);
    input += cktest::to_hex(data) + "\n";
    expected += cachekit::blake2b_hex(data, 32) + "\n";
  }
  auto out = cktest::run_python(
      "import sys, hashlib\n"
      "for line in sys.stdin.read().split():\n"
      "    print(hashlib.blake2b(bytes.fromhex(line), digest_size=32).hexdigest())\n",
      input);
  REQUIRE_MESSAGE(out, (out ? "" : out.error().message()));
  CHECK(*out == expected);
}
